#include <seccomp.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "core/error.h"
#include "profile/recorder.h"
#include "profile/recording.h"

using namespace sctrace;

namespace {
constexpr uint32_t kX86_64 = SCMP_ARCH_X86_64;
constexpr uint32_t kX86 = SCMP_ARCH_X86;
int nr_of(uint32_t a, const char* n) { return *arch::syscall_nr(a, n); }
}  // namespace

TEST_CASE("recorder folds events into per-arch names with counts, args and errors", "[recording]") {
  Recording rec;
  Recorder r(rec);
  int socket_nr = nr_of(kX86_64, "socket");
  r.add_syscall(kX86_64, socket_nr, {2, 1, 0, 0, 0, 0}, 3, 100);
  r.add_syscall(kX86_64, socket_nr, {10, 1, 0, 0, 0, 0}, -EAFNOSUPPORT, 101);
  r.add_syscall(kX86_64, socket_nr, {2, 1, 0, 0, 0, 0}, 4, 102);
  r.add_syscall(kX86, 20, {}, 55, 100);  // getpid via int 0x80
  r.add_syscall(kX86_64, 100000, {}, -ENOSYS, 100);

  const auto& s = rec.syscalls.at(kX86_64).at("socket");
  CHECK(s.count == 3);
  CHECK(s.first_pid == 100);
  CHECK(s.ok == 2);
  CHECK(s.errors.at(EAFNOSUPPORT) == 1);
  CHECK(s.args.at(0).values == std::set<uint64_t>{2, 10});
  CHECK(s.args.at(1).values == std::set<uint64_t>{1});
  CHECK(rec.syscalls.at(kX86).count("getpid") == 1);
  CHECK(rec.syscalls.at(kX86_64).count("__nr_100000") == 1);
  CHECK(rec.syscalls.at(kX86_64).at("__nr_100000").only_enosys());
  CHECK_FALSE(s.only_enosys());
}

TEST_CASE("the uid/gid-setting calls are classified by their target ids, i386's 32-bit ones too", "[recording]") {
  Recording rec;
  Recorder r(rec);
  r.add_syscall(kX86_64, nr_of(kX86_64, "setresuid"), {0xffffffff, 33, 0xffffffff, 0, 0, 0}, 0, 100);
  r.add_syscall(kX86, nr_of(kX86, "setuid32"), {33, 0, 0, 0, 0, 0}, 0, 100);
  const auto& res = rec.syscalls.at(kX86_64).at("setresuid");
  REQUIRE(res.classes.size() == 1);
  CHECK(res.classes[0].args == std::map<unsigned, uint64_t>{{0, 0xffffffff}, {1, 33}, {2, 0xffffffff}});
  const auto& s32 = rec.syscalls.at(kX86).at("setuid32");
  REQUIRE(s32.classes.size() == 1);
  CHECK(s32.classes[0].args == std::map<unsigned, uint64_t>{{0, 33}});
  CHECK(allowed_only_as_observed("setuid32"));
  CHECK(allowed_only_as_observed("setresgid"));
  CHECK_FALSE(allowed_only_as_observed("setgroups"));
  CHECK_FALSE(allowed_only_as_observed("socket"));
}

TEST_CASE("argument values overflow instead of growing without bound", "[recording]") {
  Recording rec;
  Recorder r(rec);
  int ioctl_nr = nr_of(kX86_64, "ioctl");
  for (uint64_t v = 0; v < kMaxArgValues + 10; ++v) r.add_syscall(kX86_64, ioctl_nr, {0, v, 0, 0, 0, 0}, 0, 1);
  const auto& a = rec.syscalls.at(kX86_64).at("ioctl").args.at(1);
  CHECK(a.overflow);
  CHECK(a.values.empty());
}

TEST_CASE("recording JSON round trip and merge", "[recording]") {
  Recording a;
  Recorder ra(a);
  a.commands.push_back({"prog", "x"});
  a.backend = "ptrace";
  ra.add_syscall(kX86_64, nr_of(kX86_64, "read"), {}, 5, 10);
  ra.add_syscall(kX86_64, nr_of(kX86_64, "openat"), {0, 0, 0x80000, 0, 0, 0}, -ENOENT, 10);
  ra.add_exec("/usr/bin/prog");
  Recording back = recording_from_json(recording_to_json(a), "a.json");
  CHECK(recording_to_json(back) == recording_to_json(a));
  CHECK(back.syscalls.at(kX86_64).at("openat").errors.at(ENOENT) == 1);

  Recording b;
  Recorder rb(b);
  b.backend = "ptrace";
  b.complete = false;
  rb.add_syscall(kX86_64, nr_of(kX86_64, "read"), {}, 1, 20);
  rb.add_syscall(kX86, 20, {}, 1, 20);
  a.merge(b);
  CHECK(a.syscalls.at(kX86_64).at("read").count == 2);
  CHECK(a.syscalls.at(kX86_64).at("read").first_pid == 10);
  CHECK(a.syscalls.at(kX86).count("getpid") == 1);
  CHECK_FALSE(a.complete);
  CHECK(a.total_names() == 3);
  // A command line already there is not added again (run --baseline re-recording the same suite).
  b.commands = {{"prog", "x"}, {"other"}};
  a.merge(b);
  CHECK(a.commands == std::vector<std::vector<std::string>>{{"prog", "x"}, {"other"}});
}

TEST_CASE("malformed recordings are rejected with the JSON path", "[recording]") {
  auto err = [](const std::string& text) -> std::string {
    try {
      recording_from_json(text, "r.json");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::input);
      return e.what();
    }
    return "no error";
  };
  CHECK_THAT(err("{"), Catch::Contains("r.json: invalid JSON") && !Catch::Contains("json.exception"));
  CHECK_THAT(err("[]"), Catch::Contains("expected an object"));
  CHECK_THAT(err(R"({"sctrace_recording": 2, "syscalls": {}})"), Catch::Contains("unsupported recording version"));
  CHECK_THAT(err(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_FOO": {}}})"),
             Catch::Contains("unknown architecture"));
  CHECK_THAT(err(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"notasyscall": {"nr": 1, "count": 1}}}})"),
             Catch::Contains("syscalls.SCMP_ARCH_X86_64.notasyscall: unknown syscall name"));
  CHECK_THAT(err(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"nr": 0, "count": -3}}}})"),
             Catch::Contains("read.count: expected a non-negative integer"));
  CHECK_THAT(err(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"nr": 0, "count": 1, "args": {"9": {"values": []}}}}}})"),
             Catch::Contains("argument index must be 0..5"));
}

TEST_CASE("errno names come from libc both ways", "[recording]") {
  CHECK(errno_name(ENOENT) == "ENOENT");
  CHECK(errno_from_name("ENOSYS") == ENOSYS);
  CHECK(errno_from_name("E200") == 200);
  CHECK(errno_from_name("EBOGUS") == -1);
}
