#include "advice/evidence.h"

#include <fcntl.h>

#include <vector>

#include <fmt/format.h>

#include "advice/inspect.h"

namespace sctrace::advice {

CallsByName by_name(const Recording& rec) {
  CallsByName out;
  for (const auto& [arch, calls] : rec.syscalls)
    for (const auto& [name, r] : calls) {
      auto [it, fresh] = out.try_emplace(name, r);
      if (fresh) continue;
      SyscallRecord& m = it->second;
      m.count += r.count;
      m.ok += r.ok;
      for (const auto& [e, n] : r.errors) m.errors[e] += n;
      for (const auto& [i, v] : r.args) m.args[i].merge(v);
      if (m.first_pid == 0 || (r.first_pid != 0 && r.first_pid < m.first_pid)) m.first_pid = r.first_pid;
    }
  return out;
}

bool succeeded(const SyscallRecord& r) { return r.ok > 0 || (r.errors.empty() && r.count > 0); }

const ArgValues* arg(const SyscallRecord& r, unsigned idx) {
  auto it = r.args.find(idx);
  if (it == r.args.end() || it->second.overflow || it->second.values.empty()) return nullptr;
  return &it->second;
}

std::string args_text(const SyscallRecord& r) {
  std::vector<std::string> parts;
  for (const auto& [i, v] : r.args) {
    if (v.overflow) {
      parts.push_back(fmt::format("arg{}=(many)", i));
      continue;
    }
    std::vector<std::string> vals;
    for (uint64_t x : v.values) vals.push_back(x > 0xffff ? fmt::format("{:#x}", x) : fmt::format("{}", x));
    parts.push_back(fmt::format("arg{}={}", i, join(vals, "|")));
  }
  return join(parts, " ");
}

bool is_minus_one_id(uint64_t v) { return (v & 0xffffffffu) == 0xffffffffu; }

bool writes_files(const CallsByName& calls, std::string* which) {
  for (auto [n, idx] : {std::pair{"openat", 2u}, std::pair{"open", 1u}}) {
    auto it = calls.find(n);
    if (it == calls.end() || !succeeded(it->second)) continue;
    const ArgValues* flags = arg(it->second, idx);
    bool w = !flags;
    if (flags)
      for (uint64_t f : flags->values)
        if ((f & O_ACCMODE) != O_RDONLY || (f & (O_CREAT | O_TRUNC))) w = true;
    if (w) {
      *which = n + std::string(" for writing");
      return true;
    }
  }
  for (const char* n : {"creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat",
                        "rmdir", "link", "linkat", "symlink", "symlinkat", "truncate", "mknod", "mknodat"}) {
    auto it = calls.find(n);
    if (it != calls.end() && succeeded(it->second)) {
      *which = n;
      return true;
    }
  }
  return false;
}

}  // namespace sctrace::advice
