#include "profile/recorder.h"

#include <algorithm>

#include <fmt/format.h>

namespace sctrace {

Recorder::Slot& Recorder::slot(uint32_t audit_arch, int32_t nr) {
  uint64_t key = (static_cast<uint64_t>(audit_arch) << 32) | static_cast<uint32_t>(nr);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  arch::ArchNr an = arch::from_audit(audit_arch, nr);
  auto name = arch::syscall_name(an.arch, an.nr);
  std::string key_name = name ? *name : fmt::format("__nr_{}", an.nr);
  SyscallRecord& r = rec_.syscalls[an.arch][key_name];
  r.nr = an.nr;
  return cache_.emplace(key, Slot{&r, &filtered_args(key_name), {}}).first->second;
}

Recorder::ClassState* Recorder::class_state(Slot& s, const std::array<uint64_t, 6>& args) {
  ClassKey key{};
  for (size_t i = 0; i < s.args->size() && i < key.size(); ++i) key[i] = args[(*s.args)[i]];
  auto it = s.classes.find(key);
  if (it != s.classes.end()) return &it->second;
  std::map<unsigned, uint64_t> values;
  for (unsigned idx : *s.args) values[idx] = args[idx];
  SyscallRecord& r = *s.rec;
  // A recording we continue (run --baseline) may have the class already.
  size_t index = 0;
  auto found = std::find_if(r.classes.begin(), r.classes.end(), [&](const ArgClass& c) { return c.args == values; });
  if (found != r.classes.end()) {
    index = static_cast<size_t>(found - r.classes.begin());
  } else if (r.classes.size() >= kMaxArgClasses) {
    r.classes_overflow = true;
    return nullptr;
  } else {
    index = r.classes.size();
    r.classes.push_back(ArgClass{std::move(values), 0, {}, {}});
  }
  ClassState st;
  st.index = index;
  // Executables whose stack the continued recording already holds.
  for (const auto& cs : r.classes[index].stacks) st.stacked.push_back(intern_exe(cs.exe));
  return &s.classes.emplace(key, std::move(st)).first->second;
}

Recorder::ExeId Recorder::intern_exe(std::string_view path) {
  if (path.empty()) return 0;
  auto it = exe_ids_.find(std::string(path));
  if (it != exe_ids_.end()) return it->second;
  auto id = static_cast<ExeId>(exes_.size());
  exes_.emplace_back(path);
  exe_ids_.emplace(std::string(path), id);
  return id;
}

Recorder::ClassRef Recorder::add_syscall(uint32_t audit_arch, int32_t nr, const std::array<uint64_t, 6>& args,
                                         std::optional<int64_t> result, pid_t pid, ExeId exe) {
  Slot& s = slot(audit_arch, nr);
  SyscallRecord& r = *s.rec;
  if (r.count++ == 0) r.first_pid = pid;
  for (unsigned idx : *s.args) r.args[idx].add(args[idx]);
  if (result) {
    // The kernel's error range: -4095..-1.
    if (*result < 0 && *result >= -4095)
      ++r.errors[static_cast<int>(-*result)];
    else
      ++r.ok;
  }
  ClassState* cs = class_state(s, args);
  if (cs == nullptr) return {};
  ArgClass& c = r.classes[cs->index];
  ++c.count;
  ClassRef ref{&r, cs->index, exe, false};
  if (exe != 0 && std::find(cs->execs.begin(), cs->execs.end(), exe) == cs->execs.end() &&
      cs->execs.size() < kMaxClassExecs) {
    cs->execs.push_back(exe);
    if (c.execs.size() < kMaxClassExecs) c.execs.insert(exes_[exe]);
  }
  if (cs->stacked.size() < kMaxClassStacks && s.stacks_asked < kMaxSyscallStacks &&
      std::find(cs->stacked.begin(), cs->stacked.end(), exe) == cs->stacked.end()) {
    cs->stacked.push_back(exe);
    ++s.stacks_asked;
    ref.want_stack = true;
  }
  return ref;
}

void Recorder::add_stack(const ClassRef& ref, std::vector<StackFrame> frames) {
  if (!ref || frames.empty()) return;
  ArgClass& c = ref.rec->classes.at(ref.index);
  if (c.stacks.size() >= kMaxClassStacks) return;
  c.stacks.push_back(CallStack{ref.exe < exes_.size() ? exes_[ref.exe] : std::string(), std::move(frames)});
}

}  // namespace sctrace
