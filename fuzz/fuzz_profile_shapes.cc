// Every profile shape sctrace reads (--profile, --template, diff inputs):
// parse_any_profile must either accept the text (Docker/OCI JSON, a
// runtime-spec config.json, a SeccompProfile in JSON or in the YAML subset of
// profile/yaml.h) or throw sctrace::Error(input). What it accepts must:
//   - round-trip through to_docker_json unchanged,
//   - read back from every shape sctrace writes for it (oci, k8s YAML, a
//     config.json around the OCI object), and writing that back must give the
//     same text (the YAML reader and to_k8s_yaml agree on every string),
//   - evaluate for a container.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "profile/emit/formats.h"
#include "profile/profile_input.h"
#include "profile/seccomp_profile.h"
#include "profile/yaml.h"

using namespace sctrace;

namespace {

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_profile_shapes: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

SeccompProfile must_parse(const std::string& text, const char* what) {
  try {
    return parse_any_profile(text, what).profile;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    die(what, text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The YAML reader alone: it must never fail other than with Error(input).
  try {
    (void)parse_yaml(text, "fuzz");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::input) die("parse_yaml threw a non-input error", e.what());
  }
  SeccompProfile p;
  try {
    p = parse_any_profile(text, "fuzz").profile;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::input) die("parse_any_profile threw a non-input error", e.what());
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) die("a multi-line error", e.what());
    return 0;
  }

  const std::string docker = to_docker_json(p);
  if (to_docker_json(must_parse(docker, "docker round trip")) != docker) die("docker round trip changed it", docker);

  static const EvalContext ctx = EvalContext::docker_default();
  for (const auto& r : p.syscalls) (void)rule_applies(r, ctx);

  const std::string oci = to_oci_json(p, ctx);
  if (to_oci_json(must_parse(oci, "oci round trip"), ctx) != oci) die("oci round trip changed it", oci);

  nlohmann::json config = {{"ociVersion", "1.0.2"}, {"linux", {{"seccomp", nlohmann::json::parse(oci)}}}};
  if (to_oci_json(must_parse(config.dump(), "config.json round trip"), ctx) != oci)
    die("config.json round trip changed it", oci);

  const std::string yaml = to_k8s_yaml(p, ctx, "fuzz");
  if (to_k8s_yaml(must_parse(yaml, "k8s round trip"), ctx, "fuzz") != yaml) die("k8s round trip changed it", yaml);
  return 0;
}
