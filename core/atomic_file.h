#pragma once
#include <string>
#include <string_view>

namespace sctrace {

// Writes `data` to `path` so that readers see either the old file or the whole
// new one: a temp file (O_EXCL, same directory) is written, fsynced and renamed
// over `path`. On failure the temp file is removed and an io Error is thrown.
// A device, or a FIFO a reader holds open, at `path` is written in place; a symlink at `path` is
// replaced, not followed, unless it lives under /dev or /proc (/dev/stdout).
void write_file_atomic(const std::string& path, std::string_view data);
// Whether write_file_atomic writes `path` in place (a device, a FIFO, a /dev
// or /proc link such as /dev/stdout) rather than replacing it.
bool written_in_place(const std::string& path);

// Fails early (io Error) when `path` could not be written later: its directory
// is missing or not writable, the temp file's name would be too long, ... (the
// temp file is created and removed). Lets `run` refuse before tracing anything.
void check_writable(const std::string& path);

// The most read_file takes by default. Everything sctrace reads is small (the
// Docker default profile is 13 KB, a recording of a busy service a few
// hundred KB); the limit is about memory: nlohmann::json needs up to ~25
// bytes per input byte for a pathological document (a 60 MB array of
// one-letter strings peaked at 1.4 GB), so 16 MiB keeps the worst case near
// 400 MB.
inline constexpr size_t kMaxInputBytes = 16u << 20;

// Reads a whole file (io Error naming the path on failure). Files larger than
// `max_bytes` are rejected instead of read (input Error); a pipe or device is
// read only up to the limit.
std::string read_file(const std::string& path, size_t max_bytes = kMaxInputBytes);

// read_file for a file someone else may control (what a container wrote into
// its bind-mounted out dir): refuses a symlink (not followed) and anything
// that is not a regular file (a FIFO would block, a device never end), with
// an input Error.
std::string read_regular_file(const std::string& path, size_t max_bytes = kMaxInputBytes);

}  // namespace sctrace
