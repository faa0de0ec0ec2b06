#pragma once
// The frames the in-container sensor sends its recording in, over the
// recording channel (tracer/container/channel.h): each one a whole snapshot
// of the recording, authenticated with a per-sensor key only the sensor and
// the host know.
//
//   header (56 bytes): "SCTRFRM1" | sequence u64 | flags u32 | body length u32 | HMAC(key, the 24 bytes before)
//   body (length bytes) | HMAC(key, header || body)
//
// Integers are little-endian. The header has its own MAC so that the reader
// authenticates a peer before it buffers a byte of body: a peer without the
// key costs it 56 bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sctrace {

inline constexpr size_t kFrameHeaderBytes = 56;
inline constexpr size_t kFrameMacBytes = 32;
inline constexpr uint32_t kFrameFinal = 1;  // the sensor's last frame: its workload has exited
// The one byte the host answers a sensor's authenticated hello with, once it
// has looked at the peer; the sensor starts its command only then.
inline constexpr char kFrameAck = 'k';

std::string encode_frame(std::string_view key, uint64_t sequence, bool final_frame, std::string_view body);

// Reads one peer's byte stream. The first header picks the key (one of
// `keys`); every later frame must use the same key and the next sequence
// number, starting at 0, and nothing may follow a final frame.
class FrameReader {
 public:
  enum class Verdict {
    reading,          // fine so far
    unauthenticated,  // no key opens the first header: not a sensor
    tampered,         // a sensor's key, but a bad body MAC, a sequence gap or bytes after the final frame
    too_large,        // a sensor's frame over the bound
  };
  FrameReader(const std::vector<std::string>* keys, size_t max_body) : keys_(keys), max_body_(max_body) {}
  // Consumes bytes; returns the verdict so far (once not `reading`, it stays).
  Verdict feed(std::string_view data);
  Verdict verdict() const { return verdict_; }
  std::string why() const { return why_; }
  int key_index() const { return key_; }  // -1 until a header was authenticated
  uint64_t frames() const { return next_seq_; }
  bool final_seen() const { return final_; }
  // The newest non-empty body (a full recording snapshot), and how many came.
  // An empty body is the sensor's hello: it authenticates the connection at
  // once, before the first snapshot is due.
  const std::string& latest() const { return latest_; }
  uint64_t bodies() const { return bodies_; }
  // Bytes of an unfinished frame (a stream that ends with some is cut short).
  size_t pending() const { return buf_.size(); }

 private:
  Verdict refuse(Verdict v, std::string why);
  const std::vector<std::string>* keys_;
  size_t max_body_;
  std::string buf_, latest_, why_;
  Verdict verdict_ = Verdict::reading;
  int key_ = -1;
  uint64_t next_seq_ = 0;
  uint64_t bodies_ = 0;
  bool final_ = false;
  bool have_header_ = false;
  uint32_t body_len_ = 0;
  uint32_t flags_ = 0;
};

// 32 random bytes (getrandom), as 64 hex digits: a key travels as text in an
// environment variable.
std::string random_key_hex();
// The bytes of a 64-hex-digit key; empty when it is not one.
std::string key_from_hex(std::string_view hex);

}  // namespace sctrace
