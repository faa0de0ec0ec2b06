#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <tuple>
#include <algorithm>
#include <thread>

#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/container/engine.h"
#include "tracer/container/tar.h"
#include "tracer/probes.h"

using namespace sctrace;
using namespace sctrace::container;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// ---- a fake daemon on a unix socket ---------------------------------------------

struct FakeReply {
  int status = 200;
  std::string body;
  // Send the headers, then wait this long before the body.
  std::chrono::milliseconds body_delay{0};
};

class FakeDaemon {
 public:
  using Handler = std::function<FakeReply(const std::string& method, const std::string& target, const std::string& body)>;
  explicit FakeDaemon(Handler h) : handler_(std::move(h)) {
    static std::atomic<int> counter{0};
    path_ = "/tmp/sctrace-fake-docker-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".sock";
    unlink(path_.c_str());
    fd_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
    REQUIRE(bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(listen(fd_.get(), 16) == 0);
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeDaemon() {
    stop_ = true;
    thread_.join();
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      UniqueFd conn(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) continue;
      // One request per connection (we answer with Connection: close).
      std::string req;
      size_t need = std::string::npos;
      char buf[4096];
      while (!stop_ && (need == std::string::npos || req.size() < need)) {
        pollfd q{conn.get(), POLLIN, 0};
        if (poll(&q, 1, 20) <= 0) continue;
        ssize_t n = read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        auto end = req.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          size_t body = 0;
          if (auto cl = req.find("Content-Length: "); cl != std::string::npos && cl < end)
            body = std::stoul(req.substr(cl + 16));
          need = end + 4 + body;
        }
      }
      auto sp1 = req.find(' ');
      auto sp2 = req.find(' ', sp1 + 1);
      if (sp1 == std::string::npos || sp2 == std::string::npos) continue;
      std::string method = req.substr(0, sp1), target = req.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string body = req.substr(std::min(req.size(), req.find("\r\n\r\n") + 4));
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(method + " " + target);
      }
      FakeReply r = handler_(method, target, body);
      std::string head = "HTTP/1.1 " + std::to_string(r.status) +
                         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
                         "\r\nConnection: close\r\n\r\n";
      send(conn.get(), head.data(), head.size(), MSG_NOSIGNAL);
      auto until = Clock::now() + r.body_delay;
      while (!stop_ && Clock::now() < until) {
        // A client that gave up (cancelled wait) hangs up: stop waiting.
        pollfd q{conn.get(), static_cast<short>(POLLIN | POLLRDHUP), 0};
        if (poll(&q, 1, 5) > 0) break;
      }
      send(conn.get(), r.body.data(), r.body.size(), MSG_NOSIGNAL);
    }
  }

  Handler handler_;
  std::string path_;
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

FakeDaemon::Handler daemon_with_api(std::string api) {
  return [api](const std::string& method, const std::string& target, const std::string&) -> FakeReply {
    if (method == "GET" && target == "/version") return {200, json{{"ApiVersion", api}, {"Version", "fake"}}.dump()};
    if (target.ends_with("/images/foo:latest/json")) return {404, R"({"message":"No such image: foo:latest"})"};
    if (target.ends_with("/images/twice/json"))
      return {404, R"({"message":"no such image: twice:latest: No such image: twice:latest"})"};
    if (target.ends_with("/boom")) return {500, "plain text\nsecond line"};
    if (target.ends_with("/multiline")) return {409, R"({"message":"line one\nline two"})"};
    return {200, R"({"ok":true})"};
  };
}

// Restores an environment variable on scope exit.
struct EnvGuard {
  std::string name;
  std::optional<std::string> old;
  explicit EnvGuard(std::string n) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
  }
  ~EnvGuard() {
    if (old)
      setenv(name.c_str(), old->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

// ---- the real daemon --------------------------------------------------------------

bool docker_reachable() {
  try {
    Engine e;
    e.version_info();
    return true;
  } catch (const Error& err) {
    WARN("Docker daemon not reachable, skipping: " << err.what());
    if (std::getenv("SCTRACE_REQUIRE_DOCKER")) FAIL("SCTRACE_REQUIRE_DOCKER is set but the daemon is not reachable");
    return false;
  }
}

std::string unique_suffix() {
  static std::atomic<int> n{0};
  return std::to_string(getpid()) + "-" + std::to_string(n++);
}

std::string sample_path(const char* name) {
  std::string p = std::string(SCTRACE_SAMPLES_DIR) + "/" + name;
  if (access(p.c_str(), X_OK) != 0) FAIL("missing sample " << p << " (build the `samples` target first)");
  return p;
}

// Removes an image by ID on scope exit.
struct ImageGuard {
  Engine& engine;
  std::string id;
  ~ImageGuard() {
    try {
      remove_image(engine, id);
    } catch (...) {
    }
  }
};

std::string import_samples_image(Engine& e, const std::vector<std::string>& changes) {
  std::vector<TarEntry> entries{{"tmp", "", 01777, true},
                                tar_file_from_host(sample_path("http_server"), "http_server"),
                                tar_file_from_host(sample_path("batch"), "batch")};
  return import_image(e, make_tar(entries), changes, "sctrace-unit-engine:" + unique_suffix());
}

}  // namespace

// ---- no daemon needed ---------------------------------------------------------------

TEST_CASE("API versions compare numerically", "[engine]") {
  CHECK(compare_api_versions("1.41", "1.41") == 0);
  CHECK(compare_api_versions("1.9", "1.41") < 0);
  CHECK(compare_api_versions("1.41", "1.9") > 0);
  CHECK(compare_api_versions("1.43", "1.41") > 0);
  CHECK(compare_api_versions("2.0", "1.99") > 0);
  CHECK(compare_api_versions("1.41", "1.41.0") == 0);
}

TEST_CASE("socket path from DOCKER_HOST", "[engine]") {
  EnvGuard guard("DOCKER_HOST");
  unsetenv("DOCKER_HOST");
  CHECK(default_socket_path() == "/var/run/docker.sock");
  setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock", 1);
  CHECK(default_socket_path() == "/run/user/1000/docker.sock");
  CHECK(Engine().socket_path() == "/run/user/1000/docker.sock");
  CHECK(Engine("unix:///x.sock").socket_path() == "/x.sock");
  CHECK(Engine("/y.sock").socket_path() == "/y.sock");
  setenv("DOCKER_HOST", "tcp://10.0.0.1:2375", 1);
  try {
    default_socket_path();
    FAIL("tcp:// accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("tcp://10.0.0.1:2375") != std::string::npos);
  }
}

TEST_CASE("an unreachable daemon is a one-line runtime error naming the socket", "[engine]") {
  Engine e("/nonexistent/sctrace-test.sock");
  try {
    e.get("/info");
    FAIL("no error");
  } catch (const Error& err) {
    std::string msg = err.what();
    CHECK(err.kind() == ErrorKind::runtime);
    CHECK(msg.starts_with("cannot reach the Docker daemon at /nonexistent/sctrace-test.sock: "));
    CHECK(msg.find('\n') == std::string::npos);
    INFO(msg);
  }
}

TEST_CASE("API version: min(daemon, max supported), too old refused", "[engine]") {
  {
    FakeDaemon d(daemon_with_api("1.47"));
    Engine e(d.path());
    CHECK(e.api_version() == std::string(kMaxApiVersion));
    e.get("/info");
    auto reqs = d.requests();
    REQUIRE(reqs.size() == 2);  // /version once, then the versioned path
    CHECK(reqs[0] == "GET /version");
    CHECK(reqs[1] == "GET /v1.41/info");
    e.get("/info");
    CHECK(d.requests().size() == 3);  // the version is not asked again
  }
  {
    FakeDaemon d(daemon_with_api("1.35"));
    Engine e(d.path());
    e.post("/containers/x/start");
    auto reqs = d.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1] == "POST /v1.35/containers/x/start");
  }
  {
    FakeDaemon d(daemon_with_api("1.24"));
    Engine e(d.path());
    try {
      e.get("/info");
      FAIL("an API 1.24 daemon was accepted");
    } catch (const Error& err) {
      CHECK(std::string(err.what()).find("1.24") != std::string::npos);
    }
  }
}

TEST_CASE("HTTP errors carry the daemon's message", "[engine]") {
  FakeDaemon d(daemon_with_api("1.41"));
  Engine e(d.path());
  try {
    inspect_image(e, "foo:latest");
    FAIL("no error");
  } catch (const EngineError& err) {
    CHECK(err.http_status() == 404);
    CHECK(err.kind() == ErrorKind::runtime);
    CHECK(std::string(err.what()) == "docker: No such image: foo:latest");
  }
  CHECK_THROWS_WITH(inspect_image(e, "twice"), "docker: No such image: twice:latest");
  try {
    e.get("/boom");
    FAIL("no error");
  } catch (const EngineError& err) {
    CHECK(err.http_status() == 500);
    CHECK(std::string(err.what()) == "docker: HTTP 500: plain text");
  }
  try {
    e.del("/multiline");
    FAIL("no error");
  } catch (const EngineError& err) {
    CHECK(std::string(err.what()) == "docker: line one line two");
  }
  // The image reference keeps its '/' and ':'.
  CHECK_NOTHROW(inspect_image(e, "registry:5000/team/app:v1"));
  CHECK(d.requests().back() == "GET /v1.41/images/registry:5000/team/app:v1/json");
}

TEST_CASE("request bodies and query escaping", "[engine]") {
  std::string seen_body;
  FakeDaemon d([&](const std::string& m, const std::string& t, const std::string& body) -> FakeReply {
    if (t == "/version") return {200, R"({"ApiVersion":"1.41"})"};
    if (m == "POST" && t.starts_with("/v1.41/containers/create")) {
      seen_body = body;
      return {201, R"({"Id":"abc123","Warnings":[]})"};
    }
    return {404, R"({"message":"nope"})"};
  });
  Engine e(d.path());
  json body = {{"Image", "img"}, {"Cmd", {"a b", "c"}}};
  CHECK(create_container(e, body, "my name/1") == "abc123");
  CHECK(d.requests().back() == "POST /v1.41/containers/create?name=my%20name%2F1");
  CHECK(json::parse(seen_body) == body);
  CHECK(url_query_escape("a=b&c d~") == "a%3Db%26c%20d~");
}

TEST_CASE("wait: registered callback, exit code, cancellation", "[engine]") {
  std::atomic<int> delay_ms{300};
  FakeDaemon d([&](const std::string&, const std::string& t, const std::string&) -> FakeReply {
    if (t == "/version") return {200, R"({"ApiVersion":"1.41"})"};
    if (t.find("/wait?condition=next-exit") != std::string::npos)
      return {200, R"({"StatusCode":7,"Error":null})", std::chrono::milliseconds(delay_ms.load())};
    if (t.find("/wait") != std::string::npos)
      return {200, R"({"StatusCode":0,"Error":{"Message":"container gone"}})"};
    return {404, "{}"};
  });
  Engine e(d.path());
  std::atomic<bool> registered{false};
  auto start = Clock::now();
  Clock::time_point registered_at;
  WaitOptions wo;
  wo.condition = "next-exit";
  wo.on_registered = [&] {
    registered_at = Clock::now();
    registered = true;
  };
  auto code = wait_container(e, "c1", wo);
  REQUIRE(code.has_value());
  CHECK(*code == 7);
  CHECK(registered);
  // Called when the headers came, before the delayed body.
  CHECK(registered_at - start < 250ms);
  CHECK(Clock::now() - start >= 280ms);

  // A wait that would take 20 s, cancelled after ~0.3 s.
  delay_ms = 20'000;
  start = Clock::now();
  wo.on_registered = nullptr;
  wo.cancelled = [&] { return Clock::now() - start > 300ms; };
  code = wait_container(e, "c1", wo);
  CHECK_FALSE(code.has_value());
  CHECK(Clock::now() - start < 5s);

  // The daemon's Error.Message is an error.
  CHECK_THROWS_WITH(wait_container(e, "c1"), Catch::Contains("container gone"));
}

TEST_CASE("inspect answers: published ports, host address, container IP", "[engine]") {
  json ins = json::parse(R"({
    "Id": "abc",
    "NetworkSettings": {
      "IPAddress": "",
      "Ports": {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}, {"HostIp": "::", "HostPort": "49153"}],
        "443/tcp": null,
        "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "49154"}],
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}]
      },
      "Networks": {"mynet": {"IPAddress": "10.1.2.3"}}
    }
  })");
  auto ports = published_ports(ins);
  CHECK(ports == std::map<int, int>{{80, 49153}, {8080, 32768}});
  CHECK(published_host_ip(ins) == "127.0.0.1");
  CHECK(container_ip(ins) == "10.1.2.3");
  ins["NetworkSettings"]["IPAddress"] = "172.17.0.2";
  CHECK(container_ip(ins) == "172.17.0.2");
  CHECK(published_ports(json::object()).empty());
  CHECK(container_ip(json::object()).empty());
  json v6 = {{"NetworkSettings", {{"Ports", {{"80/tcp", {{{"HostIp", "::"}, {"HostPort", "1"}}}}}}}}};
  CHECK(published_host_ip(v6) == "::1");
  auto t = probe_target_from_inspect(ins);
  CHECK(t.container_id == "abc");
  CHECK(t.ports.at(80) == 49153);
  CHECK(t.container_ip == "172.17.0.2");
}

TEST_CASE("OwnedContainer removes its container, tolerating one already gone", "[engine]") {
  std::vector<std::string> deleted;
  std::mutex m;
  FakeDaemon d([&](const std::string& method, const std::string& t, const std::string&) -> FakeReply {
    if (t == "/version") return {200, R"({"ApiVersion":"1.41"})"};
    if (method == "DELETE") {
      std::lock_guard lock(m);
      deleted.push_back(t);
      if (t.find("/gone?") != std::string::npos) return {404, R"({"message":"No such container: gone"})"};
      return {204, ""};
    }
    return {404, "{}"};
  });
  Engine e(d.path());
  {
    OwnedContainer a(e, "c1");
    OwnedContainer b(e, "gone");
    OwnedContainer c(e, "kept");
    CHECK(c.release() == "kept");
    OwnedContainer moved(std::move(a));
    CHECK(a.id().empty());
  }
  std::lock_guard lock(m);
  std::sort(deleted.begin(), deleted.end());
  CHECK(deleted == std::vector<std::string>{"/v1.41/containers/c1?force=1&v=1", "/v1.41/containers/gone?force=1&v=1"});
}

TEST_CASE("tar archives are valid ustar", "[engine]") {
  std::string long_dir(120, 'd');
  std::string tar = make_tar({{"tmp", "", 01777, true}, {"/bin/app", "binary", 0755}, {long_dir + "/f", "x"}});
  REQUIRE(tar.size() % 512 == 0);
  CHECK(tar.substr(0, 4) == "tmp/");
  CHECK(tar.substr(100, 7) == "0001777");
  CHECK(tar[156] == '5');
  CHECK(tar.substr(257, 5) == "ustar");
  CHECK(tar.substr(512, 7) == "bin/app");
  CHECK(tar.substr(1024, 6) == "binary");
  CHECK(tar.substr(1536 + 345, 120) == long_dir);  // split into prefix/name
  CHECK(tar.substr(1536, 1) == "f");
  // Checksums: the sum of the header with the checksum field as spaces.
  for (size_t off : {size_t{0}, size_t{512}, size_t{1536}}) {
    std::string h = tar.substr(off, 512);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    CHECK(std::strtoul(h.substr(148, 7).c_str(), nullptr, 8) == sum);
  }
  CHECK_THROWS_AS(make_tar({{std::string(300, 'x'), "", 0644}}), Error);
}

// ---- the real daemon ---------------------------------------------------------------

TEST_CASE("real daemon: version and errors", "[engine][container]") {
  if (!docker_reachable()) return;
  Engine e;
  std::string daemon = e.version_info().at("ApiVersion");
  CHECK(e.api_version() == (compare_api_versions(daemon, kMaxApiVersion) < 0 ? daemon : std::string(kMaxApiVersion)));
  try {
    inspect_image(e, "sctrace-no-such-image:latest");
    FAIL("no error");
  } catch (const EngineError& err) {
    CHECK(err.http_status() == 404);
    CHECK(std::string(err.what()) == "docker: No such image: sctrace-no-such-image:latest");
  }
  CHECK_THROWS_WITH(inspect_container(e, "sctrace-no-such-container"),
                    Catch::StartsWith("docker: No such container: sctrace-no-such-container"));
}

TEST_CASE("real daemon: import, create, start, probe, exec, stop, wait, remove", "[engine][container]") {
  if (!docker_reachable()) return;
  Engine e;
  ImageGuard img{e, import_samples_image(e, {"ENTRYPOINT [\"/http_server\"]", "EXPOSE 8080/tcp"})};
  json ii = inspect_image(e, img.id);
  CHECK(ii.at("Config").at("Entrypoint") == json{"/http_server"});
  CHECK(ii.at("Config").at("ExposedPorts").contains("8080/tcp"));

  json body = {{"Image", img.id},
               {"ExposedPorts", {{"8080/tcp", json::object()}}},
               {"HostConfig", {{"PortBindings", {{"8080/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", ""}}}}}}}}};
  std::string id;
  {
    OwnedContainer c(e, create_container(e, body, "sctrace-unit-" + unique_suffix()));
    id = c.id();
    REQUIRE(id.size() == 64);
    start_container(e, id);
    start_container(e, id);  // already running: not an error
    json ins = inspect_container(e, id);
    CHECK(ins.at("State").at("Running") == true);
    auto ports = published_ports(ins);
    REQUIRE(ports.count(8080) == 1);
    CHECK(ports[8080] > 0);
    CHECK_FALSE(container_ip(ins).empty());
    ProbeTarget t = probe_target_from_inspect(ins);
    CHECK(t.container_id == id);
    REQUIRE(wait_port(t, 8080, Clock::now() + 20s));

    auto r = run_http_probe(parse_http_probe("8080/"), t);
    CHECK(r.ok);
    CHECK(r.code == 200);
    r = run_http_probe(parse_http_probe("POST:8080/echo"), t);
    CHECK(r.ok);
    r = run_http_probe(parse_http_probe("8080/missing"), t);
    CHECK_FALSE(r.ok);
    CHECK(r.code == 404);
    // Straight to the container's address as well (a port that is not published).
    ProbeTarget direct = t;
    direct.ports.clear();
    CHECK(run_http_probe(parse_http_probe("8080/"), direct).ok);

    auto x = run_exec_probe(e, {"/batch"}, t);
    CHECK(x.ok);
    x = run_exec_probe(e, {"/batch", "--danger=nonexistent"}, t);
    CHECK_FALSE(x.ok);
    CHECK(x.code == 2);
    x = run_exec_probe(e, {"/no-such-binary"}, t);
    CHECK_FALSE(x.ok);
    INFO("exec of a missing binary: " << x.detail);

    put_archive(e, id, "/tmp", make_tar({{"hello.txt", "hi from sctrace\n", 0644}}));
    Response got = e.request("GET", fmt::format("/containers/{}/archive?path=/tmp/hello.txt", id), nullptr, {});
    CHECK(got.status == 200);
    CHECK(got.body.find("hi from sctrace\n") != std::string::npos);

    stop_container(e, id, 10);
    auto code = wait_container(e, id);
    REQUIRE(code.has_value());
    CHECK(*code == 0);  // http_server exits 0 on SIGTERM, even as PID 1
    stop_container(e, id, 1);  // already stopped: not an error
  }
  // OwnedContainer removed it.
  try {
    inspect_container(e, id);
    FAIL("container still exists");
  } catch (const EngineError& err) {
    CHECK(err.http_status() == 404);
  }
}

TEST_CASE("real daemon: wait registered before start, exit codes, auto-remove", "[engine][container]") {
  if (!docker_reachable()) return;
  Engine e;
  ImageGuard img{e, import_samples_image(e, {"ENTRYPOINT [\"/batch\"]"})};
  for (auto [args, expected, auto_remove] : {std::tuple{json::array(), 0, false},
                                             std::tuple{json{"--danger=nonexistent"}, 2, false},
                                             std::tuple{json::array(), 0, true}}) {
    json body = {{"Image", img.id}, {"Cmd", args}, {"HostConfig", {{"AutoRemove", auto_remove}}}};
    OwnedContainer c(e, create_container(e, body));
    std::promise<void> registered;
    WaitOptions wo;
    wo.condition = auto_remove ? "removed" : "next-exit";
    wo.on_registered = [&] { registered.set_value(); };
    auto waiter = std::async(std::launch::async, [&] { return wait_container(e, c.id(), wo); });
    REQUIRE(registered.get_future().wait_for(10s) == std::future_status::ready);
    try {
      start_container(e, c.id());
    } catch (...) {
      // The waiter only returns once the container is gone; the future's
      // destructor would wait for it forever.
      c.reset();
      waiter.wait();
      throw;
    }
    auto code = waiter.get();
    REQUIRE(code.has_value());
    CHECK(*code == expected);
    if (auto_remove) CHECK_THROWS_AS(inspect_container(e, c.id()), EngineError);  // and ~OwnedContainer copes
  }
}
