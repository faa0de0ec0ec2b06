#pragma once
// The fields of /proc/PID/stat that sctrace reads: who the parent is, and the
// start time that tells a process from a later one with the same pid.
#include <sys/types.h>

#include <optional>

namespace sctrace {

struct ProcStat {
  pid_t ppid = 0;
  pid_t pgrp = 0;
  unsigned long long start_time = 0;  // field 22: clock ticks since boot
};

// nullopt when there is no such process (or its stat cannot be read).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// The lines of /proc/PID/status that place a thread (readable by any user).
struct ProcStatus {
  pid_t tgid = 0;
  pid_t ppid = 0;
  int pid_ns_depth = 0;  // entries of NSpid: 1 in the initial PID namespace
};

// nullopt when there is no such thread or a line is missing.
std::optional<ProcStatus> read_proc_status(pid_t pid);

// The process the pidfd `fd` of process `owner` stands for: the "Pid:" line
// of /proc/OWNER/fdinfo/FD (-1 once that process has exited); nullopt when
// there is no such fd or line (not a pidfd).
std::optional<pid_t> pidfd_target(pid_t owner, int fd);

}  // namespace sctrace
