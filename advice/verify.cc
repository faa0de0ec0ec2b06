#include "advice/verify.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "advice/inspect.h"
#include "advice/rewrite.h"

namespace sctrace {

void verify_plan(HardeningReport& rep, const RunLine& line, const nlohmann::json& inspect, const PlanCheck& passes) {
  using advice::join;
  HardeningPlan plan = rep.plan;
  std::vector<std::string> learnt;
  if (!passes(plan, "as recommended")) {
    // Candidates to give back, least costly to security first.
    std::vector<std::pair<std::string, std::function<void(HardeningPlan&)>>> cands;
    if (plan.set_memory || plan.set_cpus || plan.set_pids)
      cands.push_back({"no resource limits", [](HardeningPlan& p) { p.set_memory = p.set_cpus = p.set_pids = false; }});
    if (plan.read_only) cands.push_back({"a writable root filesystem", [](HardeningPlan& p) { p.read_only = false; }});
    if (plan.user) cands.push_back({"running as root", [](HardeningPlan& p) { p.user.reset(); }});
    for (const auto& c : rep.cap_drop)
      cands.push_back({"CAP_" + c, [c](HardeningPlan& p) {
                         p.cap_add.push_back(c);
                         std::sort(p.cap_add.begin(), p.cap_add.end());
                       }});
    bool fixed = false;
    for (const auto& [what, apply] : cands) {
      HardeningPlan p = plan;
      apply(p);
      if (passes(p, "with " + what)) {
        plan = p;
        learnt.push_back(fmt::format("the workload needs {}", what));
        fixed = true;
        break;
      }
    }
    if (!fixed) {
      // Cumulatively, in the same order.
      HardeningPlan p = plan;
      size_t given = 0;
      for (const auto& [what, apply] : cands) {
        apply(p);
        learnt.push_back(what);
        ++given;
        if (passes(p, "with " + join(learnt, " "))) {
          plan = p;
          fixed = true;
          break;
        }
      }
      if (!fixed) {
        rep.notes.push_back("verification: the hardened command did not pass even with everything given back; "
                            "the recommendation above is unverified");
        return;
      }
      // Then each of them taken back once more: only what the run fails
      // without stays given back (the last one given made it pass, not
      // necessarily the earlier ones).
      std::vector<bool> needed(given, true);
      for (size_t skip = 0; skip + 1 < given; ++skip) {
        HardeningPlan q = rep.plan;
        for (size_t i = 0; i < given; ++i)
          if (needed[i] && i != skip) cands[i].second(q);
        if (passes(q, "without giving back " + cands[skip].first)) {
          needed[skip] = false;
          plan = q;
        }
      }
      std::vector<std::string> kept;
      for (size_t i = 0; i < given; ++i)
        if (needed[i]) kept.push_back(cands[i].first);
      learnt = {fmt::format("the workload needs {}", join(kept, " "))};
    }
  }
  // Prune: a recommended capability the workload passes without is not needed.
  for (const auto& c : std::vector<std::string>(plan.cap_add)) {
    HardeningPlan p = plan;
    p.cap_add.erase(std::find(p.cap_add.begin(), p.cap_add.end(), c));
    if (passes(p, "without CAP_" + c)) {
      plan = p;
      learnt.push_back(fmt::format("CAP_{} is not needed after all (the run passed without it)", c));
    } else {
      learnt.push_back(fmt::format("CAP_{} confirmed (the run fails without it)", c));
    }
  }
  for (const auto& l : learnt) rep.notes.push_back("verification: " + l);
  rep.notes.push_back("verification: the hardened command passed");
  std::vector<std::string> had = rep.cap_add;
  had.insert(had.end(), rep.cap_drop.begin(), rep.cap_drop.end());
  rep.cap_add = plan.cap_add;
  rep.cap_drop.clear();
  for (const auto& c : had)
    if (std::find(plan.cap_add.begin(), plan.cap_add.end(), c) == plan.cap_add.end()) rep.cap_drop.push_back(c);
  std::sort(rep.cap_drop.begin(), rep.cap_drop.end());
  rep.cap_drop.erase(std::unique(rep.cap_drop.begin(), rep.cap_drop.end()), rep.cap_drop.end());
  // The findings whose fix was given back are no longer in the command.
  auto given_back = [&](const char* id, const char* why) {
    for (auto& f : rep.findings)
      if (f.id == id && f.fixed_in_command) {
        f.fixed_in_command = false;
        f.fix += fmt::format(" (given back: {})", why);
      }
  };
  if (!plan.read_only && rep.plan.read_only) given_back("writable-rootfs", "the workload needs a writable root filesystem");
  if (!plan.user && rep.plan.user) given_back("root-user", "the workload needs to run as root");
  if (!plan.set_memory && rep.plan.set_memory) given_back("no-memory-limit", "the workload failed with the limits");
  if (!plan.set_cpus && rep.plan.set_cpus) given_back("no-cpu-limit", "the workload failed with the limits");
  if (!plan.set_pids && rep.plan.set_pids) given_back("no-pids-limit", "the workload failed with the limits");
  rep.plan = plan;
  rep.hardened_command = hardened_argv(line, plan, inspect);
  rep.compose_yaml = compose_yaml(plan, line, inspect);
  rep.k8s_yaml = k8s_security_context_yaml(plan);
}

}  // namespace sctrace
