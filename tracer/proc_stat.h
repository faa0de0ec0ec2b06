#pragma once
// The fields of /proc/PID/stat that sctrace reads: who the parent is, and the
// start time that tells a process from a later one with the same pid.
#include <sys/types.h>

#include <optional>

namespace sctrace {

struct ProcStat {
  pid_t ppid = 0;
  unsigned long long start_time = 0;  // field 22: clock ticks since boot
};

// nullopt when there is no such process (or its stat cannot be read).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// The process the pidfd `fd` of process `owner` stands for: the "Pid:" line
// of /proc/OWNER/fdinfo/FD (-1 once that process has exited); nullopt when
// there is no such fd or line (not a pidfd).
std::optional<pid_t> pidfd_target(pid_t owner, int fd);

}  // namespace sctrace
