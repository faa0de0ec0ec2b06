#pragma once
// Architecture and syscall-name mapping. Everything here comes from libseccomp
// (the library runc loads profiles with), never from hand-written tables.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sctrace::arch {

// libseccomp arch tokens (SCMP_ARCH_*); for all real arches they equal the
// kernel's AUDIT_ARCH_* values, except x32 which has a token of its own.
using Token = uint32_t;

// The kernel reports x32 syscalls as AUDIT_ARCH_X86_64 with this bit set in nr.
inline constexpr uint32_t kX32SyscallBit = 0x40000000u;

struct ArchNr {
  Token arch;
  int nr;
};

// Turns a raw (audit arch, nr) pair from the kernel into a libseccomp arch and
// the nr libseccomp uses for it (x32 split out of x86_64).
ArchNr from_audit(uint32_t audit_arch, int nr);

// The inverse of from_audit: the (AUDIT_ARCH_*, nr) pair the kernel puts in
// seccomp_data for a call libseccomp numbers `nr` on `arch`. Every token is
// its own audit arch except x32's, which the kernel reports as
// AUDIT_ARCH_X86_64 with kX32SyscallBit in nr (libseccomp's x32 numbers
// carry the bit already; it is set here for those that do not).
struct AuditNr {
  uint32_t audit_arch;
  int32_t nr;
};
AuditNr to_audit(Token arch, int nr);

Token native();
// "SCMP_ARCH_X86_64" <-> token. Accepts "SCMP_ARCH_X86_64" and "x86_64".
std::optional<Token> from_scmp_name(std::string_view name);
std::string scmp_name(Token t);   // "SCMP_ARCH_X86_64"
std::string short_name(Token t);  // "x86_64", "x86", "x32"
// Docker's includes/excludes "arches" use Go's GOARCH names: "amd64", "arm64", ...
std::string docker_name(Token t);

std::optional<int> syscall_nr(Token arch, std::string_view name);
std::optional<std::string> syscall_name(Token arch, int nr);
// True when libseccomp knows the name on some arch (including names that only
// exist on other arches, like "socketcall").
bool known_syscall_name(std::string_view name);

}  // namespace sctrace::arch
