#include "cli/commands.h"
#include "core/error.h"

namespace sctrace::cli {

int cmd_explain(const Options&) { fail(ErrorKind::usage, "explain: not implemented yet"); }

int cmd_diff(const Options&) { fail(ErrorKind::usage, "diff: not implemented yet"); }

}  // namespace sctrace::cli
