#pragma once
// The Docker/moby seccomp profile schema as typed data (the same shape Docker's
// --security-opt seccomp=FILE and containers/common read).
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/arch.h"
#include "core/error.h"  // json_error_text

namespace sctrace {

struct ArgCond {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ...
  bool operator==(const ArgCond&) const = default;
};

struct RuleFilter {  // includes / excludes
  std::vector<std::string> caps;    // "CAP_SYS_ADMIN"
  std::vector<std::string> arches;  // Docker/Go names: "amd64", "x32", "arm64"
  std::string min_kernel;           // "4.8"
  bool empty() const { return caps.empty() && arches.empty() && min_kernel.empty(); }
  bool operator==(const RuleFilter&) const = default;
};

struct SyscallRule {
  std::vector<std::string> names;
  std::string action;  // "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ...
  std::optional<unsigned> errno_ret;
  std::vector<ArgCond> args;
  std::string comment;
  RuleFilter includes;
  RuleFilter excludes;
};

struct ArchMapEntry {
  std::string architecture;                    // "SCMP_ARCH_X86_64"
  std::vector<std::string> sub_architectures;  // "SCMP_ARCH_X86", ...
};

struct SeccompProfile {
  std::string default_action = "SCMP_ACT_ERRNO";
  std::optional<unsigned> default_errno_ret;
  std::vector<std::string> architectures;  // flat list (OCI style), rarely used by Docker files
  std::vector<ArchMapEntry> arch_map;
  std::vector<std::string> flags;
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SyscallRule> syscalls;
};

// The conditions Docker evaluates includes/excludes against when it turns a
// profile into the OCI config of one container.
struct EvalContext {
  arch::Token native_arch = 0;       // 0 = this machine's
  std::set<std::string> caps;        // the container's bounding set, "CAP_..."
  std::string kernel_release;        // "6.1.0"; empty = this machine's (uname)
  static EvalContext docker_default();  // native arch, Docker's default caps
};

// Parses a Docker-format profile. Throws Error(ErrorKind::input) naming
// `source` and the JSON path of the problem ("rules: syscalls[3].names[1]:
// unknown syscall name 'foo'"). Names are valid when libseccomp knows them or
// the bundled Docker default lists them (it names syscalls newer than the
// installed libseccomp).
SeccompProfile parse_profile(std::string_view json_text, std::string_view source);

// Pretty, deterministic Docker JSON (2-space indent, fields in schema order,
// trailing newline). Empty optional fields are omitted.
std::string to_docker_json(const SeccompProfile& profile);

// Docker's own includes/excludes logic (moby profiles/seccomp): true when the
// rule applies to a container with this context.
bool rule_applies(const SyscallRule& rule, const EvalContext& ctx);

// The arches a profile covers on the native arch: archMap's entry for it and
// its sub-architectures, or `architectures`. Tokens, native first.
std::vector<arch::Token> profile_arches(const SeccompProfile& profile, const EvalContext& ctx);

}  // namespace sctrace
