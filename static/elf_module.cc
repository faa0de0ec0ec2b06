#include "static/elf_module.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace sctrace::static_reach {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  void* data = MAP_FAILED;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping stays
  if (data == MAP_FAILED) return nullptr;
  return std::shared_ptr<const MappedFile>(new MappedFile(data, static_cast<size_t>(st.st_size)));
}

MappedFile::~MappedFile() { munmap(data_, size_); }

namespace {

// Bounds-checked reads from the file: a damaged header yields nothing.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  std::optional<T> at(uint64_t off) const {
    if (off > b_.size() || b_.size() - off < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, b_.data() + off, sizeof(T));
    return v;
  }
  std::string_view slice(uint64_t off, uint64_t size) const {
    if (off > b_.size() || b_.size() - off < size) return {};
    return b_.substr(off, size);
  }
  std::string cstr(uint64_t off) const {
    if (off >= b_.size()) return {};
    const char* s = b_.data() + off;
    return std::string(s, strnlen(s, b_.size() - off));
  }

 private:
  std::string_view b_;
};

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

// The GNU build-id in a run of notes, "" when absent.
std::string build_id_in(std::string_view notes) {
  size_t off = 0;
  auto align4 = [](size_t n) { return (n + 3) & ~size_t{3}; };
  while (notes.size() - off >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr n;
    std::memcpy(&n, notes.data() + off, sizeof n);
    off += sizeof n;
    const size_t name_end = off + align4(n.n_namesz);
    if (name_end > notes.size() || notes.size() - name_end < n.n_descsz) break;
    if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && notes.substr(off, 4) == std::string_view("GNU\0", 4))
      return hex(notes.substr(name_end, n.n_descsz));
    off = name_end + align4(n.n_descsz);
  }
  return "";
}

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<ElfModule> read_elf(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return std::nullopt;
  const Reader r(file->bytes());
  const auto eh = r.at<Elf64_Ehdr>(0);
  if (!eh || std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_ident[EI_DATA] != ELFDATA2LSB)
    return std::nullopt;
  ElfModule m;
  m.path = path;
  m.machine = eh->e_machine;
  m.file = file;

  std::vector<Elf64_Phdr> phdrs;
  for (unsigned i = 0; i < eh->e_phnum; ++i)
    if (auto ph = r.at<Elf64_Phdr>(eh->e_phoff + uint64_t{i} * sizeof(Elf64_Phdr))) phdrs.push_back(*ph);
  auto file_offset = [&](uint64_t vaddr) -> std::optional<uint64_t> {
    for (const auto& ph : phdrs)
      if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
        return ph.p_offset + (vaddr - ph.p_vaddr);
    return std::nullopt;
  };

  std::vector<Elf64_Shdr> shdrs;
  for (unsigned i = 0; i < eh->e_shnum; ++i)
    if (auto sh = r.at<Elf64_Shdr>(eh->e_shoff + uint64_t{i} * sizeof(Elf64_Shdr))) shdrs.push_back(*sh);
  for (const auto& sh : shdrs) {
    if (sh.sh_type == SHT_NOTE && m.build_id.empty()) m.build_id = build_id_in(r.slice(sh.sh_offset, sh.sh_size));
    if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) != 0) {
      const std::string_view b = r.slice(sh.sh_offset, sh.sh_size);
      if (!b.empty()) m.code.push_back({sh.sh_addr, b});
    }
    if (sh.sh_type != SHT_DYNSYM || sh.sh_link >= shdrs.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
    const Elf64_Shdr& strtab = shdrs[sh.sh_link];
    for (uint64_t off = sh.sh_offset + sizeof(Elf64_Sym); off + sizeof(Elf64_Sym) <= sh.sh_offset + sh.sh_size;
         off += sizeof(Elf64_Sym)) {
      const auto sym = r.at<Elf64_Sym>(off);
      if (!sym || sym->st_name >= strtab.sh_size) continue;
      const unsigned bind = ELF64_ST_BIND(sym->st_info), type = ELF64_ST_TYPE(sym->st_info);
      if (bind != STB_GLOBAL && bind != STB_WEAK) continue;
      std::string name = r.cstr(strtab.sh_offset + sym->st_name);
      if (name.empty()) continue;
      if (sym->st_shndx == SHN_UNDEF) {
        if (type == STT_FUNC || type == STT_NOTYPE) m.imports.push_back(std::move(name));
      } else if ((type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_value != 0) {
        m.exports.push_back({std::move(name), sym->st_value});
      }
    }
  }
  std::sort(m.imports.begin(), m.imports.end());
  m.imports.erase(std::unique(m.imports.begin(), m.imports.end()), m.imports.end());

  std::vector<std::string> runpath, rpath;
  for (const auto& ph : phdrs) {
    if (ph.p_type == PT_INTERP) m.interp = r.cstr(ph.p_offset);
    if (ph.p_type == PT_NOTE && m.build_id.empty()) m.build_id = build_id_in(r.slice(ph.p_offset, ph.p_filesz));
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) != 0 && shdrs.empty()) {
      const std::string_view b = r.slice(ph.p_offset, ph.p_filesz);
      if (!b.empty()) m.code.push_back({ph.p_vaddr, b});
    }
    if (ph.p_type != PT_DYNAMIC) continue;
    std::vector<Elf64_Dyn> dyn;
    for (uint64_t off = ph.p_offset; off + sizeof(Elf64_Dyn) <= ph.p_offset + ph.p_filesz; off += sizeof(Elf64_Dyn)) {
      auto d = r.at<Elf64_Dyn>(off);
      if (!d || d->d_tag == DT_NULL) break;
      dyn.push_back(*d);
    }
    std::optional<uint64_t> strtab;
    for (const auto& d : dyn)
      if (d.d_tag == DT_STRTAB) strtab = file_offset(d.d_un.d_ptr);
    if (!strtab) continue;
    for (const auto& d : dyn) {
      const std::string s = r.cstr(*strtab + d.d_un.d_val);
      if (d.d_tag == DT_NEEDED) m.needed.push_back(s);
      if (d.d_tag == DT_SONAME) m.soname = s;
      if (d.d_tag == DT_RUNPATH || d.d_tag == DT_RPATH) {
        auto& into = d.d_tag == DT_RUNPATH ? runpath : rpath;
        size_t start = 0;
        while (start <= s.size()) {
          size_t colon = s.find(':', start);
          if (colon == std::string::npos) colon = s.size();
          std::string dir = s.substr(start, colon - start);
          for (const char* origin : {"$ORIGIN", "${ORIGIN}"})
            if (dir.rfind(origin, 0) == 0) dir = dirname_of(path) + dir.substr(std::strlen(origin));
          if (!dir.empty()) into.push_back(dir);
          start = colon + 1;
        }
      }
    }
  }
  m.search = runpath.empty() ? rpath : runpath;
  return m;
}

}  // namespace sctrace::static_reach
