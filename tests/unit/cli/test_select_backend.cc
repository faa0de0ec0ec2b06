// select_backend (session/backend.h): which backend records a workload, from
// the kernel's notify capabilities, root, and for docker the engine's
// version answer, all injected.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.h"
#include "core/error.h"
#include "session/backend.h"
#include "session/workload.h"
#include "tests/unit/unit_helpers.h"
#include "tracer/notify.h"

using namespace sctrace;
using sctrace::test::kind_of;

namespace {

const NotifyCaps kFull{true, true, true};
const NotifyCaps kNoSync{true, true, false};
const NotifyCaps kNoContinue{true, false, false};
const NotifyCaps kNone{};

const nlohmann::json kDocker2010 = {{"Version", "20.10.24+dfsg1"}, {"ApiVersion", "1.41"}};
const nlohmann::json kDocker26 = {{"Version", "26.1.5+dfsg1"}, {"ApiVersion", "1.45"}};

// Probes that answer from the test, counting how often the engine is asked.
struct FakeMachine {
  NotifyCaps caps = kFull;
  bool root = true;
  nlohmann::json docker = kDocker2010;
  bool docker_down = false;
  int docker_asked = 0;
  int caps_asked = 0;

  Probes probes() {
    Probes p;
    p.notify_caps = [this] {
      ++caps_asked;
      return caps;
    };
    p.root = [this] { return root; };
    p.docker_version = [this] {
      ++docker_asked;
      if (docker_down) fail(ErrorKind::runtime, "cannot connect to the Docker daemon at unix:///var/run/docker.sock");
      return docker;
    };
    return p;
  }
};

Workload local_cmd() { return parse_workload({"true"}); }
Workload docker_line() { return parse_workload({"docker", "run", "--rm", "alpine", "true"}); }
Workload podman_line() { return parse_workload({"podman", "run", "--rm", "alpine", "true"}); }
Workload runc_line() { return parse_workload({"runc", "run", "-b", "/tmp/bundle", "c1"}); }

BackendChoice choose(const Workload& w, RequestedBackend r, const NotifyCaps& caps, bool root = true,
                     PtraceStops stops = PtraceStops::automatic) {
  FakeMachine m;
  m.caps = caps;
  m.root = root;
  return select_backend(w, r, stops, m.probes());
}

}  // namespace

TEST_CASE("backend auto: notify where the kernel can continue notified syscalls, else ptrace", "[notify][backend]") {
  const auto automatic = RequestedBackend::automatic;
  auto c = choose(local_cmd(), automatic, kFull);
  CHECK(c.kind == BackendKind::local_notify);
  CHECK_THAT(c.why, Catch::StartsWith("auto: ") && Catch::Contains("synchronous wake-up"));
  c = choose(local_cmd(), automatic, kNoSync);
  CHECK(c.kind == BackendKind::local_notify);  // one stop per syscall still beats ptrace's two
  CHECK_THAT(c.why, Catch::Contains("no synchronous wake-up"));
  c = choose(local_cmd(), automatic, kFull, false);
  CHECK_THAT(c.why, Catch::Contains("no_new_privs"));
  CHECK(choose(local_cmd(), automatic, kNoContinue).kind == BackendKind::local_ptrace);
  // --ptrace-stops belongs to the ptrace backend: with notify asked for, it is refused, not ignored.
  CHECK_THROWS_AS(choose(local_cmd(), RequestedBackend::notify, kFull, true, PtraceStops::two), Error);
  CHECK(choose(local_cmd(), automatic, kFull, true, PtraceStops::two).kind == BackendKind::local_ptrace);
  CHECK(choose(local_cmd(), automatic, kNone).kind == BackendKind::local_ptrace);
  CHECK_THAT(choose(local_cmd(), automatic, kNone).why, Catch::Contains("no seccomp user notification"));
  // Asking for ptrace stops is asking for ptrace.
  c = choose(local_cmd(), automatic, kFull, true, PtraceStops::one);
  CHECK(c.kind == BackendKind::local_ptrace);
  CHECK_THAT(c.why, Catch::Contains("--ptrace-stops one"));

  CHECK(choose(local_cmd(), RequestedBackend::ptrace, kFull).kind == BackendKind::local_ptrace);
  CHECK(choose(local_cmd(), RequestedBackend::notify, kNoSync).kind == BackendKind::local_notify);
  try {
    choose(local_cmd(), RequestedBackend::notify, kNoContinue);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
  }
  try {
    requested_backend_from_name("seccomp");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

TEST_CASE("local backends: every message as the backend line says it", "[backend]") {
  std::string msg;
  CHECK(choose(local_cmd(), RequestedBackend::ptrace, kNone).why == "sees results");
  CHECK(kind_of([] { choose(local_cmd(), RequestedBackend::notify, kFull, true, PtraceStops::two); }, &msg) ==
        ErrorKind::usage);
  CHECK(msg == "--ptrace-stops two is for the ptrace backend, not --backend notify");
  CHECK(kind_of([] { choose(local_cmd(), RequestedBackend::notify, kNone); }, &msg) == ErrorKind::runtime);
  CHECK(msg == "backend notify: seccomp user notification is not available here (needs Linux 5.0+)");
  CHECK(kind_of([] { choose(local_cmd(), RequestedBackend::notify, kNoContinue); }, &msg) == ErrorKind::runtime);
  CHECK(msg == "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
  CHECK(choose(local_cmd(), RequestedBackend::automatic, kFull, true, PtraceStops::one).why ==
        "auto: --ptrace-stops one asks for ptrace");
  CHECK(choose(local_cmd(), RequestedBackend::automatic, kNone).why ==
        "auto: this kernel has no seccomp user notification");
  CHECK(choose(local_cmd(), RequestedBackend::automatic, kNoContinue).why ==
        "auto: this kernel cannot let notified syscalls continue (Linux < 5.5)");
  // Explicit notify has no "auto: " in front.
  CHECK_THAT(choose(local_cmd(), RequestedBackend::notify, kFull).why,
             Catch::StartsWith("seccomp user notification; no syscall results"));
  CHECK(kind_of([] { requested_backend_from_name("seccomp"); }, &msg) == ErrorKind::usage);
  CHECK(msg == "unknown backend 'seccomp' (auto, ptrace or notify)");
}

TEST_CASE("the backend option: auto by default, checked, on run and verify", "[options][backend]") {
  const char* a[] = {"sctrace", "run", "--", "true"};
  CHECK(cli::parse_args(4, a).backend == RequestedBackend::automatic);
  const char* b[] = {"sctrace", "run", "--backend", "notify", "--", "true"};
  CHECK(cli::parse_args(6, b).backend == RequestedBackend::notify);
  const char* c[] = {"sctrace", "verify", "--profile", "p.json", "--backend", "ptrace", "--", "true"};
  CHECK(cli::parse_args(8, c).backend == RequestedBackend::ptrace);
  const char* d[] = {"sctrace", "run", "--backend", "seccomp", "--", "true"};
  CHECK_THROWS_AS(cli::parse_args(6, d), Error);
  // What auto resolves to for a local command on this machine.
  const Probes here = machine_probes();
  CHECK(select_backend(local_cmd(), RequestedBackend::automatic, PtraceStops::automatic, here).kind ==
        (probe_notify_caps().flag_continue ? BackendKind::local_notify : BackendKind::local_ptrace));
  // An explicit notify takes a runc line through the agent without asking the kernel first (the line's own
  // refusals come first, cli/cmd_podman.cc prepare_agent_workload).
  FakeMachine m;
  m.caps = kNone;
  CHECK(select_backend(runc_line(), RequestedBackend::notify, PtraceStops::automatic, m.probes()).kind ==
        BackendKind::oci_agent);
  CHECK(m.caps_asked == 0);
}

TEST_CASE("docker passes listenerPath from API 1.42 (Docker 23) on", "[notify][backend]") {
  std::string why;
  CHECK_FALSE(engine_passes_listener_path({{"Version", "20.10.24+dfsg1"}, {"ApiVersion", "1.41"}}, why));
  CHECK_THAT(why, Catch::Contains("20.10.24+dfsg1") && Catch::Contains("drops listenerPath"));
  CHECK(engine_passes_listener_path({{"Version", "23.0.1"}, {"ApiVersion", "1.42"}}, why));
  CHECK_THAT(why, Catch::Contains("passes listenerPath"));
  CHECK(engine_passes_listener_path({{"Version", "27.3.1"}, {"ApiVersion", "1.47"}}, why));
  CHECK(engine_passes_listener_path({{"Version", "24.0.0"}}, why));
  CHECK_FALSE(engine_passes_listener_path({{"Version", "19.03.1"}}, why));
  CHECK_FALSE(engine_passes_listener_path(nlohmann::json::object(), why));
  CHECK_FALSE(engine_passes_listener_path(nlohmann::json(), why));
}

TEST_CASE("docker lines: the agent where the engine passes listenerPath, else the sensor", "[backend]") {
  std::string msg;
  FakeMachine m;
  // --backend ptrace: the sensor, asking neither the kernel nor the engine.
  BackendChoice c = select_backend(docker_line(), RequestedBackend::ptrace, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::docker_sensor);
  CHECK(c.why == "the in-container ptrace sensor");
  CHECK(m.docker_asked == 0);
  CHECK(m.caps_asked == 0);

  // Docker 20.10 drops listenerPath: auto falls back, notify is refused.
  c = select_backend(docker_line(), RequestedBackend::automatic, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::docker_sensor);
  CHECK(c.why == "auto: Docker engine 20.10.24+dfsg1 (API 1.41) drops listenerPath (Docker 23+ / API 1.42+ passes "
                 "it); a notify profile would hang the container; the in-container ptrace sensor instead");
  CHECK(kind_of([&] { select_backend(docker_line(), RequestedBackend::notify, PtraceStops::automatic, m.probes()); },
                &msg) == ErrorKind::runtime);
  CHECK(msg == "backend notify: Docker engine 20.10.24+dfsg1 (API 1.41) drops listenerPath (Docker 23+ / API 1.42+ "
               "passes it); a notify profile would hang the container; use --backend ptrace");

  // Docker 23+: the agent, with or without "auto: ".
  m.docker = kDocker26;
  c = select_backend(docker_line(), RequestedBackend::automatic, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::oci_agent);
  CHECK(c.why == "auto: Docker engine 26.1.5+dfsg1 (API 1.45) passes listenerPath to runc: recorded from the host "
                 "through the seccomp agent");
  c = select_backend(docker_line(), RequestedBackend::notify, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::oci_agent);
  CHECK_THAT(c.why, Catch::StartsWith("Docker engine 26.1.5+dfsg1"));

  // An engine that cannot be asked: auto says so and takes the sensor; notify passes the error on.
  m.docker_down = true;
  c = select_backend(docker_line(), RequestedBackend::automatic, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::docker_sensor);
  CHECK(c.why == "auto: could not ask the engine (cannot connect to the Docker daemon at unix:///var/run/docker.sock); "
                 "the in-container ptrace sensor instead");
  CHECK(kind_of([&] { select_backend(docker_line(), RequestedBackend::notify, PtraceStops::automatic, m.probes()); },
                &msg) == ErrorKind::runtime);
  CHECK_THAT(msg, Catch::StartsWith("cannot connect to the Docker daemon"));

  // A kernel that cannot continue notified syscalls: the engine is not asked.
  FakeMachine old;
  old.caps = kNoContinue;
  c = select_backend(docker_line(), RequestedBackend::automatic, PtraceStops::automatic, old.probes());
  CHECK(c.kind == BackendKind::docker_sensor);
  CHECK(c.why == "auto: this kernel cannot let notified syscalls continue; the in-container ptrace sensor");
  CHECK(old.docker_asked == 0);
  CHECK(kind_of([&] { select_backend(docker_line(), RequestedBackend::notify, PtraceStops::automatic, old.probes()); },
                &msg) == ErrorKind::runtime);
  CHECK(msg == "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");

  // --ptrace-stops does not steer a container line.
  m.docker_down = false;
  m.docker = kDocker2010;
  CHECK(select_backend(docker_line(), RequestedBackend::automatic, PtraceStops::two, m.probes()).kind ==
        BackendKind::docker_sensor);
}

TEST_CASE("podman lines: the agent, never the sensor nor the Docker engine", "[backend]") {
  std::string msg;
  FakeMachine m;
  CHECK(kind_of([&] { select_backend(podman_line(), RequestedBackend::ptrace, PtraceStops::automatic, m.probes()); },
                &msg) == ErrorKind::usage);
  CHECK(msg == "--backend ptrace: the in-container sensor works through the Docker Engine API; podman lines go "
               "through listenerPath (--backend auto or notify)");
  BackendChoice c = select_backend(podman_line(), RequestedBackend::automatic, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::oci_agent);
  CHECK(c.why == "auto: podman passes listenerPath to runc: recorded from the host through the seccomp agent");
  c = select_backend(podman_line(), RequestedBackend::notify, PtraceStops::automatic, m.probes());
  CHECK(c.kind == BackendKind::oci_agent);
  CHECK(c.why == "podman passes listenerPath to runc: recorded from the host through the seccomp agent");
  CHECK(m.docker_asked == 0);
  // Without FLAG_CONTINUE a podman line has no backend at all, auto included.
  FakeMachine old;
  old.caps = kNoContinue;
  CHECK(kind_of([&] { select_backend(podman_line(), RequestedBackend::automatic, PtraceStops::automatic,
                                     old.probes()); },
                &msg) == ErrorKind::runtime);
  CHECK(msg == "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
  // `podman container run` is a podman line too.
  CHECK(select_backend(parse_workload({"podman", "container", "run", "alpine"}), RequestedBackend::automatic,
                       PtraceStops::automatic, m.probes())
            .kind == BackendKind::oci_agent);
}

TEST_CASE("runc bundles: the agent unless ptrace is asked for or the kernel cannot", "[backend]") {
  BackendChoice c = choose(runc_line(), RequestedBackend::automatic, kFull);
  CHECK(c.kind == BackendKind::oci_agent);
  CHECK(c.why == "runc run on a copy of the bundle's config.json");
  CHECK(choose(runc_line(), RequestedBackend::notify, kFull).kind == BackendKind::oci_agent);
  // --backend ptrace: runc is traced like any local command.
  c = choose(runc_line(), RequestedBackend::ptrace, kFull);
  CHECK(c.kind == BackendKind::local_ptrace);
  CHECK(c.why == "sees results");
  // auto on a kernel without FLAG_CONTINUE: the local decision, with its message.
  c = choose(runc_line(), RequestedBackend::automatic, kNoContinue);
  CHECK(c.kind == BackendKind::local_ptrace);
  CHECK(c.why == "auto: this kernel cannot let notified syscalls continue (Linux < 5.5)");
  // As before the seam, --ptrace-stops does not take a runc line away from the agent.
  CHECK(choose(runc_line(), RequestedBackend::automatic, kFull, true, PtraceStops::one).kind == BackendKind::oci_agent);
}

TEST_CASE("the option enums and backend kinds have one name each", "[backend]") {
  for (const char* n : {"auto", "ptrace", "notify"})
    CHECK(requested_backend_name(requested_backend_from_name(n)) == n);
  for (const char* n : {"auto", "one", "two"}) CHECK(ptrace_stops_name(ptrace_stops_from_name(n)) == n);
  CHECK(backend_kind_name(BackendKind::local_ptrace) == "ptrace");
  CHECK(backend_kind_name(BackendKind::local_notify) == "notify");
  CHECK(backend_kind_name(BackendKind::docker_sensor) == "ptrace-sensor");
  CHECK(backend_kind_name(BackendKind::oci_agent) == "notify-agent");
}

TEST_CASE("make_backend: the local kinds behind the Backend interface", "[backend]") {
  auto p = make_backend(BackendKind::local_ptrace, PtraceStops::two);
  CHECK(p->kind() == BackendKind::local_ptrace);
  CHECK(p->caps().results);
  CHECK(p->caps().stopped_in_sink);
  auto n = make_backend(BackendKind::local_notify);
  CHECK(n->kind() == BackendKind::local_notify);
  CHECK_FALSE(n->caps().results);
  // The container kinds are not behind the interface yet: cli dispatches them.
  CHECK(kind_of([] { make_backend(BackendKind::docker_sensor); }) == ErrorKind::runtime);
  CHECK(kind_of([] { make_backend(BackendKind::oci_agent); }) == ErrorKind::runtime);
}

TEST_CASE("a backend outcome maps to the exit code like the runs before it", "[backend]") {
  BackendOutcome o;
  o.status.code = 3;
  CHECK(exit_code_of(o.exit_outcome()) == 3);
  o.status.timed_out = true;
  CHECK(exit_code_of(o.exit_outcome()) == kTimedOutExitCode);
  o.interrupted = true;
  o.interrupt_signal = SIGTERM;
  CHECK(exit_code_of(o.exit_outcome()) == 128 + SIGTERM);
  BackendOutcome killed;
  killed.status.signaled = true;
  killed.status.signal = SIGKILL;
  CHECK(exit_code_of(killed.exit_outcome()) == 128 + SIGKILL);
}
