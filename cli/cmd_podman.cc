#include "cli/backend.h"
#include "cli/commands.h"
#include "core/error.h"

namespace sctrace::cli {

int cmd_run_podman(const Options&, const SeccompProfile&) {
  fail(ErrorKind::usage, "backend notify with podman: not implemented yet");
}

}  // namespace sctrace::cli
