// Call-site attribution on the profile side: argument classes and stacks in
// the recording (bounds, JSON, merge, older files), caller groups, the
// descriptions table, and the logic of `sctrace explain` / `sctrace diff`.
#include <seccomp.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "profile/diff.h"
#include "profile/emit/summary.h"
#include "profile/explain.h"
#include "profile/recorder.h"
#include "profile/recording.h"
#include "profile/templates.h"
#include "report/json.h"
#include "report/text.h"

using namespace sctrace;

namespace {

constexpr uint32_t kX86_64 = SCMP_ARCH_X86_64;
int nr_of(const char* n) { return *arch::syscall_nr(kX86_64, n); }

StackFrame frame(std::string module, std::string function, uint64_t off = 0x10) {
  return StackFrame{std::move(module), "abcd", std::move(function), off, 0x1000 + off};
}

std::vector<StackFrame> app_stack() {
  return {frame("/lib/x86_64-linux-gnu/libc.so.6", "sched_getaffinity"),
          frame("/app/libsctrace_affinity.so", "sample_probe_affinity"), frame("/app/affinity", "main"),
          frame("/lib/x86_64-linux-gnu/libc.so.6", "__libc_start_main"), frame("/app/affinity", "_start")};
}

}  // namespace

TEST_CASE("the recorder asks for one stack per (syscall, class, executable), bounded", "[explain]") {
  Recording rec;
  Recorder r(rec);
  auto app = r.intern_exe("/app/affinity");
  auto sh = r.intern_exe("/bin/sh");
  CHECK(r.intern_exe("/app/affinity") == app);
  CHECK(r.intern_exe("") == 0);

  const int aff = nr_of("sched_getaffinity");
  auto first = r.add_syscall(kX86_64, aff, {}, 0, 10, app);
  CHECK(first.want_stack);
  r.add_stack(first, app_stack());
  for (int i = 0; i < 100; ++i) CHECK_FALSE(r.add_syscall(kX86_64, aff, {}, 0, 10, app).want_stack);
  CHECK(r.add_syscall(kX86_64, aff, {}, 0, 11, sh).want_stack);  // another executable
  CHECK_FALSE(r.add_syscall(kX86_64, aff, {}, 0, 11, sh).want_stack);

  const auto& rr = rec.syscalls.at(kX86_64).at("sched_getaffinity");
  REQUIRE(rr.classes.size() == 1);
  CHECK(rr.classes[0].args.empty());
  CHECK(rr.classes[0].count == 103);
  CHECK(rr.classes[0].execs == std::set<std::string>{"/app/affinity", "/bin/sh"});
  REQUIRE(rr.classes[0].stacks.size() == 1);  // the second ask got no stack (add_stack not called)
  CHECK(rr.classes[0].stacks[0].exe == "/app/affinity");

  // Filtered arguments make classes: socket(AF_INET) and socket(AF_INET6).
  const int sock = nr_of("socket");
  CHECK(r.add_syscall(kX86_64, sock, {2, 1, 0, 0, 0, 0}, 3, 10, app).want_stack);
  CHECK(r.add_syscall(kX86_64, sock, {10, 1, 0, 0, 0, 0}, 3, 10, app).want_stack);
  CHECK_FALSE(r.add_syscall(kX86_64, sock, {2, 1, 0, 0, 0, 0}, 3, 10, app).want_stack);
  const auto& sr = rec.syscalls.at(kX86_64).at("socket");
  REQUIRE(sr.classes.size() == 2);
  CHECK(sr.find_class({{0, 10}, {1, 1}, {2, 0}}) != nullptr);
  CHECK(sr.find_class({{0, 2}, {1, 1}, {2, 0}})->count == 2);

  // At most kMaxClassStacks executables get a stack per class.
  const int gp = nr_of("getppid");
  size_t asked = 0;
  for (int i = 0; i < 20; ++i)
    asked += r.add_syscall(kX86_64, gp, {}, 1, 10, r.intern_exe("/bin/e" + std::to_string(i))).want_stack;
  CHECK(asked == kMaxClassStacks);

  // Classes per syscall are bounded: the rest are counted, not listed.
  const int ioctl = nr_of("ioctl");
  for (uint64_t v = 0; v < kMaxArgClasses + 20; ++v) r.add_syscall(kX86_64, ioctl, {0, v, 0, 0, 0, 0}, 0, 10, app);
  const auto& ir = rec.syscalls.at(kX86_64).at("ioctl");
  CHECK(ir.classes.size() == kMaxArgClasses);
  CHECK(ir.classes_overflow);
  CHECK(ir.count == kMaxArgClasses + 20);

  // Stacks per syscall are bounded over all its classes.
  const int fcntl = nr_of("fcntl");
  size_t fcntl_asked = 0;
  for (uint64_t v = 0; v < 60; ++v)
    fcntl_asked += r.add_syscall(kX86_64, fcntl, {0, v, 0, 0, 0, 0}, 0, 10, app).want_stack;
  CHECK(fcntl_asked == kMaxSyscallStacks);
}

TEST_CASE("stacks survive the JSON round trip and merge stays bounded", "[explain]") {
  Recording a;
  Recorder ra(a);
  auto exe = ra.intern_exe("/app/affinity");
  auto ref = ra.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 10, exe);
  ra.add_stack(ref, app_stack());
  ra.add_syscall(kX86_64, nr_of("socket"), {10, 2, 0, 0, 0, 0}, 3, 10, exe);
  std::string text = recording_to_json(a);
  Recording back = recording_from_json(text, "a.json");
  CHECK(recording_to_json(back) == text);
  const auto& c = back.syscalls.at(kX86_64).at("sched_getaffinity").classes.at(0);
  REQUIRE(c.stacks.size() == 1);
  CHECK(c.stacks[0].frames == app_stack());
  CHECK(c.stacks[0].frames[1].build_id == "abcd");
  CHECK(back.syscalls.at(kX86_64).at("socket").classes.at(0).args == std::map<unsigned, uint64_t>{{0, 10}, {1, 2}, {2, 0}});

  // Merging a recording with itself adds counts and keeps one stack per executable.
  back.merge(a);
  const auto& m = back.syscalls.at(kX86_64).at("sched_getaffinity").classes.at(0);
  CHECK(m.count == 2);
  CHECK(m.stacks.size() == 1);

  // Many recordings, many executables: never more than the bounds.
  Recording many;
  for (int i = 0; i < 40; ++i) {
    Recording one;
    Recorder r1(one);
    auto e1 = r1.intern_exe("/bin/x" + std::to_string(i));
    auto rf = r1.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, i + 1, e1);
    r1.add_stack(rf, app_stack());
    many.merge(one);
  }
  const auto& mc = many.syscalls.at(kX86_64).at("sched_getaffinity").classes.at(0);
  CHECK(mc.count == 40);
  CHECK(mc.execs.size() == kMaxClassExecs);
  CHECK(mc.stacks.size() == kMaxClassStacks);
}

TEST_CASE("recordings from before attribution still read; bad stacks are rejected", "[explain]") {
  Recording old = recording_from_json(
      R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"nr": 0, "count": 4}}}})", "old.json");
  CHECK(old.syscalls.at(kX86_64).at("read").classes.empty());
  CHECK_THROWS_WITH(
      recording_from_json(R"({"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"nr": 0,
          "count": 1, "classes": [{"count": 1, "stacks": [{"exe": "/a", "frames": [{"offset": "x"}]}]}]}}}})",
                          "r.json"),
      Catch::Contains("read.classes[0].stacks[0].frames[0].offset"));
}

TEST_CASE("a recording lands beside its profile", "[explain]") {
  CHECK(default_recording_path("seccomp-profile.json") == "seccomp-profile.recording.json");
  CHECK(default_recording_path("/out/p.json") == "/out/p.recording.json");
  CHECK(default_recording_path("profile.yaml") == "profile.yaml.recording.json");
}

TEST_CASE("caller groups: loader, application, runtime, libc start-up", "[explain]") {
  CallSite app = call_site({"/app/affinity", app_stack()});
  CHECK(app.group == CallerGroup::runtime);  // a shared library other than libc
  CHECK(app.frame.function == "sample_probe_affinity");

  CallSite main_call = call_site({"/app/affinity",
                                  {frame("/usr/lib/x86_64-linux-gnu/libc.so.6", "write"),
                                   frame("/usr/lib/x86_64-linux-gnu/libc.so.6", "_IO_file_write"),
                                   frame("/app/affinity", "main")}});
  CHECK(main_call.group == CallerGroup::application);
  CHECK(main_call.frame.function == "main");

  CallSite loader = call_site({"/app/affinity",
                               {frame("/lib64/ld-linux-x86-64.so.2", "__mmap"),
                                frame("/lib64/ld-linux-x86-64.so.2", "_dl_map_object")}});
  CHECK(loader.group == CallerGroup::startup);
  CHECK(loader.frame.function == "_dl_map_object");

  CallSite exit_path = call_site({"/app/affinity",
                                  {frame("/lib/libc.so.6", "_exit"), frame("/lib/libc.so.6", "exit"),
                                   frame("/lib/libc.so.6", "__libc_start_main"), frame("/app/affinity", "_start")}});
  CHECK(exit_path.group == CallerGroup::startup);

  // Static binary: libc lives in the executable.
  CallSite st = call_site({"/s", {frame("/s", "__libc_write"), frame("/s", "__libc_start_main"), frame("/s", "main")}});
  CHECK(st.group == CallerGroup::application);
  CHECK(st.frame.function == "main");

  // Go: the runtime's own threads are the runtime; a call from main.main is the application.
  CallSite go_rt = call_site({"/g", {frame("/g", "runtime.futex"), frame("/g", "runtime.notesleep"),
                                     frame("/g", "runtime.mstart")}});
  CHECK(go_rt.group == CallerGroup::runtime);
  CallSite go_app = call_site({"/g", {frame("/g", "internal/runtime/syscall.Syscall6"),
                                      frame("/g", "syscall.openat"), frame("/g", "os.OpenFile"),
                                      frame("/g", "main.main")}});
  CHECK(go_app.group == CallerGroup::application);
  CHECK(go_app.frame.function == "os.OpenFile");

  // Only the syscall's own frame in libc (the notify backend): the caller is unknown, not libc's start-up.
  CallSite lone = call_site({"/app/affinity", {frame("/lib/libc.so.6", "sched_getscheduler")}});
  CHECK(lone.group == CallerGroup::unknown);
  CHECK(lone.frame.function == "sched_getscheduler");

  // JIT code: no module.
  CallSite jit = call_site({"/app/affinity", {StackFrame{}, StackFrame{"", "", "", 0x7f00, 0x7f00}}});
  CHECK(jit.group == CallerGroup::unknown);
  CHECK(frame_text(jit.frame) == "??");
}

TEST_CASE("the run report lists the top caller per syscall, grouped", "[explain]") {
  Recording rec;
  Recorder r(rec);
  auto exe = r.intern_exe("/app/affinity");
  r.add_stack(r.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 1, exe), app_stack());
  r.add_stack(r.add_syscall(kX86_64, nr_of("mprotect"), {0, 0, 1, 0, 0, 0}, 0, 1, exe),
              {frame("/lib64/ld-linux-x86-64.so.2", "__mprotect"), frame("/lib64/ld-linux-x86-64.so.2", "_dl_map_object")});
  r.add_syscall(kX86_64, nr_of("exit_group"), {}, std::nullopt, 1, exe);
  std::string t = attribution_text(rec);
  CHECK_THAT(t, Catch::Contains("sctrace:   libc/loader startup:\n"));
  CHECK_THAT(t, Catch::Matches("(.|\n)*sctrace:     mprotect +ld-linux-x86-64.so.2 +_dl_map_object\n(.|\n)*"));
  CHECK_THAT(t, Catch::Matches("(.|\n)*sctrace:   the runtime:\nsctrace:     sched_getaffinity +libsctrace_affinity.so +sample_probe_affinity\n(.|\n)*"));
  CHECK_THAT(t, Catch::Contains("no stack: exit_group"));
  Recording none;
  CHECK(attribution_text(none).empty());
}

TEST_CASE("every syscall of the Docker default has a description", "[explain]") {
  for (const auto& rule : docker_default_template().syscalls)
    for (const auto& n : rule.names) {
      INFO(n);
      const SyscallInfo* i = syscall_info(n);
      REQUIRE(i != nullptr);
      CHECK(i->description.size() > 10);
    }
  CHECK(syscall_info("mount")->capability == "CAP_SYS_ADMIN");
  CHECK(syscall_info("read")->capability.empty());
  CHECK(syscall_info("not_a_syscall") == nullptr);
}

TEST_CASE("what the Docker default does with a syscall", "[explain]") {
  const EvalContext ctx = EvalContext::docker_default();
  const SeccompProfile& d = docker_default_template();
  auto read = profile_status(d, "read", ctx);
  CHECK(read.allowed);
  CHECK_FALSE(read.conditional);
  CHECK(read.summary == "allowed");

  auto mount = profile_status(d, "mount", ctx);
  CHECK_FALSE(mount.allowed);
  CHECK(mount.summary == "denied (EPERM)");
  REQUIRE_FALSE(mount.otherwise.empty());
  CHECK_THAT(mount.otherwise.front(), Catch::Contains("with CAP_SYS_ADMIN"));

  auto pers = profile_status(d, "personality", ctx);
  CHECK(pers.allowed);
  CHECK(pers.conditional);
  CHECK_THAT(pers.summary, Catch::StartsWith("allowed when arg0 == 0x0"));

  auto clone3 = profile_status(d, "clone3", ctx);
  CHECK_FALSE(clone3.allowed);
  CHECK(clone3.summary == "denied (ENOSYS)");
}

TEST_CASE("diff of recordings: additions with their stacks, widened and narrowed values", "[explain]") {
  Recording o, n;
  Recorder ro(o), rn(n);
  auto exe_o = ro.intern_exe("/app/affinity");
  auto exe_n = rn.intern_exe("/app/affinity");
  for (auto* r : {&ro, &rn}) {
    auto e = r == &ro ? exe_o : exe_n;
    r->add_syscall(kX86_64, nr_of("read"), {}, 1, 1, e);
    r->add_syscall(kX86_64, nr_of("socket"), {2, 1, 0, 0, 0, 0}, 3, 1, e);
  }
  ro.add_syscall(kX86_64, nr_of("nanosleep"), {}, 0, 1, exe_o);
  ro.add_syscall(kX86_64, nr_of("mprotect"), {0, 0, 1, 0, 0, 0}, 0, 1, exe_o);
  rn.add_syscall(kX86_64, nr_of("mprotect"), {0, 0, 3, 0, 0, 0}, 0, 1, exe_n);
  rn.add_stack(rn.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 1, exe_n), app_stack());
  rn.add_stack(rn.add_syscall(kX86_64, nr_of("socket"), {10, 1, 0, 0, 0, 0}, 3, 1, exe_n), app_stack());

  DiffResult d = diff_recordings(o, n);
  CHECK(d.kind == "recordings");
  REQUIRE(d.added.size() == 1);
  CHECK(d.added[0].syscall == "sched_getaffinity");
  CHECK(d.added[0].arch == "x86_64");
  REQUIRE(d.added[0].stacks.size() == 1);
  CHECK(d.added[0].stacks[0].frames[1].function == "sample_probe_affinity");
  REQUIRE(d.removed.size() == 1);
  CHECK(d.removed[0].syscall == "nanosleep");
  // socket arg0 gained AF_INET6 (0xa), with the stack of that class; mprotect changed prot.
  REQUIRE(d.widened.size() == 2);
  CHECK(d.widened[0].syscall == "mprotect");
  CHECK(d.widened[0].detail == "arg2: new value 0x3");
  CHECK(d.widened[1].syscall == "socket");
  CHECK(d.widened[1].detail == "arg0: new value 0xa");
  CHECK(d.widened[1].stacks.size() == 1);
  REQUIRE(d.narrowed.size() == 1);
  CHECK(d.narrowed[0].detail == "arg2: no longer 0x1");
  CHECK(d.new_allows_more());

  // The other way round only removes and narrows: nothing new, exit 0.
  DiffResult back = diff_recordings(n, o);
  CHECK(back.added.size() == 1);  // nanosleep
  CHECK(back.new_allows_more());
  DiffResult same = diff_recordings(o, o);
  CHECK_FALSE(same.new_allows_more());
  CHECK(same.added.empty());
  CHECK(same.removed.empty());
  CHECK(same.widened.empty());

  // The JSON form carries the same facts.
  auto j = nlohmann::json::parse(diff_json(d, "old.json", "new.json"));
  CHECK(j["new_allows_more"] == true);
  CHECK(j["added"][0]["syscall"] == "sched_getaffinity");
  CHECK(j["added"][0]["stacks"][0]["caller"]["function"] == "sample_probe_affinity");
  CHECK_THAT(diff_text(d, "old.json", "new.json"),
             Catch::Contains("  + x86_64 sched_getaffinity: 1 call\n"));
}

TEST_CASE("diff of profiles: names, argument rules and arches", "[explain]") {
  const EvalContext ctx = EvalContext::docker_default();
  auto profile = [](const char* text) { return parse_profile(text, "p.json"); };
  SeccompProfile o = profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}],
    "syscalls": [
      {"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW"}]})");
  SeccompProfile n = profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
    "syscalls": [
      {"names": ["read", "write", "sched_getaffinity"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})");
  DiffResult d = diff_profiles(o, n, ctx);
  CHECK(d.arches_added == std::vector<std::string>{"x86"});
  REQUIRE(d.added.size() == 1);  // mount needs CAP_SYS_ADMIN, which the default context lacks
  CHECK(d.added[0].syscall == "sched_getaffinity");
  REQUIRE(d.removed.size() == 1);
  CHECK(d.removed[0].syscall == "close");
  REQUIRE(d.widened.size() == 1);
  CHECK(d.widened[0].syscall == "personality");
  REQUIRE(d.narrowed.size() == 1);
  CHECK(d.narrowed[0].syscall == "socket");
  CHECK(d.new_allows_more());

  DiffResult rev = diff_profiles(n, o, ctx);
  CHECK(rev.added.size() == 1);  // close
  DiffResult narrowing_only = diff_profiles(o, profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})"), ctx);
  CHECK_FALSE(narrowing_only.new_allows_more());
  CHECK(narrowing_only.removed.size() == 3);
  CHECK_THAT(diff_text(narrowing_only, "a", "b"), Catch::Contains("result: NEW allows nothing OLD did not (exit 0)"));
}

TEST_CASE("explain: what the recording and the Docker default say about one syscall", "[explain]") {
  Recording rec;
  Recorder rr(rec);
  auto exe = rr.intern_exe("/app/affinity");
  rr.add_stack(rr.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 9, exe), app_stack());
  rr.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 9, exe);
  const EvalContext ctx = EvalContext::docker_default();

  SyscallExplanation x = explain_syscall("sched_getaffinity", rec, "rec.json", docker_default_template(), ctx);
  REQUIRE(x.found.size() == 1);
  CHECK(x.found[0].record.count == 2);
  CHECK(x.docker_default.allowed);
  REQUIRE(x.info != nullptr);
  const std::string t = explain_text(x);
  CHECK_THAT(t, Catch::StartsWith("sched_getaffinity: "));
  CHECK_THAT(t, Catch::Contains("  recorded on x86_64: 2 calls (first by pid 9)\n"));
  CHECK_THAT(t, Catch::Contains("sample_probe_affinity"));
  auto j = nlohmann::json::parse(explain_json(x));
  CHECK(j["recorded"] == true);
  CHECK(j["recording"] == "rec.json");
  CHECK(j["classes"][0]["count"] == 2);
  CHECK(j["classes"][0]["stacks"][0]["caller"]["function"] == "sample_probe_affinity");

  SyscallExplanation mount = explain_syscall("mount", rec, "rec.json", docker_default_template(), ctx);
  CHECK(mount.found.empty());
  CHECK_THAT(explain_text(mount), Catch::EndsWith("  not in the recording rec.json\n"));
  CHECK_THAT(explain_text(mount), Catch::Contains("gated by capability: "));
}

TEST_CASE("diff of two files: recordings compared as recordings, else as profiles", "[explain]") {
  Recording o, n;
  Recorder ro(o), rn(n);
  ro.add_syscall(kX86_64, nr_of("read"), {}, 1, 1);
  rn.add_syscall(kX86_64, nr_of("read"), {}, 1, 1);
  rn.add_syscall(kX86_64, nr_of("sched_getaffinity"), {}, 0, 1);
  const std::string ot = recording_to_json(o), nt = recording_to_json(n);
  DiffResult d = diff_inputs(ot, "old.json", nt, "new.json");
  CHECK(d.kind == "recordings");
  CHECK(d.new_allows_more());

  const std::string profile = R"({"defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}],
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})";
  DiffResult p = diff_inputs(profile, "p.json", nt, "new.json");
  CHECK(p.kind == "profiles");
  REQUIRE(p.notes.size() == 2);
  CHECK(p.notes[0] == "new.json minimized against the bundled Docker default before comparing");
  CHECK_THROWS_WITH(diff_inputs("{nope", "bad.json", nt, "new.json"), Catch::StartsWith("bad.json: invalid JSON"));
}

TEST_CASE("explain: a call the profile answers ENOSYS is covered, with whose rule and the fallback", "[explain]") {
  Recording rec;
  Recorder rr(rec);
  rr.add_syscall(kX86_64, nr_of("read"), {}, 1, 9);
  EvalContext ctx = EvalContext::docker_default();

  // Docker's default answers clone3 ENOSYS (without CAP_SYS_ADMIN); glibc then uses clone.
  SyscallExplanation x = explain_syscall("clone3", rec, "rec.json", docker_default_template(), ctx);
  CHECK(x.found.empty());
  REQUIRE(x.enosys.has_value());
  CHECK(x.covered());
  CHECK(x.enosys->source == "template");
  CHECK_THAT(x.enosys->reason, Catch::Contains("without CAP_SYS_ADMIN"));
  CHECK(x.enosys->fallback_known);
  CHECK(x.enosys->falls_back_to == std::vector<std::string>{"clone"});
  const std::string t = explain_text(x);
  CHECK_THAT(t, Catch::Contains("  the profile answers it ENOSYS (errnoRet 38) on purpose: the template"));
  CHECK_THAT(t, Catch::Contains("  libc falls back: clone3 -> clone\n"));
  CHECK_THAT(t, !Catch::Contains("not in the recording"));
  auto j = nlohmann::json::parse(explain_json(x));
  CHECK(j["recorded"] == false);
  CHECK(j["profile_answer"]["errno_ret"] == ENOSYS);
  CHECK(j["profile_answer"]["on_purpose"] == true);
  CHECK(j["profile_answer"]["source"] == "template");
  CHECK(j["profile_answer"]["falls_back_to"] == nlohmann::json::array({"clone"}));

  // Unrecorded statx: the errno policy's ENOSYS (Docker's default allows it).
  SyscallExplanation s = explain_syscall("statx", rec, "rec.json", docker_default_template(), ctx);
  REQUIRE(s.enosys.has_value());
  CHECK(s.enosys->source == "errno-policy");
  CHECK(s.enosys->falls_back_to == std::vector<std::string>{"newfstatat", "fstat"});

  // Recorded and answered ENOSYS by nobody: no ENOSYS note.
  rr.add_syscall(kX86_64, nr_of("statx"), {}, 0, 9);
  CHECK_FALSE(explain_syscall("statx", rec, "rec.json", docker_default_template(), ctx).enosys.has_value());

  // With CAP_SYS_ADMIN Docker's default allows clone3: unrecorded, the errno
  // policy still answers it ENOSYS; recorded, it is allowed.
  ctx.caps.insert("CAP_SYS_ADMIN");
  SyscallExplanation admin = explain_syscall("clone3", rec, "rec.json", docker_default_template(), ctx);
  REQUIRE(admin.enosys.has_value());
  CHECK(admin.enosys->source == "errno-policy");
  rr.add_syscall(kX86_64, nr_of("clone3"), {}, 42, 9);
  CHECK_FALSE(explain_syscall("clone3", rec, "rec.json", docker_default_template(), ctx).enosys.has_value());

  // A plain denial (EPERM) is still "not in the recording", not covered.
  SyscallExplanation m = explain_syscall("mount", rec, "rec.json", docker_default_template(),
                                         EvalContext::docker_default());
  CHECK_FALSE(m.enosys.has_value());
  CHECK_FALSE(m.covered());
  CHECK(nlohmann::json::parse(explain_json(m))["profile_answer"].is_null());
}
