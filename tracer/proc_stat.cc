#include "tracer/proc_stat.h"

#include <cstdio>
#include <cstring>

namespace sctrace {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return std::nullopt;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice threads itrealvalue
  // starttime ...": comm may hold spaces and parentheses, so fields are
  // counted from its last ')'.
  const char* close = std::strrchr(buf, ')');
  ProcStat st;
  if (close == nullptr ||
      std::sscanf(close + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                  &st.ppid, &st.start_time) != 2)
    return std::nullopt;
  return st;
}

std::optional<pid_t> pidfd_target(pid_t owner, int fd) {
  if (fd < 0) return std::nullopt;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", static_cast<int>(owner), fd);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return std::nullopt;
  char line[256];
  std::optional<pid_t> pid;
  int v = 0;
  while (!pid && std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "Pid: %d", &v) == 1) pid = static_cast<pid_t>(v);
  std::fclose(f);
  return pid;
}

}  // namespace sctrace
