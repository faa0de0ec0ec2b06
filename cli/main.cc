// sctrace: parse, dispatch, and the one place errors become messages and exit codes.
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"
#include "tracer/guardian.h"
#include "tracer/temp_dir.h"

int main(int argc, char** argv) {
  using namespace sctrace;
  // A closed stdout or stderr pipe (`sctrace check ... 2>&1 | head -c1`) must
  // not kill sctrace before it writes its reports: such writes fail with
  // EPIPE instead. A handler rather than SIG_IGN, because execve resets
  // handlers: the workload keeps the disposition sctrace was started with
  // (the default, or SIG_IGN, which is then left alone).
  struct sigaction was {};
  if (::sigaction(SIGPIPE, nullptr, &was) == 0 && was.sa_handler == SIG_DFL) {
    struct sigaction on_pipe {};
    on_pipe.sa_handler = [](int) {};
    ::sigaction(SIGPIPE, &on_pipe, nullptr);
  }
  // Out of reach of processes of the same user that lack CAP_SYS_PTRACE (a
  // non-root workload): its memory, environment and fds under /proc, and
  // ptrace. Children it starts make themselves dumpable again before they are
  // traced (ChildProcess), and execve decides afresh anyway.
  (void)::prctl(PR_SET_DUMPABLE, 0);
  try {
    cli::Options o = cli::parse_args(argc, argv);
    // A SIGKILLed sctrace leaves its temp directory; the commands that make
    // one remove those of runs that are gone.
    // So does the cgroup of a local notify workload whose guardian died too.
    if (o.command == cli::Command::run || o.command == cli::Command::check || o.command == cli::Command::verify) {
      auto left = remove_orphaned_temp_dirs();
      for (auto& cg : remove_orphaned_cgroups()) left.push_back(std::move(cg));
      for (const auto& dir : left)
        std::fprintf(stderr, "sctrace: removed %s, left behind by an earlier run that was killed\n", dir.c_str());
    }
    switch (o.command) {
      case cli::Command::help: std::fputs(o.help_text.c_str(), stdout); return 0;
      case cli::Command::version: std::printf("sctrace %s\n", SCTRACE_VERSION); return 0;
      case cli::Command::run: return cli::cmd_run(o);
      case cli::Command::merge: return cli::cmd_merge(o);
      case cli::Command::verify: return cli::cmd_verify(o);
      case cli::Command::enforce: return cli::cmd_enforce(o);
      case cli::Command::check: return cli::cmd_check(o);
      case cli::Command::explain: return cli::cmd_explain(o);
      case cli::Command::diff: return cli::cmd_diff(o);
      case cli::Command::calibrate: return cli::cmd_calibrate(o);
      case cli::Command::harvest: return cli::cmd_harvest(o);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "sctrace: error: %s\n", e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sctrace: internal error: %s\n", e.what());
    return 2;
  }
  return 2;
}
