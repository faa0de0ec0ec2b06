#include "tracer/probes.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/exit_status.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "tracer/container/engine.h"

extern char** environ;

namespace sctrace {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1'000'000'000));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// 1..65535 from digits only; nullopt otherwise.
std::optional<int> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return std::nullopt;
  return v;
}

std::string host_for_url(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

struct Connected {
  UniqueFd fd;
  int err = 0;  // errno of the last failure when fd is invalid
  std::string error;
};

// A non-blocking TCP connect bounded by deadline; the socket stays non-blocking.
Connected tcp_connect(const std::string& host, int port, Clock::time_point deadline) {
  Connected out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int gai = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) {
    out.err = EHOSTUNREACH;
    out.error = fmt::format("cannot resolve {}: {}", host, gai_strerror(gai));
    return out;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      out.err = errno;
      continue;
    }
    int rc = connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      out.err = errno;
      continue;
    }
    if (rc != 0) {
      pollfd p{fd.get(), POLLOUT, 0};
      int pr;
      do {
        pr = poll(&p, 1, ms_until(deadline));
      } while (pr < 0 && errno == EINTR);
      if (pr == 0) {
        out.err = ETIMEDOUT;
        continue;
      }
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (pr < 0 || getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
      if (soerr != 0) {
        out.err = soerr;
        continue;
      }
    }
    out.fd = std::move(fd);
    out.err = 0;
    return out;
  }
  if (out.error.empty())
    out.error = fmt::format("connect {}:{}: {}", host_for_url(host), port, std::strerror(out.err ? out.err : EIO));
  return out;
}

// Waits for fd to be ready for `events`; false on deadline.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int pr = poll(&p, 1, ms_until(deadline));
    if (pr < 0 && errno == EINTR) continue;
    return pr > 0;
  }
}

// docker-proxy accepts on a published port and closes the connection once
// it cannot reach the container; a real listener keeps it open (or greets).
bool stays_open(int fd, milliseconds grace) {
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  int pr;
  do {
    pr = poll(&p, 1, static_cast<int>(grace.count()));
  } while (pr < 0 && errno == EINTR);
  if (pr == 0) return true;
  if (pr < 0) return false;
  char c;
  ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0;  // a banner: something is talking
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // our own stdout went away: nothing to report it on
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

[[noreturn]] void bad_http(std::string_view text, std::string_view why) {
  fail(ErrorKind::usage, "--http-probe {}: {} (expected PORT[/PATH] or METHOD:PORT[/PATH])", text, why);
}

}  // namespace

// ---- specs ------------------------------------------------------------------

ProbeSpec parse_http_probe(std::string_view text) {
  ProbeSpec s;
  s.kind = ProbeKind::http;
  s.text = std::string(text);
  std::string_view rest = text;
  if (auto colon = rest.find(':'); colon != std::string_view::npos && colon < rest.find('/')) {
    std::string method;
    for (char c : rest.substr(0, colon)) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c < 'A' || c > 'Z') bad_http(text, "the method must be letters");
      method += c;
    }
    if (method.empty()) bad_http(text, "empty method");
    s.method = method;
    rest.remove_prefix(colon + 1);
  }
  auto slash = rest.find('/');
  auto port = parse_port(rest.substr(0, slash));
  if (!port) bad_http(text, fmt::format("\"{}\" is not a port (1-65535)", rest.substr(0, slash)));
  s.port = *port;
  if (slash != std::string_view::npos) {
    s.path = std::string(rest.substr(slash));
    for (char c : s.path)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) bad_http(text, "the path contains a blank or control character");
  }
  if (s.method == "POST" || s.method == "PUT" || s.method == "PATCH") s.body = "sctrace-probe";
  return s;
}

ProbeSpec parse_probe_cmd(std::string_view text) {
  if (trim(text).empty()) fail(ErrorKind::usage, "--probe-cmd: empty command");
  ProbeSpec s;
  s.kind = ProbeKind::cmd;
  s.text = std::string(text);
  s.command = std::string(text);
  return s;
}

ProbeSpec parse_exec_probe(std::string_view text) {
  ProbeSpec s;
  s.kind = ProbeKind::exec;
  s.text = std::string(text);
  try {
    s.argv = split_words(text);
  } catch (const Error& e) {
    fail(ErrorKind::usage, "--exec-probe: {}", e.what());
  }
  if (s.argv.empty()) fail(ErrorKind::usage, "--exec-probe: empty command");
  return s;
}

ProbeSpec parse_wait_port(std::string_view text) {
  auto port = parse_port(trim(text));
  if (!port) fail(ErrorKind::usage, "--wait-port {}: not a port (1-65535)", text);
  ProbeSpec s;
  s.kind = ProbeKind::wait_port;
  s.text = std::string(text);
  s.port = *port;
  return s;
}

// ---- targets ----------------------------------------------------------------

ProbeTarget probe_target_from_inspect(const nlohmann::json& inspect) {
  ProbeTarget t;
  t.host_ip = container::published_host_ip(inspect);
  t.ports = container::published_ports(inspect);
  t.container_ip = container::container_ip(inspect);
  if (inspect.is_object() && inspect.contains("Id") && inspect["Id"].is_string()) t.container_id = inspect["Id"];
  return t;
}

Endpoint resolve_endpoint(const ProbeTarget& target, int container_port) {
  std::string host = target.host_ip.empty() ? "127.0.0.1" : target.host_ip;
  if (auto it = target.ports.find(container_port); it != target.ports.end()) return {host, it->second, true};
  if (!target.container_ip.empty()) return {target.container_ip, container_port, false};
  return {host, container_port, false};
}

bool wait_port(const ProbeTarget& target, int port, Clock::time_point deadline,
               const std::function<bool()>& cancelled) {
  Endpoint published = resolve_endpoint(target, port);
  milliseconds delay(50);
  for (;;) {
    if (cancelled && cancelled()) return false;
    auto now = Clock::now();
    if (now >= deadline) return false;
    auto attempt_deadline = std::min(deadline, now + std::chrono::seconds(1));
    bool try_published = true;
    if (!target.container_ip.empty()) {
      Connected c = tcp_connect(target.container_ip, port, attempt_deadline);
      if (c.fd) return true;
      // Refused is a definite "not yet"; unreachable (rootless networking,
      // another host) means only the published port can tell.
      try_published = c.err != ECONNREFUSED && published.published;
    }
    if (try_published) {
      Connected c = tcp_connect(published.host, published.port, attempt_deadline);
      if (c.fd && (!published.published || stays_open(c.fd.get(), milliseconds(200)))) return true;
    }
    int left = ms_until(deadline);
    if (left == 0) return false;
    std::this_thread::sleep_for(std::min<milliseconds>(delay, milliseconds(left)));
    delay = std::min<milliseconds>(delay * 2, milliseconds(1000));
  }
}

// ---- HTTP -------------------------------------------------------------------

ProbeResult run_http_probe(const ProbeSpec& spec, const ProbeTarget& target, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Endpoint ep = resolve_endpoint(target, spec.port);
  std::string url = fmt::format("http://{}:{}{}", host_for_url(ep.host), ep.port, spec.path);
  std::string what = fmt::format("{} {}", spec.method, url);
  ProbeResult r;

  Connected c = tcp_connect(ep.host, ep.port, deadline);
  if (!c.fd) {
    r.detail = fmt::format("{}: {}", what, c.err == ETIMEDOUT ? "connect timed out" : c.error);
    return r;
  }
  std::string req = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: sctrace-probe\r\nAccept: */*\r\nConnection: close\r\n",
      spec.method, spec.path, host_for_url(ep.host), ep.port);
  if (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH")
    req += fmt::format("Content-Type: text/plain\r\nContent-Length: {}\r\n", spec.body.size());
  req += "\r\n";
  req += spec.body;

  std::string_view pending = req;
  while (!pending.empty()) {
    if (!wait_fd(c.fd.get(), POLLOUT, deadline)) {
      r.detail = fmt::format("{}: timed out sending the request", what);
      return r;
    }
    ssize_t n = send(c.fd.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      r.detail = fmt::format("{}: send: {}", what, std::strerror(errno));
      return r;
    }
    pending.remove_prefix(static_cast<size_t>(n));
  }

  // Read until the server closes (we asked it to), the announced body is in,
  // or 1 MiB: only the status line matters, but draining spares the server
  // a reset that would change what it does.
  std::string resp;
  size_t header_end = std::string::npos;
  std::optional<size_t> content_length;
  bool eof = false;
  while (resp.size() < (1u << 20)) {
    if (header_end != std::string::npos && content_length && resp.size() >= header_end + 4 + *content_length) break;
    if (!wait_fd(c.fd.get(), POLLIN, deadline)) break;
    char buf[16384];
    ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      eof = true;
      if (n < 0 && resp.empty()) {
        r.detail = fmt::format("{}: recv: {}", what, std::strerror(errno));
        return r;
      }
      break;
    }
    resp.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = resp.find("\r\n\r\n")) != std::string::npos) {
      // Content-Length, case-insensitively.
      std::string lower = resp.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos)
        content_length = std::strtoull(lower.c_str() + p + 17, nullptr, 10);
      if (spec.method == "HEAD") content_length = 0;
    }
  }
  size_t eol = resp.find("\r\n");
  if (eol == std::string::npos) {
    r.detail = resp.empty() ? fmt::format("{}: {}", what, eof ? "connection closed without an answer"
                                                              : "no answer within the timeout")
                            : fmt::format("{}: malformed answer", what);
    return r;
  }
  std::string status_line = resp.substr(0, eol);
  // "HTTP/1.1 200 OK"
  int code = 0;
  if (status_line.starts_with("HTTP/") && status_line.size() >= 12 && status_line[8] == ' ')
    code = std::atoi(status_line.c_str() + 9);
  if (code < 100 || code > 599) {
    r.detail = fmt::format("{}: malformed status line \"{}\"", what, printable(status_line));
    return r;
  }
  r.code = code;
  r.ok = code >= 200 && code < 400;
  r.detail = fmt::format("{}: {}", what, printable(status_line));
  return r;
}

// ---- host command -------------------------------------------------------------

ProbeResult run_cmd_probe(const std::string& cmd, const ProbeTarget& target, milliseconds timeout,
                          const std::function<bool()>& cancelled) {
  // Everything is prepared before the spawn: nothing but exec runs in the child.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("SCTRACE_PORT_") || kv.starts_with("SCTRACE_CONTAINER=") ||
        kv.starts_with("SCTRACE_CONTAINER_IP=") || kv.starts_with("SCTRACE_HOST="))
      continue;
    env.emplace_back(kv);
  }
  for (const auto& [cport, hport] : target.ports) env.push_back(fmt::format("SCTRACE_PORT_{}={}", cport, hport));
  env.push_back("SCTRACE_HOST=" + (target.host_ip.empty() ? std::string("127.0.0.1") : target.host_ip));
  env.push_back("SCTRACE_CONTAINER=" + target.container_id);
  if (!target.container_ip.empty()) env.push_back("SCTRACE_CONTAINER_IP=" + target.container_ip);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = cmd;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group, so a timeout kills the whole pipeline; default
  // dispositions and an empty mask whatever sctrace set for itself.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ProbeResult r;
  if (rc != 0) {
    r.detail = fmt::format("cannot run /bin/sh: {}", std::strerror(rc));
    return r;
  }

  auto deadline = Clock::now() + timeout;
  int status = 0;
  milliseconds nap(5);
  for (;;) {
    // WNOWAIT: the zombie keeps its pid (and so the group id) reserved until
    // the leftovers in its group are killed below.
    siginfo_t info{};
    int w = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (w == 0 && info.si_pid == pid) break;
    if (w < 0 && errno != EINTR) {
      r.detail = fmt::format("probe command: waitpid: {}", std::strerror(errno));
      kill(-pid, SIGKILL);
      return r;
    }
    if (cancelled && cancelled()) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      r.code = -1;
      r.cancelled = true;
      r.detail = "probe command stopped: the run was interrupted";
      return r;
    }
    if (Clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      r.code = -1;
      r.detail = fmt::format("probe command timed out after {} ms: {}", timeout.count(), cmd);
      return r;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min<milliseconds>(nap * 2, milliseconds(100));
  }
  // Leftover background jobs of the command do not outlive the probe.
  kill(-pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const ExitStatus es = exit_status_from_wait(status);
  r.code = es.shell_code();
  r.ok = r.code == 0;
  r.detail = es.signaled ? fmt::format("killed by signal {} ({})", es.signal, sigabbrev_np(es.signal))
                         : fmt::format("exit status {}", es.code);
  return r;
}

// ---- exec in the container ----------------------------------------------------------

ProbeResult run_exec_probe(container::Engine& engine, const std::vector<std::string>& argv, const ProbeTarget& target,
                           milliseconds timeout, const std::vector<std::string>& env) {
  ProbeResult r;
  if (argv.empty()) {
    r.detail = "exec probe: empty command";
    return r;
  }
  std::string exec_id;
  try {
    nlohmann::json req = {{"AttachStdin", false}, {"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false},
                          {"Cmd", argv}};
    if (!env.empty()) req["Env"] = env;
    nlohmann::json created =
        engine.post(fmt::format("/containers/{}/exec", container::url_query_escape(target.container_id)), req);
    exec_id = created.at("Id").get<std::string>();

    // Without a TTY the answer is a raw stream of frames: 1 byte stream
    // (0 stdin, 1 stdout, 2 stderr), 3 zero bytes, a big-endian length.
    std::string buf;
    container::Engine::RequestOptions opts;
    opts.timeout = timeout;
    opts.on_data = [&](std::string_view chunk) {
      buf.append(chunk);
      while (buf.size() >= 8) {
        auto* h = reinterpret_cast<const unsigned char*>(buf.data());
        size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | size_t{h[7]};
        if (buf.size() < 8 + len) break;
        write_all(h[0] == 2 ? 2 : 1, std::string_view(buf).substr(8, len));
        buf.erase(0, 8 + len);
      }
    };
    engine.checked("POST", fmt::format("/exec/{}/start", exec_id), {{"Detach", false}, {"Tty", false}}, opts);
    // The stream ends when the process does; its exit code can lag a moment.
    for (int i = 0; i < 50; ++i) {
      nlohmann::json info = engine.get(fmt::format("/exec/{}/json", exec_id));
      if (!info.value("Running", false) && info.contains("ExitCode") && info["ExitCode"].is_number_integer()) {
        r.code = info["ExitCode"].get<int>();
        r.ok = r.code == 0;
        r.detail = fmt::format("exit status {}", r.code);
        return r;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    r.detail = "exec probe: the command's exit code never became available";
  } catch (const nlohmann::json::exception& e) {
    r.detail = fmt::format("exec probe: unexpected answer from the daemon: {}", e.what());
  } catch (const Error& e) {
    r.detail = fmt::format("exec probe: {}", e.what());
  }
  return r;
}

// ---- words ----------------------------------------------------------------------

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  auto needs_shell = [&](std::string_view what) {
    fail(ErrorKind::usage, "{} needs a shell and none is run here (quote it, or run sh -c '...'): {}", what, text);
  };
  auto is_expansion = [&](size_t i) {
    // "$" starts an expansion when a name, digit, special parameter, "{" or
    // "(" follows; a lone "$" is literal in sh too.
    if (i + 1 >= text.size()) return false;
    char n = text[i + 1];
    return std::isalnum(static_cast<unsigned char>(n)) || n == '_' || n == '{' || n == '(' ||
           std::strchr("@*#?$!-", n) != nullptr;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) fail(ErrorKind::usage, "unterminated single quote: {}", text);
      cur.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
    } else if (c == '"') {
      in_word = true;
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= text.size()) fail(ErrorKind::usage, "unterminated double quote: {}", text);
        char d = text[j];
        if (d == '"') break;
        if (d == '\\' && j + 1 < text.size() && std::strchr("\"\\$`\n", text[j + 1])) {
          if (text[j + 1] != '\n') cur += text[j + 1];
          ++j;
        } else if (d == '`') {
          needs_shell("command substitution (`)");
        } else if (d == '$' && is_expansion(j)) {
          needs_shell("expansion ($)");
        } else {
          cur += d;
        }
      }
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        cur += c;  // a trailing backslash stays, as in sh
        in_word = true;
      } else if (text[i + 1] == '\n') {
        ++i;  // line continuation
      } else {
        cur += text[++i];
        in_word = true;
      }
    } else if (std::strchr("|&;<>()`", c)) {
      needs_shell(fmt::format("'{}'", c));
    } else if (c == '$' && is_expansion(i)) {
      needs_shell("expansion ($)");
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

}  // namespace sctrace
