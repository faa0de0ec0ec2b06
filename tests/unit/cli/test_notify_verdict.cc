// verify's verdict over the notify backend: a profile's notify_denials
// filter in the kernel, its enforce filter deciding the errno. Needs tracer/
// and profile/ both, so it lives with the library that joins them (moved
// from tracer/test_notify.cc).
#include <linux/seccomp.h>
#include <seccomp.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "core/error.h"
#include "profile/filter.h"
#include "profile/seccomp_profile.h"
#include "tracer/notify.h"
#include "tests/unit/tracer/notify_fixtures.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using namespace sctrace::test;

TEST_CASE("a notify_denials filter from a profile, answered with the enforce verdict", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ALLOW";
  SyscallRule r;
  r.names = {"uname"};
  r.action = "SCMP_ACT_ERRNO";
  r.errno_ret = EACCES;
  p.syscalls = {r};
  const EvalContext ctx = EvalContext::docker_default();
  const auto enforce = compile_filter(p, ctx, FilterMode::enforce);

  // What `verify` does: the kernel notifies denials, the enforce program says
  // which errno runc's filter would have returned.
  struct Verifier : NotifyHandler {
    const std::vector<sock_filter>* prog = nullptr;
    int denials = 0;
    NotifyDecision on_notify(const SyscallEvent& ev) override {
      seccomp_data d{};
      d.nr = ev.nr;
      d.arch = ev.audit_arch;
      d.instruction_pointer = ev.ip;
      for (size_t i = 0; i < 6; ++i) d.args[i] = ev.args[i];
      uint32_t v = run_filter(*prog, d);
      if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
        ++denials;
        return {false, static_cast<int>(v & SECCOMP_RET_DATA)};
      }
      return {true, 0};
    }
  } h;
  h.prog = &enforce;
  TempDir tmp;
  auto spec = spec_for({"/bin/sh", "-c", "uname 2>" + tmp.str() + "/err; exit 4"},
                       compile_filter(p, ctx, FilterMode::notify_denials));
  ExitStatus st = run_with_notify(spec, h);
  CHECK(st.code == 4);
  CHECK(h.denials == 1);
  CHECK_THAT(slurp(tmp.path / "err"), Catch::Contains("Permission denied"));
}
