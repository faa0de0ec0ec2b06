#pragma once
// Where `run` writes its profile and recording, and the lines every
// recording run says before it writes them.
#include <string>

#include "profile/recording.h"
#include "session/agent_container.h"

namespace sctrace {

// What `run` was told to write: --format, -o, --recording (may be empty).
struct OutputPlan {
  std::string format;
  std::string output;
  std::string recording;
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

// One line per call the tracer refused because it aimed at the tracer itself.
void say_refusals(const Recording& rec, const SayFn& say);

}  // namespace sctrace
