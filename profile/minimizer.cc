#include "profile/minimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "core/error.h"

namespace sctrace {
namespace {

// SCMP_ACT_LOG lets the call through (it only logs it).
bool allowing(const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }

std::string describe_action(const SyscallRule& r) {
  if (r.action == "SCMP_ACT_ERRNO") return fmt::format("the template answers errno {}", r.errno_ret.value_or(EPERM));
  return fmt::format("the template's action is {}", r.action);
}

// libseccomp's comparison semantics (64-bit arches compare the full register).
bool matches(const ArgCond& c, uint64_t v) {
  if (c.op == "SCMP_CMP_NE") return v != c.value;
  if (c.op == "SCMP_CMP_LT") return v < c.value;
  if (c.op == "SCMP_CMP_LE") return v <= c.value;
  if (c.op == "SCMP_CMP_EQ") return v == c.value;
  if (c.op == "SCMP_CMP_GE") return v >= c.value;
  if (c.op == "SCMP_CMP_GT") return v > c.value;
  if (c.op == "SCMP_CMP_MASKED_EQ") return (v & c.value) == c.value_two;
  return false;
}

// One syscall name as the workload made it, over the arches the profile covers.
struct Observed {
  std::vector<std::pair<arch::Token, const SyscallRecord*>> records;
  bool only_enosys = true;
  std::map<unsigned, ArgValues> args;  // union over arches

  // Values for one argument index when the recording is complete for it.
  const std::set<uint64_t>* values(unsigned index) const {
    auto it = args.find(index);
    if (it == args.end() || it->second.overflow || it->second.values.empty()) return nullptr;
    return &it->second.values;
  }
};

using Conds = std::vector<ArgCond>;

// What a template rule with argument conditions becomes for one name, given
// the values the workload passed. Empty: no observed call needs the rule.
std::vector<Conds> narrow_conditions(const SyscallRule& r, const Observed* o) {
  if (o == nullptr) return {r.args};
  unsigned index = r.args.front().index;
  bool single_index = std::all_of(r.args.begin(), r.args.end(), [&](const ArgCond& c) { return c.index == index; });
  if (!single_index) {
    // Values are recorded per argument, not per call: a rule over several
    // arguments is kept whole when each condition admits some observed value.
    for (const auto& c : r.args) {
      const auto* vals = o->values(c.index);
      if (vals != nullptr && std::none_of(vals->begin(), vals->end(), [&](uint64_t v) { return matches(c, v); }))
        return {};
    }
    return {r.args};
  }
  const auto* vals = o->values(index);
  if (vals == nullptr) return {r.args};
  std::vector<uint64_t> admitted;
  for (uint64_t v : *vals)
    if (std::all_of(r.args.begin(), r.args.end(), [&](const ArgCond& c) { return matches(c, v); }))
      admitted.push_back(v);
  if (admitted.empty()) return {};
  // EQ is already exact; MASKED_EQ tests flag bits (clone) whose other bits
  // legitimately vary between calls: both stay as the template wrote them.
  // Ranges over enumerations (socket families) become one EQ per value seen.
  bool exact_or_mask = std::any_of(r.args.begin(), r.args.end(), [](const ArgCond& c) {
    return c.op == "SCMP_CMP_EQ" || c.op == "SCMP_CMP_MASKED_EQ";
  });
  if (exact_or_mask) return {r.args};
  std::vector<Conds> out;
  for (uint64_t v : admitted) out.push_back({ArgCond{index, v, 0, "SCMP_CMP_EQ"}});
  return out;
}

// The argument tuples (over filtered_args(name)) every call of a name was
// made with, on every arch; nullopt when some call's tuple is unknown: not
// recorded (a harvested or older recording), or past kMaxArgClasses.
std::optional<std::set<std::vector<uint64_t>>> observed_tuples(const std::string& name, const Observed& o) {
  const std::vector<unsigned>& indices = filtered_args(name);
  if (indices.empty()) return std::nullopt;
  std::set<std::vector<uint64_t>> tuples;
  for (const auto& [a, r] : o.records) {
    if (r->classes_overflow) return std::nullopt;
    uint64_t classified = 0;
    for (const auto& c : r->classes) {
      std::vector<uint64_t> t;
      for (unsigned i : indices) {
        auto v = c.args.find(i);
        if (v == c.args.end()) return std::nullopt;
        t.push_back(v->second);
      }
      tuples.insert(std::move(t));
      classified += c.count;
    }
    if (classified < r->count) return std::nullopt;
  }
  return tuples;
}

// One EQ per argument: seccomp compares the whole register, so only the exact
// values recorded pass (-1, "unchanged" for the setres*id calls, included).
Conds tuple_conditions(const std::vector<unsigned>& indices, const std::vector<uint64_t>& tuple) {
  Conds out;
  for (size_t i = 0; i < indices.size(); ++i) out.push_back(ArgCond{indices[i], tuple[i], 0, "SCMP_CMP_EQ"});
  return out;
}

// Rules made for one template rule: conditions -> the names that take them.
using CondGroups = std::vector<std::pair<Conds, std::vector<std::string>>>;

void add_to_group(CondGroups& groups, Conds conds, const std::string& name) {
  auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == conds; });
  if (g == groups.end())
    groups.emplace_back(std::move(conds), std::vector<std::string>{name});
  else
    g->second.push_back(name);
}

size_t count_allowed(const SeccompProfile& p, const EvalContext& ctx) {
  std::set<std::string> names;
  for (const auto& r : p.syscalls) {
    if (!allowing(r.action) || !rule_applies(r, ctx)) continue;
    for (const auto& n : r.names)
      if (arch::syscall_nr(ctx.native_arch, n)) names.insert(n);
  }
  return names.size();
}

template <typename C>
bool has(const C& c, const std::string& s) {
  return c.find(s) != c.end();
}

}  // namespace

// runc answers EPERM for SCMP_ACT_ERRNO without errnoRet.
bool answers_enosys(const SyscallRule& r) {
  return r.action == "SCMP_ACT_ERRNO" && r.errno_ret.value_or(EPERM) == ENOSYS;
}

Unlisted unlisted_from_name(std::string_view name) {
  if (name == "errno") return Unlisted::deny;
  if (name == "log") return Unlisted::log;
  fail(ErrorKind::usage, "--unlisted: '{}' is neither errno nor log", name);
}

MinimizeResult minimize(const Recording& rec, const SeccompProfile& tmpl, const MinimizeOptions& opts) {
  EvalContext ctx = opts.ctx;
  if (ctx.native_arch == 0) ctx.native_arch = arch::native();
  const arch::Token native = ctx.native_arch;
  const ErrnoPolicy& policy = errno_policy();
  const bool default_allows = allowing(tmpl.default_action);

  MinimizeResult res;
  std::vector<DeniedObservation> denied;

  // --- the template as Docker would hand it to runc in ctx ---
  std::set<std::string> tmpl_names;                                  // every name it mentions (valid by construction)
  std::set<std::string> tmpl_allowed;                                // names an applicable allowing rule covers
  std::set<std::string> tmpl_unconditional;                          // ... without argument conditions
  std::map<std::string, const SyscallRule*> tmpl_denying;            // first applicable denying rule per name
  std::map<std::string, std::vector<const SyscallRule*>> arg_rules;  // applicable allowing rules with args
  for (const auto& r : tmpl.syscalls) {
    tmpl_names.insert(r.names.begin(), r.names.end());
    if (!rule_applies(r, ctx)) continue;
    for (const auto& n : r.names) {
      if (!allowing(r.action)) {
        tmpl_denying.emplace(n, &r);
        continue;
      }
      tmpl_allowed.insert(n);
      if (r.args.empty())
        tmpl_unconditional.insert(n);
      else
        arg_rules[n].push_back(&r);
    }
  }
  auto valid_name = [&](const std::string& n) { return has(tmpl_names, n) || arch::known_syscall_name(n); };

  // --- what the workload did, on the arches the template covers ---
  const std::vector<arch::Token> covered = profile_arches(tmpl, ctx);
  std::set<arch::Token> seen;
  std::map<std::string, Observed> observed;
  for (const auto& [a, calls] : rec.syscalls) {
    if (calls.empty()) continue;
    bool is_covered = std::find(covered.begin(), covered.end(), a) != covered.end();
    for (const auto& [name, r] : calls) {
      if (!is_covered) {
        denied.push_back({arch::scmp_name(a), name, "architecture not covered by the template"});
        continue;
      }
      if (!valid_name(name)) {
        denied.push_back({arch::scmp_name(a), name, "unknown to libseccomp"});
        continue;
      }
      seen.insert(a);
      Observed& o = observed[name];
      o.records.emplace_back(a, &r);
      o.only_enosys = o.only_enosys && r.only_enosys();
      for (const auto& [idx, vals] : r.args) o.args[idx].merge(vals);
    }
  }

  // --- which names the profile allows ---
  std::set<std::string> wanted;
  std::set<std::string> enosys_observed;  // made, and every call failed with ENOSYS
  std::set<std::string> unseen_args;      // wanted for callers whose arguments the recording does not hold
  for (const auto& [name, o] : observed) (o.only_enosys ? enosys_observed : wanted).insert(name);
  if (opts.add_runtime_baseline) {
    const RuntimeBaseline& b = opts.runtime_baseline ? *opts.runtime_baseline : runtime_baseline();
    const auto& names = opts.no_new_privileges ? b.with_no_new_privs : b.with_new_privs;
    wanted.insert(names.begin(), names.end());
    // runc's own setuid/setgid after the filter target the container's user.
    unseen_args.insert(names.begin(), names.end());
  }
  wanted.insert(policy.always_allow.begin(), policy.always_allow.end());
  unseen_args.insert(policy.always_allow.begin(), policy.always_allow.end());
  // What static completion found reachable and chose to allow (run --static):
  // the template still decides, as for a recorded name.
  for (const auto& [a, calls] : rec.static_reach) {
    if (std::find(covered.begin(), covered.end(), a) == covered.end()) continue;
    for (const auto& [name, r] : calls)
      if (r.added && valid_name(name)) {
        wanted.insert(name);
        unseen_args.insert(name);
      }
  }
  // A name carries one action: what the runtime needs beats an observed ENOSYS.
  for (const auto& n : wanted) enosys_observed.erase(n);

  // A workload that made a call the profile answers ENOSYS for (clone3 under
  // Docker's default) retries with the fallback (clone): allow that instead.
  auto answered_enosys = [&](const std::string& n) {
    if (auto it = tmpl_denying.find(n); it != tmpl_denying.end() && !has(tmpl_allowed, n))
      return answers_enosys(*it->second);
    return has(enosys_observed, n);
  };
  for (const auto& [name, o] : observed) {
    if (!answered_enosys(name)) continue;
    if (!o.only_enosys) res.answered_enosys.push_back(name);
    auto fb = policy.fallbacks.find(name);
    if (fb == policy.fallbacks.end()) continue;
    for (const auto& f : fb->second) {
      if (has(wanted, f)) continue;
      wanted.insert(f);
      unseen_args.insert(f);
      enosys_observed.erase(f);
      if (has(tmpl_allowed, f)) res.added_fallbacks.push_back(fmt::format("{} (fallback of {})", f, name));
    }
  }

  // --- the profile, in the template's order ---
  SeccompProfile& out = res.profile;
  out.default_action = opts.unlisted == Unlisted::log ? "SCMP_ACT_LOG" : tmpl.default_action;
  if (opts.unlisted == Unlisted::deny) out.default_errno_ret = tmpl.default_errno_ret;
  out.flags = tmpl.flags;
  out.listener_path = tmpl.listener_path;
  out.listener_metadata = tmpl.listener_metadata;
  const std::string native_name = arch::scmp_name(native);
  auto seen_name = [&](const std::string& scmp) {
    auto t = arch::from_scmp_name(scmp);
    return t && (*t == native || seen.count(*t) != 0);
  };
  if (auto it = std::find_if(tmpl.arch_map.begin(), tmpl.arch_map.end(),
                             [&](const ArchMapEntry& e) { return e.architecture == native_name; });
      it != tmpl.arch_map.end()) {
    ArchMapEntry e{native_name, {}};
    for (const auto& s : it->sub_architectures)
      if (seen_name(s)) e.sub_architectures.push_back(s);
    out.arch_map.push_back(std::move(e));
  } else if (!tmpl.architectures.empty()) {
    for (const auto& a : tmpl.architectures)
      if (seen_name(a)) out.architectures.push_back(a);
  }

  std::set<std::string> in_rules;                           // names some kept rule names
  std::map<std::string, std::vector<Conds>> emitted_conds;  // per name, across the template's rules
  // One rule per group: the template rule `r` with the group's names and conditions.
  auto emit_groups = [&](const SyscallRule& r, CondGroups& groups) {
    for (auto& [conds, group_names] : groups) {
      SyscallRule k = r;
      k.names = std::move(group_names);
      k.args = std::move(conds);
      in_rules.insert(k.names.begin(), k.names.end());
      out.syscalls.push_back(std::move(k));
    }
  };
  for (const auto& r : tmpl.syscalls) {
    if (!rule_applies(r, ctx)) continue;
    std::set<std::string> names(r.names.begin(), r.names.end());  // sorted, distinct
    if (!allowing(r.action)) {
      // Kept for what the workload made and for ENOSYS-policy names, so an
      // unobserved clone3 still answers ENOSYS rather than the default EPERM.
      SyscallRule k = r;
      k.names.clear();
      for (const auto& n : names)
        if (default_allows || opts.unlisted == Unlisted::log || has(wanted, n) || has(enosys_observed, n) ||
            has(policy.enosys, n))
          k.names.push_back(n);
      if (k.names.empty()) continue;
      in_rules.insert(k.names.begin(), k.names.end());
      out.syscalls.push_back(std::move(k));
      continue;
    }
    if (r.args.empty()) {
      SyscallRule k = r;
      k.names.clear();
      // Names allowed only as observed (setuid & co.): one rule per argument
      // tuple recorded, names sharing a tuple grouped, after the plain rule.
      CondGroups narrowed;
      for (const auto& n : names) {
        if (!has(wanted, n)) continue;
        auto obs_it = observed.find(n);
        std::optional<std::set<std::vector<uint64_t>>> tuples;
        if (allowed_only_as_observed(n) && !has(unseen_args, n) && obs_it != observed.end())
          tuples = observed_tuples(n, obs_it->second);
        if (!tuples) {
          k.names.push_back(n);
          continue;
        }
        for (const auto& t : *tuples) add_to_group(narrowed, tuple_conditions(filtered_args(n), t), n);
      }
      if (!k.names.empty()) {
        in_rules.insert(k.names.begin(), k.names.end());
        out.syscalls.push_back(k);
      }
      emit_groups(r, narrowed);
      continue;
    }
    // Argument rules: narrowed per name, then names sharing conditions regrouped.
    CondGroups groups;
    for (const auto& n : names) {
      if (!has(wanted, n) || has(tmpl_unconditional, n)) continue;
      auto obs_it = observed.find(n);
      for (auto& conds : narrow_conditions(r, obs_it == observed.end() ? nullptr : &obs_it->second)) {
        auto& done = emitted_conds[n];
        if (std::find(done.begin(), done.end(), conds) != done.end()) continue;
        done.push_back(conds);
        add_to_group(groups, std::move(conds), n);
      }
    }
    emit_groups(r, groups);
  }

  // ENOSYS where libc falls back: names made that only ever got ENOSYS, and
  // unobserved names of the policy that the template would have allowed.
  SyscallRule enosys_rule;
  enosys_rule.action = "SCMP_ACT_ERRNO";
  enosys_rule.errno_ret = ENOSYS;
  std::set<std::string> enosys_names;
  for (const auto& n : enosys_observed)
    if (!has(in_rules, n)) enosys_names.insert(n);
  for (const auto& n : policy.enosys)
    if (has(tmpl_allowed, n) && !has(wanted, n) && !has(in_rules, n) && valid_name(n)) enosys_names.insert(n);
  if (!enosys_names.empty()) {
    enosys_rule.names.assign(enosys_names.begin(), enosys_names.end());
    out.syscalls.push_back(std::move(enosys_rule));
  }

  // --- what the workload made that the template refuses ---
  for (const auto& [name, o] : observed) {
    if (has(enosys_observed, name)) continue;  // it got ENOSYS while recorded and keeps getting it
    if (has(tmpl_allowed, name)) {
      if (has(tmpl_unconditional, name)) continue;
      const auto& rules = arg_rules[name];
      for (const auto& [a, r] : o.records) {
        for (const auto& [idx, vals] : r->args) {
          if (vals.overflow) continue;
          for (uint64_t v : vals.values) {
            bool admitted = std::any_of(rules.begin(), rules.end(), [&](const SyscallRule* rule) {
              return std::all_of(rule->args.begin(), rule->args.end(),
                                 [&](const ArgCond& c) { return c.index != idx || matches(c, v); });
            });
            if (!admitted)
              denied.push_back({arch::scmp_name(a), name,
                                fmt::format("argument {} value {:#x} outside the template's rules", idx, v)});
          }
        }
      }
      continue;
    }
    std::string reason;
    if (auto it = tmpl_denying.find(name); it != tmpl_denying.end()) {
      if (answers_enosys(*it->second)) continue;  // by design: libc falls back (see added_fallbacks)
      reason = describe_action(*it->second);
    } else if (default_allows) {
      continue;
    } else {
      reason = "not allowed by the template";
    }
    for (const auto& [a, r] : o.records) denied.push_back({arch::scmp_name(a), name, reason});
  }
  std::sort(denied.begin(), denied.end(), [&](const DeniedObservation& x, const DeniedObservation& y) {
    auto key = [&](const DeniedObservation& d) {
      return std::tuple(d.arch != native_name, d.arch, d.syscall, d.reason);
    };
    return key(x) < key(y);
  });
  res.template_denied = std::move(denied);

  // --unlisted log: the canary logs what the template would let run, and no
  // more. Under defaultAction SCMP_ACT_LOG a name no rule covers runs, so the
  // names the template refuses by its default (mount, kexec_load, ... under
  // Docker's) keep that answer in a rule of their own; its refusing rules
  // were all kept above.
  if (opts.unlisted == Unlisted::log && !default_allows) {
    std::set<std::string> named;
    for (const auto& r : out.syscalls) named.insert(r.names.begin(), r.names.end());
    std::set<std::string> refused;
    for (arch::Token t : profile_arches(out, ctx))
      for (int nr = 0; nr < 1024; ++nr)
        for (int n : {nr, static_cast<int>(nr | arch::kX32SyscallBit)})
          if (auto name = arch::syscall_name(t, n); name && !has(tmpl_allowed, *name) && !has(named, *name))
            refused.insert(*name);
    if (!refused.empty()) {
      SyscallRule r;
      r.names.assign(refused.begin(), refused.end());
      r.action = tmpl.default_action;
      r.errno_ret = tmpl.default_errno_ret;
      r.comment = "refused by the template: not logged and let through by the canary's default";
      out.syscalls.push_back(std::move(r));
    }
  }

  for (arch::Token t : profile_arches(out, ctx)) res.arches.push_back(arch::scmp_name(t));
  res.allowed_names = count_allowed(out, ctx);
  res.template_names = count_allowed(tmpl, ctx);
  return res;
}

}  // namespace sctrace
