#pragma once
// What parse_args needs from argv beyond what CLI11 2.1 does (cli/options.cc).
#include <initializer_list>
#include <string>
#include <vector>

#include "cli/options.h"

namespace CLI {
class App;
}

namespace sctrace::cli {

// CLI11 2.1 takes -h, --help and the app's --version wherever they appear,
// even after "--" (`check -- docker run -h HOST ...` printed check's help and
// exited 0). So for the subcommands that take a workload, every argument
// after the first "--" is shown to CLI11 as a placeholder, and
// workload_from() puts the real ones back. (merge, diff and explain take
// their own positionals after "--" as CLI11 gives them.)
std::vector<std::string> hide_after_dashdash(int argc, const char* const* argv,
                                             std::initializer_list<const CLI::App*> with_workload);

// Everything after the options is the workload, with or without "--". An
// unknown option before it is a usage error, not part of the command.
std::vector<std::string> workload_from(CLI::App* app, CLI::App* sub, int argc, const char* const* argv);

// Subcommands without a workload take nothing CLI11 did not know: a typo
// in an option (`diff --josn`) is refused, not ignored.
void no_extras(CLI::App* app, CLI::App* sub);

// CLI11 keeps each option's values apart; the probes run in the order the
// user gave them across all three options, so read that order off argv.
std::vector<Options::Probe> probes_in_order(int argc, const char* const* argv);

}  // namespace sctrace::cli
