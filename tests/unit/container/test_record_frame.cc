// SHA-256 and HMAC-SHA256 against the published vectors, and the recording
// channel's frames and its host end: what a peer without the key, a reordered
// or cut stream and an oversized frame come to.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/hmac.h"
#include "core/record_frame.h"
#include "core/unique_fd.h"
#include "tracer/container/channel.h"

using namespace sctrace;

namespace {

std::string hex(const Digest& d) {
  std::string s;
  for (uint8_t b : d) s += fmt::format("{:02x}", b);
  return s;
}

}  // namespace

TEST_CASE("sha256: FIPS 180-4 example messages", "[frame]") {
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a', fed in uneven pieces so the block buffer's edges are crossed.
  Sha256 s;
  const std::string piece(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    const size_t n = std::min(left, piece.size());
    s.update(std::string_view(piece).substr(0, n));
    left -= n;
  }
  CHECK(hex(s.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding's one-block and two-block cases.
  CHECK(hex(sha256(std::string(55, 'a'))) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(hex(sha256(std::string(56, 'a'))) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(hex(sha256(std::string(64, 'a'))) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("hmac_sha256: RFC 4231 test cases", "[frame]") {
  CHECK(hex(hmac_sha256(std::string(20, '\x0b'), {"Hi There"})) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(hmac_sha256("Jefe", {"what do ya want ", "for nothing?"})) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hex(hmac_sha256(std::string(20, '\xaa'), {std::string(50, '\xdd')})) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'), {"Test Using Larger Than Block-Size Key - Hash Key First"})) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        {"This is a test using a larger than block-size key and a larger than block-size data. The "
                         "key needs to be hashed before being used by the HMAC algorithm."})) ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("frames: a sensor's stream is read, whoever splits it", "[frame]") {
  const std::vector<std::string> keys = {key_from_hex(std::string(64, '1')), key_from_hex(random_key_hex())};
  REQUIRE(keys[0].size() == 32);
  REQUIRE(keys[1].size() == 32);
  const std::string stream =
      encode_frame(keys[1], 0, false, "first") + encode_frame(keys[1], 1, false, "") + encode_frame(keys[1], 2, true, "last");
  for (size_t step : {size_t{1}, size_t{7}, size_t{56}, stream.size()}) {
    FrameReader r(&keys, 1024);
    for (size_t i = 0; i < stream.size(); i += step)
      REQUIRE(r.feed(std::string_view(stream).substr(i, step)) == FrameReader::Verdict::reading);
    CHECK(r.key_index() == 1);
    CHECK(r.frames() == 3);
    CHECK(r.bodies() == 2);
    CHECK(r.final_seen());
    CHECK(r.latest() == "last");
    CHECK(r.pending() == 0);
  }
  FrameReader cut(&keys, 1024);
  cut.feed(std::string_view(stream).substr(0, stream.size() - 3));
  // The last frame cut short: the snapshot before it is what remains.
  CHECK(cut.latest() == "first");
  CHECK(cut.bodies() == 1);
  CHECK(!cut.final_seen());
  CHECK(cut.pending() > 0);
}

TEST_CASE("frames: forged, reordered, trailing and oversized streams are refused", "[frame]") {
  const std::vector<std::string> keys = {key_from_hex(random_key_hex())};
  const std::string other = key_from_hex(random_key_hex());
  using V = FrameReader::Verdict;
  auto verdict = [&](const std::string& bytes, size_t max_body = 1024) {
    FrameReader r(&keys, max_body);
    return r.feed(bytes);
  };
  CHECK(verdict(encode_frame(other, 0, true, "{}")) == V::unauthenticated);
  CHECK(verdict(std::string(100, 'x')) == V::unauthenticated);
  CHECK(verdict(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"ptrace": {}}}} )") == V::unauthenticated);
  // A body changed in flight.
  std::string f = encode_frame(keys[0], 0, true, "{\"a\": 1}");
  f[kFrameHeaderBytes + 6] = '2';
  CHECK(verdict(f) == V::tampered);
  // Frames dropped or replayed, a frame after the final one, another key mid-stream.
  CHECK(verdict(encode_frame(keys[0], 1, true, "x")) == V::tampered);
  CHECK(verdict(encode_frame(keys[0], 0, false, "x") + encode_frame(keys[0], 0, true, "x")) == V::tampered);
  CHECK(verdict(encode_frame(keys[0], 0, true, "x") + encode_frame(keys[0], 1, true, "y")) == V::tampered);
  CHECK(verdict(encode_frame(keys[0], 0, false, "x") + encode_frame(other, 1, true, "y")) == V::tampered);
  // Over the bound: refused on the header, before the body is buffered.
  FrameReader big(&keys, 10);
  const std::string frame = encode_frame(keys[0], 0, true, std::string(11, 'b'));
  CHECK(big.feed(std::string_view(frame).substr(0, kFrameHeaderBytes)) == V::too_large);
  CHECK(big.pending() == 0);
  CHECK(verdict(encode_frame(keys[0], 0, true, std::string(10, 'b')), 10) == V::reading);
}

TEST_CASE("keys: 64 hex digits, nothing else", "[frame]") {
  const std::string k = random_key_hex();
  CHECK(k.size() == 64);
  CHECK(k != random_key_hex());
  CHECK(key_from_hex(k).size() == 32);
  CHECK(key_from_hex(k.substr(1)).empty());
  CHECK(key_from_hex(std::string(64, 'g')).empty());
  CHECK(key_from_hex(std::string(64, 'A')).empty());
}

// ---- the host's end: RecordingChannel over a real unix socket ----------------------

namespace {

struct ChannelDir {
  std::string dir;
  ChannelDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sctrace-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    dir = t;
  }
  ~ChannelDir() { std::filesystem::remove_all(dir); }
  std::string sock() const { return dir + "/channel"; }
};

UniqueFd connect_to(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(const UniqueFd& fd, const std::string& bytes) {
  std::string_view left = bytes;
  while (!left.empty()) {
    const ssize_t n = ::send(fd.get(), left.data(), left.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the host hung up: what it read is what counts
    left.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("recording channel: the sensors' recordings arrive, forgeries are named and ignored", "[frame]") {
  using container::RecordingChannel;
  ChannelDir d;
  RecordingChannel ch(d.sock(), {"main", "health", "exec-0"}, 1024);
  const std::string main_key = key_from_hex(ch.key_hex("main"));
  const std::string exec_key = key_from_hex(ch.key_hex("exec-0"));
  {
    UniqueFd forger = connect_to(d.sock());
    send_all(forger, R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"ptrace": {}}}})");
    UniqueFd forger2 = connect_to(d.sock());
    send_all(forger2, encode_frame(key_from_hex(random_key_hex()), 0, true, "{}"));
    UniqueFd sensor = connect_to(d.sock());
    send_all(sensor, encode_frame(main_key, 0, false, "") + encode_frame(main_key, 1, false, "snap") +
                         encode_frame(main_key, 2, true, "final"));
    UniqueFd exec = connect_to(d.sock());  // killed before its final frame
    send_all(exec, encode_frame(exec_key, 0, false, "") + encode_frame(exec_key, 1, false, "partial"));
  }
  const container::ChannelReport rep = ch.finish();
  CHECK(rep.tampered.empty());
  CHECK(rep.refused.size() == 2);
  REQUIRE(rep.streams.size() == 3);
  CHECK(rep.streams[0].recordings == std::vector<std::string>{"final"});
  CHECK(rep.streams[0].final_seen);
  CHECK(rep.streams[1].recordings.empty());
  CHECK(rep.streams[2].recordings == std::vector<std::string>{"partial"});
  CHECK(!rep.streams[2].final_seen);
}

TEST_CASE("recording channel: a broken or oversized sensor stream is tampering", "[frame]") {
  using container::RecordingChannel;
  ChannelDir d;
  RecordingChannel ch(d.sock(), {"main", "exec-0"}, 16);
  const std::string main_key = key_from_hex(ch.key_hex("main"));
  const std::string exec_key = key_from_hex(ch.key_hex("exec-0"));
  {
    UniqueFd a = connect_to(d.sock());
    send_all(a, encode_frame(main_key, 0, false, "") + encode_frame(main_key, 2, true, "skipped one"));
    UniqueFd b = connect_to(d.sock());
    send_all(b, encode_frame(exec_key, 0, true, std::string(17, 'x')));
  }
  const container::ChannelReport rep = ch.finish();
  REQUIRE(rep.tampered.size() == 2);
  const std::string all = rep.tampered[0] + "\n" + rep.tampered[1];
  CHECK(all.find("main sensor") != std::string::npos);
  CHECK(all.find("over the channel's bound") != std::string::npos);
}

TEST_CASE("recording channel: an engine-started label's key counts only from a process the engine started",
          "[frame]") {
  using container::RecordingChannel;
  ChannelDir d;
  RecordingChannel ch(d.sock(), {"main", "health"}, 1024, container::PeerRule{{"health"}, "main"});
  const std::string main_key = key_from_hex(ch.key_hex("main"));
  const std::string health_key = key_from_hex(ch.key_hex("health"));
  {
    UniqueFd sensor = connect_to(d.sock());
    send_all(sensor, encode_frame(main_key, 0, false, ""));
    // The host answers an authenticated hello once it has looked at the peer.
    char ack = 0;
    CHECK(::recv(sensor.get(), &ack, 1, 0) == 1);
    CHECK(ack == kFrameAck);
    send_all(sensor, encode_frame(main_key, 1, true, "final"));
    // This process's parent is in its own PID namespace, as a workload's
    // always is: the health key is worth nothing from here.
    UniqueFd thief = connect_to(d.sock());
    send_all(thief, encode_frame(health_key, 0, false, "") + encode_frame(health_key, 1, true, "forged"));
  }
  const container::ChannelReport rep = ch.finish();
  REQUIRE(rep.streams.size() == 2);
  CHECK(rep.streams[0].recordings == std::vector<std::string>{"final"});
  CHECK(rep.streams[1].recordings.empty());
  REQUIRE(rep.tampered.size() == 1);
  CHECK(rep.tampered[0].find("health sensor's key was used by pid") != std::string::npos);
}

TEST_CASE("recording channel: authenticated connections and the bytes held for them are bounded", "[frame]") {
  using container::RecordingChannel;
  // A workload holding a key (the healthcheck's) connects again and again.
  auto flood = [](const std::string& sock, const std::string& key, int n, const std::string& body) {
    for (int i = 0; i < n; ++i) {
      UniqueFd c = connect_to(sock);
      send_all(c, encode_frame(key, 0, false, "") + encode_frame(key, 1, true, body));
    }
  };
  SECTION("connections") {
    ChannelDir d;
    RecordingChannel ch(d.sock(), {"main", "health"}, 1024, {}, 3);
    flood(d.sock(), key_from_hex(ch.key_hex("health")), 5, "snap");
    const container::ChannelReport rep = ch.finish();
    REQUIRE(rep.streams.size() == 2);
    CHECK(rep.streams[1].recordings.size() == 3);
    REQUIRE(rep.tampered.size() == 1);
    CHECK(rep.tampered[0] == "more than 3 connections used the sensors' keys: 2 more were cut off unread");
  }
  SECTION("bytes held: four frames of the largest size") {
    for (const int n : {4, 5}) {  // 64 bytes of bodies: within; 80: over
      INFO(n);
      ChannelDir d;
      RecordingChannel ch(d.sock(), {"main", "health"}, 16);
      flood(d.sock(), key_from_hex(ch.key_hex("health")), n, std::string(16, 'x'));
      const container::ChannelReport rep = ch.finish();
      REQUIRE(rep.streams.size() == 2);
      CHECK(rep.streams[1].recordings.size() == 4);
      if (n == 4) {
        CHECK(rep.tampered.empty());
      } else {
        REQUIRE(rep.tampered.size() == 1);
        CHECK(rep.tampered[0].find("more than the channel holds (64 bytes at once)") != std::string::npos);
      }
    }
  }
}
