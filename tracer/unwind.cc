#include "tracer/unwind.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <libunwind-ptrace.h>

#include "core/unique_fd.h"

namespace sctrace {

std::string format_frame(const Frame& f) {
  if (!f.function.empty())
    return f.module.empty() ? fmt::format("{}+{:#x}", f.function, f.offset)
                            : fmt::format("{}+{:#x} ({})", f.function, f.offset, f.module);
  if (!f.module.empty()) return fmt::format("{}+{:#x}", f.module, f.module_offset);
  return "??";
}

// ---------------------------------------------------------------------------
// ELF

namespace {

std::string demangle(const char* name) {
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = -1;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string r = status == 0 && out != nullptr ? std::string(out) : std::string(name);
  std::free(out);
  return r;
}

// A bounds-checked view of the image: every header read goes through it.
struct Image {
  const uint8_t* data;
  size_t size;
  bool in(uint64_t off, uint64_t len) const { return off <= size && len <= size - off; }
  template <typename T>
  bool read(uint64_t off, T& out) const {
    if (!in(off, sizeof(T))) return false;
    std::memcpy(&out, data + off, sizeof(T));
    return true;
  }
};

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

// Notes are 4-byte aligned name/desc pairs in both ELF classes.
std::string build_id_in_notes(const Image& img, uint64_t off, uint64_t len) {
  if (!img.in(off, len)) return {};
  uint64_t p = off, end = off + len;
  while (p + 12 <= end) {
    uint32_t namesz = 0, descsz = 0, type = 0;
    img.read(p, namesz);
    img.read(p + 4, descsz);
    img.read(p + 8, type);
    uint64_t name_off = p + 12;
    uint64_t desc_off = name_off + ((static_cast<uint64_t>(namesz) + 3) & ~3ull);
    uint64_t next = desc_off + ((static_cast<uint64_t>(descsz) + 3) & ~3ull);
    if (next > end || next <= p) break;
    if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(img.data + name_off, "GNU", 4) == 0 && descsz > 0 &&
        descsz <= 64)
      return hex(img.data + desc_off, descsz);
    p = next;
  }
  return {};
}

// .eh_frame_hdr: version 1, then the encodings of eh_frame_ptr, fde_count
// and the table, then eh_frame_ptr and fde_count themselves. Only the layout
// every toolchain emits is taken (4- or 8-byte fields, a datarel|sdata4
// table); anything else is left to libunwind's own slower search.
ElfSymbols::EhFrameHdr parse_eh_frame_hdr(const Image& img, uint64_t off, uint64_t size, uint64_t vaddr) {
  ElfSymbols::EhFrameHdr eh;
  uint8_t h[4];
  if (size < 4 || !img.in(off, size) || !img.read(off, h)) return eh;
  constexpr uint8_t kOmit = 0xff, kDatarelSdata4 = 0x3b;
  if (h[0] != 1 || h[1] == kOmit || h[2] == kOmit || h[3] != kDatarelSdata4) return eh;
  auto field_size = [](uint8_t enc) -> int {
    switch (enc & 0x0f) {
      case 0x03: case 0x0b: return 4;  // udata4, sdata4
      case 0x00: case 0x04: case 0x0c: return 8;  // absptr (64-bit), udata8, sdata8
      default: return -1;
    }
  };
  int ptr_size = field_size(h[1]), count_size = field_size(h[2]);
  if (ptr_size < 0 || count_size < 0 || (h[2] & 0x70) != 0) return eh;  // fde_count must be a plain number
  uint64_t count_off = 4 + static_cast<uint64_t>(ptr_size);
  uint64_t count = 0;
  if (count_size == 4) {
    uint32_t c = 0;
    if (!img.read(off + count_off, c)) return eh;
    count = c;
  } else if (!img.read(off + count_off, count)) {
    return eh;
  }
  eh.table_off = count_off + static_cast<uint64_t>(count_size);
  if (count == 0 || count > (size - eh.table_off) / 8) return eh;
  eh.vaddr = vaddr;
  eh.fde_count = count;
  eh.ok = true;
  return eh;
}

template <typename Ehdr, typename Phdr, typename Shdr, typename Sym>
void parse_elf(const Image& img, ElfSymbols& out) {
  Ehdr eh;
  if (!img.read(0, eh)) return;
  out.ok = true;
  out.is_dyn = eh.e_type == ET_DYN;
  if (eh.e_phentsize == sizeof(Phdr)) {
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Phdr ph;
      if (!img.read(eh.e_phoff + static_cast<uint64_t>(i) * sizeof(Phdr), ph)) break;
      if (ph.p_type == PT_LOAD) out.loads.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz});
      if (ph.p_type == PT_NOTE && out.build_id.empty()) out.build_id = build_id_in_notes(img, ph.p_offset, ph.p_filesz);
      if (ph.p_type == PT_GNU_EH_FRAME) out.eh = parse_eh_frame_hdr(img, ph.p_offset, ph.p_filesz, ph.p_vaddr);
    }
  }
  if (eh.e_shentsize != sizeof(Shdr)) return;
  std::vector<Shdr> sections;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Shdr sh;
    if (!img.read(eh.e_shoff + static_cast<uint64_t>(i) * sizeof(Shdr), sh)) return;
    sections.push_back(sh);
  }
  struct Candidate {
    uint64_t addr, size;
    const char* name;
    int score;
  };
  std::vector<Candidate> cands;
  for (const Shdr& sh : sections) {
    if (sh.sh_type == SHT_NOTE && out.build_id.empty()) out.build_id = build_id_in_notes(img, sh.sh_offset, sh.sh_size);
    if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
    if (sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Sym)) continue;
    const Shdr& strtab = sections[sh.sh_link];
    if (!img.in(sh.sh_offset, sh.sh_size) || !img.in(strtab.sh_offset, strtab.sh_size) || strtab.sh_size == 0)
      continue;
    const char* strs = reinterpret_cast<const char*>(img.data + strtab.sh_offset);
    // The string table must end in NUL for names to be safe to read as C strings.
    if (strs[strtab.sh_size - 1] != '\0') continue;
    for (uint64_t off = 0; off + sizeof(Sym) <= sh.sh_size; off += sizeof(Sym)) {
      Sym s;
      img.read(sh.sh_offset + off, s);
      unsigned type = s.st_info & 0xf, bind = s.st_info >> 4;
      if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
      if (s.st_shndx == SHN_UNDEF || s.st_value == 0 || s.st_name >= strtab.sh_size) continue;
      const char* name = strs + s.st_name;
      if (name[0] == '\0') continue;
      // Among aliases at one address, the public name reads best: no leading
      // underscore, then global over weak over local.
      int score = (name[0] != '_' ? 4 : 0) + (bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0);
      cands.push_back({s.st_value, s.st_size, name, score});
    }
  }
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.addr != b.addr) return a.addr < b.addr;
    if (a.score != b.score) return a.score > b.score;
    return std::strcmp(a.name, b.name) < 0;
  });
  for (const auto& c : cands) {
    if (!out.syms.empty() && out.syms.back().addr == c.addr) {
      if (out.syms.back().size == 0) out.syms.back().size = c.size;
      continue;
    }
    out.syms.push_back({c.addr, c.size, demangle(c.name)});
  }
}

}  // namespace

const ElfSymbols::Sym* ElfSymbols::find(uint64_t vaddr) const {
  auto it = std::upper_bound(syms.begin(), syms.end(), vaddr, [](uint64_t v, const Sym& s) { return v < s.addr; });
  if (it == syms.begin()) return nullptr;
  const Sym& s = *std::prev(it);
  if (s.size != 0) return vaddr < s.addr + s.size ? &s : nullptr;
  // No size (hand-written assembly): up to the next symbol.
  return it != syms.end() ? &s : nullptr;
}

std::optional<uint64_t> ElfSymbols::vaddr_of_offset(uint64_t file_offset) const {
  for (const auto& l : loads)
    if (file_offset >= l.offset && file_offset < l.offset + std::max(l.filesz, l.memsz))
      return file_offset - l.offset + l.vaddr;
  return std::nullopt;
}

ElfSymbols parse_elf_symbols(const uint8_t* data, size_t size) {
  ElfSymbols out;
  Image img{data, size};
  if (size < EI_NIDENT || std::memcmp(data, ELFMAG, SELFMAG) != 0) return out;
  // Host byte order only: sctrace traces processes of its own machine.
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (data[EI_DATA] != ELFDATA2LSB) return out;
#else
  if (data[EI_DATA] != ELFDATA2MSB) return out;
#endif
  if (data[EI_CLASS] == ELFCLASS64)
    parse_elf<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym>(img, out);
  else if (data[EI_CLASS] == ELFCLASS32)
    parse_elf<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Sym>(img, out);
  return out;
}

namespace {

ElfSymbols read_elf_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) return {};
  auto size = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return {};
  // A file truncated while mapped raises SIGBUS on access; modules of a live
  // process are not truncated in practice, and a copy would cost more.
  ElfSymbols e = parse_elf_symbols(static_cast<const uint8_t*>(p), size);
  ::munmap(p, size);
  return e;
}

}  // namespace

ElfSymbols read_elf_symbols(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  return read_elf_fd(fd.get());
}

// ---------------------------------------------------------------------------
// /proc/PID/maps

std::vector<MapEntry> parse_maps(std::string_view text) {
  std::vector<MapEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // "start-end perms offset major:minor inode   path", read by hand: this
    // runs once per captured stack, and sscanf was a tenth of its cost.
    size_t p = 0;
    auto number = [&](int base, char stop) -> std::optional<uint64_t> {
      uint64_t v = 0;
      size_t begin = p;
      for (; p < line.size() && line[p] != stop; ++p) {
        char ch = line[p];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' && base == 16 ? ch - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      }
      if (p == begin || p >= line.size()) return std::nullopt;
      ++p;  // the separator
      return v;
    };
    MapEntry m;
    auto start = number(16, '-'), end = number(16, ' ');
    if (!start || !end || p + 5 > line.size()) continue;
    m.exec = line[p + 2] == 'x';
    p += 5;
    auto off = number(16, ' '), maj = number(16, ':'), mnr = number(16, ' '), ino = number(10, ' ');
    if (!ino && p >= line.size()) {  // no path after the inode: number() needs its separator
      line += ' ';
      ino = number(10, ' ');
    }
    if (!off || !maj || !mnr || !ino) continue;
    m.start = *start;
    m.end = *end;
    m.offset = *off;
    m.dev = (*maj << 32) | *mnr;
    m.inode = *ino;
    while (p < line.size() && line[p] == ' ') ++p;
    m.path = line.substr(std::min(p, line.size()));
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const MapEntry& a, const MapEntry& b) { return a.start < b.start; });
  return out;
}

namespace {

std::string read_small_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16u << 20)) break;
  }
  return out;
}

constexpr std::string_view kDeleted = " (deleted)";

}  // namespace

bool Symbolizer::load_maps(pid_t pid) {
  maps_ = parse_maps(read_small_file(fmt::format("/proc/{}/maps", pid)));
  return !maps_.empty();
}

const ElfSymbols& Symbolizer::module(pid_t pid, const MapEntry& m) {
  ModuleKey key{m.dev, m.inode, m.path};
  auto it = modules_.find(key);
  if (it != modules_.end()) return *it->second;
  auto e = std::make_unique<ElfSymbols>();
  if (m.path == "[vdso]") {
    // The vDSO exists only in memory: read it from the process.
    std::vector<uint8_t> buf(std::min<uint64_t>(m.end - m.start, 1u << 20));
    iovec local{buf.data(), buf.size()};
    iovec remote{reinterpret_cast<void*>(m.start), buf.size()};
    ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n > 0) *e = parse_elf_symbols(buf.data(), static_cast<size_t>(n));
  } else if (!m.path.empty() && m.path[0] == '/') {
    // map_files names the very file that is mapped (even deleted, even in
    // another mount namespace) but needs CAP_SYS_ADMIN/CAP_CHECKPOINT_RESTORE;
    // /proc/PID/root is the process's own view of the path (a container's);
    // the bare path is our own view, right when we share the mount namespace.
    std::string path = m.path;
    if (path.size() > kDeleted.size() && path.compare(path.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
      path.resize(path.size() - kDeleted.size());
    for (const std::string& candidate :
         {fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, m.start, m.end), fmt::format("/proc/{}/root{}", pid, path),
          path}) {
      *e = read_elf_symbols(candidate);
      if (e->ok) break;
    }
  }
  return *modules_.emplace(std::move(key), std::move(e)).first->second;
}

const MapEntry* Symbolizer::mapping(uint64_t pc) const {
  auto it = std::upper_bound(maps_.begin(), maps_.end(), pc, [](uint64_t v, const MapEntry& m) { return v < m.start; });
  if (it == maps_.begin()) return nullptr;
  const MapEntry& m = *std::prev(it);
  return pc < m.end ? &m : nullptr;
}

const ElfSymbols* Symbolizer::module_at(pid_t pid, uint64_t pc, const MapEntry** entry) {
  const MapEntry* m = mapping(pc);
  *entry = m;
  if (m == nullptr || m->path.empty() || (m->path[0] != '/' && m->path != "[vdso]")) return nullptr;
  const ElfSymbols& e = module(pid, *m);
  return e.ok ? &e : nullptr;
}

Frame Symbolizer::symbolize(pid_t pid, uint64_t pc, bool return_address) {
  Frame f;
  f.pc = pc;
  f.offset = f.module_offset = pc;
  const uint64_t look = return_address && pc > 0 ? pc - 1 : pc;
  auto it = std::upper_bound(maps_.begin(), maps_.end(), look, [](uint64_t v, const MapEntry& m) { return v < m.start; });
  if (it == maps_.begin()) return f;
  const MapEntry& m = *std::prev(it);
  if (look >= m.end) return f;
  f.module = m.path;
  if (f.module.size() > kDeleted.size() &&
      f.module.compare(f.module.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
    f.module.resize(f.module.size() - kDeleted.size());
  f.offset = f.module_offset = pc - m.start;
  if (m.path.empty()) return f;  // anonymous: JIT code or a trampoline
  if (m.path[0] != '/' && m.path != "[vdso]") return f;
  const ElfSymbols& e = module(pid, m);
  if (!e.ok) return f;
  f.build_id = e.build_id;
  const uint64_t file_off = look - m.start + m.offset;
  uint64_t vaddr = file_off;
  if (auto v = e.vaddr_of_offset(file_off)) vaddr = *v;
  f.offset = f.module_offset = vaddr + (pc - look);
  if (const ElfSymbols::Sym* s = e.find(vaddr)) {
    f.function = s->name;
    f.offset = f.module_offset - s->addr;
  }
  return f;
}

// ---------------------------------------------------------------------------
// Unwinder

namespace {

// libunwind-ptrace reads the tracee one word per PTRACE_PEEKDATA, and parsing
// .eh_frame through it costs thousands of them per stack (milliseconds).
// The task is stopped for the whole unwind, so its memory can be read a page
// at a time with process_vm_readv and served from this cache.
struct PageCache {
  pid_t tid = 0;
  std::vector<std::pair<uint64_t, std::array<uint8_t, 4096>>> pages;
  size_t last = 0;  // index of the page used last: reads come in runs
  const std::array<uint8_t, 4096>* page(uint64_t base) {
    if (last < pages.size() && pages[last].first == base) return &pages[last].second;
    for (size_t i = 0; i < pages.size(); ++i)
      if (pages[i].first == base) {
        last = i;
        return &pages[i].second;
      }
    if (pages.size() >= 256) pages.clear();
    std::array<uint8_t, 4096> data;
    iovec local{data.data(), data.size()};
    iovec remote{reinterpret_cast<void*>(base), data.size()};
    if (::process_vm_readv(tid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(data.size())) return nullptr;
    pages.emplace_back(base, data);
    last = pages.size() - 1;
    return &pages.back().second;
  }
  bool read_word(uint64_t addr, unw_word_t& out) {
    const uint64_t base = addr & ~uint64_t{4095}, in = addr - base;
    if (in + sizeof out <= 4096) {
      const auto* p = page(base);
      if (p == nullptr) return false;
      std::memcpy(&out, p->data() + in, sizeof out);
      return true;
    }
    uint8_t bytes[sizeof(unw_word_t)];  // straddles two pages
    for (size_t i = 0; i < sizeof bytes; ++i) {
      const uint64_t a = addr + i, b = a & ~uint64_t{4095};
      const auto* p = page(b);
      if (p == nullptr) return false;
      bytes[i] = (*p)[a - b];
    }
    std::memcpy(&out, bytes, sizeof out);
    return true;
  }
};

// The unwind in progress (libunwind calls the accessors on this thread, with
// the UPT handle as their argument, so the cache cannot travel in it).
thread_local PageCache* t_cache = nullptr;

// The symbolizer of the unwind in progress: it knows the modules already.
thread_local Symbolizer* t_symbolizer = nullptr;
thread_local pid_t t_pid = 0;

}  // namespace
}  // namespace sctrace

// Not in libunwind's public headers but exported by it (perf calls it the
// same way): searches an .eh_frame_hdr table described by a unw_dyn_info_t.
extern "C" int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di,
                                                    unw_proc_info_t* pi, int need_unwind_info, void* arg);

namespace sctrace {
namespace {

// libunwind-ptrace's own lookup re-reads /proc/PID/maps and maps the module
// file for nearly every frame; the symbolizer has both at hand.
int fast_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info, void* arg) {
  if (t_symbolizer != nullptr) {
    const MapEntry* m = nullptr;
    const ElfSymbols* e = t_symbolizer->module_at(t_pid, ip, &m);
    if (e != nullptr && e->eh.ok) {
      auto vaddr = e->vaddr_of_offset(ip - m->start + m->offset);
      if (vaddr) {
        const uint64_t bias = ip - *vaddr;
        unw_dyn_info_t di{};
        di.start_ip = m->start;
        di.end_ip = m->end;
        di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
        di.u.rti.segbase = bias + e->eh.vaddr;
        di.u.rti.table_data = bias + e->eh.vaddr + e->eh.table_off;
        // Two 32-bit fields (initial location, FDE address) per entry.
        di.u.rti.table_len = e->eh.fde_count * 8 / sizeof(unw_word_t);
        int ret = UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, arg);
        if (ret != -UNW_ENOINFO) return ret;
      }
    }
  }
  return _UPT_find_proc_info(as, ip, pi, need_unwind_info, arg);
}

int cached_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t* val, int write, void* arg) {
  // Pages the kernel refuses to process_vm_readv (PROT_NONE) still go through
  // PTRACE_PEEKDATA, which may read them.
  if (write == 0 && t_cache != nullptr && t_cache->read_word(addr, *val)) return 0;
  return _UPT_access_mem(as, addr, val, write, arg);
}

unw_accessors_t cached_accessors() {
  unw_accessors_t a = _UPT_accessors;
  a.access_mem = cached_access_mem;
  a.find_proc_info = fast_find_proc_info;
  // Unwind info registered at run time (_U_dyn_register) is looked up by
  // scanning every module of the process on each cache flush; almost nothing
  // registers any, so that scan is skipped.
  a.get_dyn_info_list_addr = [](unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; };
  return a;
}

}  // namespace

Unwinder::Unwinder(int max_depth) : max_depth_(max_depth) {
  if (max_depth_ <= 0) return;
  static unw_accessors_t accessors = cached_accessors();
  unw_addr_space_t as = unw_create_addr_space(&accessors, 0);
  if (as != nullptr) unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
  addr_space_ = as;
}

Unwinder::~Unwinder() {
  if (addr_space_ != nullptr) unw_destroy_addr_space(static_cast<unw_addr_space_t>(addr_space_));
}

std::vector<Frame> Unwinder::locate(pid_t pid, uint64_t ip) {
  if (ip == 0) return {};
  sym_.load_maps(pid);
  return {sym_.symbolize(pid, ip, false)};
}

std::vector<Frame> Unwinder::capture(pid_t tid, pid_t pid, uint64_t expected_ip) {
  if (addr_space_ == nullptr || max_depth_ <= 0) return locate(pid, expected_ip);
  auto as = static_cast<unw_addr_space_t>(addr_space_);
  // One address space object serves every process: code cached for one pid
  // may be something else at the same address in the next.
  unw_flush_cache(as, 0, 0);
  if (!sym_.load_maps(pid)) return {};
  void* upt = _UPT_create(tid);
  if (upt == nullptr) return {};
  PageCache cache;
  cache.tid = tid;
  t_cache = &cache;
  t_symbolizer = &sym_;
  t_pid = pid;
  std::vector<Frame> frames;
  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, as, upt) == 0) {
    bool after_signal_frame = false;
    unw_word_t last_sp = 0;
    for (int i = 0; i < max_depth_; ++i) {
      unw_word_t ip = 0, sp = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
      unw_get_reg(&cursor, UNW_REG_SP, &sp);
      if (i == 0 && expected_ip != 0 && ip != expected_ip) break;  // stopped somewhere else
      if (i > 0 && sp != 0 && sp == last_sp && frames.back().pc == ip) break;  // no progress
      last_sp = sp;
      frames.push_back(sym_.symbolize(pid, ip, i > 0 && !after_signal_frame));
      after_signal_frame = unw_is_signal_frame(&cursor) > 0;
      if (unw_step(&cursor) <= 0) break;
    }
  }
  t_cache = nullptr;
  t_symbolizer = nullptr;
  _UPT_destroy(upt);
  if (frames.empty() || (expected_ip != 0 && frames.front().pc != expected_ip)) return locate(pid, expected_ip);
  return frames;
}

}  // namespace sctrace
