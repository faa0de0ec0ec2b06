#pragma once
// Fixtures several unit test files need: a private temp directory removed
// whole, reading a file back, the ErrorKind a call throws, and whether
// this kernel runs `int $0x80` from a 64-bit process.
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "core/error.h"

namespace sctrace::test {

// mkdtemp under $TMPDIR (or /tmp); removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sctrace-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
};

// The whole file ("" when it cannot be opened).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), {}};
}

// The kind of the sctrace::Error f throws (message receives its text); a
// test failure when f throws nothing.
inline ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("expected an sctrace::Error");
  return ErrorKind::runtime;
}

// Whether this kernel runs `int $0x80` from a 64-bit process: a forked
// child makes i386 getpid (20) through the gate and compares it with getpid.
// With 32-bit emulation off at run time (ia32_emulation=0, confidential
// guests) the instruction raises a general protection fault before any
// syscall or seccomp filter sees it, and the child dies of SIGSEGV.
inline bool kernel_runs_int80() {
#if defined(__x86_64__)
  static const bool runs = [] {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      long r;
      __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
      ::_exit(r == ::getpid() ? 0 : 1);
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0)
      if (errno != EINTR) return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }();
  return runs;
#else
  return false;
#endif
}

// True (with a visible warning) when the part of a test that executes
// `int $0x80` must be skipped because kernel_runs_int80() says no.
inline bool int80_refused() {
  if (kernel_runs_int80()) return false;
  WARN("skipped: this kernel refuses int $0x80 (32-bit emulation off)");
  return true;
}

}  // namespace sctrace::test
