// The OCI agent path's pure parts: runc line parsing (session/runc_line.h),
// the `<cli> run` line the owned container spawns (session/agent_container.h),
// a runc bundle read into an AgentWorkload (session/oci_agent.h), the
// Options -> request translation (cli/podman.h) and the one owner of temp
// paths (core/owned_path.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/options.h"
#include "cli/podman.h"
#include "core/owned_path.h"
#include "session/agent_container.h"
#include "session/oci_agent.h"
#include "session/runc_line.h"
#include "tracer/child_process.h"
#include "tests/unit/unit_helpers.h"

namespace sctrace {
namespace {

using V = std::vector<std::string>;
using test::kind_of;
using test::TempDir;

TEST_CASE("runc line: is_runc_line wants runc or crun and a run command", "[agent][runc]") {
  CHECK(is_runc_line({"runc", "run", "c1"}));
  CHECK(is_runc_line({"/usr/sbin/crun", "--root", "/r", "run", "c1"}));
  CHECK_FALSE(is_runc_line({"runc"}));
  CHECK_FALSE(is_runc_line({"runc", "list"}));
  CHECK_FALSE(is_runc_line({"podman", "run", "img"}));
  CHECK_FALSE(is_runc_line({"runcx", "run", "c1"}));
}

TEST_CASE("runc line: global options with values are skipped before run", "[agent][runc]") {
  // "--log run" names a log file called run: the command is the next "run".
  const RuncLine l = parse_runc_line({"runc", "--log", "run", "--root", "/r", "run", "c1"});
  CHECK(l.run_index == 5);
  CHECK(l.bundle == ".");
  CHECK_FALSE(l.bundle_value);
  CHECK_FALSE(l.bundle_inline);
  CHECK_FALSE(l.detach);
}

TEST_CASE("runc line: the bundle given as -b PATH, --bundle=PATH and -b=PATH", "[agent][runc]") {
  RuncLine l = parse_runc_line({"runc", "run", "-b", "/b1", "c1"});
  CHECK(l.bundle == "/b1");
  CHECK(l.bundle_value == 3u);
  l = parse_runc_line({"runc", "run", "--bundle", "rel/b", "c1"});
  CHECK(l.bundle == "rel/b");
  CHECK(l.bundle_value == 3u);
  l = parse_runc_line({"runc", "run", "--bundle=/b2", "c1"});
  CHECK(l.bundle == "/b2");
  CHECK(l.bundle_inline == 2u);
  l = parse_runc_line({"runc", "run", "-b=/b3", "c1"});
  CHECK(l.bundle == "/b3");
  CHECK(l.bundle_inline == 2u);
}

TEST_CASE("runc line: detach, and the values of run's options are not read as flags", "[agent][runc]") {
  CHECK(parse_runc_line({"runc", "run", "-d", "c1"}).detach);
  CHECK(parse_runc_line({"runc", "run", "--detach", "c1"}).detach);
  // A pid file called -d is not --detach; a console socket called -b is not a bundle.
  const RuncLine l = parse_runc_line({"runc", "run", "--pid-file", "-d", "--console-socket", "-b", "c1"});
  CHECK_FALSE(l.detach);
  CHECK(l.bundle == ".");
}

TEST_CASE("runc line: no run command, or -b without a value, is a usage error", "[agent][runc]") {
  std::string msg;
  CHECK(kind_of([] { parse_runc_line({"runc", "--root", "run"}); }, &msg) == ErrorKind::usage);
  CHECK(msg == "runc: no 'run' command on the line");
  CHECK(kind_of([] { parse_runc_line({"runc", "run", "--bundle"}); }, &msg) == ErrorKind::usage);
  CHECK(msg == "runc run: --bundle needs a value");
}

TEST_CASE("runc line: with_bundle replaces the bundle where it was named, or adds it after run", "[agent][runc]") {
  const V a = {"runc", "--root", "/r", "run", "-b", "/b", "c1"};
  CHECK(with_bundle(a, parse_runc_line(a), "/copy") == V{"runc", "--root", "/r", "run", "-b", "/copy", "c1"});
  const V b = {"runc", "run", "--bundle=/b", "c1"};
  CHECK(with_bundle(b, parse_runc_line(b), "/copy") == V{"runc", "run", "--bundle=/copy", "c1"});
  const V c = {"runc", "--log", "l", "run", "c1"};
  CHECK(with_bundle(c, parse_runc_line(c), "/copy") == V{"runc", "--log", "l", "run", "--bundle", "/copy", "c1"});
}

container::DockerRun podman_line() {
  container::DockerRun r;
  r.cli = "podman";
  r.flavor = container::CliFlavor::podman;
  r.command = {"run"};
  r.image = "alpine";
  r.args = {"true"};
  return r;
}

TEST_CASE("agent container: the spawned line adds the cidfile, the profile and podman's ulimits", "[agent]") {
  const container::DockerRun r = podman_line();
  CHECK(agent_container_argv(r, "/w/profile.json", "/w/cid") ==
        V{"podman", "run", "--cidfile", "/w/cid", "--security-opt", "seccomp=/w/profile.json", "--ulimit",
          "nofile=10000:10000", "--ulimit", "nproc=1000:1000", "alpine", "true"});
}

TEST_CASE("agent container: the user's cidfile and ulimit are kept, docker gets no ulimit", "[agent]") {
  container::DockerRun r = podman_line();
  r.cidfile = "/mine";
  r.options = {"--cidfile", "/mine", "--ulimit", "nofile=5:5"};
  container::ParsedFlag f;
  f.name = "ulimit";
  f.value = "nofile=5:5";
  f.token = 2;
  r.flags = {f};
  CHECK(agent_container_argv(r, "/p.json", "/ignored") ==
        V{"podman", "run", "--security-opt", "seccomp=/p.json", "--cidfile", "/mine", "--ulimit", "nofile=5:5",
          "alpine", "true"});
  container::DockerRun d = podman_line();
  d.cli = "docker";
  d.flavor = container::CliFlavor::docker;
  CHECK(agent_container_argv(d, "/p.json", "/c") ==
        V{"docker", "run", "--cidfile", "/c", "--security-opt", "seccomp=/p.json", "alpine", "true"});
}

TEST_CASE("agent container: the line carries the owner label (the next run removes what a killed one left)",
          "[agent]") {
  const container::DockerRun r = podman_line();
  CHECK(agent_container_argv(r, "/p", "/c", "boot/4026531836/12/34") ==
        V{"podman", "run", "--cidfile", "/c", "--security-opt", "seccomp=/p", "--label",
          "sctrace.owner=boot/4026531836/12/34", "--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000", "alpine", "true"});
}

TEST_CASE("agent container: a detached line loses --rm (the exit code is read first)", "[agent]") {
  container::DockerRun r = podman_line();
  r.detach = true;
  r.options = {"-d", "--rm", "--rm=true", "--name", "x"};
  CHECK(agent_container_argv(r, "/p", "/c") == V{"podman", "run", "--cidfile", "/c", "--security-opt", "seccomp=/p",
                                                 "--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000", "-d",
                                                 "--name", "x", "alpine", "true"});
  r.detach = false;
  r.options = {"--rm"};
  CHECK(agent_container_argv(r, "/p", "/c").at(10) == "--rm");
}

void write_config(const TempDir& dir, const std::string& text) {
  std::ofstream(dir.path / "config.json") << text;
}

TEST_CASE("agent workload: a runc bundle's caps and noNewPrivileges come from its config.json", "[agent][runc]") {
  TempDir dir;
  write_config(dir, R"({"process": {"noNewPrivileges": true, "capabilities": {"bounding": ["CAP_SYS_ADMIN"]}},
                        "root": {"path": "rootfs"}})");
  const V argv = {"runc", "run", "--bundle", dir.str(), "c1"};
  const AgentWorkload w = parse_agent_workload(argv, false, false);
  CHECK(w.runc);
  CHECK(w.argv == argv);
  CHECK(w.bundle == std::filesystem::path(dir.str()).lexically_normal().string());
  CHECK(w.no_new_privileges);
  CHECK(w.ctx.caps == std::set<std::string>{"CAP_SYS_ADMIN"});
  CHECK(w.config.at("root").at("path") == "rootfs");
}

TEST_CASE("agent workload: runc lines refuse probes, --detach and a config that is not an object", "[agent][runc]") {
  TempDir dir;
  write_config(dir, "{}");
  std::string msg;
  CHECK(kind_of([&] { parse_agent_workload({"runc", "run", "-b", dir.str(), "c"}, true, false); }, &msg) ==
        ErrorKind::usage);
  CHECK(msg == "runc run: probes are not supported (batch containers only)");
  CHECK(kind_of([&] { parse_agent_workload({"runc", "run", "-d", "-b", dir.str(), "c"}, false, false); }, &msg) ==
        ErrorKind::usage);
  CHECK(msg == "runc run: --detach is not supported (sctrace waits for the container)");
  write_config(dir, "[1]");
  CHECK(kind_of([&] { parse_agent_workload({"runc", "run", "-b", dir.str(), "c"}, false, false); }, &msg) ==
        ErrorKind::input);
  CHECK(msg == (dir.path / "config.json").string() + ": not a JSON object");
  // --no-new-privileges on sctrace's line applies whatever config.json says.
  write_config(dir, "{}");
  CHECK(parse_agent_workload({"runc", "run", "-b", dir.str(), "c"}, false, true).no_new_privileges);
}

TEST_CASE("agent request: Options become the service plan, the timeout and the spec", "[agent][cli]") {
  cli::Options o;
  o.probes = {{"http", "8080/health"}, {"exec", "cat /etc/hostname"}, {"cmd", "true"}};
  o.wait_ports = {"5432"};
  o.ready_timeout_sec = 7;
  o.duration_sec = 2.5;
  o.timeout_sec = 60;
  CHECK(cli::wants_service(o));
  cli::AgentRunSpec spec;
  spec.profile_name = "check profile";
  spec.profile = [](const std::string& listener) {
    SeccompProfile p;
    p.listener_path = listener;
    return p;
  };
  spec.backend_line = [](const std::string& socket) { return "line " + socket; };
  const AgentRunRequest req = cli::agent_run_request(o, spec);
  REQUIRE(req.service.probes.size() == 3);
  CHECK(req.service.probes[0].kind == ProbeKind::http);
  CHECK(req.service.probes[0].port == 8080);
  CHECK(req.service.probes[0].path == "/health");
  CHECK(req.service.probes[1].kind == ProbeKind::exec);
  CHECK(req.service.probes[1].argv == V{"cat", "/etc/hostname"});
  CHECK(req.service.probes[2].kind == ProbeKind::cmd);
  CHECK(req.service.wait_ports == std::vector<int>{5432});
  CHECK(req.service.ready_timeout_sec == 7);
  CHECK(req.service.duration_sec == 2.5);
  CHECK_FALSE(req.service.empty());
  CHECK(req.timeout_sec == 60);
  CHECK(req.profile_name == "check profile");
  CHECK(req.profile("/s").listener_path == "/s");
  CHECK(req.backend_line("/s") == "line /s");
  CHECK(req.say);
}

TEST_CASE("agent request: no probes, ports or duration is a batch container", "[agent][cli]") {
  cli::Options o;
  CHECK_FALSE(cli::wants_service(o));
  CHECK(cli::agent_run_request(o, {}).service.empty());
  o.duration_sec = 1;
  CHECK(cli::wants_service(o));
  CHECK_FALSE(cli::service_plan(o).empty());
  o = {};
  o.probes = {{"http", "notaport"}};
  CHECK(kind_of([&] { cli::service_plan(o); }) == ErrorKind::usage);
}

TEST_CASE("owned path: a file or a tree goes with its owner; release and move hand it on", "[core]") {
  TempDir dir;
  const std::string file = (dir.path / "f").string();
  const std::string tree = (dir.path / "t").string();
  {
    OwnedPath f{file};
    std::ofstream(file) << "x";
    OwnedPath t{tree};
    std::filesystem::create_directories(tree + "/a/b");
    std::ofstream(tree + "/a/b/c") << "y";
  }
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(tree));

  std::ofstream(file) << "x";
  {
    OwnedPath f{file};
    CHECK(f.release() == file);
  }
  CHECK(std::filesystem::exists(file));
  {
    OwnedPath a{file};
    OwnedPath b = std::move(a);
    CHECK(a.path().empty());
    CHECK(b.path() == file);
    OwnedPath c;
    c = std::move(b);
    CHECK(std::filesystem::exists(file));
  }
  CHECK_FALSE(std::filesystem::exists(file));
  OwnedPath never{(dir.path / "never-created").string()};  // nothing to remove: no error
}

TEST_CASE("child process: signal() reaches the child through its pidfd", "[agent]") {
  ChildProcess c = ChildProcess::spawn({"sleep", "30"}, ChildOptions{});
  // Signalled before its execve, the child would run the test framework's
  // SIGTERM handler, inherited across fork: wait until it is sleep.
  const std::string comm = "/proc/" + std::to_string(c.pid()) + "/comm";
  for (int i = 0; i < 500 && test::slurp(comm) != "sleep\n"; ++i) ::usleep(10000);
  REQUIRE(test::slurp(comm) == "sleep\n");
  CHECK(c.signal(SIGTERM) == 0);
  const int st = c.wait();
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGTERM);
}

}  // namespace
}  // namespace sctrace
