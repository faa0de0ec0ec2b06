#include "advice/hardening.h"

#include <algorithm>
#include <set>

#include "advice/capabilities.h"
#include "advice/container_config.h"
#include "advice/evidence.h"
#include "advice/findings.h"
#include "advice/inspect.h"
#include "core/error.h"

namespace sctrace {

std::vector<std::string> configured_caps(const nlohmann::json& inspect) {
  std::vector<std::string> out;
  for (const auto& c : container_config_from_inspect(inspect).caps) out.push_back(short_cap(c));
  return out;  // "CAP_" + sorted is sorted
}

size_t count_at_or_above(const HardeningReport& r, Severity threshold) {
  return static_cast<size_t>(std::count_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return static_cast<int>(f.severity) <= static_cast<int>(threshold);
  }));
}

HardeningReport analyze_hardening(const HardeningInput& in) {
  if (!in.recording || !in.inspect)
    fail(ErrorKind::input, "hardening analysis needs a recording and the container's configuration");
  const nlohmann::json& inspect = *in.inspect;
  HardeningReport rep;
  rep.image = advice::str_field(advice::field(inspect, "Config"), "Image");
  RunLine line = in.line ? *in.line : run_line_from_inspect(inspect);
  if (line.image.empty()) line.image = rep.image;

  const ContainerConfig config = container_config_from_inspect(inspect);
  std::set<std::string> had;
  for (const auto& c : config.caps) had.insert(short_cap(c));
  const CapInference caps = infer_caps(in, had);
  for (const auto& [cap, ev] : caps.needed) {
    rep.cap_add.push_back(cap);
    rep.evidence.insert(rep.evidence.end(), ev.begin(), ev.end());
  }
  for (const auto& c : had)
    if (!caps.needed.count(c)) rep.cap_drop.push_back(c);
  rep.notes = caps.notes;

  rep.plan.cap_add = rep.cap_add;
  rep.plan.seccomp_profile = in.seccomp_profile_path;
  const advice::CallsByName calls = advice::by_name(*in.recording);
  const RuleInput rules{in,     inspect, advice::field(inspect, "HostConfig"), advice::field(inspect, "Config"),
                        config, caps,    calls,                                rep.cap_add,
                        rep.cap_drop};
  apply_rules(rules, rep);

  rep.hardened_command = hardened_argv(line, rep.plan, inspect);
  rep.compose_yaml = compose_yaml(rep.plan, line, inspect);
  rep.k8s_yaml = k8s_security_context_yaml(rep.plan);
  return rep;
}

}  // namespace sctrace
