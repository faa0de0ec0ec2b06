#pragma once
// Static completion's facts: which syscalls the modules a workload loaded can
// reach, and through what. Numbers only: profile/ names and judges them.
#include <string>
#include <vector>

namespace sctrace::static_reach {

struct Reachable {
  int nr = -1;          // native (x86-64) syscall number
  std::string module;   // "libsqlite3.so.0" (its soname, else its file name)
  std::string via;      // the libc function it imports; "" for the module's own `syscall` instruction
};

struct ReachFacts {
  std::vector<std::string> modules;  // ELF files looked at, in the order found
  std::string libc;                  // the libc whose functions were mapped ("" when none was found)
  std::vector<Reachable> reach;
  std::vector<std::string> notes;    // what could not be looked at, and why
  size_t from_cache = 0;             // modules whose analysis came from the cache
};

struct ReachOptions {
  // Per build-id results live here ("" = no cache).
  std::string cache_dir;
  // Where DT_NEEDED names are looked for after the module's own RUNPATH:
  // empty = the system loader's (/etc/ld.so.conf, then the default dirs).
  std::vector<std::string> library_dirs;
};

// `roots`: the files the workload executed and the modules its stacks named.
// Their DT_NEEDED closure is resolved as the loader would, the libc among them
// is disassembled (or read from the cache), and every other module's imports
// and own `syscall` instructions give the reachable numbers.
ReachFacts reachable_syscalls(const std::vector<std::string>& roots, const ReachOptions& opts);

// The directories the system's loader searches after RUNPATH:
// /etc/ld.so.conf (with its includes), then /lib64, /usr/lib64, /lib, /usr/lib.
std::vector<std::string> loader_dirs(const std::string& ld_so_conf = "/etc/ld.so.conf");

}  // namespace sctrace::static_reach
