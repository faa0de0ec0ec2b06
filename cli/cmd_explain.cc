// `sctrace explain SYSCALL`: why a syscall is in the profile (count, callers,
// stacks, what Docker's default says, which capability gates it).
// `sctrace diff OLD NEW`: what NEW allows that OLD did not; exit 1 if anything.
// The analysis is profile/explain.h and profile/diff.h; the rendering
// report/text.h and report/json.h.
#include <cstdio>

#include "cli/commands.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/diff.h"
#include "profile/explain.h"
#include "profile/recording.h"
#include "profile/templates.h"
#include "report/json.h"
#include "report/text.h"

namespace sctrace::cli {

int cmd_explain(const Options& o) {
  const std::string& name = o.syscall_name;
  if (syscall_info(name) == nullptr && !arch::known_syscall_name(name) && name.rfind("__nr_", 0) != 0)
    fail(ErrorKind::usage, "explain: unknown syscall '{}'", name);
  const Recording rec = recording_from_json(read_file(o.recording), o.recording);
  const SyscallExplanation x =
      explain_syscall(name, rec, o.recording, docker_default_template(), EvalContext::docker_default());
  std::fputs((o.json ? explain_json(x) : explain_text(x)).c_str(), stdout);
  return x.covered() ? 0 : 1;
}

int cmd_diff(const Options& o) {
  if (o.inputs.size() != 2) fail(ErrorKind::usage, "diff: needs OLD and NEW");
  const std::string &old_path = o.inputs[0], &new_path = o.inputs[1];
  const std::string old_text = read_file(old_path), new_text = read_file(new_path);
  const DiffResult d = diff_inputs(old_text, old_path, new_text, new_path);
  std::fputs((o.json ? diff_json(d, old_path, new_path) : diff_text(d, old_path, new_path)).c_str(), stdout);
  return d.new_allows_more() ? 1 : 0;
}

}  // namespace sctrace::cli
