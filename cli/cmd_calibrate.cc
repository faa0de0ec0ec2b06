#include "cli/commands.h"
#include "core/error.h"

namespace sctrace::cli {

int cmd_calibrate(const Options&) { fail(ErrorKind::usage, "calibrate: not implemented yet"); }

}  // namespace sctrace::cli
