#pragma once
// What the seccomp user notification tests share: a raw libseccomp filter
// that notifies a few names, a counting handler, a launch spec.
#include <linux/filter.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/arch.h"
#include "tracer/child_process.h"
#include "tracer/notify.h"

namespace sctrace::test {

// default ALLOW, SCMP_ACT_NOTIFY for `names`, straight from libseccomp.
inline std::vector<sock_filter> notify_on(std::vector<std::string> names) {
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  REQUIRE(ctx);
  for (const auto& n : names) REQUIRE(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(n.c_str()), 0) == 0);
  int fd = ::memfd_create("test-bpf", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(seccomp_export_bpf(ctx.get(), fd) == 0);
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  REQUIRE(::pread(fd, prog.data(), static_cast<size_t>(size), 0) == size);
  ::close(fd);
  return prog;
}

struct Counter : NotifyHandler {
  NotifyDecision answer;
  std::vector<SyscallEvent> events;
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    events.push_back(ev);
    return answer;
  }
};

inline LaunchSpec spec_for(std::vector<std::string> argv, std::vector<sock_filter> filter) {
  LaunchSpec s;
  s.argv = std::move(argv);
  s.seccomp_filter = std::move(filter);
  s.no_new_privs = true;
  return s;
}

inline int uname_nr() { return *arch::syscall_nr(arch::native(), "uname"); }

}  // namespace sctrace::test
