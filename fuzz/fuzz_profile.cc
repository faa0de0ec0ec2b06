// Docker seccomp profiles (--template, --profile, --baseline, diff inputs):
// parse_profile must either accept the text or throw sctrace::Error. What it
// accepts must survive a round trip through to_docker_json unchanged, be
// evaluable (includes/excludes, arches) and, when small, compile to BPF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "core/error.h"
#include "profile/filter.h"
#include "profile/seccomp_profile.h"

using namespace sctrace;

namespace {

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_profile: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

size_t name_count(const SeccompProfile& p) {
  size_t n = 0;
  for (const auto& r : p.syscalls) n += r.names.size();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SeccompProfile p;
  try {
    p = parse_profile(text, "fuzz");
  } catch (const Error&) {
    return 0;
  }
  std::string once = to_docker_json(p);
  SeccompProfile again;
  try {
    again = parse_profile(once, "round trip");
  } catch (const Error& e) {
    die("the emitted profile does not parse", e.what());
  }
  if (to_docker_json(again) != once) die("round trip changed the profile", once);

  static const EvalContext ctx = EvalContext::docker_default();
  for (const auto& r : p.syscalls) (void)rule_applies(r, ctx);
  try {
    (void)profile_arches(p, ctx);
  } catch (const Error&) {
  }
  // libseccomp is slow on big rule sets; small ones are where the edge cases are.
  if (name_count(p) <= 64) {
    try {
      for (FilterMode mode : {FilterMode::enforce, FilterMode::notify_denials}) {
        auto prog = compile_filter(p, ctx, mode);
        seccomp_data d{};
        d.arch = 0xc000003e;  // AUDIT_ARCH_X86_64
        for (int nr : {0, 1, 59, 231, 435}) {
          d.nr = nr;
          (void)run_filter(prog, d);
        }
      }
    } catch (const Error&) {
    }
  }
  return 0;
}
