#pragma once
// Folds raw syscall facts into a Recording. Hot path: one hash lookup per
// syscall once a (arch, nr) pair has been seen, one more for the argument
// class when the syscall has filtered arguments.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "profile/recording.h"

namespace sctrace {

class Recorder {
 public:
  // Interned executable path; 0 = unknown.
  using ExeId = uint32_t;

  // What add_syscall tells the caller about the event's argument class.
  struct ClassRef {
    SyscallRecord* rec = nullptr;
    size_t index = 0;          // into rec->classes
    ExeId exe = 0;
    // A stack for this event would be the first of its class, or the first
    // from this executable (bounded by kMaxClassStacks). Asked once per
    // (syscall, class, executable): the caller unwinds at most once per key.
    bool want_stack = false;
    explicit operator bool() const { return rec != nullptr; }
  };

  explicit Recorder(Recording& rec) : rec_(rec) {}
  ClassRef add_syscall(uint32_t audit_arch, int32_t nr, const std::array<uint64_t, 6>& args,
                       std::optional<int64_t> result, pid_t pid, ExeId exe = 0);
  void add_exec(std::string_view path) { rec_.execs.emplace(path); }
  ExeId intern_exe(std::string_view path);
  const std::string& exe_path(ExeId id) const { return exes_.at(id); }
  // Attaches a captured stack to the class add_syscall returned.
  void add_stack(const ClassRef& ref, std::vector<StackFrame> frames);

 private:
  using ClassKey = std::array<uint64_t, 6>;
  struct KeyHash {
    size_t operator()(const ClassKey& k) const {
      uint64_t h = 0x9e3779b97f4a7c15ull;
      for (uint64_t v : k) h = (h ^ v) * 0x100000001b3ull;
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
  struct ClassState {
    size_t index = 0;
    std::vector<ExeId> execs;   // recorded in the class's execs (bounded)
    std::vector<ExeId> stacked; // executables a stack was asked for
  };
  struct Slot {
    SyscallRecord* rec;
    const std::vector<unsigned>* args;
    std::unordered_map<ClassKey, ClassState, KeyHash> classes;
    size_t stacks_asked = 0;
  };
  Slot& slot(uint32_t audit_arch, int32_t nr);
  ClassState* class_state(Slot& s, const std::array<uint64_t, 6>& args);
  Recording& rec_;
  std::unordered_map<uint64_t, Slot> cache_;
  std::vector<std::string> exes_{std::string()};
  std::unordered_map<std::string, ExeId> exe_ids_;
};

}  // namespace sctrace
