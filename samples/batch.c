// batch: a short job. Writes a few files under /tmp (under /data with
// --write-outside), reads them back, prints a checksum of what it read
// and exits 0. The content and so the checksum are the same on every run.
#include "common.h"

#define FILES 4
#define FILE_SIZE 8192

static uint64_t fnv1a(uint64_t h, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int main(int argc, char** argv) {
  const char* dir = sample_has_flag(argc, argv, "--write-outside") ? "/data" : "/tmp";
  // A FROM-scratch image has neither directory.
  if (syscall(SYS_mkdirat, AT_FDCWD, dir, 01777) != 0 && errno != EEXIST) sample_die("mkdirat");

  static unsigned char data[FILE_SIZE], back[FILE_SIZE];
  long pid = syscall(SYS_getpid);
  uint64_t sum = 1469598103934665603ULL;
  for (int f = 0; f < FILES; ++f) {
    for (size_t i = 0; i < FILE_SIZE; ++i) data[i] = (unsigned char)((i * 31 + (size_t)f * 7) ^ (i >> 5));
    char path[128];
    snprintf(path, sizeof path, "%s/sctrace-batch-%ld-%d", dir, pid, f);
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) sample_die("openat for writing");
    if (sample_write_all((int)fd, (const char*)data, FILE_SIZE) != 0) sample_die("write");
    if (syscall(SYS_fsync, fd) != 0) sample_die("fsync");
    if (syscall(SYS_close, fd) != 0) sample_die("close");

    fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) sample_die("openat for reading");
    size_t got = 0;
    while (got < FILE_SIZE) {
      long n = syscall(SYS_read, fd, back + got, FILE_SIZE - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) sample_die("read");
      got += (size_t)n;
    }
    syscall(SYS_close, fd);
    if (memcmp(data, back, FILE_SIZE) != 0) {
      errno = EIO;
      sample_die("read back different data");
    }
    sum = fnv1a(sum, back, FILE_SIZE);
    if (syscall(SYS_unlinkat, AT_FDCWD, path, 0) != 0) sample_die("unlinkat");
  }
  char msg[128];
  int n = snprintf(msg, sizeof msg, "batch: checksum %016llx (%d files of %d bytes in %s)\n",
                   (unsigned long long)sum, FILES, FILE_SIZE, dir);
  if (n > 0) sample_write_all(1, msg, (size_t)n);
  sample_finish(argc, argv);
  return 0;
}
