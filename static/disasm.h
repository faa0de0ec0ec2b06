#pragma once
// Syscall numbers in machine code, found with Capstone (x86-64 only for now):
// the constant loaded into eax/rax before each `syscall` instruction.
#include <map>
#include <set>
#include <string>

#include "static/elf_module.h"

namespace sctrace::static_reach {

// The numbers of a module's own `syscall` instructions that follow a constant
// load into eax/rax in straight-line code (a linear sweep over its executable
// sections). Empty for a machine it cannot decode.
std::set<int> own_syscalls(const ElfModule& m);

// For each function `lib` exports (by name, versions merged): the syscall
// numbers reachable from its entry by following direct calls and jumps
// inside `lib`, with eax tracked along each path. Indirect calls and jumps
// (function pointers, PLT stubs) are not followed.
std::map<std::string, std::set<int>> exported_syscalls(const ElfModule& lib);

}  // namespace sctrace::static_reach
