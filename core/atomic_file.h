#pragma once
#include <string>
#include <string_view>

namespace sctrace {

// Writes `data` to `path` so that readers see either the old file or the whole
// new one: a temp file (O_EXCL, same directory) is written, fsynced and renamed
// over `path`. On failure the temp file is removed and an io Error is thrown.
void write_file_atomic(const std::string& path, std::string_view data);

// Fails early (io Error) when `path` could not be written later: its directory
// is missing or not writable. Lets `run` refuse before tracing anything.
void check_writable(const std::string& path);

// Reads a whole file (io Error naming the path on failure). Files larger than
// `max_bytes` are rejected instead of read.
std::string read_file(const std::string& path, size_t max_bytes = 64u << 20);

}  // namespace sctrace
