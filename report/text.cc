#include "report/text.h"

#include <cerrno>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/arch.h"
#include "core/text.h"
#include "profile/emit/summary.h"

namespace sctrace {

namespace {

std::string example_args_text(const ViolationExample& e) {
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

std::string stack_text(const CallStack& s, std::string_view indent) {
  std::string out;
  CallSite cs = call_site(s);
  out += fmt::format("{}stack from {} (caller: {}, {}):\n", indent, s.exe.empty() ? "?" : printable(s.exe),
                     cs.frame.module.empty() && cs.frame.function.empty() ? "??" : printable(frame_text(cs.frame)),
                     group_title(cs.group));
  for (size_t i = 0; i < s.frames.size(); ++i)
    out += fmt::format("{}  #{:<2} {}\n", indent, i, printable(frame_text(s.frames[i])));
  return out;
}

std::string class_args_text(const std::map<unsigned, uint64_t>& args) {
  if (args.empty()) return "any arguments";
  std::vector<std::string> parts;
  for (const auto& [i, v] : args) parts.push_back(fmt::format("arg{}={:#x}", i, v));
  return fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace

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

std::string violation_message(const CheckReport& r, const CheckViolation& v) {
  std::string s = fmt::format("{} ({}) is not allowed by {}: {} call{}{}", v.name, short_arch(v.arch), r.profile,
                              v.count, v.count == 1 ? "" : "s",
                              r.enforce ? fmt::format(", denied with {}", r.deny_errno ? errno_name(*r.deny_errno) : "") : "");
  if (!v.examples.empty()) {
    const ViolationExample& e = v.examples.front();
    s += fmt::format(". First: pid {}", e.pid);
    if (!e.executable.empty()) s += " " + e.executable;
    if (!e.call_site.empty()) s += " at " + e.call_site;
    std::string a = example_args_text(e);
    if (!a.empty()) s += " " + a;
  }
  return s;
}

std::string report_text(const CheckReport& r) {
  const std::string deny_errno = r.deny_errno ? errno_name(*r.deny_errno) : "";
  std::string out;
  auto line = [&](const std::string& s) { out += "sctrace: " + s + "\n"; };
  for (const auto& v : r.violations) {
    line(fmt::format("violation: {} {}: {} call{}{}", short_arch(v.arch), v.name, v.count, v.count == 1 ? "" : "s",
                     r.enforce ? fmt::format(", denied with {}", deny_errno) : ", allowed to run"));
    for (const auto& e : v.examples) {
      std::string where = e.executable.empty() ? "" : " " + printable(e.executable);
      if (!e.call_site.empty()) where += " at " + printable(e.call_site);
      std::string args = example_args_text(e);
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
    line(fmt::format("check passed: no syscall outside {} (backend {}){}", r.profile, r.backend, tail));
  } else {
    std::string names;  // the arch beside each name that is not the native one (int 0x80 calls)
    for (const auto& v : r.violations)
      names += (names.empty() ? "" : ", ") + v.name +
               (v.arch == arch::scmp_name(arch::native()) ? std::string() : " (" + short_arch(v.arch) + ")");
    line(fmt::format("check FAILED: {} syscall{} outside {}: {}", r.violations.size(),
                     r.violations.size() == 1 ? "" : "s", r.profile, names));
  }
  return out;
}

std::string report_text(const HardeningReport& r, bool colour) {
  auto paint = [&](std::string_view code, const std::string& s) {
    return colour ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  };
  auto sev = [&](Severity s) {
    std::string name(severity_name(s));
    return paint(s == Severity::high ? "1;31" : s == Severity::medium ? "33" : "36", name);
  };
  std::string out;
  auto line = [&](const std::string& s) { out += "sctrace: " + s + "\n"; };
  line(fmt::format("capabilities: --cap-drop=ALL{}", r.cap_add.empty() ? std::string(" (none needed)") : ""));
  for (const auto& c : r.cap_add) {
    line(fmt::format("  add {}", paint("1", c)));
    for (const auto& e : r.evidence)
      if (e.capability == c)
        line(fmt::format("    {}{}{}: {}", e.syscall.empty() ? "config" : e.syscall,
                         e.args.empty() ? "" : " " + printable(e.args),
                         e.first_pid ? fmt::format(" (pid {})", e.first_pid) : "", printable(e.rule)));
  }
  if (!r.cap_drop.empty()) {
    std::string d;
    for (const auto& c : r.cap_drop) d += (d.empty() ? "" : ", ") + c;
    line("  drop " + d);
  }
  for (const auto& n : r.notes) line("  note: " + printable(n));
  if (r.findings.empty()) line("findings: none");
  else line(fmt::format("findings: {}", r.findings.size()));
  for (const auto& f : r.findings) {
    line(fmt::format("  [{}] {}: {}", sev(f.severity), f.id, printable(f.message)));
    line(fmt::format("      fix: {}{}", printable(f.fix), f.fixed_in_command ? " (applied in the hardened command)" : ""));
  }
  std::string cmd;
  for (const auto& a : r.hardened_command) cmd += (cmd.empty() ? "" : " ") + shell_word(a);
  line("hardened command:");
  line("  " + paint("1", printable(cmd)));
  return out;
}

std::string diff_text(const DiffResult& d, std::string_view old_name, std::string_view new_name) {
  std::string out = fmt::format("sctrace diff: {} -> {} ({})\n", old_name, new_name, d.kind);
  for (const auto& note : d.notes) out += fmt::format("note: {}\n", printable(note));
  if (!d.arches_added.empty()) out += fmt::format("arches added: {}\n", fmt::join(d.arches_added, ", "));
  if (!d.arches_removed.empty()) out += fmt::format("arches removed: {}\n", fmt::join(d.arches_removed, ", "));
  auto section = [&](const char* title, const std::vector<DiffEntry>& v, char mark) {
    if (v.empty()) return;
    out += fmt::format("{} ({}):\n", title, v.size());
    for (const auto& e : v) {
      out += fmt::format("  {} {}{}{}: {}\n", mark, e.arch, e.arch.empty() ? "" : " ", e.syscall, printable(e.detail));
      for (const auto& s : e.stacks) out += stack_text(s, "      ");
    }
  };
  section("syscalls added", d.added, '+');
  section("syscalls removed", d.removed, '-');
  section(d.kind == "profiles" ? "argument rules widened" : "argument values widened", d.widened, '>');
  section(d.kind == "profiles" ? "argument rules narrowed" : "argument values narrowed", d.narrowed, '<');
  out += d.new_allows_more() ? "result: NEW allows what OLD did not (exit 1)\n"
                             : "result: NEW allows nothing OLD did not (exit 0)\n";
  return out;
}

namespace {

std::string enosys_text(const std::string& name, const SyscallExplanation::EnosysAnswer& a) {
  std::string out = fmt::format("  the profile answers it ENOSYS (errnoRet {}) on purpose: {}\n", ENOSYS, a.reason);
  if (!a.fallback_known)
    out += "  libc falls back another way (the errno policy names no older call)\n";
  else if (a.falls_back_to.empty())
    out += "  libc does without it (there is no older call to fall back to)\n";
  else
    out += fmt::format("  libc falls back: {} -> {}\n", name, fmt::join(a.falls_back_to, ", "));
  return out;
}

}  // namespace

std::string explain_text(const SyscallExplanation& x) {
  std::string out = fmt::format("{}: {}\n", x.syscall, x.info ? x.info->description : "(no description)");
  out += fmt::format("  Docker default profile: {}", x.docker_default.summary);
  if (!x.docker_default.allowed && x.docker_default.otherwise.empty()) out += "\n";
  else if (!x.docker_default.otherwise.empty())
    out += fmt::format("; {} {}\n", x.docker_default.allowed ? "also allowed" : "allowed",
                       fmt::join(x.docker_default.otherwise, "; or "));
  else out += "\n";
  if (x.info && !x.info->capability.empty())
    out += fmt::format("  gated by capability: {}\n",
                       x.info->capability_note.empty() ? x.info->capability : x.info->capability_note);
  else
    out += "  gated by capability: none\n";
  for (const auto& r : x.reached) {
    out += fmt::format("  not recorded on {}, but reachable ({}): {}\n", arch::short_name(r.arch),
                       r.reach.sensitive ? "sensitive" : "benign",
                       r.reach.added ? "added to the profile by static completion (run --static)"
                                     : "listed by static completion, NOT added (run --static all adds it)");
    for (const auto& p : r.reach.provenance) out += fmt::format("    {}\n", printable(p));
  }
  if (x.enosys) out += enosys_text(x.syscall, *x.enosys);
  if (x.found.empty()) {
    // An ENOSYS answer is the profile's decision, not a gap in the recording.
    if (!x.enosys) out += fmt::format("  not in the recording {}\n", x.recording);
    return out;
  }
  for (const auto& f : x.found) {
    const SyscallRecord& r = f.record;
    out += fmt::format("  recorded on {}: {} (first by pid {})\n", arch::short_name(f.arch),
                       plural(r.count, "call", "calls"), r.first_pid);
    if (r.classes.empty()) {
      out += "    no call sites: recorded without attribution (--stack-depth 0 or an older sctrace)\n";
      continue;
    }
    for (const auto& c : r.classes) {
      out += fmt::format("    {}: {}", class_args_text(c.args), plural(c.count, "call", "calls"));
      if (!c.execs.empty()) {
        std::vector<std::string> execs;
        for (const auto& e : c.execs) execs.push_back(printable(e));
        out += fmt::format(" by {}", fmt::join(execs, ", "));
      }
      out += "\n";
      if (c.stacks.empty()) out += "      no stack captured\n";
      for (const auto& s : c.stacks) out += stack_text(s, "      ");
    }
    if (r.classes_overflow)
      out += fmt::format("    more than {} argument classes: the rest are counted above, not listed\n",
                         kMaxArgClasses);
  }
  return out;
}

}  // namespace sctrace
