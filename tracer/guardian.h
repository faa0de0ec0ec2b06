#pragma once
// Local notify workloads die with sctrace, as PTRACE_O_EXITKILL makes ptrace
// workloads do.
//
// Why a guardian and a cgroup: under seccomp user notification nothing in
// the kernel ties the workload to sctrace. When sctrace is SIGKILLed its
// listener closes and every notified syscall of the workload fails with
// ENOSYS from then on, so a workload that retries spins forever.
// PR_SET_PDEATHSIG reaches the first process only; its children, a setsid
// double-forked daemon above all, are nobody's to kill, and a process group
// or session is left by one setsid. A cgroup is not: every descendant is
// born into its parent's cgroup and an unprivileged workload cannot move out.
// So sctrace creates one cgroup per run, named after its owner like its temp
// directories (tracer/temp_dir.h), moves the first process into it before
// its execve, and forks beforehand a small guardian that holds the read end
// of a pipe whose write end only sctrace holds. EOF without the "done" byte
// means sctrace is gone: the guardian kills everything in the cgroup (cgroup
// v2: cgroup.kill, which forks cannot race; v1: freeze, SIGKILL, thaw, again
// until empty) and removes it. The guardian ignores the terminal's signals,
// is not dumpable (no same-user ptrace), and the notify tracer refuses the
// workload's signals and ptrace aimed at it (tracer/self_defence.h).
// A run whose guardian died too leaves its cgroup; the next run removes it,
// killing what is left there (remove_orphaned_cgroups).
//
// Without a writable cgroup (sctrace in a container, not root) the fallback
// is PR_SET_PDEATHSIG on the first process (tracer/child_process.cc), which
// start() says once.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.h"

namespace sctrace {

enum class CgroupKind { none, v2, v1_freezer };

// A cgroup hierarchy as /proc/self/mountinfo shows it.
struct CgroupMount {
  std::string mount_point;
  std::string root;  // the hierarchy's path mounted there ("/" unless bind-mounted)
};

// The mount of the cgroup v2 hierarchy (controller empty) or of the v1
// hierarchy that holds `controller`, from a /proc/self/mountinfo text. Pure.
std::optional<CgroupMount> find_cgroup_mount(std::string_view mountinfo, std::string_view controller);
// This process's cgroup in that hierarchy, from a /proc/self/cgroup text
// ("0::/a/b" for v2, "6:freezer:/a/b" for v1). Pure.
std::optional<std::string> own_cgroup_path(std::string_view proc_self_cgroup, std::string_view controller);
// The directory of the cgroup `path` under `mount`; nullopt when it lies
// outside what is mounted there. Pure.
std::optional<std::string> cgroup_dir(const CgroupMount& mount, const std::string& path);
// Parses the pids of a cgroup.procs text into out[0..max); returns how many.
// A number cut off at the end of `len` is not taken. Allocates nothing (the
// guardian calls it after fork). Pure.
size_t parse_pid_list(const char* text, size_t len, pid_t* out, size_t max);

class Guardian {
 public:
  // Creates the run's cgroup and forks the guardian. Where no cgroup can be
  // created, a Guardian that guards nothing (kind() none), and one line on
  // stderr, once per process. $SCTRACE_GUARDIAN_CGROUP = v2 | v1 | none
  // picks one kind (for the tests).
  static Guardian start();

  Guardian(Guardian&& o) noexcept;
  Guardian& operator=(Guardian&&) = delete;
  Guardian(const Guardian&) = delete;
  // Without finish(): the guardian kills what is left in the cgroup.
  ~Guardian();

  CgroupKind kind() const { return kind_; }
  pid_t pid() const { return pid_; }
  const std::string& cgroup() const { return dir_; }
  // Moves `pid` (the workload's first process, before its execve) into the
  // cgroup; its descendants are born there. False (and the fallback line)
  // when it could not.
  bool adopt(pid_t pid);
  // The workload is over: the guardian removes the cgroup (killing whatever
  // is still there); returns once it has (or after a few seconds).
  void finish();

 private:
  Guardian() = default;
  void stop(bool done);

  CgroupKind kind_ = CgroupKind::none;
  std::string dir_;
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  UniqueFd done_w_;  // the only write end of the guardian's pipe
};

// Removes the cgroups of earlier runs whose sctrace is gone (their names
// record the owner), killing any process left in them; returns their paths.
std::vector<std::string> remove_orphaned_cgroups();

}  // namespace sctrace
