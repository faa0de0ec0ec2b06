// Call-site attribution on the tracer side: our ELF reader, /proc/PID/maps,
// the symbolizer on this very process, and remote unwinding of a stopped child.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>

#include "tracer/unwind.h"

using namespace sctrace;

// Named, not inlined, external linkage: .symtab names them in this binary.
extern "C" __attribute__((noinline)) int sctrace_unwind_test_target(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}

extern "C" __attribute__((noinline)) void sctrace_unwind_test_stop_here() {
  ::raise(SIGSTOP);
  asm volatile("" ::: "memory");
}

namespace {

std::vector<uint8_t> self_image() {
  std::ifstream f("/proc/self/exe", std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool has_function(const std::vector<Frame>& frames, const std::string& name) {
  for (const auto& f : frames)
    if (f.function == name) return true;
  return false;
}

}  // namespace

TEST_CASE("our ELF reader finds this binary's functions and build-id", "[unwind]") {
  ElfSymbols e = read_elf_symbols("/proc/self/exe");
  REQUIRE(e.ok);
  CHECK_FALSE(e.loads.empty());
  CHECK_FALSE(e.syms.empty());
  // Debian's gcc links with --build-id (sha1: 20 bytes).
  CHECK(e.build_id.size() == 40);
  bool found = false;
  for (const auto& s : e.syms)
    if (s.name == "sctrace_unwind_test_target") {
      found = true;
      CHECK(s.size > 0);
      CHECK(e.find(s.addr) == &s);
      CHECK(e.find(s.addr + s.size - 1) == &s);
    }
  CHECK(found);
  // Sorted by address, no two at one address.
  for (size_t i = 1; i < e.syms.size(); ++i) CHECK(e.syms[i - 1].addr < e.syms[i].addr);
}

TEST_CASE("the ELF reader survives truncated and garbage images", "[unwind]") {
  std::vector<uint8_t> img = self_image();
  REQUIRE(img.size() > 4096);
  for (size_t n : {size_t{0}, size_t{3}, size_t{16}, size_t{64}, size_t{100}, size_t{4096}, img.size() / 2}) {
    ElfSymbols e = parse_elf_symbols(img.data(), n);
    CHECK(e.syms.size() <= 1000000);  // parsed or not, no crash
  }
  std::vector<uint8_t> junk(8192);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 131 + 7);
  CHECK_FALSE(parse_elf_symbols(junk.data(), junk.size()).ok);
  // A valid header whose section table points past the end.
  std::vector<uint8_t> bad(img.begin(), img.begin() + 4096);
  ElfSymbols e = parse_elf_symbols(bad.data(), bad.size());
  CHECK(e.ok);
  CHECK(e.syms.empty());
  CHECK(e.find(0x1000) == nullptr);
}

TEST_CASE("/proc/PID/maps lines parse, with and without paths", "[unwind]") {
  auto maps = parse_maps(
      "7f0000001000-7f0000002000 r-xp 00001000 08:01 1234    /usr/lib/libx.so (deleted)\n"
      "55550000-55551000 r--p 00000000 00:00 0 \n"
      "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                  [vdso]\n"
      "garbage line\n");
  REQUIRE(maps.size() == 3);
  CHECK(maps[0].start == 0x55550000);
  CHECK(maps[0].path.empty());
  CHECK(maps[1].exec);
  CHECK(maps[1].offset == 0x1000);
  CHECK(maps[1].inode == 1234);
  CHECK(maps[1].path == "/usr/lib/libx.so (deleted)");
  CHECK(maps[2].path == "[vdso]");
}

TEST_CASE("the symbolizer names a pc of this process with module and offset", "[unwind]") {
  Symbolizer sym;
  REQUIRE(sym.load_maps(::getpid()));
  auto pc = reinterpret_cast<uint64_t>(&sctrace_unwind_test_target) + 2;
  Frame f = sym.symbolize(::getpid(), pc, false);
  CHECK(f.function == "sctrace_unwind_test_target");
  CHECK(f.offset == 2);
  CHECK(f.build_id.size() == 40);
  CHECK_FALSE(f.module.empty());
  CHECK(format_frame(f).find("sctrace_unwind_test_target+0x2 (") == 0);
  // A return address is looked up one byte back (the call instruction).
  Frame r = sym.symbolize(::getpid(), pc, true);
  CHECK(r.function == "sctrace_unwind_test_target");
  CHECK(r.offset == 2);

  // An address in no mapping.
  Frame none = sym.symbolize(::getpid(), 8, false);
  CHECK(none.module.empty());
  CHECK(format_frame(none) == "??");
}

TEST_CASE("a frame without a symbol reads module+0xoffset", "[unwind]") {
  Frame f;
  f.module = "/lib/x.so";
  f.module_offset = f.offset = 0x1234;
  CHECK(format_frame(f) == "/lib/x.so+0x1234");
  f.function = "foo";
  f.offset = 0x10;
  CHECK(format_frame(f) == "foo+0x10 (/lib/x.so)");
}

TEST_CASE("remote unwinding of a stopped child names its functions", "[unwind]") {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    sctrace_unwind_test_stop_here();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSTOPPED(status));
  Unwinder u(16);
  std::vector<Frame> frames = u.capture(child, child, 0);
  CHECK(frames.size() >= 2);
  CHECK(frames.size() <= 16);
  CHECK(has_function(frames, "sctrace_unwind_test_stop_here"));
  // Stopped elsewhere than the caller expects: only the expected ip's frame.
  std::vector<Frame> other = u.capture(child, child, 0x10);
  CHECK(other.size() == 1);
  // Depth is bounded.
  Unwinder shallow(2);
  CHECK(shallow.capture(child, child, 0).size() <= 2);
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  // The task is gone: no crash, no stack beyond an unnamed ip.
  std::vector<Frame> gone = u.capture(child, child, 0x1234);
  CHECK(gone.size() <= 1);
  if (!gone.empty()) CHECK(format_frame(gone.front()) == "??");
}
