#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/probes.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using sctrace::test::kind_of;
using sctrace::test::slurp;

// A TCP server on 127.0.0.1:<ephemeral> in a thread. For every connection it
// reads the request (headers + Content-Length body) and hands it to
// `respond`, which returns the raw bytes to send back (then the connection
// is closed), or nullopt to close without a word.
class TestServer {
 public:
  using Handler = std::function<std::optional<std::string>(const std::string& request)>;
  explicit TestServer(Handler respond, std::chrono::milliseconds start_delay = 0ms)
      : respond_(std::move(respond)) {
    fd_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd_.valid());
    int one = 1;
    setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    REQUIRE(getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port_ = ntohs(sa.sin_port);
    if (start_delay == 0ms) REQUIRE(listen(fd_.get(), 16) == 0);
    thread_ = std::thread([this, start_delay] { loop(start_delay); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void loop(std::chrono::milliseconds start_delay) {
    if (start_delay > 0ms) {
      std::this_thread::sleep_for(start_delay);
      listen(fd_.get(), 16);
    }
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      UniqueFd conn(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) continue;
      std::string req;
      char buf[4096];
      size_t need = std::string::npos;
      while (!stop_) {
        if (need != std::string::npos && req.size() >= need) break;
        pollfd q{conn.get(), POLLIN, 0};
        if (poll(&q, 1, 50) <= 0) continue;
        ssize_t n = read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        auto end = req.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          size_t body = 0;
          if (auto p2 = req.find("Content-Length: "); p2 != std::string::npos && p2 < end)
            body = std::stoul(req.substr(p2 + 16));
          need = end + 4 + body;
        }
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
      }
      auto answer = respond_(req);
      if (answer) {
        std::string_view out = *answer;
        while (!out.empty()) {
          ssize_t n = send(conn.get(), out.data(), out.size(), MSG_NOSIGNAL);
          if (n <= 0) break;
          out.remove_prefix(static_cast<size_t>(n));
        }
      }
    }
  }

  Handler respond_;
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string http_answer(int code, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// A port on 127.0.0.1 with nothing listening (bound, never listened).
struct ClosedPort {
  UniqueFd fd{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int port = 0;
  ClosedPort() {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
};

ProbeTarget local_target() {
  ProbeTarget t;
  t.host_ip = "127.0.0.1";
  return t;
}

std::string temp_path(const char* tag) {
  return "/tmp/sctrace-test-" + std::string(tag) + "-" + std::to_string(getpid());
}


}  // namespace

// ---- specs --------------------------------------------------------------------

TEST_CASE("http probe specs: PORT[/PATH] and METHOD:PORT[/PATH]", "[probes]") {
  auto s = parse_http_probe("8080");
  CHECK(s.kind == ProbeKind::http);
  CHECK(s.method == "GET");
  CHECK(s.port == 8080);
  CHECK(s.path == "/");
  CHECK(s.body.empty());

  s = parse_http_probe("80/health?full=1");
  CHECK(s.port == 80);
  CHECK(s.path == "/health?full=1");

  s = parse_http_probe("post:9000/echo");
  CHECK(s.method == "POST");
  CHECK(s.port == 9000);
  CHECK(s.path == "/echo");
  CHECK_FALSE(s.body.empty());

  s = parse_http_probe("PUT:1");
  CHECK(s.method == "PUT");
  CHECK(s.port == 1);
  CHECK(s.path == "/");
  CHECK_FALSE(s.body.empty());

  s = parse_http_probe("DELETE:65535/x/y");
  CHECK(s.method == "DELETE");
  CHECK(s.port == 65535);
  CHECK(s.body.empty());
  CHECK(s.text == "DELETE:65535/x/y");
}

TEST_CASE("malformed probe specs are one-line usage errors", "[probes]") {
  for (const char* bad : {"", "abc", "0", "65536", "99999999", "-1", "80 ", "GET:", ":80", "GET:abc/", "G3T:80/",
                          "8080/a b", "8080/a\tb", "GET:80:81/", "/path"}) {
    INFO("spec: \"" << bad << "\"");
    std::string msg;
    CHECK(kind_of([&] { parse_http_probe(bad); }, &msg) == ErrorKind::usage);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find("--http-probe") != std::string::npos);
  }
  for (const char* bad : {"", "x", "0", "70000", "8o"}) {
    INFO("wait-port: \"" << bad << "\"");
    CHECK(kind_of([&] { parse_wait_port(bad); }) == ErrorKind::usage);
  }
  CHECK(parse_wait_port("5432").port == 5432);
  CHECK(kind_of([] { parse_probe_cmd("   "); }) == ErrorKind::usage);
  CHECK(parse_probe_cmd("curl -sf localhost").command == "curl -sf localhost");
  CHECK(kind_of([] { parse_exec_probe(""); }) == ErrorKind::usage);
  CHECK(parse_exec_probe("  '' ").argv == std::vector<std::string>{""});
  std::string msg;
  CHECK(kind_of([] { parse_exec_probe("wget -qO- localhost | grep ok"); }, &msg) == ErrorKind::usage);
  CHECK(msg.find("'|'") != std::string::npos);
  CHECK(parse_exec_probe("/bin/check --fast 'a b'").argv == std::vector<std::string>{"/bin/check", "--fast", "a b"});
}

// ---- split_words --------------------------------------------------------------

TEST_CASE("split_words follows sh quoting without running a shell", "[probes]") {
  using V = std::vector<std::string>;
  CHECK(split_words("") == V{});
  CHECK(split_words("   \t\n ") == V{});
  CHECK(split_words("a b  c") == V{"a", "b", "c"});
  CHECK(split_words("  lead and trail  ") == V{"lead", "and", "trail"});
  CHECK(split_words("'a b' c") == V{"a b", "c"});
  CHECK(split_words("\"a b\" c") == V{"a b", "c"});
  CHECK(split_words("a'b'\"c\"d") == V{"abcd"});
  CHECK(split_words("'' \"\" x") == V{"", "", "x"});
  CHECK(split_words("'$HOME \"q\" \\n'") == V{"$HOME \"q\" \\n"});  // single quotes: all literal
  CHECK(split_words("\"say \\\"hi\\\" \\\\ \\$x \\n\"") == V{"say \"hi\" \\ $x \\n"});
  CHECK(split_words("a\\ b c") == V{"a b", "c"});
  CHECK(split_words("\\'x\\'") == V{"'x'"});
  CHECK(split_words("a\\\nb") == V{"ab"});            // line continuation
  CHECK(split_words("\"a\\\nb\"") == V{"ab"});
  CHECK(split_words("end\\") == V{"end\\"});
  CHECK(split_words("cost $ 5") == V{"cost", "$", "5"});  // a lone $ is literal in sh too
  CHECK(split_words("'a|b' \"x;y\" c\\&d") == V{"a|b", "x;y", "c&d"});
  CHECK(split_words("*.txt ~ #x") == V{"*.txt", "~", "#x"});  // no globbing/tilde

  for (const char* bad : {"'open", "\"open", "a \"b 'c'", "a | b", "a;b", "a && b", "a > f", "a < f", "(a)", "`id`",
                          "echo $HOME", "echo ${X}", "echo $(id)", "echo \"$HOME\"", "echo \"`id`\"", "a&"}) {
    INFO("input: " << bad);
    std::string msg;
    CHECK(kind_of([&] { split_words(bad); }, &msg) == ErrorKind::usage);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

// ---- endpoints ------------------------------------------------------------------

TEST_CASE("probe endpoints: published port, else container IP, else host", "[probes]") {
  ProbeTarget t;
  t.host_ip = "127.0.0.1";
  t.ports = {{80, 49153}};
  t.container_ip = "172.17.0.5";
  auto e = resolve_endpoint(t, 80);
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 49153);
  CHECK(e.published);
  e = resolve_endpoint(t, 9090);
  CHECK(e.host == "172.17.0.5");
  CHECK(e.port == 9090);
  CHECK_FALSE(e.published);
  t.container_ip.clear();
  t.ports.clear();
  e = resolve_endpoint(t, 9090);  // host networking
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 9090);
}

// ---- HTTP probe -------------------------------------------------------------------

TEST_CASE("http probe talks HTTP/1.1 to a real socket", "[probes]") {
  TestServer server([](const std::string& req) -> std::optional<std::string> {
    if (req.starts_with("GET / ")) return http_answer(200, "OK", "hello");
    if (req.starts_with("GET /moved ")) return http_answer(302, "Found", "");
    if (req.starts_with("POST /echo ")) return http_answer(200, "OK", req.substr(req.find("\r\n\r\n") + 4));
    if (req.starts_with("GET /silent ")) return std::nullopt;
    if (req.starts_with("GET /garbage ")) return std::string("SSH-2.0-OpenSSH\r\n");
    if (req.starts_with("GET /fail ")) return http_answer(500, "Internal Server Error", "boom");
    return http_answer(404, "Not Found", "");
  });
  ProbeTarget t = local_target();
  t.ports = {{80, server.port()}};  // container port 80 published on the test server's port

  auto r = run_http_probe(parse_http_probe("80/"), t);
  CHECK(r.ok);
  CHECK(r.code == 200);
  CHECK(r.detail.find("HTTP/1.1 200 OK") != std::string::npos);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].starts_with("GET / HTTP/1.1\r\n"));
  CHECK(reqs[0].find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
  CHECK(reqs[0].find("\r\nConnection: close\r\n") != std::string::npos);

  r = run_http_probe(parse_http_probe("POST:80/echo"), t);
  CHECK(r.ok);
  reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].starts_with("POST /echo HTTP/1.1\r\n"));
  CHECK(reqs[1].find("\r\nContent-Length: 13\r\n") != std::string::npos);
  CHECK(reqs[1].ends_with("\r\n\r\nsctrace-probe"));

  r = run_http_probe(parse_http_probe("80/moved"), t);
  CHECK(r.ok);  // 3xx counts as an answer
  CHECK(r.code == 302);

  r = run_http_probe(parse_http_probe("80/nope"), t);
  CHECK_FALSE(r.ok);
  CHECK(r.code == 404);
  CHECK(r.detail.find("404 Not Found") != std::string::npos);

  r = run_http_probe(parse_http_probe("80/fail"), t);
  CHECK_FALSE(r.ok);
  CHECK(r.code == 500);

  r = run_http_probe(parse_http_probe("80/silent"), t);
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("closed without an answer") != std::string::npos);

  r = run_http_probe(parse_http_probe("80/garbage"), t);
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("malformed") != std::string::npos);
}

TEST_CASE("http probe failures: refused and timeout", "[probes]") {
  ClosedPort closed;
  ProbeTarget t = local_target();
  t.ports = {{80, closed.port}};
  auto r = run_http_probe(parse_http_probe("80"), t, 2s);
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("refused") != std::string::npos);

  // A server that accepts but never answers: bounded by the timeout.
  std::atomic<bool> release{false};
  TestServer mute([&](const std::string&) -> std::optional<std::string> {
    while (!release) std::this_thread::sleep_for(10ms);
    return std::nullopt;
  });
  t.ports = {{80, mute.port()}};
  auto start = Clock::now();
  r = run_http_probe(parse_http_probe("80"), t, 300ms);
  auto took = Clock::now() - start;
  release = true;
  CHECK_FALSE(r.ok);
  CHECK(took >= 250ms);
  CHECK(took < 3s);
  CHECK(r.detail.find("no answer within the timeout") != std::string::npos);
}

// ---- wait_port ----------------------------------------------------------------------

TEST_CASE("wait_port: ready, never ready, ready later", "[probes]") {
  TestServer up([](const std::string&) { return std::optional<std::string>(); });
  ProbeTarget t = local_target();
  auto start = Clock::now();
  CHECK(wait_port(t, up.port(), Clock::now() + 5s));  // not published: host_ip:port directly
  CHECK(Clock::now() - start < 1s);

  ClosedPort closed;
  start = Clock::now();
  CHECK_FALSE(wait_port(t, closed.port, Clock::now() + 400ms));
  auto took = Clock::now() - start;
  CHECK(took >= 350ms);
  CHECK(took < 2s);

  TestServer later([](const std::string&) { return std::optional<std::string>(); }, 600ms);
  start = Clock::now();
  CHECK(wait_port(t, later.port(), Clock::now() + 10s));
  CHECK(Clock::now() - start >= 500ms);

  // cancelled() stops the wait early.
  start = Clock::now();
  CHECK_FALSE(wait_port(t, closed.port, Clock::now() + 10s, [&] { return Clock::now() - start > 200ms; }));
  CHECK(Clock::now() - start < 3s);
}

TEST_CASE("wait_port through a published port ignores a proxy that drops connections", "[probes]") {
  // What docker-proxy does while nothing listens in the container: accept,
  // then close at once.
  UniqueFd lfd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(lfd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  REQUIRE(listen(lfd.get(), 16) == 0);
  std::atomic<bool> stop{false};
  std::thread proxy([&] {
    while (!stop) {
      pollfd p{lfd.get(), POLLIN, 0};
      if (poll(&p, 1, 20) > 0) UniqueFd c(accept4(lfd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    }
  });
  ProbeTarget t = local_target();
  t.ports = {{8080, ntohs(sa.sin_port)}};
  CHECK_FALSE(wait_port(t, 8080, Clock::now() + 800ms));
  stop = true;
  proxy.join();

  // A real listener behind a published port is ready.
  TestServer up([](const std::string&) { return std::optional<std::string>(); });
  t.ports = {{8080, up.port()}};
  CHECK(wait_port(t, 8080, Clock::now() + 5s));
}

// ---- command probe --------------------------------------------------------------------

// Whether pid has exited (gone or a zombie) within about two seconds.
static bool gone_within_2s(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), {});
    if (s.empty() || s.find(") Z ") != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST_CASE("cmd probe: environment, exit status, timeout", "[probes]") {
  ProbeTarget t = local_target();
  t.ports = {{80, 49153}, {443, 49154}};
  t.container_id = "0123456789abcdef";
  t.container_ip = "172.17.0.9";
  std::string out = temp_path("cmdprobe");
  auto r = run_cmd_probe("printf '%s %s %s %s %s' \"$SCTRACE_PORT_80\" \"$SCTRACE_PORT_443\" \"$SCTRACE_CONTAINER\" "
                         "\"$SCTRACE_HOST\" \"$SCTRACE_CONTAINER_IP\" > " + out,
                         t);
  CHECK(r.ok);
  CHECK(r.code == 0);
  CHECK(slurp(out) == "49153 49154 0123456789abcdef 127.0.0.1 172.17.0.9");
  unlink(out.c_str());

  // Stale values from sctrace's own environment do not leak through.
  setenv("SCTRACE_PORT_8080", "1", 1);
  r = run_cmd_probe("test -z \"$SCTRACE_PORT_8080\"", t);
  unsetenv("SCTRACE_PORT_8080");
  CHECK(r.ok);

  r = run_cmd_probe("exit 3", t);
  CHECK_FALSE(r.ok);
  CHECK(r.code == 3);
  CHECK(r.detail == "exit status 3");

  r = run_cmd_probe("kill -TERM $$", t);
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("signal 15") != std::string::npos);

  r = run_cmd_probe("read x", t);  // stdin is /dev/null: read fails at once
  CHECK_FALSE(r.ok);

  std::string pidfile = temp_path("cmdprobe-bg");
  auto start = Clock::now();
  r = run_cmd_probe("sleep 30 & echo $! > " + pidfile + "; sleep 30", t, 300ms);
  auto took = Clock::now() - start;
  CHECK_FALSE(r.ok);
  CHECK(r.detail.find("timed out") != std::string::npos);
  CHECK(took < 3s);
  // The background sleep went down with the group.
  pid_t bg = std::atoi(slurp(pidfile).c_str());
  unlink(pidfile.c_str());
  REQUIRE(bg > 0);
  CHECK(gone_within_2s(bg));
}

TEST_CASE("cmd probe: cancelled() stops the whole group at once", "[probes]") {
  ProbeTarget t = local_target();
  std::string pidfile = temp_path("cmdprobe-cancel");
  auto start = Clock::now();
  auto r = run_cmd_probe("sleep 30 & echo $! > " + pidfile + "; sleep 30", t, 60s,
                         [&] { return Clock::now() - start > 300ms; });
  auto took = Clock::now() - start;
  CHECK(r.cancelled);
  CHECK_FALSE(r.ok);
  CHECK(took < 3s);
  pid_t bg = std::atoi(slurp(pidfile).c_str());
  unlink(pidfile.c_str());
  REQUIRE(bg > 0);
  CHECK(gone_within_2s(bg));

  r = run_cmd_probe("exit 0", t, 60s, [] { return false; });
  CHECK(r.ok);
  CHECK_FALSE(r.cancelled);
}
