#pragma once
// Folds raw syscall facts into a Recording. Hot path: one hash lookup per
// syscall once a (arch, nr) pair has been seen.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "profile/recording.h"

namespace sctrace {

class Recorder {
 public:
  explicit Recorder(Recording& rec) : rec_(rec) {}
  void add_syscall(uint32_t audit_arch, int32_t nr, const std::array<uint64_t, 6>& args,
                   std::optional<int64_t> result, pid_t pid);
  void add_exec(std::string_view path) { rec_.execs.emplace(path); }

 private:
  struct Slot {
    SyscallRecord* rec;
    const std::vector<unsigned>* args;
  };
  Slot& slot(uint32_t audit_arch, int32_t nr);
  Recording& rec_;
  std::unordered_map<uint64_t, Slot> cache_;
};

}  // namespace sctrace
