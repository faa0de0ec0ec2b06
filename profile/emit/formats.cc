#include "profile/emit/formats.h"

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <cstdio>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/filter.h"

namespace sctrace {

using ojson = nlohmann::ordered_json;

namespace {

// Docker's conversion (moby profiles/seccomp): a flat `architectures` list is
// taken as it is, otherwise the archMap entry of the native arch gives it and
// its sub-architectures; with neither the list stays empty (the runtime then
// filters the native arch only).
std::vector<std::string> oci_arches(const SeccompProfile& p, const EvalContext& ctx) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    auto t = arch::from_scmp_name(name);
    std::string n = t ? arch::scmp_name(*t) : name;
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  if (!p.architectures.empty()) {
    for (const auto& a : p.architectures) add(a);
    return out;
  }
  const std::string native = arch::scmp_name(ctx.native_arch != 0 ? ctx.native_arch : arch::native());
  for (const auto& e : p.arch_map) {
    if (e.architecture != native) continue;
    add(e.architecture);
    for (const auto& s : e.sub_architectures) add(s);
  }
  return out;
}

// The rules as one container sees them, in the profile's order.
std::vector<const SyscallRule*> applicable_rules(const SeccompProfile& p, const EvalContext& ctx) {
  std::vector<const SyscallRule*> out;
  for (const auto& r : p.syscalls)
    if (!r.names.empty() && rule_applies(r, ctx)) out.push_back(&r);
  return out;
}

ojson args_json(const std::vector<ArgCond>& args) {
  ojson out = ojson::array();
  for (const auto& a : args) {
    ojson o = ojson::object();
    o["index"] = a.index;
    o["value"] = a.value;
    o["valueTwo"] = a.value_two;
    o["op"] = a.op;
    out.push_back(std::move(o));
  }
  return out;
}

// A YAML scalar that any YAML 1.1/1.2 parser reads back as this string: JSON's
// quoting (YAML is a superset of JSON for double-quoted scalars).
std::string yq(const std::string& s) { return ojson(s).dump(); }

std::string strip_suffix(const std::string& s, std::string_view suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    return s.substr(0, s.size() - suffix.size());
  return s;
}

}  // namespace

ProfileFormat profile_format_from_name(std::string_view name) {
  if (name == "docker") return ProfileFormat::docker;
  if (name == "podman") return ProfileFormat::podman;
  if (name == "oci") return ProfileFormat::oci;
  if (name == "k8s") return ProfileFormat::k8s;
  fail(ErrorKind::usage, "unknown profile format '{}' (docker, podman, oci or k8s)", name);
}

ojson to_oci_seccomp(const SeccompProfile& p, const EvalContext& ctx) {
  ojson doc = ojson::object();
  doc["defaultAction"] = p.default_action;
  if (p.default_errno_ret) doc["defaultErrnoRet"] = *p.default_errno_ret;
  std::vector<std::string> arches = oci_arches(p, ctx);
  if (!arches.empty()) doc["architectures"] = arches;
  if (!p.flags.empty()) doc["flags"] = p.flags;
  if (!p.listener_path.empty()) doc["listenerPath"] = p.listener_path;
  if (!p.listener_metadata.empty()) doc["listenerMetadata"] = p.listener_metadata;
  ojson rules = ojson::array();
  for (const SyscallRule* r : applicable_rules(p, ctx)) {
    ojson o = ojson::object();
    o["names"] = r->names;
    o["action"] = r->action;
    if (r->errno_ret) o["errnoRet"] = *r->errno_ret;
    if (!r->args.empty()) o["args"] = args_json(r->args);
    rules.push_back(std::move(o));
  }
  doc["syscalls"] = std::move(rules);
  return doc;
}

std::string to_oci_json(const SeccompProfile& p, const EvalContext& ctx) { return to_oci_seccomp(p, ctx).dump(2) + "\n"; }

std::string to_k8s_yaml(const SeccompProfile& p, const EvalContext& ctx, const std::string& name,
                        std::vector<std::string>* notes) {
  if (p.default_errno_ret && *p.default_errno_ret != EPERM && notes)
    notes->push_back(fmt::format("k8s: SeccompProfile has no defaultErrnoRet; the default action answers EPERM "
                                 "there instead of errno {} (the plain JSON keeps it)",
                                 *p.default_errno_ret));
  std::string y;
  y += "# Seccomp profile written by sctrace: a security-profiles-operator resource.\n";
  y += "# Without the operator, use the plain JSON beside this file as a Localhost profile.\n";
  y += "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\n";
  y += "kind: SeccompProfile\n";
  y += "metadata:\n";
  y += fmt::format("  name: {}\n", yq(name));
  y += "spec:\n";
  y += fmt::format("  defaultAction: {}\n", yq(p.default_action));
  std::vector<std::string> arches = oci_arches(p, ctx);
  if (!arches.empty()) {
    y += "  architectures:\n";
    for (const auto& a : arches) y += fmt::format("  - {}\n", yq(a));
  }
  if (!p.flags.empty()) {
    y += "  flags:\n";
    for (const auto& f : p.flags) y += fmt::format("  - {}\n", yq(f));
  }
  if (!p.listener_path.empty()) y += fmt::format("  listenerPath: {}\n", yq(p.listener_path));
  if (!p.listener_metadata.empty()) y += fmt::format("  listenerMetadata: {}\n", yq(p.listener_metadata));
  std::vector<const SyscallRule*> rules = applicable_rules(p, ctx);
  if (rules.empty()) return y;
  y += "  syscalls:\n";
  for (const SyscallRule* r : rules) {
    y += fmt::format("  - action: {}\n", yq(r->action));
    // SPO's Syscall.errnoRet is a string.
    if (r->errno_ret) y += fmt::format("    errnoRet: {}\n", yq(std::to_string(*r->errno_ret)));
    y += "    names:\n";
    for (const auto& n : r->names) y += fmt::format("    - {}\n", yq(n));
    if (!r->args.empty()) {
      y += "    args:\n";
      for (const auto& a : r->args) {
        y += fmt::format("    - index: {}\n", a.index);
        y += fmt::format("      value: {}\n", a.value);
        y += fmt::format("      valueTwo: {}\n", a.value_two);
        y += fmt::format("      op: {}\n", yq(a.op));
      }
    }
  }
  return y;
}

std::string k8s_name_for(const std::string& output_path) {
  std::string base = output_path.substr(output_path.rfind('/') + 1);
  for (std::string_view ext : {".yaml", ".yml", ".json"}) base = strip_suffix(base, ext);
  // DNS-1123 subdomain: lower-case alphanumerics, '-' and '.', alphanumeric at
  // both ends, at most 253 characters.
  std::string out;
  for (char c : base) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if (c == '.' || c == '-') out += c;
    else out += '-';
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(out.begin());
  if (out.size() > 253) out.resize(253);
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out.empty() ? "sctrace-profile" : out;
}

std::string k8s_localhost_path(const std::string& output_path) {
  for (std::string_view ext : {".yaml", ".yml"}) {
    std::string s = strip_suffix(output_path, ext);
    if (s != output_path) return s + ".json";
  }
  return output_path + ".json";
}

std::string docker_readable_path(std::string_view format, const std::string& output) {
  return profile_format_from_name(format) == ProfileFormat::k8s ? k8s_localhost_path(output) : output;
}

std::vector<ProfileFile> format_profile(const SeccompProfile& p, const EvalContext& ctx, ProfileFormat format,
                                        const std::string& output, std::vector<std::string>* notes) {
  switch (format) {
    case ProfileFormat::docker:
    case ProfileFormat::podman: return {{output, to_docker_json(p)}};
    case ProfileFormat::oci: return {{output, to_oci_json(p, ctx)}};
    case ProfileFormat::k8s:
      return {{output, to_k8s_yaml(p, ctx, k8s_name_for(output), notes)},
              {k8s_localhost_path(output), to_docker_json(p)}};
  }
  return {};
}

std::vector<std::string> profile_paths(std::string_view format, const std::string& output) {
  if (profile_format_from_name(format) == ProfileFormat::k8s) return {output, k8s_localhost_path(output)};
  return {output};
}

std::vector<std::string> write_profile(const SeccompProfile& p, const EvalContext& ctx, std::string_view format,
                                       const std::string& output) {
  std::vector<std::string> notes;
  const ProfileFormat f = profile_format_from_name(format);
  // Compiled as runc would load it (libseccomp, its binary-tree optimisation)
  // before anything is written: a profile the kernel refuses (over
  // BPF_MAXINSNS) or libseccomp rejects is an error now, not at deploy time.
  try {
    (void)compile_filter(p, ctx, FilterMode::enforce);
  } catch (const Error& e) {
    fail(e.kind(), "{} not written: {}", output, e.what());
  }
  for (const auto& file : format_profile(p, ctx, f, output, &notes)) write_file_atomic(file.path, file.text);
  if (f == ProfileFormat::k8s)
    notes.push_back(fmt::format("k8s: {} is the SeccompProfile resource (kubectl apply with the security-profiles-"
                                "operator); {} is the plain profile for securityContext.seccompProfile "
                                "{{type: Localhost, localhostProfile: ...}} (copy it under /var/lib/kubelet/seccomp/)",
                                output, k8s_localhost_path(output)));
  return notes;
}

}  // namespace sctrace
