// Coverage hints: the classes of behaviour a recording never exercised, and
// what static completion did about them.
#include <seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "profile/coverage.h"

using namespace sctrace;

namespace {

constexpr arch::Token kX86_64 = SCMP_ARCH_X86_64;

Recording recorded(std::initializer_list<const char*> names) {
  Recording rec;
  for (const char* n : names) {
    SyscallRecord r;
    r.nr = *arch::syscall_nr(kX86_64, n);
    r.count = 1;
    rec.syscalls[kX86_64][n] = r;
  }
  return rec;
}

// The hint lines that mention `what`.
std::vector<std::string> about(const std::vector<std::string>& lines, const std::string& what) {
  std::vector<std::string> out;
  std::copy_if(lines.begin(), lines.end(), std::back_inserter(out),
               [&](const std::string& l) { return l.find(what) != std::string::npos; });
  return out;
}

}  // namespace

TEST_CASE("coverage: every class a recording exercised says nothing", "[coverage]") {
  const Recording rec = recorded({"read", "clock_nanosleep", "rt_sigreturn", "waitid", "exit_group"});
  CHECK(coverage_hints(rec).empty());
}

TEST_CASE("coverage: one line per class never exercised, in the table's order", "[coverage]") {
  const Recording rec = recorded({"read", "write"});
  const std::vector<std::string> lines = coverage_hints(rec);
  REQUIRE(lines.size() == coverage_classes().size());
  CHECK(lines[0] == "coverage: no sleep or timed wait was recorded (nanosleep, clock_nanosleep); not covered (no "
                    "--static analysis in this recording)");
  CHECK(lines[1].rfind("coverage: no signal was delivered to a handler (rt_sigreturn); ", 0) == 0);
  CHECK(lines[2].rfind("coverage: no child process was reaped (wait4, waitid); ", 0) == 0);
  CHECK(lines[3].rfind("coverage: no process exited by itself (no shutdown was recorded) (exit_group); ", 0) == 0);
  // Without a static section the lines never speak of static completion (--static off says nothing of it).
  for (const auto& l : lines) CHECK(l.find("static completion") == std::string::npos);
}

TEST_CASE("coverage: any one name of a class is enough", "[coverage]") {
  CHECK(about(coverage_hints(recorded({"nanosleep"})), "sleep").empty());
  CHECK(about(coverage_hints(recorded({"wait4"})), "reaped").empty());
  CHECK(about(coverage_hints(recorded({"clock_nanosleep"})), "sleep").empty());
  CHECK(about(coverage_hints(recorded({"read"})), "sleep").size() == 1);
}

TEST_CASE("coverage: a 32-bit process's names count too", "[coverage]") {
  constexpr arch::Token kI386 = SCMP_ARCH_X86;
  Recording rec = recorded({"read"});
  for (const char* n : {"clock_nanosleep_time64", "sigreturn", "waitpid"}) {
    SyscallRecord r;
    r.nr = *arch::syscall_nr(kI386, n);
    r.count = 1;
    rec.syscalls[kI386][n] = r;
  }
  const std::vector<std::string> lines = coverage_hints(rec);
  CHECK(about(lines, "sleep").empty());
  CHECK(about(lines, "signal").empty());
  CHECK(about(lines, "reaped").empty());
  CHECK(about(lines, "exited by itself").size() == 1);
}

TEST_CASE("coverage: what static completion added, found or missed", "[coverage]") {
  Recording rec = recorded({"read", "rt_sigreturn", "exit_group"});
  rec.static_reach[kX86_64]["clock_nanosleep"] = {.sensitive = false, .added = true, .provenance = {"x"}};
  rec.static_reach[kX86_64]["waitid"] = {.sensitive = true, .added = false, .provenance = {"y"}};
  const std::vector<std::string> lines = coverage_hints(rec);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "coverage: no sleep or timed wait was recorded (nanosleep, clock_nanosleep); static completion "
                    "added clock_nanosleep");
  CHECK(lines[1] == "coverage: no child process was reaped (wait4, waitid); static completion found waitid reachable "
                    "but did not add it (sensitive; --static all adds it)");

  rec.static_reach[kX86_64]["wait4"] = {.sensitive = false, .added = true, .provenance = {"w"}};
  CHECK(coverage_hints(rec)[1] == "coverage: no child process was reaped (wait4, waitid); static completion added "
                                  "wait4; found waitid reachable but did not add it (sensitive; --static all adds it)");

  Recording none = recorded({"read", "exit_group", "wait4"});
  none.static_reach[kX86_64]["getppid"] = {.sensitive = false, .added = true, .provenance = {"z"}};
  CHECK(coverage_hints(none) == std::vector<std::string>{
                                    "coverage: no sleep or timed wait was recorded (nanosleep, clock_nanosleep); "
                                    "static completion found none of them reachable: not covered",
                                    "coverage: no signal was delivered to a handler (rt_sigreturn); static "
                                    "completion did not find it reachable: not covered"});
}

TEST_CASE("coverage: a docker or podman line is told that exec runs under the same profile", "[coverage]") {
  Recording rec = recorded({"clock_nanosleep", "rt_sigreturn", "waitid", "exit_group"});
  CHECK(coverage_hints(rec).empty());
  rec.commands = {{"/usr/bin/docker", "run", "--rm", "img"}};
  std::vector<std::string> lines = coverage_hints(rec);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("coverage: `docker exec` commands run under the same profile", 0) == 0);
  CHECK(lines[0].find("--exec-probe") != std::string::npos);
  rec.commands = {{"podman", "run", "img"}};
  lines = coverage_hints(rec);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("coverage: `podman exec` commands", 0) == 0);
  rec.commands = {{"./dockerish", "run"}};
  CHECK(coverage_hints(rec).empty());
}
