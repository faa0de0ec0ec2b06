#include "session/outputs.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/coverage.h"
#include "profile/emit/formats.h"
#include "profile/emit/summary.h"

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
    check_outputs_writable({plan.format, out.output, out.recording});
  } catch (const Error& e) {  // better the outputs where they were asked for than none
    say(fmt::format("cannot write beside them ({}): writing over them", e.what()));
    return {plan.output, plan.recording};
  }
  say(fmt::format("the run is incomplete, so what is already there stays ({}); writing {} instead", taken,
                  out.output));
  return out;
}

void check_outputs_writable(const OutputPlan& plan) {
  for (const auto& p : profile_paths(plan.format, plan.output)) check_writable(p);
  if (!plan.recording.empty()) check_writable(plan.recording);
}

RunOutputs write_recorded(const OutputPlan& plan, const SeccompProfile& tmpl, const Recorded& r, const SayFn& say) {
  say_refusals(r.rec, say);
  const RunOutputs out = run_outputs(plan, r.rec.complete, say);
  if (!out.recording.empty()) write_file_atomic(out.recording, recording_to_json(r.rec));
  MinimizeOptions mopts = r.mopts;
  mopts.unlisted = plan.unlisted;
  const MinimizeResult m = minimize(r.rec, tmpl, mopts);
  for (const auto& note : write_profile(m.profile, mopts.ctx, plan.format, out.output)) say(note);
  for (const auto& line : r.before_summary) say(line);
  std::fputs(summary_text(m).c_str(), stderr);
  if (r.attribution) std::fputs(attribution_text(r.rec).c_str(), stderr);
  for (const auto& line : r.after_summary) say(line);
  if (r.coverage)
    for (const auto& line : coverage_hints(r.rec)) say(line);
  say(fmt::format("wrote {}{}{}", out.output, out.recording.empty() ? "" : " and " + out.recording,
                  r.rec.complete ? "" : " (incomplete recording)"));
  for (const auto& line : r.after_wrote) say(line);
  return out;
}

void say_refusals(const Recording& rec, const SayFn& say) {
  for (const auto& [note, n] : rec.refusals) say(n == 1 ? note : fmt::format("{} ({} times)", note, n));
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::map<std::string, std::string> seen;  // the file, compared as an absolute path -> the option naming it
  for (const auto& [option, path] : outputs) {
    // Devices and /dev/stdout are written in place: two of them never replace each other.
    if (path.empty() || written_in_place(path)) continue;
    std::error_code ec;
    std::string key = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec).string();
    if (ec) key = path;
    auto [it, fresh] = seen.emplace(key, option);
    if (!fresh) fail(ErrorKind::usage, "{} and {} name the same file ({}): one would replace the other", it->second,
                     option, path);
  }
}


int run_merge(const MergeRequest& req, const SeccompProfile& tmpl, const SayFn& say) {
  check_writable(req.output);
  if (!req.profile.empty()) check_writable(req.profile);
  Recording merged;
  for (const auto& in : req.inputs) merged.merge(recording_from_json(read_file(in), in));
  write_file_atomic(req.output, recording_to_json(merged));
  say(fmt::format("merged {} recordings: {} distinct syscalls", req.inputs.size(), merged.total_names()));
  if (!req.profile.empty()) {
    MinimizeOptions mopts;
    mopts.no_new_privileges = req.no_new_privileges;
    mopts.unlisted = req.unlisted;
    MinimizeResult res = minimize(merged, tmpl, mopts);
    for (const auto& note : write_profile(res.profile, mopts.ctx, "docker", req.profile)) say(note);
    std::fputs(summary_text(res).c_str(), stderr);
    say(fmt::format("wrote {}", req.profile));
  }
  return 0;
}

}  // namespace sctrace
