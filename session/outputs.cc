#include "session/outputs.h"

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/formats.h"

namespace sctrace {

namespace {

std::string incomplete_path(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + ".incomplete" + p.extension().string())).string();
}

}  // namespace

RunOutputs run_outputs(const OutputPlan& plan, bool complete, const SayFn& say) {
  RunOutputs out{plan.output, plan.recording};
  if (complete) return out;
  std::vector<std::string> paths = profile_paths(plan.format, plan.output);
  if (!plan.recording.empty()) paths.push_back(plan.recording);
  std::error_code ec;
  std::string taken;
  for (const auto& p : paths)
    if (!written_in_place(p) && std::filesystem::is_regular_file(p, ec)) taken += (taken.empty() ? "" : ", ") + p;
  if (taken.empty()) return out;
  // Devices (-o /dev/stdout) stay as they are.
  if (!written_in_place(plan.output)) out.output = incomplete_path(plan.output);
  if (!plan.recording.empty() && !written_in_place(plan.recording)) out.recording = incomplete_path(plan.recording);
  try {
    for (const auto& p : profile_paths(plan.format, out.output)) check_writable(p);
    if (!out.recording.empty()) check_writable(out.recording);
  } catch (const Error& e) {  // better the outputs where they were asked for than none
    say(fmt::format("cannot write beside them ({}): writing over them", e.what()));
    return {plan.output, plan.recording};
  }
  say(fmt::format("the run is incomplete, so what is already there stays ({}); writing {} instead", taken,
                  out.output));
  return out;
}

void say_refusals(const Recording& rec, const SayFn& say) {
  for (const auto& [note, n] : rec.refusals) say(n == 1 ? note : fmt::format("{} ({} times)", note, n));
}

}  // namespace sctrace
