#pragma once
// Finds setuid/setgid files in a container's filesystem by streaming
// GET /containers/ID/export through a tar header reader (nothing is stored).
#include <string>
#include <string_view>
#include <vector>

namespace sctrace::container {

class Engine;

// Feed tar bytes in any chunking; collects regular files with S_ISUID or
// S_ISGID in their mode. Understands ustar prefixes, GNU long names and pax
// `path` records.
class SetidTarScanner {
 public:
  void feed(std::string_view data);
  const std::vector<std::string>& files() const { return files_; }

 private:
  void header(const char* h);
  std::string buf_;
  uint64_t skip_ = 0;       // data bytes (with padding) still to skip
  uint64_t capture_ = 0;    // data bytes to capture (long name / pax header)
  char capture_type_ = 0;
  std::string captured_;
  std::string next_name_;   // from a GNU 'L' or pax 'x' record
  std::vector<std::string> files_;
};

std::vector<std::string> setid_files(Engine& engine, const std::string& container_id);

}  // namespace sctrace::container
