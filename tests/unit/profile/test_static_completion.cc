// Static completion's decision: tiers, the modes, the profile, the recording's JSON.
#include <seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "core/error.h"
#include "profile/minimizer.h"
#include "profile/static_completion.h"
#include "profile/templates.h"

using namespace sctrace;

namespace {

constexpr arch::Token kX86_64 = SCMP_ARCH_X86_64;

int nr(const char* name) { return *arch::syscall_nr(kX86_64, name); }

Recording recorded(std::initializer_list<const char*> names) {
  Recording rec;
  for (const char* n : names) {
    SyscallRecord r;
    r.nr = nr(n);
    r.count = 1;
    rec.syscalls[kX86_64][n] = r;
  }
  return rec;
}

static_reach::ReachFacts facts() {
  static_reach::ReachFacts f;
  f.modules = {"/usr/bin/app", "/lib/libc.so.6"};
  f.reach = {{nr("clock_nanosleep"), "libsqlite3.so.0", "usleep"},
             {nr("clock_nanosleep"), "app", "nanosleep"},
             {nr("sethostname"), "app", ""},
             {nr("getpid"), "app", "getpid"}};
  return f;
}

bool allows(const SeccompProfile& p, const std::string& name) {
  return std::any_of(p.syscalls.begin(), p.syscalls.end(), [&](const SyscallRule& r) {
    return r.action == "SCMP_ACT_ALLOW" && std::find(r.names.begin(), r.names.end(), name) != r.names.end();
  });
}

SeccompProfile profile_of(const Recording& rec) {
  MinimizeOptions o;
  o.ctx.native_arch = kX86_64;
  o.ctx.caps = docker_default_caps();
  o.ctx.kernel_release = "6.1.0";
  o.add_runtime_baseline = false;
  return minimize(rec, docker_default_template(), o).profile;
}

}  // namespace

TEST_CASE("static completion: tiers come from templates/static-tiers.json", "[static]") {
  CHECK(benign_syscall("clock_nanosleep"));
  CHECK(benign_syscall("epoll_wait"));
  CHECK_FALSE(benign_syscall("sethostname"));  // listed sensitive
  CHECK_FALSE(benign_syscall("bpf"));
  CHECK_FALSE(benign_syscall("name_no_list_has"));  // unlisted counts as sensitive
  CHECK(static_mode_from_name("off") == StaticMode::off);
  CHECK(static_mode_from_name("all") == StaticMode::all);
  CHECK_THROWS_AS(static_mode_from_name("some"), Error);
}

TEST_CASE("static completion: benign adds benign names with provenance, lists sensitive ones", "[static]") {
  Recording rec = recorded({"getpid", "write"});
  StaticOutcome o = apply_static_completion(rec, facts(), StaticMode::benign);
  CHECK(o.modules == 2);
  CHECK(o.added == std::vector<std::string>{"clock_nanosleep"});
  CHECK(o.listed == std::vector<std::string>{"sethostname"});
  const auto& reach = rec.static_reach.at(kX86_64);
  CHECK(reach.count("getpid") == 0);  // recorded: not only reachable
  const StaticReach& cn = reach.at("clock_nanosleep");
  CHECK(cn.added);
  CHECK_FALSE(cn.sensitive);
  CHECK(cn.provenance == std::vector<std::string>{"app imports nanosleep -> clock_nanosleep",
                                                  "libsqlite3.so.0 imports usleep -> clock_nanosleep"});
  CHECK(reach.at("sethostname").sensitive);
  CHECK_FALSE(reach.at("sethostname").added);
  CHECK(reach.at("sethostname").provenance.front() == "app makes it with its own syscall instruction");

  const SeccompProfile p = profile_of(rec);
  CHECK(allows(p, "clock_nanosleep"));
  CHECK_FALSE(allows(p, "sethostname"));
  CHECK_FALSE(allows(profile_of(recorded({"getpid", "write"})), "clock_nanosleep"));  // what it changed

  const std::vector<std::string> lines = static_outcome_lines(o, rec);
  CHECK(std::find(lines.begin(), lines.end(), "  clock_nanosleep (app imports nanosleep -> clock_nanosleep)") !=
        lines.end());
  CHECK(std::any_of(lines.begin(), lines.end(),
                    [](const std::string& l) { return l.find("NOT added") != std::string::npos &&
                                                      l.find("sethostname") != std::string::npos; }));
}

TEST_CASE("static completion: all adds sensitive names too, off adds nothing", "[static]") {
  Recording all = recorded({"write"});
  StaticOutcome o = apply_static_completion(all, facts(), StaticMode::all);
  CHECK(o.listed.empty());
  CHECK(all.static_reach.at(kX86_64).at("sethostname").added);
  CHECK(all.static_reach.at(kX86_64).at("sethostname").sensitive);  // still said to be sensitive
  Recording off = recorded({"write"});
  o = apply_static_completion(off, facts(), StaticMode::off);
  CHECK(off.static_reach.empty());
  CHECK(o.added.empty());
}

TEST_CASE("static completion: the recording keeps it through JSON and merge", "[static]") {
  Recording rec = recorded({"write"});
  apply_static_completion(rec, facts(), StaticMode::benign);
  const Recording back = recording_from_json(recording_to_json(rec), "test");
  CHECK(back.static_reach == rec.static_reach);
  CHECK(recording_to_json(recorded({"write"})).find("\"static\"") == std::string::npos);

  // Merged with a recording that made clock_nanosleep: no longer only reachable.
  Recording later = recorded({"clock_nanosleep"});
  rec.merge(later);
  CHECK(rec.static_reach.at(kX86_64).count("clock_nanosleep") == 0);
  CHECK(rec.static_reach.at(kX86_64).count("sethostname") == 1);

  const std::string bad = R"({"sctrace_recording": 1, "syscalls": {},
    "static": {"SCMP_ARCH_X86_64": {"read": {"tier": "harmless", "added": true, "via": []}}}})";
  CHECK_THROWS_WITH(recording_from_json(bad, "r.json"), Catch::Contains("static.SCMP_ARCH_X86_64.read.tier"));
}
