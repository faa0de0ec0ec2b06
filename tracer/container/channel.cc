#include "tracer/container/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/record_frame.h"
#include "core/unique_fd.h"
#include "tracer/proc_stat.h"

namespace sctrace::container {

namespace {

using Clock = std::chrono::steady_clock;

// Peers that have not authenticated yet; more wait for a free place (the
// kernel's backlog), so a workload that opens connections and sends nothing
// only delays the next sensor by the time limit below.
constexpr size_t kMaxUnauthenticated = 32;
// A peer has this long to send its first header.
constexpr auto kHeaderTime = std::chrono::seconds(2);
// What the channel holds at once for the sensors' connections (each one's
// newest snapshot and unfinished frame), in frames of the largest size: the
// entrypoint's snapshot and the one on its way, and room for the probes'.
constexpr uint64_t kKeptFrames = 4;

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; older headers lack it
#endif

// Who is at the other end of `fd`. The peer's parent is read between two
// reads of the peer's own PPid: had that parent exited in between (its pid
// free for another process), the peer would have been reparented, so an
// unchanged PPid means the status read was the parent's. With SO_PEERPIDFD
// the peer's own pid is pinned the same way.
PeerOrigin peer_origin(int fd) {
  PeerOrigin o;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) return o;
  UniqueFd pidfd;
  int raw = -1;
  len = sizeof raw;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &raw, &len) == 0 && raw >= 0) {
    pidfd = UniqueFd(raw);
  } else if (errno != ENOPROTOOPT) {
    return o;  // ESRCH: it has exited
  }
  // A process whose parent exits as it connects (under `docker exec`, the
  // runtime's intermediate child) reads inconsistently until the kernel has
  // reparented it: look again a few times, 62 ms in all, before giving up.
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1 << attempt));
    const std::optional<ProcStatus> self = read_proc_status(cred.pid);
    if (!self) return o;  // gone
    const std::optional<ProcStatus> parent = read_proc_status(self->ppid);
    const std::optional<ProcStatus> again = read_proc_status(cred.pid);
    if (!again) return o;
    if (!parent || again->ppid != self->ppid) continue;
    if (pidfd && pidfd_target(::getpid(), pidfd.get()) != cred.pid) return o;
    o.known = true;
    o.pid = cred.pid;
    o.depth = self->pid_ns_depth;
    o.parent_depth = parent->pid_ns_depth;
    return o;
  }
  return o;
}

struct Peer {
  UniqueFd fd;
  FrameReader reader;
  Clock::time_point since;
  uint64_t bytes = 0;
  PeerOrigin origin;
  bool acked = false;
  bool admitted = false;  // counted among the authenticated connections
  uint64_t kept = 0;      // bytes its reader holds (newest body, unfinished frame)
};

std::unique_ptr<Peer> accept_peer(int listener, const std::vector<std::string>* keys, size_t max_frame) {
  const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0) return nullptr;
  return std::make_unique<Peer>(Peer{UniqueFd(c), FrameReader(keys, max_frame), Clock::now(), 0, peer_origin(c)});
}

}  // namespace

// Only the thread touches this until finish() has joined it.
struct RecordingChannel::State {
  std::vector<std::string> labels, keys, keys_hex;
  size_t max_frame = 0;
  PeerRule rule;
  UniqueFd listener;
  UniqueFd wake_r, wake_w;
  std::thread thread;
  std::vector<std::unique_ptr<Peer>> peers;  // open
  std::vector<std::unique_ptr<Peer>> closed;
  std::vector<std::string> refused;
  bool finished = false;
  // The bounds on authenticated connections (kept until finish) and on the
  // bytes held for them; what went over them.
  size_t max_connections = 0;
  uint64_t max_kept = 0;
  size_t admitted = 0;
  uint64_t kept_total = 0;
  size_t cut_off = 0;      // connections over max_connections
  bool over_kept = false;  // a connection took the bytes held over max_kept

  // After each feed: an authenticated peer is counted once and its bytes
  // held are added up. False: over a bound, the caller drops the peer.
  bool within_bounds(Peer& p) {
    if (p.reader.key_index() < 0) return true;  // bounded by kMaxUnauthenticated and kHeaderTime
    if (!p.admitted) {
      if (admitted >= max_connections) {
        ++cut_off;
        return false;
      }
      p.admitted = true;
      ++admitted;
    }
    const uint64_t now = p.reader.latest().size() + p.reader.pending();
    kept_total = kept_total - p.kept + now;
    p.kept = now;
    if (kept_total <= max_kept) return true;
    over_kept = true;
    return false;
  }

  // A peer over a bound: closed, and nothing it sent is kept.
  void drop_peer(size_t i) {
    kept_total -= peers[i]->kept;
    peers.erase(peers.begin() + static_cast<std::ptrdiff_t>(i));
  }

  // Feeds what peer i sent; false when it was closed or dropped.
  bool feed(size_t i, std::string_view data) {
    Peer& p = *peers[i];
    p.bytes += data.size();
    const FrameReader::Verdict v = p.reader.feed(data);
    if (!within_bounds(p)) {
      drop_peer(i);
      return false;
    }
    if (v != FrameReader::Verdict::reading) {
      close_peer(i);
      return false;
    }
    return true;
  }

  void close_peer(size_t i) {
    std::unique_ptr<Peer> p = std::move(peers[i]);
    peers.erase(peers.begin() + static_cast<std::ptrdiff_t>(i));
    p->fd.reset();
    if (p->reader.verdict() == FrameReader::Verdict::unauthenticated || p->reader.key_index() < 0) {
      // Silent peers are not worth a line: a healthcheck's sensor killed by
      // the stop before its hello, say.
      if (p->bytes == 0) return;
      if (refused.size() < 20)
        refused.push_back(p->reader.verdict() == FrameReader::Verdict::unauthenticated
                              ? fmt::format("a peer sent {} bytes that no sensor's key opens", p->bytes)
                              : fmt::format("a peer sent {} bytes and no authenticated frame", p->bytes));
      else if (refused.size() == 20)
        refused.push_back("more peers without a key: not counted");
      return;
    }
    closed.push_back(std::move(p));
  }

  void loop() {
    std::vector<pollfd> fds;
    char buf[65536];
    for (;;) {
      const auto now = Clock::now();
      for (size_t i = peers.size(); i-- > 0;)
        if (peers[i]->reader.key_index() < 0 && now - peers[i]->since > kHeaderTime) close_peer(i);
      size_t waiting = 0;
      for (const auto& p : peers) waiting += p->reader.key_index() < 0;
      fds.clear();
      fds.push_back({wake_r.get(), POLLIN, 0});
      fds.push_back({waiting < kMaxUnauthenticated ? listener.get() : -1, POLLIN, 0});
      for (const auto& p : peers) fds.push_back({p->fd.get(), POLLIN, 0});
      const int n = ::poll(fds.data(), fds.size(), 200);
      if (n < 0 && errno != EINTR) return;
      if (n <= 0) continue;
      if (fds[0].revents != 0) return;
      if (fds[1].revents & POLLIN) {
        if (auto p = accept_peer(listener.get(), &keys, max_frame)) peers.push_back(std::move(p));
      }
      // Peers in fds[2..] are peers[0..] as they were before the accept above.
      for (size_t k = fds.size(); k-- > 2;) {
        if (fds[k].revents == 0) continue;
        const size_t i = k - 2;
        const ssize_t got = ::read(peers[i]->fd.get(), buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) {
          close_peer(i);
          continue;
        }
        if (!feed(i, std::string_view(buf, static_cast<size_t>(got)))) continue;
        Peer& p = *peers[i];
        // Looked at (on accept) and authenticated: the sensor may start its command.
        if (!p.acked && p.reader.key_index() >= 0) {
          p.acked = true;
          (void)!::send(p.fd.get(), &kFrameAck, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
      }
    }
  }
};

RecordingChannel::RecordingChannel(const std::string& socket_path, std::vector<std::string> labels,
                                   size_t max_frame_bytes, PeerRule rule, size_t max_connections)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.labels = std::move(labels);
  s.max_frame = max_frame_bytes;
  s.max_connections = max_connections;
  s.max_kept = kKeptFrames * max_frame_bytes;
  s.rule = std::move(rule);
  for (size_t i = 0; i < s.labels.size(); ++i) {
    s.keys_hex.push_back(random_key_hex());
    s.keys.push_back(key_from_hex(s.keys_hex.back()));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    fail(ErrorKind::runtime, "the recording channel's path is too long: {}", socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  s.listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.listener) fail_errno(ErrorKind::runtime, errno, "socket");
  if (::bind(s.listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    fail_errno(ErrorKind::runtime, errno, "cannot bind " + socket_path);
  // Any uid in the container may be the sensor's; connecting needs write
  // permission on the socket inode, which a read-only mount does not take away.
  if (::chmod(socket_path.c_str(), 0666) != 0) fail_errno(ErrorKind::runtime, errno, "chmod " + socket_path);
  if (::listen(s.listener.get(), 64) != 0) fail_errno(ErrorKind::runtime, errno, "listen");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  s.wake_r = UniqueFd(p[0]);
  s.wake_w = UniqueFd(p[1]);
  s.thread = std::thread([&s] { s.loop(); });
}

RecordingChannel::~RecordingChannel() {
  if (!state_->finished) finish();
}

std::string RecordingChannel::key_hex(const std::string& label) const {
  for (size_t i = 0; i < state_->labels.size(); ++i)
    if (state_->labels[i] == label) return state_->keys_hex[i];
  fail(ErrorKind::runtime, "no recording channel key for '{}'", label);
}

ChannelReport RecordingChannel::finish() {
  State& s = *state_;
  ChannelReport rep;
  if (s.finished) return rep;
  s.finished = true;
  if (::write(s.wake_w.get(), "x", 1) < 0) {
  }
  s.thread.join();
  // The sensors have exited by now: what they sent is in the sockets, or in
  // the backlog not yet accepted. Read it all; a peer that is still open
  // (the workload's, a healthcheck killed at the stop) sent all it will.
  while (auto p = accept_peer(s.listener.get(), &s.keys, s.max_frame)) s.peers.push_back(std::move(p));
  char buf[65536];
  while (!s.peers.empty()) {
    const size_t last = s.peers.size() - 1;
    bool open = true;
    while (open) {
      const ssize_t got = ::read(s.peers[last]->fd.get(), buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      open = s.feed(last, std::string_view(buf, static_cast<size_t>(got)));
    }
    if (open) s.close_peer(last);
  }
  rep.refused = s.refused;
  // Over a bound: what was cut off is lost, so the recording cannot be trusted whole.
  if (s.cut_off > 0)
    rep.tampered.push_back(fmt::format("more than {} connections used the sensors' keys: {} more were cut off unread",
                                       s.max_connections, s.cut_off));
  if (s.over_kept)
    rep.tampered.push_back(fmt::format("the sensors' connections sent more than the channel holds ({} bytes at once): "
                                       "the one that went over was cut off",
                                       s.max_kept));
  for (const auto& label : s.labels) rep.streams.push_back(ChannelStream{label, {}, true, 0});
  // The container's PID namespace level: the anchor sensor's, when exactly
  // one connection used its key (more fail the run anyway); 0: unknown.
  int container_depth = 0;
  {
    int anchors = 0;
    for (const auto& p : s.closed)
      if (s.labels[static_cast<size_t>(p->reader.key_index())] == s.rule.anchor) {
        ++anchors;
        if (p->origin.known) container_depth = p->origin.depth;
      }
    if (anchors != 1) container_depth = 0;
  }
  for (const auto& p : s.closed) {
    const FrameReader& r = p->reader;
    ChannelStream& st = rep.streams[static_cast<size_t>(r.key_index())];
    if (std::find(s.rule.engine_started.begin(), s.rule.engine_started.end(), st.label) !=
        s.rule.engine_started.end()) {
      const PeerOrigin& o = p->origin;
      std::string bad;
      if (!o.known) {
        // A sensor waits for the answer, which comes only after the look:
        // one that was gone by then sent nothing but its hello.
        if (r.bodies() == 0) continue;
        bad = "by a process that could not be looked at";
      } else if (container_depth == 0) {
        bad = fmt::format("by pid {}, with no {} sensor to tell the container's PID namespace by", o.pid,
                          s.rule.anchor);
      } else if (o.depth != container_depth || o.parent_depth >= container_depth) {
        bad = fmt::format("by pid {}, which the engine did not start (PID namespace level {}, its parent's {}, "
                          "the container's {})", o.pid, o.depth, o.parent_depth, container_depth);
      }
      if (!bad.empty()) {
        rep.tampered.push_back(fmt::format("the {} sensor's key was used {}", st.label, bad));
        continue;
      }
    }
    ++st.connections;
    switch (r.verdict()) {
      case FrameReader::Verdict::tampered:
        rep.tampered.push_back(fmt::format("the {} sensor's stream: {}", st.label, r.why()));
        break;
      case FrameReader::Verdict::too_large:
        rep.tampered.push_back(fmt::format("the {} sensor's stream: {}", st.label, r.why()));
        break;
      default: break;
    }
    if (r.bodies() > 0) st.recordings.push_back(r.latest());
    if (!r.final_seen()) st.final_seen = false;
  }
  return rep;
}

}  // namespace sctrace::container
