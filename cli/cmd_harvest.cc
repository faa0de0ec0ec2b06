// sctrace harvest: dispatch only (session/harvest.h).
#include "cli/commands.h"
#include "session/harvest.h"

namespace sctrace::cli {

int cmd_harvest(const Options& o) {
  return run_harvest({.since = o.since, .container = o.container, .exe = o.exe, .output = o.output}, say);
}

}  // namespace sctrace::cli
