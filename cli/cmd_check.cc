// `sctrace check --profile P [--enforce] [--sarif F] [--junit F] [--report-json F] -- COMMAND`
//
// The drift guard for CI: COMMAND runs under a watch filter compiled from P
// (profile/filter.h compile_watch_filter): what P allows passes in the kernel
// without waking sctrace, everything else stops once and is recorded as a
// violation (arch, name, arguments, pid, executable, call site), then runs
// unchanged, or fails with P's errno (defaultErrnoRet, else EPERM) under
// --enforce. What the profile answers ENOSYS (Docker's clone3 rule, the
// errno policy, runc's stub) is answered ENOSYS here too, in the kernel, and
// not reported: libc falls back as in production, and the fallback is checked.
//
// Exit status (documented in README):
//   1          at least one violation (whatever the workload did);
//   otherwise  the workload's own status, as a shell reports it (so a failing
//              test suite still fails the job): 0, its exit code, 128+signal,
//              124 after --timeout, 128+signal after Ctrl-C/SIGTERM.
// The reports (stderr, --report-json, --sarif, --junit) say which case it was.
//
// Container lines are checked the way `run` records them (cli/backend.h
// choose_container_backend):
// - `docker run ...` on an engine that drops listenerPath (Docker 20.10), or
//   --backend ptrace: the in-container sensor, which gets the compiled
//   program with --watch-filter and records only violations (no executable
//   or call site there: the recording keeps arguments and pids).
// - `podman run ...`, `docker run ...` on an engine that passes listenerPath,
//   and `runc run -b BUNDLE ID` (backend notify): the OCI seccomp agent
//   (cli/podman.h, cli/cmd_podman.cc). The runtime loads
//   check_runtime_profile(P): what P allows whatever the arguments is
//   SCMP_ACT_ALLOW in the kernel, every other syscall libseccomp knows is
//   SCMP_ACT_NOTIFY (runc refuses NOTIFY as the default action, so they are
//   named), defaultAction is P's. AgentCheck runs P's watch program
//   (compile_watch_filter(P, ctx, SECCOMP_RET_USER_NOTIF)) on each
//   notification's seccomp_data: ALLOW -> continue silently (a conditional
//   allow, clone's flags); ERRNO(x) -> answered x, what P itself answers
//   (ENOSYS); USER_NOTIF -> a violation, recorded (pid, executable, call site,
//   the six arguments) and let through, or answered with the deny errno under
//   --enforce. runc hands the listener over with `write`, `rt_sigreturn` and
//   `restart_syscall`, so they always run and cannot be watched; when P does
//   not allow them whatever their arguments, the report says so. Probes, -d
//   and --timeout work as in `run`.
#include <linux/seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/backend.h"
#include "cli/commands.h"
#include "cli/podman.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/hardening.h"
#include "profile/recording.h"
#include "tracer/container/session.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tracer/probes.h"
#include "tracer/tracer.h"

namespace sctrace::cli {

namespace {

using ojson = nlohmann::ordered_json;

// Events kept per violating syscall with their details; the rest are counted.
constexpr size_t kExamplesPerSyscall = 5;

struct Example {
  pid_t pid = 0, tid = 0;
  std::string executable;
  uint64_t ip = 0;
  std::string call_site;  // "FILE+0xOFFSET" from /proc/PID/maps, when known
  std::array<uint64_t, 6> args{};
  bool has_args = false;  // all six registers (local backends)
  std::map<unsigned, std::vector<uint64_t>> classified;  // container: the recorded classified args
};

struct Violation {
  std::string arch;  // "SCMP_ARCH_X86_64"
  std::string name;  // libseccomp's name, "__nr_N" when it has none
  int nr = -1;
  uint64_t count = 0;
  std::vector<Example> examples;
  std::set<std::string> executables;
};

using ViolationKey = std::pair<std::string, std::string>;  // (arch, name)

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// The mapping of /proc/PID/maps that holds ip, as "FILE+0xOFFSET" (file
// offset, what addr2line takes), or "" when ip is in none or anonymous memory.
std::string call_site(pid_t pid, uint64_t ip) {
  if (ip == 0) return {};
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0, off = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4) continue;
    if (ip < lo || ip >= hi) continue;
    std::string path = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    if (path.empty()) return fmt::format("[anonymous]+{:#x}", ip - lo);
    return fmt::format("{}+{:#x}", path, ip - lo + off);
  }
  return {};
}

// Collects what the watch filter reports. Called by one tracer thread at a
// time (the notify backend serializes its supervisors), locked anyway for the
// ptrace backend's helper threads.
class ViolationSink : public EventSink {
 public:
  void on_syscall(const SyscallEvent& ev) override {
    std::lock_guard lock(mu_);
    arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
    auto name = arch::syscall_name(an.arch, an.nr);
    Violation& v = by_key_[{arch::scmp_name(an.arch), name ? *name : fmt::format("__nr_{}", an.nr)}];
    if (v.count++ == 0) {
      v.arch = arch::scmp_name(an.arch);
      v.name = name ? *name : fmt::format("__nr_{}", an.nr);
      v.nr = an.nr;
    }
    if (v.examples.size() >= kExamplesPerSyscall) return;
    // The task waits in its syscall (notify) or in a ptrace stop while this
    // runs, so /proc shows the process that made the call.
    Example e;
    e.pid = ev.pid ? ev.pid : ev.tid;
    e.tid = ev.tid;
    e.executable = read_link(fmt::format("/proc/{}/exe", e.pid));
    e.ip = ev.ip;
    e.call_site = call_site(e.tid ? e.tid : e.pid, ev.ip);
    e.args = ev.args;
    e.has_args = true;
    if (!e.executable.empty()) v.executables.insert(e.executable);
    v.examples.push_back(std::move(e));
  }

  std::vector<Violation> take() {
    std::lock_guard lock(mu_);
    std::vector<Violation> out;
    for (auto& [k, v] : by_key_) out.push_back(std::move(v));
    return out;
  }

 private:
  std::mutex mu_;
  std::map<ViolationKey, Violation> by_key_;
};

struct CheckResult {
  std::vector<Violation> violations;
  std::string backend;
  std::optional<ExitStatus> local;  // local workloads
  int exit_code = 0;                // the workload's status as a shell reports it
  bool timed_out = false;
  bool interrupted = false;
  bool probes_failed = false;  // container lines: a probe failed (exit_code 1 though the container exited 0)
  double seconds = 0;
};

std::string workload_status(const CheckResult& r) {
  if (r.interrupted) return "interrupted";
  if (r.timed_out) return "killed at --timeout";
  if (r.local && r.local->signaled)
    return fmt::format("killed by signal {} ({}){}", r.local->signal, sigabbrev_np(r.local->signal) ? sigabbrev_np(r.local->signal) : "?",
                       r.local->core_dumped ? ", core dumped" : "");
  if (r.probes_failed) return "ran, but a probe failed";
  return fmt::format("exited {}", r.exit_code);
}

bool workload_ok(const CheckResult& r) { return !r.interrupted && !r.timed_out && r.exit_code == 0; }

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

// A path as a URI reference (SARIF's artifactLocation.uri): every byte but
// the unreserved ones and "/" percent-encoded.
std::string uri_path(const std::string& path) {
  std::string out;
  for (unsigned char ch : path) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') out += static_cast<char>(ch);
    else out += fmt::format("%{:02X}", ch);
  }
  return out;
}

// An argument as a POSIX shell reads it back: as it is when it needs no
// quoting, else in single quotes.
std::string shell_word(const std::string& a) {
  if (!a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,@+%-") ==
                        std::string::npos)
    return a;
  std::string out = "'";
  for (char ch : a) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string shell_words(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + shell_word(a);
  return out;
}

std::string args_text(const Example& e) {
  if (e.has_args) {
    std::string s;
    for (uint64_t a : e.args) s += (s.empty() ? "" : ", ") + hex(a);
    return "(" + s + ")";
  }
  std::string s;
  for (const auto& [idx, vals] : e.classified) {
    std::string vs;
    for (uint64_t v : vals) vs += (vs.empty() ? "" : "|") + hex(v);
    s += fmt::format("{}arg{}={}", s.empty() ? "" : ", ", idx, vs);
  }
  return s.empty() ? "" : "(" + s + ")";
}

std::string short_arch(const std::string& scmp) {
  auto t = arch::from_scmp_name(scmp);
  return t ? arch::short_name(*t) : scmp;
}

// --- the reports -----------------------------------------------------------

std::string report_text(const CheckResult& r, const Options& o, const std::string& deny_errno) {
  std::string out;
  auto line = [&](const std::string& s) { out += "sctrace: " + s + "\n"; };
  for (const auto& v : r.violations) {
    line(fmt::format("violation: {} {}: {} call{}{}", short_arch(v.arch), v.name, v.count, v.count == 1 ? "" : "s",
                     o.enforce ? fmt::format(", denied with {}", deny_errno) : ", allowed to run"));
    for (const auto& e : v.examples) {
      std::string where = e.executable.empty() ? "" : " " + e.executable;
      if (!e.call_site.empty()) where += " at " + e.call_site;
      std::string args = args_text(e);
      line(fmt::format("  pid {}{}{}", e.pid, where, args.empty() ? "" : " " + args));
    }
  }
  line(fmt::format("workload {}", workload_status(r)));
  if (r.violations.empty()) {
    const std::string tail = workload_ok(r)  ? ""
                             : r.interrupted ? fmt::format("; interrupted before the end (exit {})", r.exit_code)
                             : r.timed_out   ? fmt::format("; stopped at --timeout (exit {})", r.exit_code)
                             : r.probes_failed ? fmt::format("; a probe failed (exit {})", r.exit_code)
                                             : fmt::format("; exit {}: the workload's own status", r.exit_code);
    line(fmt::format("check passed: no syscall outside {} (backend {}){}", o.profile, r.backend, tail));
  } else {
    std::string names;  // the arch beside each name that is not the native one (int 0x80 calls)
    for (const auto& v : r.violations)
      names += (names.empty() ? "" : ", ") + v.name +
               (v.arch == arch::scmp_name(arch::native()) ? std::string() : " (" + short_arch(v.arch) + ")");
    line(fmt::format("check FAILED: {} syscall{} outside {}: {}", r.violations.size(),
                     r.violations.size() == 1 ? "" : "s", o.profile, names));
  }
  return out;
}

ojson example_json(const Example& e) {
  ojson j = ojson::object();
  j["pid"] = e.pid;
  if (e.tid) j["tid"] = e.tid;
  if (!e.executable.empty()) j["executable"] = e.executable;
  if (e.ip) j["ip"] = hex(e.ip);
  if (!e.call_site.empty()) j["call_site"] = e.call_site;
  if (e.has_args) {
    ojson a = ojson::array();
    for (uint64_t v : e.args) a.push_back(hex(v));
    j["args"] = a;
  }
  if (!e.classified.empty()) {
    ojson a = ojson::object();
    for (const auto& [idx, vals] : e.classified) {
      ojson vs = ojson::array();
      for (uint64_t v : vals) vs.push_back(hex(v));
      a[std::to_string(idx)] = vs;
    }
    j["classified_args"] = a;
  }
  return j;
}

std::string report_json(const CheckResult& r, const Options& o, std::optional<int> deny) {
  ojson j = ojson::object();
  j["profile"] = o.profile;
  j["command"] = without_secrets(o.workload);
  j["backend"] = r.backend;
  j["enforce"] = o.enforce;
  if (deny) j["deny_errno"] = errno_name(*deny);
  j["passed"] = r.violations.empty();
  ojson w = ojson::object();
  w["status"] = workload_status(r);
  w["exit_code"] = r.exit_code;
  w["timed_out"] = r.timed_out;
  w["interrupted"] = r.interrupted;
  j["workload"] = w;
  ojson vs = ojson::array();
  for (const auto& v : r.violations) {
    ojson o2 = ojson::object();
    o2["arch"] = v.arch;
    o2["syscall"] = v.name;
    o2["nr"] = v.nr;
    o2["count"] = v.count;
    o2["action"] = o.enforce ? "denied" : "allowed";
    o2["executables"] = v.executables;
    ojson ex = ojson::array();
    for (const auto& e : v.examples) ex.push_back(example_json(e));
    o2["examples"] = ex;
    vs.push_back(o2);
  }
  j["violations"] = vs;
  return j.dump(2) + "\n";
}

std::string violation_message(const Violation& v, const Options& o, const std::string& deny_errno) {
  std::string s = fmt::format("{} ({}) is not allowed by {}: {} call{}{}", v.name, short_arch(v.arch), o.profile,
                              v.count, v.count == 1 ? "" : "s",
                              o.enforce ? fmt::format(", denied with {}", deny_errno) : "");
  if (!v.examples.empty()) {
    const Example& e = v.examples.front();
    s += fmt::format(". First: pid {}", e.pid);
    if (!e.executable.empty()) s += " " + e.executable;
    if (!e.call_site.empty()) s += " at " + e.call_site;
    std::string a = args_text(e);
    if (!a.empty()) s += " " + a;
  }
  return s;
}

// SARIF 2.1.0: one rule per violating syscall, one result per (arch,
// syscall), located at the profile (what a fix changes) and, logically, at
// the executable and call site.
std::string report_sarif(const CheckResult& r, const Options& o, const std::string& deny_errno) {
  ojson rules = ojson::array();
  ojson results = ojson::array();
  std::set<std::string> rule_ids;
  for (const auto& v : r.violations) {
    const std::string id = "seccomp-violation/" + v.name;
    if (rule_ids.insert(id).second)
      rules.push_back({{"id", id},
                       {"name", "SyscallOutsideProfile"},
                       {"shortDescription", {{"text", fmt::format("The workload calls {}, which the profile does not allow", v.name)}}},
                       {"help", {{"text", fmt::format("Either remove the call to {} or re-record the profile (sctrace run) "
                                                      "and review the difference (sctrace diff).", v.name)}}},
                       {"defaultConfiguration", {{"level", "error"}}}});
    ojson logical = ojson::array();
    for (const auto& e : v.examples) {
      if (e.executable.empty() && e.call_site.empty()) continue;
      logical.push_back({{"name", e.call_site.empty() ? e.executable : e.call_site},
                         {"kind", "function"},
                         {"fullyQualifiedName", e.call_site.empty() ? e.executable : e.call_site}});
      break;
    }
    ojson loc = {{"physicalLocation", {{"artifactLocation", {{"uri", uri_path(o.profile)}}}, {"region", {{"startLine", 1}}}}}};
    if (!logical.empty()) loc["logicalLocations"] = logical;
    results.push_back({{"ruleId", id},
                       {"level", "error"},
                       {"message", {{"text", violation_message(v, o, deny_errno)}}},
                       {"locations", ojson::array({loc})},
                       {"properties", {{"arch", v.arch}, {"syscall", v.name}, {"count", v.count}}}});
  }
  ojson invocation = {{"executionSuccessful", true},
                      {"commandLine", fmt::format("sctrace check --profile {} -- {}", shell_word(o.profile),
                                                  shell_words(without_secrets(o.workload)))},
                      {"properties", {{"workload", workload_status(r)}, {"backend", r.backend}}}};
  ojson run = {{"tool", {{"driver", {{"name", "sctrace"}, {"informationUri", "https://github.com/sctrace/sctrace"},
                                     {"version", SCTRACE_VERSION}, {"rules", rules}}}}},
               {"invocations", ojson::array({invocation})},
               {"results", results}};
  ojson sarif = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                 {"version", "2.1.0"},
                 {"runs", ojson::array({run})}};
  return sarif.dump(2) + "\n";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for other control characters.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

// JUnit XML: testcase "syscalls stay inside PROFILE" (failing on any
// violation), one testcase per violating syscall, and "workload exit status".
std::string report_junit(const CheckResult& r, const Options& o, const std::string& deny_errno) {
  struct Case {
    std::string classname, name, failure_message, failure_text;
  };
  std::vector<Case> cases;
  Case all{"sctrace.check", fmt::format("syscalls stay inside {}", o.profile), "", ""};
  if (!r.violations.empty()) {
    all.failure_message = fmt::format("{} syscall{} outside the profile", r.violations.size(),
                                      r.violations.size() == 1 ? "" : "s");
    for (const auto& v : r.violations) all.failure_text += violation_message(v, o, deny_errno) + "\n";
  }
  cases.push_back(all);
  for (const auto& v : r.violations)
    cases.push_back({"sctrace.check." + short_arch(v.arch), v.name, fmt::format("{} is not allowed by the profile", v.name),
                     violation_message(v, o, deny_errno)});
  Case exit_case{"sctrace.check", "workload exit status", "", ""};
  if (!workload_ok(r)) {
    const std::string st = workload_status(r);  // "exited 3", "killed by signal 9 (KILL)", "interrupted", ...
    const bool passive = st.rfind("killed", 0) == 0 || st.rfind("interrupted", 0) == 0;
    exit_case.failure_message = (passive ? "the workload was " : "the workload ") + st;
  }
  cases.push_back(exit_case);

  size_t failures = 0;
  for (const auto& c : cases) failures += c.failure_message.empty() ? 0 : 1;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites name=\"sctrace check\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                   cases.size(), failures, r.seconds);
  x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3f}\">\n",
                   xml_escape("seccomp check: " + o.profile), cases.size(), failures, r.seconds);
  for (const auto& c : cases) {
    x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", xml_escape(c.classname), xml_escape(c.name));
    if (c.failure_message.empty()) {
      x += "/>\n";
      continue;
    }
    x += ">\n";
    x += fmt::format("      <failure message=\"{}\" type=\"seccomp\">{}</failure>\n", xml_escape(c.failure_message),
                     xml_escape(c.failure_text));
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

int finish(CheckResult& r, const Options& o, std::optional<int> deny) {
  const std::string deny_name = deny ? errno_name(*deny) : "";
  std::fputs(report_text(r, o, deny_name).c_str(), stderr);
  std::vector<std::string> wrote;
  if (!o.report_json.empty()) {
    write_file_atomic(o.report_json, report_json(r, o, deny));
    wrote.push_back(o.report_json);
  }
  if (!o.sarif.empty()) {
    write_file_atomic(o.sarif, report_sarif(r, o, deny_name));
    wrote.push_back(o.sarif);
  }
  if (!o.junit.empty()) {
    write_file_atomic(o.junit, report_junit(r, o, deny_name));
    wrote.push_back(o.junit);
  }
  if (!wrote.empty()) {
    std::string s;
    for (const auto& w : wrote) s += (s.empty() ? "" : ", ") + w;
    say("wrote " + s);
  }
  if (!r.violations.empty()) return 1;
  return r.exit_code;
}

// The errno --enforce answers with: the profile's defaultErrnoRet, else EPERM.
int enforce_errno(const SeccompProfile& p) { return p.default_errno_ret ? static_cast<int>(*p.default_errno_ret) : EPERM; }

// `docker run ...`: the sensor watches with the compiled program and records
// only what it stops on.
int check_container(const Options& o, const SeccompProfile& profile, std::optional<int> deny) {
  container::SessionOptions s = session_options(o);
  // The sensor is a ptrace tracer: the program answers SECCOMP_RET_TRACE.
  std::vector<sock_filter> prog = compile_watch_filter(profile, EvalContext::docker_default(), SECCOMP_RET_TRACE);
  s.watch_filter_bpf.assign(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter));
  s.deny_errno = deny;
  // The sensor's program must be the only filter: under the engine's own
  // (Docker's default, or a seccomp= on the line) a syscall that filter
  // refuses never reaches the sensor, so a keyctl or unshare outside PROFILE
  // went unreported. The podman and local checks see those; so does this now.
  s.seccomp_json = "unconfined";

  const auto start = std::chrono::steady_clock::now();
  container::SessionResult res = container::run_session(s);
  CheckResult r;
  r.backend = "ptrace-sensor";
  r.exit_code = res.exit_code;
  r.timed_out = res.timed_out;
  r.interrupted = res.interrupted;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Recording rec;
  for (size_t i = 0; i < res.recordings.size(); ++i)
    rec.merge(recording_from_json(res.recordings[i], fmt::format("sensor recording {}", i)));
  for (const auto& [token, calls] : rec.syscalls)
    for (const auto& [name, sr] : calls) {
      Violation v;
      v.arch = arch::scmp_name(token);
      v.name = name;
      v.nr = sr.nr;
      v.count = sr.count;
      Example e;
      e.pid = sr.first_pid;
      for (const auto& [idx, vals] : sr.args)
        e.classified[idx] = std::vector<uint64_t>(vals.values.begin(), vals.values.end());
      v.examples.push_back(std::move(e));
      r.violations.push_back(std::move(v));
    }
  for (const auto& f : res.probe_failures) say(f);
  r.probes_failed = !res.probes_ok;
  r.exit_code = exit_code_of({.workload_code = res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                              .interrupt_signal = last_interrupt_signal(), .probes_failed = r.probes_failed},
                             ProbeFailureCode::one_unless_workload_failed);
  return finish(r, o, deny);
}

// The agent's handler: P's watch program decides each notification.
class AgentCheck : public NotifyHandler {
 public:
  AgentCheck(std::vector<sock_filter> prog, ViolationSink& sink, std::optional<int> deny)
      : prog_(std::move(prog)), sink_(sink), deny_(deny) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
    const uint32_t verdict = filter_verdict(prog_, ev.audit_arch, ev.nr, ev.args, ev.ip);
    switch (verdict & SECCOMP_RET_ACTION_FULL) {
      case SECCOMP_RET_ALLOW:
      case SECCOMP_RET_LOG:
        return {true, 0};
      case SECCOMP_RET_ERRNO:
        // The profile's designed answer (ENOSYS): not a violation.
        return {false, static_cast<int>(verdict & SECCOMP_RET_DATA)};
      default:
        sink_.on_syscall(ev);
        if (deny_) return {false, *deny_};
        return {true, 0};
    }
  }

 private:
  std::vector<sock_filter> prog_;
  ViolationSink& sink_;
  std::optional<int> deny_;
};

// `podman run ...`, `runc run ...`, a `docker run ...` whose engine passes
// listenerPath: through the OCI seccomp agent (see the top of this file).
int check_with_agent(const Options& o, const SeccompProfile& profile, std::optional<int> deny,
                     const std::string& why) {
  const AgentWorkload w = prepare_agent_workload(o);
  ViolationSink sink;
  AgentCheck handler(compile_watch_filter(profile, w.ctx, SECCOMP_RET_USER_NOTIF), sink, deny);
  std::vector<std::string> unwatchable;
  AgentRunSpec spec;
  spec.profile_name = "check profile";
  spec.profile = [&](const std::string& listener) {
    unwatchable.clear();
    return check_runtime_profile(profile, w.ctx, listener, &unwatchable);
  };
  spec.backend_line = [&](const std::string& socket) {
    return fmt::format("backend notify ({}; the check profile's listenerPath is sctrace's seccomp agent at {})", why,
                       socket);
  };

  const auto start = std::chrono::steady_clock::now();
  const AgentRunResult res = run_with_agent(o, w, spec, handler);
  CheckResult r;
  r.backend = "notify-agent";
  r.violations = sink.take();
  r.exit_code = res.exit_code;
  r.timed_out = res.timed_out;
  r.interrupted = res.interrupted;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& n : unwatchable)
    say(fmt::format("note: {} is not allowed by {} whatever its arguments, but runc needs it to hand the seccomp "
                    "listener over: it ran unwatched",
                    n, o.profile));
  for (const auto& f : res.probe_failures) say(f);
  if (!res.all_gone) say("processes still held the check filter after the container stopped; their end was not watched");
  r.probes_failed = !res.probes_ok;
  r.exit_code = exit_code_of({.workload_code = res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                              .interrupt_signal = last_interrupt_signal(), .probes_failed = r.probes_failed},
                             ProbeFailureCode::one_unless_workload_failed);
  return finish(r, o, deny);
}

}  // namespace

int cmd_check(const Options& o) {
  // Everything that can be refused is refused before the workload starts.
  SeccompProfile profile = load_profile_file(o.profile);
  const EvalContext ctx = EvalContext::docker_default();
  compile_watch_filter(profile, ctx, SECCOMP_RET_USER_NOTIF);  // throws for what libseccomp rejects
  check_distinct_outputs({{"--sarif", o.sarif}, {"--junit", o.junit}, {"--report-json", o.report_json}});
  for (const std::string* f : {&o.sarif, &o.junit, &o.report_json})
    if (!f->empty()) check_writable(*f);
  std::optional<int> deny;
  if (o.enforce) deny = enforce_errno(profile);

  if (is_container_line(o.workload)) {
    const ContainerChoice cc = choose_container_backend(o);
    if (cc.backend == ContainerBackend::notify_agent) return check_with_agent(o, profile, deny, cc.why);
    say(fmt::format("backend ptrace-sensor ({})", cc.why));
    return check_container(o, profile, deny);
  }
  if (is_runc_line(o.workload) && backend_name(o.backend) == "notify")
    return check_with_agent(o, profile, deny, "runc run on a copy of the bundle's config.json");
  if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
    fail(ErrorKind::usage, "probe options need a container line (sctrace check [probes] -- docker run ...)");

  const BackendChoice choice = choose_local_backend(o);
  std::string why;
  auto tracer = choose_backend(choice.name, why, ptrace_stops_from_name(o.ptrace_stops));
  say(fmt::format("backend {} ({})", choice.name, choice.why));

  // --enforce with a profile that refuses execve: the workload's own execve
  // is the violation, and it cannot start (exit 126, like a shell).
  if (deny) resolve_command(o.workload.at(0));  // a missing command is the usual one-line error first
  if (deny && refused_natively(compile_filter(profile, ctx, FilterMode::enforce), "execve")) {
    CheckResult r;
    r.backend = choice.name;
    Violation v;
    v.arch = arch::scmp_name(arch::native());
    v.name = "execve";
    v.nr = arch::syscall_nr(arch::native(), "execve").value_or(-1);
    v.count = 1;
    r.violations.push_back(std::move(v));
    r.exit_code = 126;
    say(fmt::format("{} cannot start: its execve is what {} refuses", o.workload[0], o.profile));
    return finish(r, o, deny);
  }

  ViolationSink sink;
  LaunchSpec spec;
  spec.argv = o.workload;
  spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  spec.watch_filter = [profile, ctx](uint32_t action) { return compile_watch_filter(profile, ctx, action); };
  spec.deny_errno = deny;

  install_interrupt_handlers();
  const auto start = std::chrono::steady_clock::now();
  ExitStatus st = tracer->run(spec, sink);

  CheckResult r;
  r.backend = choice.name;
  r.violations = sink.take();
  r.local = st;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.timed_out = st.timed_out;
  // A service that shut down cleanly on the forwarded signal was checked to its end.
  r.interrupted = interrupt_count() > 0 && !ended_gracefully(st);
  r.exit_code = exit_code_of({.workload_code = st.shell_code(), .timed_out = r.timed_out, .interrupted = r.interrupted,
                              .interrupt_signal = last_interrupt_signal()});
  return finish(r, o, deny);
}

}  // namespace sctrace::cli
