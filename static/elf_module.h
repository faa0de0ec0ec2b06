#pragma once
// What static completion needs from one ELF file, read with <elf.h> only:
// its identity (build-id), what it loads (DT_NEEDED and where to look),
// the functions it imports and exports, and its executable bytes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sctrace::static_reach {

// A mapped file, read-only, kept alive by whoever holds the module.
class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};

// Executable bytes at their link-time virtual address.
struct CodeRegion {
  uint64_t vaddr = 0;
  std::string_view bytes;
};

struct ElfSymbol {
  std::string name;  // without its version
  uint64_t value = 0;
};

struct ElfModule {
  std::string path;
  std::string build_id;  // hex GNU build-id, "" when it has none
  uint16_t machine = 0;  // EM_X86_64, ...
  std::string soname;
  std::string interp;    // PT_INTERP: the dynamic loader an executable asks for
  std::vector<std::string> needed;
  std::vector<std::string> search;  // DT_RUNPATH, or DT_RPATH when there is no RUNPATH, $ORIGIN expanded
  std::vector<std::string> imports;    // undefined function symbols of .dynsym, sorted, distinct
  std::vector<ElfSymbol> exports;      // defined function symbols of .dynsym (IFUNC resolvers included)
  std::vector<CodeRegion> code;        // SHF_EXECINSTR sections (PF_X segments when no sections)
  std::shared_ptr<const MappedFile> file;  // what `code` points into
};

// nullopt when `path` cannot be read or is not a 64-bit little-endian ELF
// file; damaged tables are skipped, never read out of bounds.
std::optional<ElfModule> read_elf(const std::string& path);

}  // namespace sctrace::static_reach
