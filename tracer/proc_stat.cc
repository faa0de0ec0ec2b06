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
      std::sscanf(close + 1, " %*c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                  &st.ppid, &st.pgrp, &st.start_time) != 3)
    return std::nullopt;
  return st;
}

std::optional<ProcStatus> read_proc_status(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return std::nullopt;
  ProcStatus st;
  bool tgid = false, ppid = false;
  char line[512];
  int v = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "Tgid: %d", &v) == 1) {
      st.tgid = static_cast<pid_t>(v);
      tgid = true;
    } else if (std::sscanf(line, "PPid: %d", &v) == 1) {
      st.ppid = static_cast<pid_t>(v);
      ppid = true;
    } else if (std::strncmp(line, "NSpid:", 6) == 0) {
      int used = 0;
      for (const char* p = line + 6; std::sscanf(p, " %d%n", &v, &used) == 1; p += used) ++st.pid_ns_depth;
    }
  }
  std::fclose(f);
  if (!tgid || !ppid || st.pid_ns_depth == 0) return std::nullopt;
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
