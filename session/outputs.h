#pragma once
// Where `run` writes its profile and recording, and the lines every
// recording run says before it writes them.
#include <string>
#include <utility>
#include <vector>

#include "profile/minimizer.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "session/agent_container.h"

namespace sctrace {

// What `run` was told to write: --format, -o, --recording (may be empty).
struct OutputPlan {
  std::string format;
  std::string output;
  std::string recording;
  Unlisted unlisted = Unlisted::deny;  // --unlisted: the profile's default action
};

// Where it writes them. A complete run writes what it was told to; an
// incomplete one (interrupted, timed out, a probe failed) never replaces a
// profile or recording that is already there: when one of them exists as a
// regular file, all of them go beside it with ".incomplete" before the
// extension (profile.incomplete.json), and that is said.
struct RunOutputs {
  std::string output;     // the profile (and, for --format k8s, its JSON sibling)
  std::string recording;  // may be empty
};
RunOutputs run_outputs(const OutputPlan& plan, bool complete, const SayFn& say);

// Fails early (io Error) when the plan's profile files or recording could not
// be written later (core/atomic_file.h check_writable).
void check_outputs_writable(const OutputPlan& plan);

// A finished recording and the lines said around its outputs. Every
// recording path (local, OCI agent, docker sensor) writes the same outputs
// and says its own lines in the same places.
struct Recorded {
  Recording rec;
  MinimizeOptions mopts;                    // mopts.runtime_baseline must outlive write_recorded
  std::vector<std::string> before_summary;  // after the profile's notes
  bool attribution = false;                 // the call sites (profile/emit/summary.h), after the summary
  std::vector<std::string> after_summary;
  bool coverage = false;                    // the coverage hints (profile/coverage.h), before "wrote ..."
  std::vector<std::string> after_wrote;
};
// Says the refusals (say_refusals), writes the recording and the profile
// minimized from it against tmpl where run_outputs puts them, and says the
// profile's notes, before_summary, the summary, the attribution,
// after_summary, the coverage hints, "wrote ...", after_wrote. Returns where the outputs went.
RunOutputs write_recorded(const OutputPlan& plan, const SeccompProfile& tmpl, const Recorded& r, const SayFn& say);

// Refuses two outputs that name the same file ({option, path} pairs; empty
// paths are skipped): the second write would silently replace the first.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// `sctrace merge`: the union of `inputs` written to `output`, and with
// `profile` the profile minimized from it against `tmpl`.
struct MergeRequest {
  std::vector<std::string> inputs;
  std::string output;
  std::string profile;  // "" = none
  bool no_new_privileges = false;
  Unlisted unlisted = Unlisted::deny;  // --unlisted: a canary for the next round
};
int run_merge(const MergeRequest& req, const SeccompProfile& tmpl, const SayFn& say);

// One line per call the tracer refused because it aimed at the tracer itself.
void say_refusals(const Recording& rec, const SayFn& say);

}  // namespace sctrace
