#pragma once
// The recording channel between the in-container sensors and the host.
//
// A unix socket in a root-owned directory that the container gets read-only:
// the workload can connect to it (a socket on a read-only mount still accepts
// connections) but cannot create, fill or replace anything in that
// directory, so no host disk is writable by the container. Every sensor gets
// its own random key (in its environment; it scrubs it before its workload
// starts) and sends its recording as authenticated frames
// (core/record_frame.h). A peer without a key is cut off after 56 bytes and
// named; a sensor's stream that is tampered with or over the bound fails the
// run.
//
// A key that serves many connections (the healthcheck's: one per run) must
// not be worth stealing: the workload can read it (docker-init, PID 1 under
// `docker run --init`, keeps the container's environment, dumpable). So a
// connection under such a key also needs the right peer: a process the
// engine started from outside the container, that is, whose parent is
// outside the container's PID namespace. No process the workload starts has
// such a parent (PID 1 may not CLONE_PARENT; orphans are reaped inside).
// The host looks at each peer when it accepts the connection (SO_PEERPIDFD
// where the kernel has it, so the pid cannot be reused under it) and answers
// an authenticated hello with one byte; a sensor waits for that byte before
// it starts its command, so it is alive when looked at.
#include <memory>
#include <string>
#include <vector>

namespace sctrace::container {

struct ChannelStream {
  std::string label;       // "main", "exec-0", "health"
  std::vector<std::string> recordings;  // each connection's newest snapshot, in arrival order
  bool final_seen = false;  // every connection of it ended with a final frame
  int connections = 0;
};

// Who connected, as sctrace's /proc showed it when the connection was accepted.
struct PeerOrigin {
  bool known = false;    // false: gone before it was looked at, or in a PID namespace sctrace cannot see
  int pid = 0;           // in sctrace's PID namespace
  int depth = 0;         // its PID namespace's level (the entries of NSpid)
  int parent_depth = 0;  // its parent's
};

// Which labels need a peer the engine started (see above), and the label
// whose one sensor tells the container's PID namespace (the entrypoint's:
// it connects before the workload exists).
struct PeerRule {
  std::vector<std::string> engine_started;
  std::string anchor;
};

struct ChannelReport {
  std::vector<ChannelStream> streams;  // in the order the labels were given
  std::vector<std::string> refused;    // peers without a key, one line each
  std::vector<std::string> tampered;   // a sensor's stream broken: the run must fail
};

// How many connections may authenticate with the sensors' keys in one run
// (a healthcheck connects once per run of it).
inline constexpr size_t kMaxSensorConnections = 4096;

class RecordingChannel {
 public:
  // Listens on `socket_path` (made world-connectable); one key per label.
  // Bounded: a frame's body at max_frame_bytes, the authenticated
  // connections at max_connections, the bytes held for them at once (each
  // one's newest snapshot and unfinished frame) at four frames. A workload
  // that holds a key (the healthcheck's can be read) could otherwise connect
  // until the host runs out of memory. A connection over a bound is cut off
  // unread, and finish() reports it as tampering: the run fails.
  RecordingChannel(const std::string& socket_path, std::vector<std::string> labels, size_t max_frame_bytes,
                   PeerRule rule = {}, size_t max_connections = kMaxSensorConnections);
  RecordingChannel(const RecordingChannel&) = delete;
  ~RecordingChannel();
  // The key for `label`, as 64 hex digits for the sensor's environment.
  std::string key_hex(const std::string& label) const;
  // Stops listening, reads what the connections still hold and says what came.
  ChannelReport finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The environment variable a sensor reads its key from.
inline constexpr const char* kSensorKeyEnv = "SCTRACE_SENSOR_KEY";

}  // namespace sctrace::container
