#include "profile/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "profile/templates.h"

namespace sctrace {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 9> kActions = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                                      "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                                      "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};

constexpr std::array<std::string_view, 7> kOps = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                                  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

constexpr std::array<std::string_view, 4> kFlags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Names the bundled Docker default lists. Read straight from the embedded JSON
// (not through parse_profile, which validates names against this very set).
const std::set<std::string>& docker_default_names() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    json doc = json::parse(docker_default_template_json());
    for (const auto& rule : doc.at("syscalls"))
      if (auto it = rule.find("names"); it != rule.end() && it->is_array())
        for (const auto& n : *it)
          if (n.is_string()) out.insert(n.get<std::string>());
    return out;
  }();
  return names;
}

bool valid_syscall_name(const std::string& name) {
  return arch::known_syscall_name(name) || docker_default_names().count(name) != 0;
}

// The arches the bundled Docker default names (architectures and archMap),
// read the same way: moby lists some (SCMP_ARCH_LOONGARCH64) before the
// installed libseccomp knows them, and its own default must stay loadable.
const std::set<std::string>& docker_default_arches() {
  static const std::set<std::string> arches = [] {
    std::set<std::string> out;
    json doc = json::parse(docker_default_template_json());
    auto add = [&](const json& v) {
      if (v.is_string()) out.insert(v.get<std::string>());
    };
    if (auto it = doc.find("architectures"); it != doc.end() && it->is_array())
      for (const auto& a : *it) add(a);
    if (auto it = doc.find("archMap"); it != doc.end() && it->is_array())
      for (const auto& e : *it) {
        if (!e.is_object()) continue;
        if (auto a = e.find("architecture"); a != e.end()) add(*a);
        if (auto subs = e.find("subArchitectures"); subs != e.end() && subs->is_array())
          for (const auto& s : *subs) add(s);
      }
    return out;
  }();
  return arches;
}

// An arch name runc can load: one libseccomp resolves (runc hands the names to
// libseccomp; an unknown one fails the container's start). `foreign` is an
// archMap entry for another native arch: Docker hands runc only the native
// entry (or the flat list), so there a name the bundled Docker default lists
// is tolerated too.
bool valid_arch_name(const std::string& name, bool foreign) {
  const bool shaped = name.size() > 10 && name.rfind("SCMP_ARCH_", 0) == 0 &&
                      std::all_of(name.begin() + 10, name.end(), [](char c) {
                        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                      });
  if (!shaped) return false;
  if (arch::from_scmp_name(name).has_value()) return true;
  return foreign && docker_default_arches().count(name) != 0;
}

// Walks a parsed document; every complaint names the source and the JSON path.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  template <typename... Args>
  [[noreturn]] void bad(const std::string& path, fmt::format_string<Args...> f, Args&&... args) const {
    fail(ErrorKind::input, "{}: {}: {}", source_, path, fmt::format(f, std::forward<Args>(args)...));
  }

  // Go's encoding/json turns null into the zero value: treat it as absent.
  static bool absent(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null();
  }

  std::string string(const json& v, const std::string& path) const {
    if (!v.is_string()) bad(path, "expected a string, got {}", v.type_name());
    return v.get<std::string>();
  }

  uint64_t u64(const json& v, const std::string& path) const {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) bad(path, "expected a non-negative integer, got {}", v.get<int64_t>());
    bad(path, "expected a non-negative integer, got {}", v.type_name());
  }

  unsigned u32(const json& v, const std::string& path) const {
    uint64_t x = u64(v, path);
    if (x > UINT32_MAX) bad(path, "value {} out of range", x);
    return static_cast<unsigned>(x);
  }

  std::vector<std::string> strings(const json& v, const std::string& path) const {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (!v.is_array()) bad(path, "expected an array of strings, got {}", v.type_name());
    for (size_t i = 0; i < v.size(); ++i) out.push_back(string(v[i], fmt::format("{}[{}]", path, i)));
    return out;
  }

  void object(const json& v, const std::string& path) const {
    if (!v.is_object()) bad(path, "expected an object, got {}", v.type_name());
  }

  std::string action(const json& v, const std::string& path) const {
    std::string a = string(v, path);
    if (!one_of(kActions, a)) bad(path, "unknown action '{}'", a);
    return a;
  }

  std::string arch_name(const json& v, const std::string& path, bool foreign = false) const {
    std::string a = string(v, path);
    if (!valid_arch_name(a, foreign)) bad(path, "unknown architecture '{}'", a);
    return a;
  }

  RuleFilter filter(const json& v, const std::string& path) const {
    RuleFilter f;
    if (v.is_null()) return f;
    object(v, path);
    if (!absent(v, "caps")) f.caps = strings(v["caps"], path + ".caps");
    if (!absent(v, "arches")) f.arches = strings(v["arches"], path + ".arches");
    if (!absent(v, "minKernel")) {
      f.min_kernel = string(v["minKernel"], path + ".minKernel");
      // moby reads it as "major.minor".
      const std::string& k = f.min_kernel;
      auto dot = k.find('.');
      auto digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      if (dot == std::string::npos || !digits(std::string_view(k).substr(0, dot)) ||
          !digits(std::string_view(k).substr(dot + 1)))
        bad(path + ".minKernel", "invalid kernel version '{}' (expected MAJOR.MINOR)", k);
    }
    return f;
  }

  ArgCond arg(const json& v, const std::string& path) const {
    object(v, path);
    ArgCond a;
    if (absent(v, "index")) bad(path, "missing 'index'");
    a.index = u32(v["index"], path + ".index");
    if (a.index > 5) bad(path + ".index", "argument index {} out of range (0-5)", a.index);
    if (!absent(v, "value")) a.value = u64(v["value"], path + ".value");
    if (!absent(v, "valueTwo")) a.value_two = u64(v["valueTwo"], path + ".valueTwo");
    if (absent(v, "op")) bad(path, "missing 'op'");
    a.op = string(v["op"], path + ".op");
    if (!one_of(kOps, a.op)) bad(path + ".op", "unknown operator '{}'", a.op);
    return a;
  }

  SyscallRule rule(const json& v, const std::string& path) const {
    object(v, path);
    SyscallRule r;
    if (!absent(v, "names")) {
      const json& names = v["names"];
      if (!names.is_array()) bad(path + ".names", "expected an array of strings, got {}", names.type_name());
      for (size_t i = 0; i < names.size(); ++i) {
        std::string p = fmt::format("{}.names[{}]", path, i);
        std::string n = string(names[i], p);
        if (!valid_syscall_name(n)) bad(p, "unknown syscall name '{}'", n);
        r.names.push_back(std::move(n));
      }
    }
    if (!absent(v, "name")) {  // deprecated single-name form, still read by moby
      std::string n = string(v["name"], path + ".name");
      if (!n.empty()) {
        if (!r.names.empty()) bad(path, "both 'name' and 'names' given; use 'names'");
        if (!valid_syscall_name(n)) bad(path + ".name", "unknown syscall name '{}'", n);
        r.names.push_back(std::move(n));
      }
    }
    if (absent(v, "action")) bad(path, "missing 'action'");
    r.action = action(v["action"], path + ".action");
    if (!absent(v, "errnoRet")) r.errno_ret = u32(v["errnoRet"], path + ".errnoRet");
    if (!absent(v, "args")) {
      const json& args = v["args"];
      if (!args.is_array()) bad(path + ".args", "expected an array, got {}", args.type_name());
      for (size_t i = 0; i < args.size(); ++i) r.args.push_back(arg(args[i], fmt::format("{}.args[{}]", path, i)));
    }
    if (!absent(v, "comment")) r.comment = string(v["comment"], path + ".comment");
    if (!absent(v, "includes")) r.includes = filter(v["includes"], path + ".includes");
    if (!absent(v, "excludes")) r.excludes = filter(v["excludes"], path + ".excludes");
    return r;
  }

  SeccompProfile profile(const json& doc) const {
    if (!doc.is_object()) fail(ErrorKind::input, "{}: expected a JSON object, got {}", source_, doc.type_name());
    SeccompProfile p;
    if (absent(doc, "defaultAction")) fail(ErrorKind::input, "{}: missing 'defaultAction'", source_);
    p.default_action = action(doc["defaultAction"], "defaultAction");
    if (!absent(doc, "defaultErrnoRet")) p.default_errno_ret = u32(doc["defaultErrnoRet"], "defaultErrnoRet");
    if (!absent(doc, "architectures")) {
      const json& a = doc["architectures"];
      if (!a.is_array()) bad("architectures", "expected an array of strings, got {}", a.type_name());
      for (size_t i = 0; i < a.size(); ++i)
        p.architectures.push_back(arch_name(a[i], fmt::format("architectures[{}]", i)));
    }
    if (!absent(doc, "archMap")) {
      const json& m = doc["archMap"];
      if (!m.is_array()) bad("archMap", "expected an array, got {}", m.type_name());
      for (size_t i = 0; i < m.size(); ++i) {
        std::string path = fmt::format("archMap[{}]", i);
        object(m[i], path);
        ArchMapEntry e;
        if (absent(m[i], "architecture")) bad(path, "missing 'architecture'");
        // An entry for the native arch is what Docker hands runc: only names
        // libseccomp knows. Another arch's entry never reaches runc here.
        e.architecture = arch_name(m[i]["architecture"], path + ".architecture", /*foreign=*/true);
        const bool foreign = e.architecture != arch::scmp_name(arch::native());
        if (!absent(m[i], "subArchitectures")) {
          const json& subs = m[i]["subArchitectures"];
          if (!subs.is_array())
            bad(path + ".subArchitectures", "expected an array of strings, got {}", subs.type_name());
          for (size_t j = 0; j < subs.size(); ++j)
            e.sub_architectures.push_back(
                arch_name(subs[j], fmt::format("{}.subArchitectures[{}]", path, j), foreign));
        }
        p.arch_map.push_back(std::move(e));
      }
    }
    if (!absent(doc, "flags")) {
      p.flags = strings(doc["flags"], "flags");
      for (size_t i = 0; i < p.flags.size(); ++i)
        if (!one_of(kFlags, p.flags[i])) bad(fmt::format("flags[{}]", i), "unknown flag '{}'", p.flags[i]);
    }
    if (!absent(doc, "listenerPath")) p.listener_path = string(doc["listenerPath"], "listenerPath");
    if (!absent(doc, "listenerMetadata")) p.listener_metadata = string(doc["listenerMetadata"], "listenerMetadata");
    if (!absent(doc, "syscalls")) {
      const json& s = doc["syscalls"];
      if (!s.is_array()) bad("syscalls", "expected an array, got {}", s.type_name());
      for (size_t i = 0; i < s.size(); ++i) p.syscalls.push_back(rule(s[i], fmt::format("syscalls[{}]", i)));
    }
    return p;
  }

 private:
  std::string_view source_;
};

nlohmann::ordered_json filter_json(const RuleFilter& f) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  if (!f.caps.empty()) o["caps"] = f.caps;
  if (!f.arches.empty()) o["arches"] = f.arches;
  if (!f.min_kernel.empty()) o["minKernel"] = f.min_kernel;
  return o;
}

struct KernelVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

// "6.18.44-fc" -> {6, 18}; moby compares major and minor only.
KernelVersion parse_kernel(std::string_view s) {
  KernelVersion v;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  auto r = std::from_chars(p, end, v.major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return v;
  std::from_chars(r.ptr + 1, end, v.minor);
  return v;
}

const std::string& host_kernel_release() {
  static const std::string release = [] {
    struct utsname u {};
    if (uname(&u) != 0) return std::string();
    return std::string(u.release);
  }();
  return release;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

EvalContext EvalContext::docker_default() {
  EvalContext ctx;
  ctx.native_arch = arch::native();
  ctx.caps = docker_default_caps();
  ctx.kernel_release = host_kernel_release();
  return ctx;
}

SeccompProfile parse_profile(std::string_view json_text, std::string_view source) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    fail(ErrorKind::input, "{}: invalid JSON: {}", source, json_error_text(e));
  }
  try {
    return Reader(source).profile(doc);
  } catch (const json::exception& e) {
    // The reader checks types before every access; this is a last line of defence.
    fail(ErrorKind::input, "{}: {}", source, json_error_text(e));
  }
}

std::string to_docker_json(const SeccompProfile& p) {
  using ojson = nlohmann::ordered_json;
  ojson doc = ojson::object();
  doc["defaultAction"] = p.default_action;
  if (p.default_errno_ret) doc["defaultErrnoRet"] = *p.default_errno_ret;
  if (!p.architectures.empty()) doc["architectures"] = p.architectures;
  if (!p.arch_map.empty()) {
    ojson m = ojson::array();
    for (const auto& e : p.arch_map) {
      ojson o = ojson::object();
      o["architecture"] = e.architecture;
      // moby marshals an empty list as null (no omitempty on this field).
      o["subArchitectures"] = e.sub_architectures.empty() ? ojson(nullptr) : ojson(e.sub_architectures);
      m.push_back(std::move(o));
    }
    doc["archMap"] = std::move(m);
  }
  if (!p.flags.empty()) doc["flags"] = p.flags;
  if (!p.listener_path.empty()) doc["listenerPath"] = p.listener_path;
  if (!p.listener_metadata.empty()) doc["listenerMetadata"] = p.listener_metadata;
  ojson rules = ojson::array();
  for (const auto& r : p.syscalls) {
    ojson o = ojson::object();
    o["names"] = r.names;
    o["action"] = r.action;
    if (r.errno_ret) o["errnoRet"] = *r.errno_ret;
    if (!r.args.empty()) {
      ojson args = ojson::array();
      for (const auto& a : r.args) {
        ojson ao = ojson::object();
        ao["index"] = a.index;
        ao["value"] = a.value;
        if (a.value_two != 0) ao["valueTwo"] = a.value_two;
        ao["op"] = a.op;
        args.push_back(std::move(ao));
      }
      o["args"] = std::move(args);
    }
    if (!r.comment.empty()) o["comment"] = r.comment;
    if (!r.includes.empty()) o["includes"] = filter_json(r.includes);
    if (!r.excludes.empty()) o["excludes"] = filter_json(r.excludes);
    rules.push_back(std::move(o));
  }
  doc["syscalls"] = std::move(rules);
  return doc.dump(2) + "\n";
}

bool rule_applies(const SyscallRule& rule, const EvalContext& ctx) {
  arch::Token native = ctx.native_arch != 0 ? ctx.native_arch : arch::native();
  std::string goarch = arch::docker_name(native);
  KernelVersion kernel = parse_kernel(ctx.kernel_release.empty() ? host_kernel_release() : ctx.kernel_release);

  const RuleFilter& ex = rule.excludes;
  if (!ex.arches.empty() && contains(ex.arches, goarch)) return false;
  for (const auto& c : ex.caps)
    if (ctx.caps.count(c) != 0) return false;
  if (!ex.min_kernel.empty() && kernel >= parse_kernel(ex.min_kernel)) return false;

  const RuleFilter& in = rule.includes;
  if (!in.arches.empty() && !contains(in.arches, goarch)) return false;
  for (const auto& c : in.caps)
    if (ctx.caps.count(c) == 0) return false;
  if (!in.min_kernel.empty() && kernel < parse_kernel(in.min_kernel)) return false;
  return true;
}

std::vector<arch::Token> profile_arches(const SeccompProfile& profile, const EvalContext& ctx) {
  arch::Token native = ctx.native_arch != 0 ? ctx.native_arch : arch::native();
  std::vector<arch::Token> out;
  auto add = [&](const std::string& name) {
    auto t = arch::from_scmp_name(name);
    if (t && std::find(out.begin(), out.end(), *t) == out.end()) out.push_back(*t);
  };
  std::string native_name = arch::scmp_name(native);
  for (const auto& e : profile.arch_map) {
    if (e.architecture != native_name) continue;
    out.push_back(native);
    for (const auto& s : e.sub_architectures) add(s);
    return out;
  }
  if (!profile.architectures.empty()) {
    if (contains(profile.architectures, native_name)) out.push_back(native);
    for (const auto& a : profile.architectures) add(a);
    return out;
  }
  return {native};
}

}  // namespace sctrace
