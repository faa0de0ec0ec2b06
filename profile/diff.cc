#include "profile/diff.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "core/error.h"
#include "core/text.h"
#include "profile/explain.h"
#include "profile/minimizer.h"
#include "profile/profile_input.h"
#include "profile/templates.h"

namespace sctrace {

namespace {

bool allows(const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }

// Which arches a recording has syscalls for, short names.
std::set<std::string> recording_arches(const Recording& r) {
  std::set<std::string> out;
  for (const auto& [a, calls] : r.syscalls)
    if (!calls.empty()) out.insert(arch::short_name(a));
  return out;
}

constexpr size_t kMaxDiffStacks = 8;

void add_stacks(std::vector<CallStack>& into, const ArgClass& c) {
  for (const auto& s : c.stacks)
    if (into.size() < kMaxDiffStacks && std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
}

}  // namespace

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

DiffResult diff_inputs(const std::string& old_text, const std::string& old_path, const std::string& new_text,
                       const std::string& new_path) {
  auto shape = [](const std::string& text, const std::string& path) {
    // Recordings are JSON objects; YAML is a profile (parse_any_profile).
    if (size_t first = text.find_first_not_of(" \t\r\n"); first == std::string::npos || text[first] != '{')
      return false;
    try {
      const nlohmann::json j = nlohmann::json::parse(text);
      return j.is_object() && j.contains("sctrace_recording");
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::input, "{}: invalid JSON: {}", path, json_error_text(e));
    }
  };
  const bool old_rec = shape(old_text, old_path), new_rec = shape(new_text, new_path);
  if (old_rec && new_rec)
    return diff_recordings(recording_from_json(old_text, old_path), recording_from_json(new_text, new_path));
  // A recording against a profile: the recording becomes the profile `run`
  // would have written from it (bundled Docker default template).
  const EvalContext ctx = EvalContext::docker_default();
  auto as_profile = [&](bool is_rec, const std::string& text, const std::string& path) {
    if (!is_rec) return parse_any_profile(text, path).profile;
    MinimizeOptions m;
    return minimize(recording_from_json(text, path), docker_default_template(), m).profile;
  };
  DiffResult d = diff_profiles(as_profile(old_rec, old_text, old_path), as_profile(new_rec, new_text, new_path), ctx);
  if (old_rec || new_rec)
    d.notes.push_back(fmt::format("{} minimized against the bundled Docker default before comparing",
                                  old_rec ? old_path : new_path));
  d.notes.push_back("rules evaluated for a container with Docker's default capabilities on this arch");
  return d;
}

}  // namespace sctrace
