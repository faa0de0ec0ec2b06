#include "profile/profile_input.h"

#include <charconv>
#include <cstdint>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "profile/yaml.h"

namespace sctrace {
namespace {

using nlohmann::json;

constexpr std::string_view kExpected =
    "expected a seccomp profile: Docker/OCI (defaultAction), a runtime-spec config.json (linux.seccomp) or a "
    "SeccompProfile resource (kind: SeccompProfile)";

constexpr std::string_view kSpoGroup = "security-profiles-operator.x-k8s.io/";

// Profiles, config.json and SeccompProfile resources (managedFields included)
// are a few levels deep; anything much deeper is not one, and is refused before
// it is copied or serialized (nlohmann's copy and dump recurse).
constexpr size_t kMaxProfileDepth = 32;

size_t depth_of(const json& root) {
  std::vector<std::pair<const json*, size_t>> stack{{&root, 1}};
  size_t deepest = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (d > kMaxProfileDepth) break;
    if (v->is_structured())
      for (const auto& child : *v) stack.emplace_back(&child, d + 1);
  }
  return deepest;
}

std::string shown(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return std::string(v.type_name());
}

// Names in a document may hold any character ("a\nb" in JSON or YAML); the
// CLI prints errors on one line.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

bool has(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

// The seccomp object of a larger document, through the Docker parser: its
// errors name `where` inside `source`.
SeccompProfile seccomp_object(const json& obj, std::string_view source, std::string_view where) {
  std::string sub = fmt::format("{}: {}", source, where);
  if (!obj.is_object()) fail(ErrorKind::input, "{}: expected an object, got {}", sub, obj.type_name());
  std::string text;
  try {
    text = obj.dump();
  } catch (const json::exception& e) {
    fail(ErrorKind::input, "{}: {}", sub, json_error_text(e));
  }
  return parse_profile(text, sub);
}

// SPO's Syscall.errnoRet is a string in some versions, a number in others.
void errno_as_number(json& obj, const char* key, std::string_view source, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return;
  const std::string s = it->get<std::string>();
  uint32_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  bool digits = !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || r.ec != std::errc() || r.ptr != s.data() + s.size())
    fail(ErrorKind::input, "{}: {}: expected an errno number, got {}", source, path, shown(*it));
  *it = v;
}

ProfileInput from_k8s(const json& doc, std::string_view source) {
  const json kind = doc.value("kind", json()), api = doc.value("apiVersion", json());
  bool spo = api.is_string() && api.get<std::string>().rfind(kSpoGroup, 0) == 0;
  if (!kind.is_string() || kind.get<std::string>() != "SeccompProfile" || !spo)
    fail(ErrorKind::input, "{}: kind {} (apiVersion {}): expected a SeccompProfile resource (apiVersion {}v1beta1)",
         source, shown(kind), shown(api), kSpoGroup);
  if (!has(doc, "spec")) fail(ErrorKind::input, "{}: SeccompProfile without a spec", source);
  json spec = doc["spec"];
  if (!spec.is_object()) fail(ErrorKind::input, "{}: spec: expected an object, got {}", source, spec.type_name());
  ProfileInput in;
  in.shape = ProfileShape::k8s;
  if (has(spec, "baseProfileName")) {
    const json& base = spec["baseProfileName"];
    if (!base.is_string() || !base.get<std::string>().empty())
      fail(ErrorKind::input,
           "{}: spec.baseProfileName {}: the operator resolves the base profile in the cluster; sctrace cannot (inline "
           "its rules instead)",
           source, shown(base));
  }
  if (spec.value("disabled", json()) == json(true))
    in.notes.push_back(fmt::format("{}: spec.disabled is true: the operator does not install this profile", source));
  spec.erase("disabled");
  spec.erase("baseProfileName");
  errno_as_number(spec, "defaultErrnoRet", source, "spec.defaultErrnoRet");
  if (auto it = spec.find("syscalls"); it != spec.end() && it->is_array())
    for (size_t i = 0; i < it->size(); ++i)
      if ((*it)[i].is_object())
        errno_as_number((*it)[i], "errnoRet", source, fmt::format("spec.syscalls[{}].errnoRet", i));
  in.profile = seccomp_object(spec, source, "spec");
  return in;
}

ProfileInput from_config(const json& doc, std::string_view source) {
  if (!has(doc, "linux") || !doc["linux"].is_object() || !has(doc["linux"], "seccomp"))
    fail(ErrorKind::input,
         "{}: a runtime-spec config.json without linux.seccomp: nothing to read (that container runs without a "
         "seccomp filter)",
         source);
  ProfileInput in;
  in.shape = ProfileShape::oci_config;
  in.profile = seccomp_object(doc["linux"]["seccomp"], source, "linux.seccomp");
  return in;
}

// Docker's schema is a superset of linux.seccomp; the Docker-only fields tell
// them apart (for messages only: both parse the same way).
ProfileShape docker_or_oci(const json& doc) {
  if (has(doc, "archMap")) return ProfileShape::docker;
  if (auto it = doc.find("syscalls"); it != doc.end() && it->is_array())
    for (const auto& r : *it)
      if (r.is_object() && (has(r, "includes") || has(r, "excludes") || has(r, "comment") || has(r, "name")))
        return ProfileShape::docker;
  return has(doc, "architectures") ? ProfileShape::oci : ProfileShape::docker;
}

}  // namespace

std::string_view profile_shape_name(ProfileShape shape) {
  switch (shape) {
    case ProfileShape::docker: return "Docker profile";
    case ProfileShape::oci: return "OCI linux.seccomp";
    case ProfileShape::oci_config: return "runtime-spec config.json";
    case ProfileShape::k8s: return "SeccompProfile resource";
  }
  return "profile";
}

ProfileInput parse_any_profile(std::string_view text, std::string_view source) {
  std::string_view body = text;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) fail(ErrorKind::input, "{}: empty file: {}", source, kExpected);
  const bool is_json = body[first] == '{' || body[first] == '[';

  json doc;
  if (is_json) {
    try {
      doc = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
      fail(ErrorKind::input, "{}: invalid JSON: {}", source, json_error_text(e));
    }
  } else {
    doc = parse_yaml(text, source);
  }
  if (depth_of(doc) > kMaxProfileDepth)
    fail(ErrorKind::input, "{}: nested deeper than {} levels: not a seccomp profile", source, kMaxProfileDepth);
  if (!doc.is_object())
    fail(ErrorKind::input, "{}: {} {} document: {}", source, is_json ? "a JSON" : "a YAML", doc.type_name(), kExpected);

  ProfileInput in;
  try {
    if (doc.contains("kind") || doc.contains("apiVersion")) {
      in = from_k8s(doc, source);
    } else if (doc.contains("defaultAction")) {
      in.shape = docker_or_oci(doc);
      // JSON goes through parse_profile as it is (same messages as always).
      in.profile = is_json ? parse_profile(body, source) : seccomp_object(doc, source, "profile");
    } else if (doc.contains("ociVersion") || doc.contains("linux")) {
      in = from_config(doc, source);
    } else {
      fail(ErrorKind::input, "{}: {}", source, kExpected);
    }
  } catch (const json::exception& e) {
    // Every access above checks types first; this is a last line of defence.
    fail(ErrorKind::input, "{}: {}", source, one_line(json_error_text(e)));
  } catch (const Error& e) {
    throw Error(e.kind(), one_line(e.what()));
  }
  in.yaml = !is_json;
  return in;
}

}  // namespace sctrace
