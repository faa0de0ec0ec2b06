#pragma once
// Call-site attribution: the user-space call stack of a ptrace-stopped task,
// unwound remotely with libunwind-ptrace and symbolized while the process is
// alive (modules can be unmapped or deleted later). Nothing here throws: a
// task that exits mid-unwind, an unreadable module or a frame outside any file
// just ends the stack or leaves the frame unnamed.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sctrace {

struct Frame {
  std::string module;    // path as the process sees it ("[vdso]", "" when pc is in no mapping)
  std::string build_id;  // lowercase hex of NT_GNU_BUILD_ID, "" when absent
  std::string function;  // demangled symbol, "" when no symbol covers pc
  uint64_t offset = 0;   // pc - function start when function is set, else module_offset
  uint64_t module_offset = 0;  // pc as an ELF virtual address of the module (what addr2line takes)
  uint64_t pc = 0;             // absolute, meaningful only in the traced process
};

// "function+0x1a (module)", "module+0x1234", "??".
std::string format_frame(const Frame& f);

// ---------------------------------------------------------------------------
// ELF symbol tables, our own reader (no libelf): enough to name a pc.

struct ElfSymbols {
  struct Sym {
    uint64_t addr;
    uint64_t size;
    std::string name;
  };
  bool ok = false;        // the file parsed as ELF
  std::string build_id;   // hex
  bool is_dyn = false;    // ET_DYN (PIE or shared object)
  // PT_LOAD segments: file offset range -> virtual address.
  struct Load {
    uint64_t offset, vaddr, filesz, memsz;
  };
  std::vector<Load> loads;
  // PT_GNU_EH_FRAME: where .eh_frame_hdr's binary-search table is, so the
  // unwinder can search it in the process's memory (ok = a table libunwind
  // can use: datarel|sdata4 entries).
  struct EhFrameHdr {
    bool ok = false;
    uint64_t vaddr = 0;      // of .eh_frame_hdr
    uint64_t table_off = 0;  // of the table, from vaddr
    uint64_t fde_count = 0;
  } eh;
  std::vector<Sym> syms;  // functions from .symtab and .dynsym, sorted by addr, deduplicated

  // The function containing vaddr, or nullptr.
  const Sym* find(uint64_t vaddr) const;
  // File offset -> ELF virtual address through the PT_LOAD that maps it.
  std::optional<uint64_t> vaddr_of_offset(uint64_t file_offset) const;
};

// Parses an ELF image (ELF32/ELF64, host byte order). Malformed input gives
// ok = false or fewer symbols, never a crash.
ElfSymbols parse_elf_symbols(const uint8_t* data, size_t size);
// Reads and parses a file; ok = false when it cannot be opened or mapped.
ElfSymbols read_elf_symbols(const std::string& path);

// One line of /proc/PID/maps.
struct MapEntry {
  uint64_t start = 0, end = 0, offset = 0;
  uint64_t dev = 0, inode = 0;
  bool exec = false;
  std::string path;  // "" for anonymous mappings
};
std::vector<MapEntry> parse_maps(std::string_view text);

// Symbolizes pcs of live processes. Modules are parsed once per (device,
// inode, path) for the whole run.
class Symbolizer {
 public:
  // Re-reads /proc/PID/maps (call once per stack: dlopen changes it).
  bool load_maps(pid_t pid);
  // pc -> frame. `return_address`: pc is a return address (every frame but
  // the innermost), so the call instruction is looked up at pc - 1.
  Frame symbolize(pid_t pid, uint64_t pc, bool return_address);
  // The mapping of the last load_maps() holding pc and its module, or nullptr.
  const MapEntry* mapping(uint64_t pc) const;
  const ElfSymbols* module_at(pid_t pid, uint64_t pc, const MapEntry** entry);

 private:
  using ModuleKey = std::tuple<uint64_t, uint64_t, std::string>;
  const ElfSymbols& module(pid_t pid, const MapEntry& m);
  std::vector<MapEntry> maps_;
  std::map<ModuleKey, std::unique_ptr<ElfSymbols>> modules_;
};

// ---------------------------------------------------------------------------

class Unwinder {
 public:
  explicit Unwinder(int max_depth);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // The stack of `tid` (thread of process `pid`), innermost frame first, at
  // most max_depth frames. The task must be ptrace-stopped by this thread.
  // When `expected_ip` is non-zero and the task's pc is elsewhere (it is not
  // stopped at the syscall the caller means), only that ip is returned.
  std::vector<Frame> capture(pid_t tid, pid_t pid, uint64_t expected_ip);
  // Without stopping anything: the one frame of ip, from /proc/PID/maps (the
  // notify backend, where the task waits in the kernel and is not traced).
  std::vector<Frame> locate(pid_t pid, uint64_t ip);

  int max_depth() const { return max_depth_; }

 private:
  int max_depth_;
  void* addr_space_ = nullptr;  // unw_addr_space_t
  Symbolizer sym_;
};

}  // namespace sctrace
