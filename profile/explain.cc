#include "profile/explain.h"

#include <algorithm>
#include <cerrno>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "profile/minimizer.h"

namespace sctrace {

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

// The rule in force for ctx that answers every call of `name` ENOSYS, when
// nothing in p allows it; null otherwise.
const SyscallRule* enosys_rule(const SeccompProfile& p, std::string_view name, const EvalContext& ctx) {
  if (allowance(p, name, ctx).any) return nullptr;
  for (const auto& r : p.syscalls)
    if (names(r, name) && rule_applies(r, ctx) && r.args.empty() && answers_enosys(r)) return &r;
  return nullptr;
}

bool recorded_only_enosys(const Recording& rec, const std::string& name) {
  bool any = false;
  for (const auto& [a, calls] : rec.syscalls) {
    auto it = calls.find(name);
    if (it == calls.end()) continue;
    if (!it->second.only_enosys()) return false;
    any = true;
  }
  return any;
}

// Whether the profile `run` makes from rec (the reference as its template)
// answers `name` ENOSYS, and whose decision that is.
std::optional<SyscallExplanation::EnosysAnswer> enosys_answer(const std::string& name, const Recording& rec,
                                                              const SeccompProfile& reference,
                                                              const EvalContext& ctx) {
  MinimizeOptions opts;
  opts.ctx = ctx;
  if (enosys_rule(minimize(rec, reference, opts).profile, name, ctx) == nullptr) return std::nullopt;
  SyscallExplanation::EnosysAnswer a;
  if (const SyscallRule* t = enosys_rule(reference, name, ctx)) {
    const std::string when = filter_text(*t);
    a.source = "template";
    a.reason = fmt::format("the template (Docker's default) answers {} with ENOSYS{}{}, so libc takes an older call",
                           name, when.empty() ? "" : " ", when);
  } else if (recorded_only_enosys(rec, name)) {
    a.source = "recorded";
    a.reason = "every recorded call failed with ENOSYS (the kernel lacks it), so the profile keeps that answer";
  } else {
    a.source = "errno-policy";
    a.reason = fmt::format("the workload did not make it, and the errno policy answers {} with ENOSYS, not EPERM, "
                           "so a path the recording missed falls back instead of failing",
                           name);
  }
  const auto& fallbacks = errno_policy().fallbacks;
  if (auto it = fallbacks.find(name); it != fallbacks.end()) {
    a.fallback_known = true;
    a.falls_back_to = it->second;
  }
  return a;
}

}  // namespace

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

SyscallExplanation explain_syscall(std::string_view name, const Recording& rec, std::string recording_name,
                                   const SeccompProfile& reference, const EvalContext& ctx) {
  SyscallExplanation x;
  x.syscall = std::string(name);
  x.info = syscall_info(name);
  x.docker_default = profile_status(reference, name, ctx);
  x.recording = std::move(recording_name);
  for (const auto& [a, calls] : rec.syscalls)
    if (auto it = calls.find(x.syscall); it != calls.end()) x.found.push_back({a, it->second});
  for (const auto& [a, calls] : rec.static_reach)
    if (auto it = calls.find(x.syscall); it != calls.end()) x.reached.push_back({a, it->second});
  x.enosys = enosys_answer(x.syscall, rec, reference, ctx);
  return x;
}

}  // namespace sctrace
