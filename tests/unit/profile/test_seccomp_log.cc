// profile/seccomp_log.h on lines this machine's kernel wrote (6.18, no
// auditd): a libseccomp filter with SCMP_ACT_LOG as its default, getppid (110)
// and getcwd (79) unlisted, read back from /dev/kmsg and dmesg. Lines marked
// "edited" are such a line with one field changed, to reach a branch the
// capture did not.
#include <seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "profile/seccomp_log.h"

using namespace sctrace;

namespace {

// /dev/kmsg: "prio,seq,usec,flags;text".
const std::string kKmsg1 =
    "5,19374,11315069392,-;audit: type=1326 audit(1796663300.737:34): auid=4294967295 uid=0 gid=0 ses=4294967295 "
    "pid=31411 comm=\"exp\" exe=\"/tmp/hx/exp\" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7faf03b92829 "
    "code=0x7ffc0000";
const std::string kSuppressed = "4,19373,11315069385,-;kauditd_printk_skb: 23 callbacks suppressed";
// dmesg's form of an earlier record.
const std::string kDmesg =
    "[11285.795148] audit: type=1326 audit(1796663271.465:6): auid=4294967295 uid=0 gid=0 ses=4294967295 "
    "pid=29128 comm=\"exp\" exe=\"/tmp/hx/exp\" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7ffad88e3829 "
    "code=0x7ffc0000";
// An executable under a directory with a space: audit writes the path as hex.
const std::string kHexExe =
    "5,19620,12306875238,-;audit: type=1326 audit(1796664292.545:74): auid=4294967295 uid=0 gid=0 "
    "ses=4294967295 pid=15833 comm=\"exp\" exe=2F746D702F68782F64697220776974682073706163652F657870 sig=0 "
    "arch=c000003e syscall=110 compat=0 ip=0x7f7769b9d829 code=0x7ffc0000";

std::string with(std::string line, const std::string& from, const std::string& to) {
  return line.replace(line.find(from), from.size(), to);
}

}  // namespace

TEST_CASE("a kmsg seccomp record gives pid, exe, arch, number and action", "[seccomp_log]") {
  auto r = parse_seccomp_line(kKmsg1);
  REQUIRE(r);
  CHECK(r->pid == 31411);
  CHECK(r->comm == "exp");
  CHECK(r->exe == "/tmp/hx/exp");
  CHECK(r->audit_arch == 0xc000003e);
  CHECK(r->nr == 110);
  CHECK(r->serial == 34);
  CHECK(r->time == Approx(1796663300.737));
  CHECK(r->code == 0x7ffc0000);
  CHECK(r->logged_only());
}

TEST_CASE("the other forms of the same record parse alike", "[seccomp_log]") {
  auto d = parse_seccomp_line(kDmesg);
  REQUIRE(d);
  CHECK(d->pid == 29128);
  CHECK(d->serial == 6);
  auto h = parse_seccomp_line(kHexExe);
  REQUIRE(h);
  CHECK(h->exe == "/tmp/hx/dir with space/exp");
  // auditd's audit.log (edited: the type's name and msg=, and the enriched
  // fields after the 0x1d separator auditd appends).
  const std::string audit_log = with(with(kKmsg1, "5,19374,11315069392,-;audit: type=1326 ", "type=SECCOMP msg="),
                                     "code=0x7ffc0000", "code=0x7ffc0000\x1d" "ARCH=x86_64 SYSCALL=getppid");
  auto a = parse_seccomp_line(audit_log);
  REQUIRE(a);
  CHECK(a->nr == 110);
  CHECK(a->code == 0x7ffc0000);
  CHECK(a->serial == 34);
}

TEST_CASE("lines that are not seccomp records are not taken for one", "[seccomp_log]") {
  CHECK_FALSE(parse_seccomp_line("6,19362,11198386446,-;docker0: port 1(vethdf9cf4c) entered disabled state"));
  CHECK_FALSE(parse_seccomp_line(kSuppressed));
  CHECK_FALSE(parse_seccomp_line(with(kKmsg1, "syscall=110", "syscall=x")));  // edited
  CHECK_FALSE(parse_seccomp_line(with(kKmsg1, " pid=31411", "")));              // edited
  CHECK_FALSE(parse_seccomp_line(kKmsg1.substr(0, 80)));
}

TEST_CASE("the kernel's loss reports are read", "[seccomp_log]") {
  auto s = parse_loss_line(kSuppressed);
  REQUIRE(s);
  CHECK(s->suppressed == 23);
  auto lost = parse_loss_line("4,200,300,-;audit: audit_lost=5 audit_rate_limit=0 audit_backlog_limit=64");
  REQUIRE(lost);
  CHECK(lost->audit_lost == 5u);
  CHECK_FALSE(parse_loss_line("4,1,2,-;net_ratelimit: 3 callbacks suppressed"));
  CHECK_FALSE(parse_loss_line(kKmsg1));
}

TEST_CASE("harvest keeps the selected LOG records as a recording", "[seccomp_log]") {
  const std::string getcwd = with(with(kKmsg1, "syscall=110", "syscall=79"), ":34)", ":44)");  // edited
  const std::string other_pid = with(with(kKmsg1, "pid=31411", "pid=29128"), ":34)", ":45)");   // edited
  const std::string errno_answer = with(with(kKmsg1, "code=0x7ffc0000", "code=0x50001"), ":34)", ":46)");  // edited
  HarvestSelect sel;
  sel.process = [](pid_t p) { return p == 31411 ? Whose::selected : Whose::other; };
  Harvester h(sel);
  for (const auto& l : {kSuppressed, kKmsg1, kKmsg1, getcwd, other_pid, errno_answer, kDmesg}) h.add_line(l);
  Harvest res = std::move(h).finish();
  CHECK(res.records == 5);  // kKmsg1 twice is one event
  CHECK(res.selected == 3);
  CHECK(res.not_logged == 1);
  CHECK(res.suppressed == 23);
  CHECK(res.losses());
  CHECK_FALSE(res.recording.complete);
  const auto& calls = res.recording.syscalls.at(SCMP_ARCH_X86_64);
  CHECK(calls.size() == 2);
  CHECK(calls.at("getppid").count == 1);
  CHECK(calls.at("getppid").first_pid == 31411);
  CHECK(calls.count("getcwd") == 1);
  CHECK(res.recording.execs.count("/tmp/hx/exp") == 1);
}

TEST_CASE("harvest skips records before --since and other executables", "[seccomp_log]") {
  HarvestSelect sel;
  sel.since = 1796663300.0;  // after kDmesg, before kKmsg1
  sel.exe = "/tmp/hx/exp";
  Harvester h(sel);
  for (const auto& l : {kDmesg, kKmsg1, kHexExe}) h.add_line(l);
  Harvest res = std::move(h).finish();
  CHECK(res.records == 3);
  CHECK(res.in_window == 2);
  CHECK(res.selected == 1);
  CHECK_FALSE(res.losses());
  CHECK(res.recording.complete);
}

TEST_CASE("harvest counts the records of processes that are gone", "[seccomp_log]") {
  HarvestSelect sel;
  sel.process = [](pid_t) { return Whose::gone; };
  Harvester h(sel);
  h.add_line(kKmsg1);
  h.add_line(kDmesg);
  Harvest res = std::move(h).finish();
  CHECK(res.gone == 2);
  CHECK(res.selected == 0);
  CHECK(res.recording.syscalls.empty());
}

TEST_CASE("harvested calls with filtered arguments are not narrowed on them", "[seccomp_log]") {
  // socket (41) is in templates/arg-filters.json; the log has no arguments.
  Harvester h({});
  h.add_line(with(kKmsg1, "syscall=110", "syscall=41"));  // edited
  Harvest res = std::move(h).finish();
  const SyscallRecord& s = res.recording.syscalls.at(SCMP_ARCH_X86_64).at("socket");
  REQUIRE_FALSE(s.args.empty());
  for (const auto& [idx, values] : s.args) CHECK(values.overflow);
  CHECK(res.arguments_unknown == std::vector<std::string>{"socket"});
}

TEST_CASE("durations", "[seccomp_log]") {
  CHECK(parse_duration("90") == 90.0);
  CHECK(parse_duration("90s") == 90.0);
  CHECK(parse_duration("15m") == 900.0);
  CHECK(parse_duration("2h") == 7200.0);
  CHECK(parse_duration("1d") == 86400.0);
  CHECK(parse_duration("0.5m") == 30.0);
  for (const char* bad : {"", "m", "-1m", "0", "1w", "inf", "1e400", "nan", " 1"}) CHECK_FALSE(parse_duration(bad));
}
