#include "cli/commands.h"
#include "core/error.h"

namespace sctrace::cli {

int cmd_check(const Options&) { fail(ErrorKind::usage, "check: not implemented yet"); }

}  // namespace sctrace::cli
