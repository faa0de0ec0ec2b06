#pragma once
// The receiving end of the OCI runtime's "seccomp agent" protocol
// (runtime-spec config-linux.md, listenerPath): for a profile that uses
// SCMP_ACT_NOTIFY, runc connects to the unix socket named by listenerPath
// once per container process it starts, sends the container process state
// (JSON: ociVersion, fds, pid, metadata, state) with the listener fds in
// SCM_RIGHTS (the index of a name in "fds" is the index of the fd), and
// closes the connection. The agent then answers the notifications.
//
// SeccompAgent serves every container that connects, on one thread: each
// notification goes to the handler and is answered CONTINUE or with its
// errno. runc blocks on its first notified syscall until it is answered, so
// the agent must be serving before the container starts.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "tracer/notify.h"

namespace sctrace::container {

struct AgentConnection {
  std::string state_json;  // the container process state as sent
  pid_t pid = 0;           // "pid" of the state (host pid namespace)
  std::string container_id;
};

// Parses one message of the protocol; throws Error(runtime) when it is not
// the container process state or names no "seccompFd". Returns the index of
// the seccomp fd among the SCM_RIGHTS fds (both the released "fds" array and
// the older draft's "fdIndexes" map are understood).
size_t parse_agent_state(const std::string& json, AgentConnection& out);

class SeccompAgent {
 public:
  // A private directory (0700, under $TMPDIR or /tmp) holding a listening
  // socket. Nothing is served until start().
  SeccompAgent();
  ~SeccompAgent();  // stops, joins, removes the socket and the directory
  SeccompAgent(const SeccompAgent&) = delete;
  SeccompAgent& operator=(const SeccompAgent&) = delete;

  const std::string& socket_path() const { return socket_path_; }

  // Serves on a thread of its own. The handler is called on that thread, and
  // so is process_events (when given): the container processes' execs and
  // ends as a ProcessWatch (tracer/notify.h) sees them in the notifications,
  // each exec before the first notification of the new program, every end
  // by the time stop() returns, and the calls refused (EPERM) for aiming at
  // sctrace (tracer/self_defence.h; the handler sees them first).
  void start(NotifyHandler& handler, EventSink* process_events = nullptr);
  // Stops accepting, serves the containers already connected until every
  // process holding their filters is gone (their listener fds hang up) or
  // `grace` passed, then joins. Returns whether every listener hung up.
  bool stop(std::chrono::milliseconds grace);

  // Valid after stop().
  const std::vector<AgentConnection>& connections() const { return connections_; }
  // Errors met while serving (a bad message, a failed ioctl), one line each.
  const std::vector<std::string>& errors() const { return errors_; }
  uint64_t notifications() const { return notifications_; }
  // How many times the runtime has connected so far (any time): once per
  // process it starts with the filter (the container's init, each exec).
  size_t connected() const { return connected_; }
  // Valid after stop(): how many processes made notified syscalls (the
  // processes of every container served, not the connections).
  size_t processes() const { return processes_; }

 private:
  void loop(NotifyHandler& handler, EventSink* process_events);
  void accept_one(std::vector<UniqueFd>& listeners);

  std::string dir_;
  std::string socket_path_;
  UniqueFd sock_;
  UniqueFd stop_fd_;  // eventfd: stop() was called
  std::atomic<int64_t> grace_ms_{0};
  std::thread thread_;
  bool all_hung_up_ = false;
  std::vector<AgentConnection> connections_;
  std::vector<std::string> errors_;
  std::atomic<uint64_t> notifications_{0};
  std::atomic<size_t> connected_{0};
  size_t processes_ = 0;
};

}  // namespace sctrace::container
