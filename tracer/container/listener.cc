#include "tracer/container/listener.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "tracer/self_defence.h"
#include "tracer/temp_dir.h"


namespace sctrace::container {

namespace {

using Clock = std::chrono::steady_clock;

// runc writes the whole state right after connecting; a peer that does not
// finish within this is not runc.
constexpr int kMessageTimeoutMs = 5000;
// Container process states are a few KiB (podman adds annotations); a peer
// that sends more is not speaking the protocol.
constexpr size_t kMaxStateBytes = 1 << 20;
constexpr size_t kMaxFds = 16;

// Tells the ProcessWatch about each notification before the handler
// answers it: an exec is reported before the new program's first syscall.
// Then refuses (EPERM) what aims at sctrace, whose thread this agent is
// (tracer/self_defence.h), whatever the handler answered: a container that
// shares the host's pid namespace could otherwise stop or read sctrace, and
// every notified syscall would wait for an agent that no longer answers. The
// handler has seen the call (recorded as made, judged against the checked
// profile); the refusal goes to `events` when there is one.
class Watched : public NotifyHandler {
 public:
  Watched(NotifyHandler& inner, ProcessWatch& watch, EventSink* events)
      : inner_(inner), watch_(watch), events_(events) {}
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    watch_.on_notification(ev);
    const NotifyDecision decision = inner_.on_notify(ev);
    const std::optional<std::string> note = self_defence_.check(ev);
    if (!note) return decision;
    if (events_ != nullptr) events_->on_refusal(*note);
    return {false, EPERM};
  }

 private:
  NotifyHandler& inner_;
  ProcessWatch& watch_;
  EventSink* events_;
  SelfDefence self_defence_;
};

// One container's listener fd and what answering on it needs.
struct Served {
  UniqueFd fd;
  std::unique_ptr<NotifyResponder> responder;
};

}  // namespace

size_t parse_agent_state(const std::string& text, AgentConnection& out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    fail(ErrorKind::runtime, "seccomp agent: the runtime sent something that is not JSON ({} bytes)", text.size());
  out.state_json = text;
  if (j.contains("pid") && j["pid"].is_number_integer()) out.pid = j["pid"].get<pid_t>();
  if (j.contains("state") && j["state"].is_object() && j["state"].contains("id") && j["state"]["id"].is_string())
    out.container_id = j["state"]["id"].get<std::string>();
  if (j.contains("fds") && j["fds"].is_array()) {
    const auto& fds = j["fds"];
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].is_string() && fds[i].get<std::string>() == "seccompFd") return i;
  }
  // runtime-spec before 1.0.2 final: {"fdIndexes": {"seccompFd": N}}.
  if (j.contains("fdIndexes") && j["fdIndexes"].is_object() && j["fdIndexes"].contains("seccompFd") &&
      j["fdIndexes"]["seccompFd"].is_number_unsigned())
    return j["fdIndexes"]["seccompFd"].get<size_t>();
  fail(ErrorKind::runtime, "seccomp agent: the container process state names no seccompFd");
}

SeccompAgent::SeccompAgent() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  // sockaddr_un holds 108 bytes; a long TMPDIR falls back to /tmp.
  if (owned_temp_dir_length("agent", base) + 16 >= sizeof(sockaddr_un{}.sun_path)) base = "/tmp";
  dir_ = make_owned_temp_dir("agent", base);  // mkdtemp makes it 0700
  socket_path_ = dir_ + "/agent.sock";
  sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock_) {
    ::rmdir(dir_.c_str());
    fail_errno(ErrorKind::runtime, errno, "socket(AF_UNIX)");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(sock_.get(), 16) != 0) {
    int e = errno;
    ::unlink(socket_path_.c_str());
    ::rmdir(dir_.c_str());
    fail_errno(ErrorKind::runtime, e, fmt::format("listening on {}", socket_path_));
  }
  stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd_) fail_errno(ErrorKind::runtime, errno, "eventfd");
}

SeccompAgent::~SeccompAgent() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
  ::unlink(socket_path_.c_str());
  ::rmdir(dir_.c_str());
}

void SeccompAgent::start(NotifyHandler& handler, EventSink* process_events) {
  thread_ = std::thread([this, &handler, process_events] {
    try {
      loop(handler, process_events);
    } catch (const std::exception& e) {
      errors_.push_back(e.what());
    }
  });
}

bool SeccompAgent::stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return all_hung_up_;
  grace_ms_ = grace.count();
  uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  thread_.join();
  return all_hung_up_;
}

// Reads one connection: the runtime sends the state and the fds (maybe over
// several sendmsg calls, the fds with the first).
void SeccompAgent::accept_one(std::vector<UniqueFd>& listeners) {
  UniqueFd conn(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return;
    fail_errno(ErrorKind::runtime, errno, "accept on the seccomp agent socket");
  }
  std::string text;
  std::vector<UniqueFd> fds;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kMessageTimeoutMs);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) fail(ErrorKind::runtime, "seccomp agent: the runtime did not finish its message");
    pollfd p{conn.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail_errno(ErrorKind::runtime, errno, "poll");
    if (r == 0) continue;
    char data[16384];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(ErrorKind::runtime, errno, "recvmsg on the seccomp agent socket");
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.emplace_back(fd);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) fail(ErrorKind::runtime, "seccomp agent: more fds than expected");
    if (n == 0) break;
    text.append(data, static_cast<size_t>(n));
    if (text.size() > kMaxStateBytes) fail(ErrorKind::runtime, "seccomp agent: the state is too large");
    // runc 1.1 sends everything in one sendmsg but never closes its end
    // (it closes a dup of the socket and leaves the net.Conn to the garbage
    // collector), so EOF cannot be the end of the message: a complete JSON
    // document with the fds is.
    if (!fds.empty() && nlohmann::json::accept(text)) break;
  }
  AgentConnection info;
  size_t idx = parse_agent_state(text, info);
  if (idx >= fds.size())
    fail(ErrorKind::runtime, "seccomp agent: seccompFd is fd #{} but {} fds came", idx, fds.size());
  set_sync_wakeup(fds[idx].get());  // 6.6+; slower without
  listeners.push_back(std::move(fds[idx]));
  connections_.push_back(std::move(info));
  ++connected_;
}

void SeccompAgent::loop(NotifyHandler& outer, EventSink* process_events) {
  // The container's processes are not sctrace's children: their ends come
  // from pidfds, the rest (and whatever is left when serving stops) at the
  // end of the loop.
  ProcessWatch watch(process_events, true);
  Watched handler(outer, watch, process_events);
  struct Finish {
    ProcessWatch& w;
    size_t& count;
    ~Finish() {
      w.collect_exits();
      w.finish();
      count = w.processes();
    }
  } finish{watch, processes_};
  std::vector<Served> served;
  std::vector<UniqueFd> fresh;
  bool stopping = false;
  Clock::time_point deadline{};
  std::vector<pollfd> pfds;

  for (;;) {
    if (stopping && Clock::now() >= deadline) break;
    pfds.clear();
    pfds.push_back({sock_.get(), POLLIN, 0});
    pfds.push_back({stop_fd_.get(), POLLIN, 0});
    pfds.push_back({watch.exits_fd(), POLLIN, 0});
    for (auto& s : served) pfds.push_back({s.fd.get(), POLLIN, 0});
    int timeout = -1;
    if (stopping) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<long long>(left, 0, 1000));
    }
    int r = ::poll(pfds.data(), pfds.size(), timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail_errno(ErrorKind::runtime, errno, "poll");

    // Ends before notifications: a pid reused since is then a new process.
    if (pfds[2].revents & POLLIN) watch.collect_exits();
    // Listeners next: a container blocked on a notification is what keeps
    // everything else waiting.
    constexpr size_t kFirstListener = 3;
    for (size_t i = kFirstListener; i < pfds.size(); ++i) {
      Served& s = served[i - kFirstListener];
      if (pfds[i].revents & POLLIN) {
        try {
          if (s.responder->serve_one()) ++notifications_;
        } catch (const std::exception& e) {
          errors_.push_back(e.what());
          s.fd.reset();
        }
      } else if (pfds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        s.fd.reset();  // every task holding that filter is gone
      }
    }
    served.erase(std::remove_if(served.begin(), served.end(), [](const Served& s) { return !s.fd; }), served.end());

    if (pfds[0].revents & POLLIN) {
      try {
        accept_one(fresh);
      } catch (const std::exception& e) {
        errors_.push_back(e.what());
      }
      for (auto& f : fresh) {
        auto responder = std::make_unique<NotifyResponder>(f.get(), handler);
        served.push_back(Served{std::move(f), std::move(responder)});
      }
      fresh.clear();
      continue;  // look at the socket again before deciding to leave
    }
    if (!stopping && (pfds[1].revents & POLLIN)) {
      stopping = true;
      deadline = Clock::now() + std::chrono::milliseconds(grace_ms_.load());
    }
    if (stopping && served.empty()) break;
  }
  all_hung_up_ = served.empty();
}

}  // namespace sctrace::container
