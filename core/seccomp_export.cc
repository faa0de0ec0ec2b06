#include "core/seccomp_export.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/unique_fd.h"

namespace sctrace {

std::vector<sock_filter> export_bpf(void* ctx) {
  // libseccomp only exports to an fd; a memfd keeps it off the file system.
  UniqueFd fd(::memfd_create("sctrace-bpf", MFD_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::runtime, errno, "memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) fail(ErrorKind::runtime, "libseccomp could not generate the filter: {}", std::strerror(-rc));
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    fail(ErrorKind::runtime, "libseccomp exported a truncated filter");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* p = reinterpret_cast<char*>(prog.data());
  size_t done = 0, want = static_cast<size_t>(size);
  while (done < want) {
    ssize_t n = ::pread(fd.get(), p + done, want - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(ErrorKind::runtime, n < 0 ? errno : EIO, "reading the exported filter");
    done += static_cast<size_t>(n);
  }
  return prog;
}

}  // namespace sctrace
