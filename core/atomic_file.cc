#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/error.h"
#include "core/unique_fd.h"

namespace sctrace {

namespace {
std::string dir_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}
}  // namespace

namespace {

void write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::io, errno, fmt::format("cannot write {}", path));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Devices and pipes (-o /dev/stdout, -o /dev/null) are written in place:
// renaming a temp file over them would replace the device node. A symlink is
// followed only when it lives in /dev or /proc (/dev/stdout ->
// /proc/self/fd/1 -> a pipe, a tty or the file the shell redirected to), and
// then always written through, never replaced. Anywhere else a symlink may
// have been planted by the workload (an output directory it can write, a
// container's bind-mounted out dir), and following it could write a profile
// into a FIFO (blocking), a disk or another file: it is replaced by the
// rename like any other file.
bool in_place(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec || (abs.rfind("/dev/", 0) != 0 && abs.rfind("/proc/", 0) != 0)) return false;
    return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
  }
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// A FIFO that sits at the path itself (not reached through a /dev
// or /proc link) is written only while a reader holds it open; otherwise it
// would block forever, after the workload ran: it is replaced instead.
UniqueFd open_in_place(const std::string& path) {
  struct stat st {};
  const bool own_fifo = ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  // O_TRUNC matters only when the link leads to a regular file (stdout
  // redirected to one); devices and pipes ignore it.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | (own_fifo ? O_NONBLOCK : 0)));
  if (!fd) {
    if (own_fifo && errno == ENXIO) return {};  // nobody reads it
    fail_errno(ErrorKind::io, errno, fmt::format("cannot write {}", path));
  }
  if (own_fifo) ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

std::string temp_template(const std::string& path) {
  return dir_of(path) + "/." + std::filesystem::path(path).filename().string() + ".sctrace-XXXXXX";
}

}  // namespace

bool written_in_place(const std::string& path) { return in_place(path); }

void write_file_atomic(const std::string& path, std::string_view data) {
  if (path.empty()) fail(ErrorKind::io, "cannot write to an empty file name");
  if (in_place(path)) {
    if (UniqueFd fd = open_in_place(path)) {
      write_all(fd.get(), data, path);
      return;
    }
  }
  std::string tmpl = temp_template(path);
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::io, errno, fmt::format("cannot write {}", path));
  auto cleanup_and_fail = [&](int err) {
    ::unlink(tmpl.c_str());
    fail_errno(ErrorKind::io, err, fmt::format("cannot write {}", path));
  };
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup_and_fail(errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // mkstemp creates 0600; profiles are not secret, give them the usual mode.
  if (::fchmod(fd.get(), 0644) != 0) cleanup_and_fail(errno);
  if (::fsync(fd.get()) != 0) cleanup_and_fail(errno);
  if (::close(fd.release()) != 0) cleanup_and_fail(errno);
  if (::rename(tmpl.c_str(), path.c_str()) != 0) cleanup_and_fail(errno);
}

void check_writable(const std::string& path) {
  if (path.empty()) fail(ErrorKind::usage, "an output file name is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail(ErrorKind::io, "cannot write {}: is a directory", path);
  if (in_place(path)) {
    if (::access(path.c_str(), W_OK) != 0) fail_errno(ErrorKind::io, errno, fmt::format("cannot write {}", path));
    return;
  }
  // The temp file the write will use, made and removed now: a name too long
  // for it, a read-only or pseudo file system (/proc), a file where a
  // directory should be all fail here, before the workload runs.
  std::string tmpl = temp_template(path);
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::io, errno, fmt::format("cannot write {}", path));
  ::unlink(tmpl.c_str());
}

namespace {

std::string read_fd(int fd, const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > max_bytes)
    fail(ErrorKind::input, "{}: file is too large ({} bytes, limit {})", path, st.st_size, max_bytes);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::io, errno, fmt::format("cannot read {}", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) fail(ErrorKind::input, "{}: file is too large (limit {} bytes)", path, max_bytes);
  }
  return out;
}

}  // namespace

std::string read_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::io, errno, fmt::format("cannot read {}", path));
  return read_fd(fd.get(), path, max_bytes);
}

std::string read_regular_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO planted under the name must not block either
  // (O_NOFOLLOW only refuses a symlink in the last component).
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    if (errno == ELOOP) fail(ErrorKind::input, "{}: is a symbolic link, not read", path);
    fail_errno(ErrorKind::io, errno, fmt::format("cannot read {}", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail_errno(ErrorKind::io, errno, fmt::format("cannot read {}", path));
  if (!S_ISREG(st.st_mode)) fail(ErrorKind::input, "{}: not a regular file, not read", path);
  return read_fd(fd.get(), path, max_bytes);
}

}  // namespace sctrace
