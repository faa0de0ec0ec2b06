#pragma once
// A minimal ustar writer: enough to import a FROM-scratch image or to copy
// files into a container (PUT /containers/ID/archive) without a tar binary.
// Entries are owned by root, with mtime 0 so equal input gives equal bytes.
#include <sys/types.h>

#include <string>
#include <vector>

namespace sctrace::container {

struct TarEntry {
  std::string path;    // inside the archive; a leading '/' is dropped
  std::string data;    // file content (ignored for directories)
  mode_t mode = 0644;  // permission bits, including setuid/sticky
  bool directory = false;
};

// Throws Error(input) for a path that does not fit ustar's name fields.
std::string make_tar(const std::vector<TarEntry>& entries);

// A host file as an entry at `path`, keeping its permission bits. Throws
// Error(io) when it cannot be read.
TarEntry tar_file_from_host(const std::string& host_path, const std::string& path);

}  // namespace sctrace::container
