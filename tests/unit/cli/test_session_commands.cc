// session/check.h, session/calibrate.h and session/outputs.h (sctrace_session_commands, which
// joins profile/, report/ and tracer/, so its tests live with cli's).
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/arch.h"
#include "core/atomic_file.h"
#include "profile/filter.h"
#include "session/calibrate.h"
#include "profile/templates.h"
#include "session/check.h"
#include "session/outputs.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;

namespace {

SyscallEvent native_event(const char* name) {
  SyscallEvent ev;
  ev.pid = ev.tid = ::getpid();
  ev.audit_arch = static_cast<uint32_t>(arch::native());
  ev.nr = *arch::syscall_nr(arch::native(), name);
  return ev;
}

SeccompProfile check_profile() {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  SyscallRule allow;
  allow.names = {"getpid"};
  allow.action = "SCMP_ACT_ALLOW";
  SyscallRule nosys;
  nosys.names = {"clone3"};
  nosys.action = "SCMP_ACT_ERRNO";
  nosys.errno_ret = ENOSYS;
  p.syscalls = {allow, nosys};
  return p;
}

}  // namespace

TEST_CASE("check's agent verdict: allowed passes, the profile's ENOSYS is answered, the rest is a violation",
          "[check]") {
  const SeccompProfile p = check_profile();
  const auto prog = compile_watch_filter(p, EvalContext::docker_default(), SECCOMP_RET_USER_NOTIF);

  ViolationSink sink;
  AgentCheck watch(prog, sink, std::nullopt);
  NotifyDecision d = watch.on_notify(native_event("getpid"));
  CHECK(d.allow);
  d = watch.on_notify(native_event("clone3"));
  CHECK_FALSE(d.allow);
  CHECK(d.error == ENOSYS);
  CHECK(sink.take().empty());

  d = watch.on_notify(native_event("uname"));
  CHECK(d.allow);  // recorded and let through without --enforce
  const auto v = sink.take();
  REQUIRE(v.size() == 1);
  CHECK(v[0].name == "uname");
  CHECK(v[0].count == 1);
  REQUIRE(v[0].examples.size() == 1);
  CHECK(v[0].examples[0].pid == ::getpid());

  ViolationSink enforced;
  AgentCheck deny(prog, enforced, EACCES);
  d = deny.on_notify(native_event("uname"));
  CHECK_FALSE(d.allow);
  CHECK(d.error == EACCES);
  CHECK(enforced.take().size() == 1);
}

TEST_CASE("check --enforce answers with defaultErrnoRet, else EPERM", "[check]") {
  SeccompProfile p = check_profile();
  CHECK(enforce_errno(p) == EPERM);
  p.default_errno_ret = EACCES;
  CHECK(enforce_errno(p) == EACCES);
}

TEST_CASE("a violation's call site names the mapping that holds the instruction pointer", "[check]") {
  CHECK(call_site(::getpid(), 0).empty());
  const auto ip = reinterpret_cast<uint64_t>(&enforce_errno);
  const std::string site = call_site(::getpid(), ip);
  CHECK(site.find("+0x") != std::string::npos);
  CHECK(site.front() == '/');
}

TEST_CASE("calibrate's do-nothing program runs and exits 0", "[calibrate]") {
  std::string path;
  {
    const OwnedPath dir = calibrate_temp_dir();
    path = dir.path();
    REQUIRE(std::filesystem::is_directory(path));
    const std::string elf = do_nothing_elf();
    CHECK(elf.compare(0, 4, "\x7f" "ELF") == 0);
    const std::string exe = path + "/nothing";
    write_file_atomic(exe, elf);
    REQUIRE(::chmod(exe.c_str(), 0755) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      char* argv[] = {const_cast<char*>(exe.c_str()), nullptr};
      ::execv(exe.c_str(), argv);
      ::_exit(127);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK_FALSE(std::filesystem::exists(path));  // the temp dir went with its owner
}

TEST_CASE("write_recorded: the outputs written, every path's lines in their places", "[outputs]") {
  sctrace::test::TempDir dir;
  const OutputPlan plan{"docker", (dir.path / "p.json").string(), (dir.path / "p.recording.json").string()};
  Recorded r;
  r.rec.backend = "ptrace";
  r.rec.add_refusal("refused the workload's kill(SIGSTOP) of sctrace itself (pid 1): EPERM", 2);
  r.before_summary = {"before"};
  r.after_summary = {"after 1", "after 2"};
  r.after_wrote = {"end"};
  std::vector<std::string> said;
  const RunOutputs out = write_recorded(plan, docker_default_template(), r, [&](const std::string& l) {
    said.push_back(l);
  });
  CHECK(out.output == plan.output);
  CHECK(out.recording == plan.recording);
  CHECK(std::filesystem::is_regular_file(plan.output));
  CHECK(recording_from_json(read_file(plan.recording), "written").backend == "ptrace");
  const std::vector<std::string> want = {
      "refused the workload's kill(SIGSTOP) of sctrace itself (pid 1): EPERM (2 times)", "before", "after 1",
      "after 2", "wrote " + plan.output + " and " + plan.recording, "end"};
  CHECK(said == want);

  // Incomplete, with the complete run's files there: beside them, and said.
  r.rec.complete = false;
  said.clear();
  const RunOutputs beside = write_recorded(plan, docker_default_template(), r, [&](const std::string& l) {
    said.push_back(l);
  });
  CHECK(beside.output == (dir.path / "p.incomplete.json").string());
  CHECK(beside.recording == (dir.path / "p.recording.incomplete.json").string());
  CHECK(std::filesystem::is_regular_file(beside.recording));
  REQUIRE(said.size() == 7);
  CHECK(said[1].rfind("the run is incomplete, so what is already there stays", 0) == 0);
  CHECK(said[5] == "wrote " + beside.output + " and " + beside.recording + " (incomplete recording)");
}
