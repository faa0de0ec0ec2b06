// `sctrace explain SYSCALL`: why a syscall is in the profile (count, callers,
// stacks, what Docker's default says, which capability gates it).
// `sctrace diff OLD NEW`: what NEW allows that OLD did not; exit 1 if anything.
#include <algorithm>
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/explain.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/summary.h"
#include "profile/minimizer.h"
#include "profile/profile_input.h"
#include "profile/recording.h"
#include "profile/templates.h"

namespace sctrace::cli {

using nlohmann::json;

namespace {

bool allows(const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }

bool names(const SyscallRule& r, std::string_view name) {
  return std::find(r.names.begin(), r.names.end(), name) != r.names.end();
}

std::string cond_text(const ArgCond& c) {
  static const std::map<std::string, std::string> ops = {{"SCMP_CMP_EQ", "=="}, {"SCMP_CMP_NE", "!="},
                                                         {"SCMP_CMP_LT", "<"},  {"SCMP_CMP_LE", "<="},
                                                         {"SCMP_CMP_GT", ">"},  {"SCMP_CMP_GE", ">="}};
  if (c.op == "SCMP_CMP_MASKED_EQ") return fmt::format("arg{} & {:#x} == {:#x}", c.index, c.value, c.value_two);
  auto it = ops.find(c.op);
  return fmt::format("arg{} {} {:#x}", c.index, it == ops.end() ? c.op : it->second, c.value);
}

std::string conds_text(const std::vector<ArgCond>& args) {
  std::vector<std::string> parts;
  for (const auto& a : args) parts.push_back(cond_text(a));
  return fmt::format("{}", fmt::join(parts, " and "));
}

std::string filter_text(const SyscallRule& r) {
  std::vector<std::string> parts;
  if (!r.includes.caps.empty()) parts.push_back(fmt::format("with {}", fmt::join(r.includes.caps, ", ")));
  if (!r.excludes.caps.empty()) parts.push_back(fmt::format("without {}", fmt::join(r.excludes.caps, ", ")));
  if (!r.includes.arches.empty()) parts.push_back(fmt::format("on {}", fmt::join(r.includes.arches, ", ")));
  if (!r.excludes.arches.empty()) parts.push_back(fmt::format("not on {}", fmt::join(r.excludes.arches, ", ")));
  if (!r.includes.min_kernel.empty()) parts.push_back(fmt::format("on kernel >= {}", r.includes.min_kernel));
  if (!r.excludes.min_kernel.empty()) parts.push_back(fmt::format("on kernel < {}", r.excludes.min_kernel));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string errno_text(const std::optional<unsigned>& e) { return errno_name(e ? static_cast<int>(*e) : EPERM); }

// What a profile admits for one name in ctx: unconditionally, or for some
// sets of argument conditions (one set per ALLOW rule, any may match).
struct Allowance {
  bool any = false;
  bool unconditional = false;
  std::vector<std::vector<ArgCond>> sets;
};

Allowance allowance(const SeccompProfile& p, std::string_view name, const EvalContext& ctx) {
  Allowance a;
  bool explicit_rule = false;
  for (const auto& r : p.syscalls) {
    if (!names(r, name) || !rule_applies(r, ctx)) continue;
    explicit_rule = true;
    if (!allows(r.action)) continue;
    a.any = true;
    if (r.args.empty()) a.unconditional = true;
    else a.sets.push_back(r.args);
  }
  if (!explicit_rule && allows(p.default_action)) a.any = a.unconditional = true;
  return a;
}

// True when every call `set` admits is admitted by one of `by` (a rule with a
// subset of the conditions admits at least as much).
bool covered(const std::vector<ArgCond>& set, const Allowance& by) {
  if (by.unconditional) return true;
  for (const auto& o : by.sets) {
    bool subset = std::all_of(o.begin(), o.end(), [&](const ArgCond& c) {
      return std::find(set.begin(), set.end(), c) != set.end();
    });
    if (subset) return true;
  }
  return false;
}

std::string allowance_text(const Allowance& a) {
  if (!a.any) return "denied";
  if (a.unconditional) return "allowed for any arguments";
  std::vector<std::string> parts;
  for (const auto& s : a.sets) parts.push_back(conds_text(s));
  return fmt::format("allowed when {}", fmt::join(parts, " or "));
}

// Which arches a recording has syscalls for, short names.
std::set<std::string> recording_arches(const Recording& r) {
  std::set<std::string> out;
  for (const auto& [a, calls] : r.syscalls)
    if (!calls.empty()) out.insert(arch::short_name(a));
  return out;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

constexpr size_t kMaxDiffStacks = 8;

void add_stacks(std::vector<CallStack>& into, const ArgClass& c) {
  for (const auto& s : c.stacks)
    if (into.size() < kMaxDiffStacks && std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
}

json frame_json(const StackFrame& f) {
  return {{"module", f.module},        {"build_id", f.build_id}, {"function", f.function},
          {"offset", f.offset},        {"module_offset", f.module_offset}, {"text", frame_text(f)}};
}

json stack_json(const CallStack& s) {
  json frames = json::array();
  for (const auto& f : s.frames) frames.push_back(frame_json(f));
  CallSite cs = call_site(s);
  return {{"exe", s.exe},
          {"frames", frames},
          {"caller", {{"group", std::string(group_title(cs.group))},
                      {"module", cs.frame.module},
                      {"function", cs.frame.function}}}};
}

std::string stack_text(const CallStack& s, std::string_view indent) {
  std::string out;
  CallSite cs = call_site(s);
  out += fmt::format("{}stack from {} (caller: {}, {}):\n", indent, s.exe.empty() ? "?" : s.exe,
                     cs.frame.module.empty() && cs.frame.function.empty() ? "??" : frame_text(cs.frame),
                     group_title(cs.group));
  for (size_t i = 0; i < s.frames.size(); ++i) out += fmt::format("{}  #{:<2} {}\n", indent, i, frame_text(s.frames[i]));
  return out;
}

std::string args_text(const std::map<unsigned, uint64_t>& args) {
  if (args.empty()) return "any arguments";
  std::vector<std::string> parts;
  for (const auto& [i, v] : args) parts.push_back(fmt::format("arg{}={:#x}", i, v));
  return fmt::format("{}", fmt::join(parts, " "));
}

bool is_recording_json(const json& j) { return j.is_object() && j.contains("sctrace_recording"); }

}  // namespace

SyscallStatus profile_status(const SeccompProfile& p, std::string_view name, const EvalContext& ctx) {
  SyscallStatus st;
  Allowance a = allowance(p, name, ctx);
  st.allowed = a.any;
  st.conditional = a.any && !a.unconditional;
  if (a.any) {
    st.summary = a.unconditional ? "allowed" : allowance_text(a);
  } else {
    // The errno a denying rule in force (or the default action) answers.
    std::string how;
    for (const auto& r : p.syscalls)
      if (names(r, name) && rule_applies(r, ctx) && r.action == "SCMP_ACT_ERRNO" && r.args.empty())
        how = errno_text(r.errno_ret);
    if (how.empty())
      how = p.default_action == "SCMP_ACT_ERRNO" ? errno_text(p.default_errno_ret) : p.default_action;
    st.summary = fmt::format("denied ({})", how);
  }
  for (const auto& r : p.syscalls) {
    if (!names(r, name) || !allows(r.action) || rule_applies(r, ctx)) continue;
    std::string f = filter_text(r);
    if (!r.args.empty()) f += (f.empty() ? "when " : ", when ") + conds_text(r.args);
    if (!f.empty() && std::find(st.otherwise.begin(), st.otherwise.end(), f) == st.otherwise.end())
      st.otherwise.push_back(f);
  }
  return st;
}

DiffResult diff_recordings(const Recording& o, const Recording& n) {
  DiffResult d;
  d.kind = "recordings";
  auto oa = recording_arches(o), na = recording_arches(n);
  std::set_difference(na.begin(), na.end(), oa.begin(), oa.end(), std::back_inserter(d.arches_added));
  std::set_difference(oa.begin(), oa.end(), na.begin(), na.end(), std::back_inserter(d.arches_removed));
  static const std::map<std::string, SyscallRecord> none;
  std::set<arch::Token> arches;
  for (const auto& [a, c] : o.syscalls) arches.insert(a);
  for (const auto& [a, c] : n.syscalls) arches.insert(a);
  for (arch::Token a : arches) {
    const auto& oc = o.syscalls.count(a) ? o.syscalls.at(a) : none;
    const auto& nc = n.syscalls.count(a) ? n.syscalls.at(a) : none;
    const std::string an = arch::short_name(a);
    for (const auto& [name, nr] : nc) {
      auto it = oc.find(name);
      if (it == oc.end()) {
        DiffEntry e{an, name, plural(nr.count, "call", "calls"), {}};
        for (const auto& c : nr.classes) add_stacks(e.stacks, c);
        d.added.push_back(std::move(e));
        continue;
      }
      const SyscallRecord& orr = it->second;
      for (const auto& [idx, nv] : nr.args) {
        auto oit = orr.args.find(idx);
        static const ArgValues empty_values;
        const ArgValues& ov = oit == orr.args.end() ? empty_values : oit->second;
        if (ov.overflow) continue;  // OLD took any value already
        DiffEntry e{an, name, "", {}};
        if (nv.overflow) {
          e.detail = fmt::format("arg{}: any value (more than {} distinct)", idx, kMaxArgValues);
          for (const auto& c : nr.classes) add_stacks(e.stacks, c);
        } else {
          std::vector<uint64_t> extra;
          std::set_difference(nv.values.begin(), nv.values.end(), ov.values.begin(), ov.values.end(),
                              std::back_inserter(extra));
          if (extra.empty()) continue;
          std::vector<std::string> hex;
          for (uint64_t v : extra) hex.push_back(fmt::format("{:#x}", v));
          e.detail = fmt::format("arg{}: new value{} {}", idx, extra.size() == 1 ? "" : "s", fmt::join(hex, ", "));
          for (const auto& c : nr.classes) {
            auto ci = c.args.find(idx);
            if (ci != c.args.end() && std::binary_search(extra.begin(), extra.end(), ci->second)) add_stacks(e.stacks, c);
          }
        }
        d.widened.push_back(std::move(e));
      }
      for (const auto& [idx, ov] : orr.args) {
        auto nit = nr.args.find(idx);
        if (nit == nr.args.end() || nit->second.overflow) continue;
        const ArgValues& nv = nit->second;
        if (ov.overflow) {
          d.narrowed.push_back({an, name, fmt::format("arg{}: {} values instead of any", idx, nv.values.size()), {}});
          continue;
        }
        std::vector<uint64_t> gone;
        std::set_difference(ov.values.begin(), ov.values.end(), nv.values.begin(), nv.values.end(),
                            std::back_inserter(gone));
        if (gone.empty()) continue;
        std::vector<std::string> hex;
        for (uint64_t v : gone) hex.push_back(fmt::format("{:#x}", v));
        d.narrowed.push_back(
            {an, name, fmt::format("arg{}: no longer {}", idx, fmt::join(hex, ", ")), {}});
      }
    }
    for (const auto& [name, orr] : oc)
      if (!nc.count(name)) d.removed.push_back({an, name, plural(orr.count, "call", "calls"), {}});
  }
  bool old_stacks = false, new_stacks = false;
  for (const auto& [a, c] : o.syscalls)
    for (const auto& [nm, r] : c) old_stacks = old_stacks || !r.classes.empty();
  for (const auto& [a, c] : n.syscalls)
    for (const auto& [nm, r] : c) new_stacks = new_stacks || !r.classes.empty();
  if (!new_stacks) d.notes.push_back("NEW was recorded without call-site attribution: no stacks to show");
  (void)old_stacks;
  return d;
}

DiffResult diff_profiles(const SeccompProfile& o, const SeccompProfile& n, const EvalContext& ctx) {
  DiffResult d;
  d.kind = "profiles";
  std::set<std::string> oa, na;
  for (auto t : profile_arches(o, ctx)) oa.insert(arch::short_name(t));
  for (auto t : profile_arches(n, ctx)) na.insert(arch::short_name(t));
  std::set_difference(na.begin(), na.end(), oa.begin(), oa.end(), std::back_inserter(d.arches_added));
  std::set_difference(oa.begin(), oa.end(), na.begin(), na.end(), std::back_inserter(d.arches_removed));
  if (allows(n.default_action) && !allows(o.default_action))
    d.widened.push_back({"", "*", fmt::format("default action {} (was {})", n.default_action, o.default_action), {}});
  if (allows(o.default_action) && !allows(n.default_action))
    d.narrowed.push_back({"", "*", fmt::format("default action {} (was {})", n.default_action, o.default_action), {}});
  std::set<std::string> all;
  for (const auto* p : {&o, &n})
    for (const auto& r : p->syscalls)
      for (const auto& nm : r.names) all.insert(nm);
  for (const auto& name : all) {
    Allowance ao = allowance(o, name, ctx), an = allowance(n, name, ctx);
    if (!ao.any && !an.any) continue;
    if (!ao.any) {
      d.added.push_back({"", name, allowance_text(an), {}});
      continue;
    }
    if (!an.any) {
      d.removed.push_back({"", name, "was " + allowance_text(ao), {}});
      continue;
    }
    auto wider = [](const Allowance& a, const Allowance& b) {  // a admits something b does not
      if (a.unconditional) return !b.unconditional;
      return std::any_of(a.sets.begin(), a.sets.end(), [&](const auto& s) { return !covered(s, b); });
    };
    std::string detail = fmt::format("{} (was {})", allowance_text(an), allowance_text(ao));
    if (wider(an, ao)) d.widened.push_back({"", name, detail, {}});
    else if (wider(ao, an)) d.narrowed.push_back({"", name, detail, {}});
  }
  return d;
}

std::string diff_text(const DiffResult& d, std::string_view old_name, std::string_view new_name) {
  std::string out = fmt::format("sctrace diff: {} -> {} ({})\n", old_name, new_name, d.kind);
  for (const auto& note : d.notes) out += fmt::format("note: {}\n", note);
  if (!d.arches_added.empty()) out += fmt::format("arches added: {}\n", fmt::join(d.arches_added, ", "));
  if (!d.arches_removed.empty()) out += fmt::format("arches removed: {}\n", fmt::join(d.arches_removed, ", "));
  auto section = [&](const char* title, const std::vector<DiffEntry>& v, char mark) {
    if (v.empty()) return;
    out += fmt::format("{} ({}):\n", title, v.size());
    for (const auto& e : v) {
      out += fmt::format("  {} {}{}{}: {}\n", mark, e.arch, e.arch.empty() ? "" : " ", e.syscall, e.detail);
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

std::string diff_json(const DiffResult& d, std::string_view old_name, std::string_view new_name) {
  auto entries = [](const std::vector<DiffEntry>& v) {
    json a = json::array();
    for (const auto& e : v) {
      json stacks = json::array();
      for (const auto& s : e.stacks) stacks.push_back(stack_json(s));
      a.push_back({{"arch", e.arch}, {"syscall", e.syscall}, {"detail", e.detail}, {"stacks", stacks}});
    }
    return a;
  };
  json j = {{"old", old_name},
            {"new", new_name},
            {"kind", d.kind},
            {"new_allows_more", d.new_allows_more()},
            {"arches_added", d.arches_added},
            {"arches_removed", d.arches_removed},
            {"added", entries(d.added)},
            {"removed", entries(d.removed)},
            {"widened", entries(d.widened)},
            {"narrowed", entries(d.narrowed)},
            {"notes", d.notes}};
  return j.dump(2) + "\n";
}

int cmd_explain(const Options& o) {
  const std::string& name = o.syscall_name;
  const SyscallInfo* info = syscall_info(name);
  if (info == nullptr && !arch::known_syscall_name(name) && name.rfind("__nr_", 0) != 0)
    fail(ErrorKind::usage, "explain: unknown syscall '{}'", name);
  Recording rec = recording_from_json(read_file(o.recording), o.recording);

  const EvalContext ctx = EvalContext::docker_default();
  SyscallStatus docker = profile_status(docker_default_template(), name, ctx);

  struct Found {
    arch::Token arch;
    const SyscallRecord* rec;
  };
  std::vector<Found> found;
  for (const auto& [a, calls] : rec.syscalls)
    if (auto it = calls.find(name); it != calls.end()) found.push_back({a, &it->second});

  if (o.json) {
    json j;
    j["syscall"] = name;
    j["description"] = info ? info->description : "";
    j["capability"] = info ? info->capability : "";
    j["capability_note"] = info ? info->capability_note : "";
    j["docker_default"] = {{"allowed", docker.allowed},
                           {"conditional", docker.conditional},
                           {"summary", docker.summary},
                           {"otherwise", docker.otherwise}};
    j["recording"] = o.recording;
    j["recorded"] = !found.empty();
    json classes = json::array();
    for (const auto& f : found) {
      if (f.rec->classes.empty()) {
        classes.push_back({{"arch", arch::short_name(f.arch)}, {"args", nullptr}, {"count", f.rec->count},
                           {"execs", json::array()}, {"stacks", json::array()}});
        continue;
      }
      for (const auto& c : f.rec->classes) {
        json args = json::object();
        for (const auto& [i, v] : c.args) args[std::to_string(i)] = v;
        json stacks = json::array();
        for (const auto& s : c.stacks) stacks.push_back(stack_json(s));
        classes.push_back({{"arch", arch::short_name(f.arch)}, {"args", args}, {"count", c.count},
                           {"execs", c.execs}, {"stacks", stacks}});
      }
    }
    j["classes"] = classes;
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
    return found.empty() ? 1 : 0;
  }

  std::string out = fmt::format("{}: {}\n", name, info ? info->description : "(no description)");
  out += fmt::format("  Docker default profile: {}", docker.summary);
  if (!docker.allowed && docker.otherwise.empty()) out += "\n";
  else if (!docker.otherwise.empty())
    out += fmt::format("; {} {}\n", docker.allowed ? "also allowed" : "allowed",
                       fmt::join(docker.otherwise, "; or "));
  else out += "\n";
  if (info && !info->capability.empty())
    out += fmt::format("  gated by capability: {}\n",
                       info->capability_note.empty() ? info->capability : info->capability_note);
  else
    out += "  gated by capability: none\n";
  if (found.empty()) {
    out += fmt::format("  not in the recording {}\n", o.recording);
    std::fputs(out.c_str(), stdout);
    return 1;
  }
  for (const auto& f : found) {
    const SyscallRecord& r = *f.rec;
    out += fmt::format("  recorded on {}: {} (first by pid {})\n", arch::short_name(f.arch),
                       plural(r.count, "call", "calls"), r.first_pid);
    if (r.classes.empty()) {
      out += "    no call sites: recorded without attribution (--stack-depth 0 or an older sctrace)\n";
      continue;
    }
    for (const auto& c : r.classes) {
      out += fmt::format("    {}: {}", args_text(c.args), plural(c.count, "call", "calls"));
      if (!c.execs.empty()) out += fmt::format(" by {}", fmt::join(c.execs, ", "));
      out += "\n";
      if (c.stacks.empty()) out += "      no stack captured\n";
      for (const auto& s : c.stacks) out += stack_text(s, "      ");
    }
    if (r.classes_overflow)
      out += fmt::format("    more than {} argument classes: the rest are counted above, not listed\n",
                         kMaxArgClasses);
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

int cmd_diff(const Options& o) {
  if (o.inputs.size() != 2) fail(ErrorKind::usage, "diff: needs OLD and NEW");
  const std::string &old_path = o.inputs[0], &new_path = o.inputs[1];
  std::string old_text = read_file(old_path), new_text = read_file(new_path);
  auto shape = [](const std::string& text, const std::string& path) {
    // Recordings are JSON objects; YAML is a profile (parse_any_profile).
    if (size_t first = text.find_first_not_of(" \t\r\n"); first == std::string::npos || text[first] != '{')
      return false;
    try {
      return is_recording_json(json::parse(text));
    } catch (const json::exception& e) {
      fail(ErrorKind::input, "{}: invalid JSON: {}", path, json_error_text(e));
    }
  };
  bool old_rec = shape(old_text, old_path), new_rec = shape(new_text, new_path);
  DiffResult d;
  if (old_rec && new_rec) {
    d = diff_recordings(recording_from_json(old_text, old_path), recording_from_json(new_text, new_path));
  } else {
    // A recording against a profile: the recording becomes the profile `run`
    // would have written from it (bundled Docker default template).
    const EvalContext ctx = EvalContext::docker_default();
    auto as_profile = [&](bool is_rec, const std::string& text, const std::string& path) {
      if (!is_rec) return parse_any_profile(text, path).profile;
      MinimizeOptions m;
      return minimize(recording_from_json(text, path), docker_default_template(), m).profile;
    };
    d = diff_profiles(as_profile(old_rec, old_text, old_path), as_profile(new_rec, new_text, new_path), ctx);
    if (old_rec || new_rec)
      d.notes.push_back(fmt::format("{} minimized against the bundled Docker default before comparing",
                                    old_rec ? old_path : new_path));
    d.notes.push_back("rules evaluated for a container with Docker's default capabilities on this arch");
  }
  std::fputs((o.json ? diff_json(d, old_path, new_path) : diff_text(d, old_path, new_path)).c_str(), stdout);
  return d.new_allows_more() ? 1 : 0;
}

}  // namespace sctrace::cli
