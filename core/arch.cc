#include "core/arch.h"

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sctrace::arch {

ArchNr from_audit(uint32_t audit_arch, int nr) {
  if (audit_arch == SCMP_ARCH_X86_64 && (static_cast<uint32_t>(nr) & kX32SyscallBit) != 0)
    return {SCMP_ARCH_X32, nr};
  return {audit_arch, nr};
}

AuditNr to_audit(Token arch, int nr) {
  if (arch == SCMP_ARCH_X32 && nr >= 0)
    return {SCMP_ARCH_X86_64, static_cast<int32_t>(static_cast<uint32_t>(nr) | kX32SyscallBit)};
  return {arch, nr};
}

Token native() { return seccomp_arch_native(); }

std::optional<Token> from_scmp_name(std::string_view name) {
  std::string s(name);
  if (s.rfind("SCMP_ARCH_", 0) == 0) s = s.substr(10);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  Token t = seccomp_arch_resolve_name(s.c_str());
  if (t == 0) return std::nullopt;
  return t;
}

std::string short_name(Token t) {
  // libseccomp has no token->name call: ask it to resolve each arch name it
  // accepts and keep the one that maps to this token.
  static const char* const kNames[] = {"x86",     "x86_64",  "x32",       "arm",       "aarch64",   "mips",
                                       "mipsel",  "mips64",  "mipsel64",  "mips64n32", "mipsel64n32",
                                       "parisc",  "parisc64", "ppc",      "ppc64",     "ppc64le",   "s390",
                                       "s390x",   "riscv64"};
  for (const char* n : kNames)
    if (seccomp_arch_resolve_name(n) == t) return n;
  return "unknown";
}

std::string scmp_name(Token t) {
  std::string s = short_name(t);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return "SCMP_ARCH_" + s;
}

std::string docker_name(Token t) {
  std::string s = short_name(t);
  if (s == "x86_64") return "amd64";
  if (s == "aarch64") return "arm64";
  return s;
}

std::optional<int> syscall_nr(Token arch, std::string_view name) {
  std::string s(name);
  int nr = seccomp_syscall_resolve_name_arch(arch, s.c_str());
  if (nr == __NR_SCMP_ERROR || nr < 0) return std::nullopt;
  return nr;
}

std::optional<std::string> syscall_name(Token arch, int nr) {
  char* n = seccomp_syscall_resolve_num_arch(arch, nr);
  if (n == nullptr) return std::nullopt;
  std::string out(n);
  std::free(n);
  return out;
}

bool known_syscall_name(std::string_view name) {
  std::string s(name);
  return seccomp_syscall_resolve_name(s.c_str()) != __NR_SCMP_ERROR;
}

}  // namespace sctrace::arch
