// Recordings (merge inputs, sensor output read back from a container the
// workload controls): recording_from_json must accept or throw
// sctrace::Error, and what it accepts must round-trip and merge.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "profile/recording.h"

using namespace sctrace;

namespace {
[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_recording: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Recording rec;
  try {
    rec = recording_from_json(text, "fuzz");
  } catch (const Error&) {
    return 0;
  }
  std::string once = recording_to_json(rec);
  Recording again;
  try {
    again = recording_from_json(once, "round trip");
  } catch (const Error& e) {
    die("the written recording does not parse", e.what());
  }
  if (recording_to_json(again) != once) die("round trip changed the recording", once);
  again.merge(rec);
  (void)again.total_names();
  for (const auto& [arch, calls] : again.syscalls)
    for (const auto& [name, r] : calls) {
      (void)r.only_enosys();
      (void)filtered_args(name);
    }
  return 0;
}
