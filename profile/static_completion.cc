#include "profile/static_completion.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "core/error.h"
#include "core/text.h"

namespace sctrace::embedded {
std::string_view static_tiers_json();
}

namespace sctrace {

namespace {

const std::set<std::string, std::less<>>& benign_names() {
  static const std::set<std::string, std::less<>> names = [] {
    const auto j = nlohmann::json::parse(embedded::static_tiers_json());
    return j.at("benign").get<std::set<std::string, std::less<>>>();
  }();
  return names;
}

}  // namespace

StaticMode static_mode_from_name(std::string_view name) {
  if (name == "off") return StaticMode::off;
  if (name == "benign") return StaticMode::benign;
  if (name == "all") return StaticMode::all;
  fail(ErrorKind::usage, "--static: '{}' is not off, benign or all", name);
}

bool benign_syscall(std::string_view name) { return benign_names().count(name) != 0; }

StaticOutcome apply_static_completion(Recording& rec, const static_reach::ReachFacts& facts, StaticMode mode) {
  StaticOutcome out;
  out.modules = facts.modules.size();
  out.notes = facts.notes;
  if (mode == StaticMode::off) return out;
  const arch::Token native = arch::native();
  const auto recorded_on = rec.syscalls.find(native);
  auto recorded = [&](const std::string& n) {
    return recorded_on != rec.syscalls.end() && recorded_on->second.count(n) != 0;
  };
  std::map<std::string, StaticReach> found;
  for (const auto& r : facts.reach) {
    const std::optional<std::string> name = arch::syscall_name(native, r.nr);
    if (!name || recorded(*name)) continue;
    StaticReach s;
    s.sensitive = !benign_syscall(*name);
    s.added = mode == StaticMode::all || !s.sensitive;
    s.provenance.push_back(r.via.empty() ? fmt::format("{} makes it with its own syscall instruction", r.module)
                                         : fmt::format("{} imports {} -> {}", r.module, r.via, *name));
    found[*name].merge(s);
  }
  for (auto& [name, s] : found) {
    (s.added ? out.added : out.listed).push_back(name);
    rec.static_reach[native][name].merge(s);
  }
  return out;
}

std::vector<std::string> static_outcome_lines(const StaticOutcome& o, const Recording& rec) {
  std::vector<std::string> lines;
  // Module names come from the workload's files: escaped before they reach a terminal.
  for (const auto& n : o.notes) lines.push_back("static completion: " + printable(n));
  lines.push_back(fmt::format("static completion: {} module{} looked at; {} reachable syscall{} not recorded added{}",
                              o.modules, o.modules == 1 ? "" : "s", o.added.size(), o.added.size() == 1 ? "" : "s",
                              o.added.empty() ? "" : fmt::format(": {}", fmt::join(o.added, ", "))));
  const auto native = rec.static_reach.find(arch::native());
  for (const auto& n : o.added)
    if (native != rec.static_reach.end() && native->second.count(n) != 0)
      lines.push_back(fmt::format("  {} ({})", n, printable(native->second.at(n).provenance.front())));
  if (!o.listed.empty())
    lines.push_back(fmt::format("static completion: reachable but sensitive, NOT added (--static all adds them): {}",
                                fmt::join(o.listed, ", ")));
  return lines;
}

}  // namespace sctrace
