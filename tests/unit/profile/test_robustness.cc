// Robustness (issue 8): files sctrace writes and reads where the workload may
// have planted something, and inputs the fuzzers (fuzz/) found crashing.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
namespace fs = std::filesystem;

using sctrace::test::kind_of;
using sctrace::test::slurp;
using sctrace::test::TempDir;

TEST_CASE("a symlink planted at the output path is replaced, never followed", "[atomic][security]") {
  TempDir d;
  auto victim = d.path / "victim";
  { std::ofstream(victim) << "precious\n"; }
  auto out = d.path / "p.json";
  fs::create_symlink(victim, out);
  write_file_atomic(out.string(), "profile\n");
  CHECK(slurp(victim) == "precious\n");
  CHECK(fs::is_regular_file(fs::symlink_status(out)));
  CHECK(slurp(out) == "profile\n");
}

TEST_CASE("a symlink to a FIFO at the output path is replaced, not opened", "[atomic][security]") {
  // Opening the FIFO for writing would block forever (nobody reads it).
  TempDir d;
  auto fifo = d.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto out = d.path / "p.json";
  fs::create_symlink(fifo, out);
  check_writable(out.string());
  write_file_atomic(out.string(), "profile\n");
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(fs::is_regular_file(fs::symlink_status(out)));
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 2);
}

TEST_CASE("/dev/stdout-style symlinks under /dev are written through, never replaced", "[atomic]") {
  // `-o /dev/stdout > file` as root: /dev/stdout -> /proc/self/fd/1 -> the
  // file. Replacing the link would break /dev for everyone; following it is
  // what the user asked for. A link of our own under /dev stands in for it.
  if (::geteuid() != 0) return;  // cannot create one in /dev
  TempDir d;
  auto target = d.path / "redirected.json";
  { std::ofstream(target) << "old content that is longer\n"; }
  std::string link = "/dev/sctrace-unit-" + std::to_string(::getpid());
  fs::create_symlink(target, link);
  write_file_atomic(link, "new\n");
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(slurp(target) == "new\n");
  fs::remove(link);
}

TEST_CASE("read_regular_file refuses symlinks, FIFOs and devices", "[atomic][security]") {
  TempDir d;
  auto good = d.path / "r.json";
  { std::ofstream(good) << "{}"; }
  CHECK(read_regular_file(good.string()) == "{}");
  auto link = d.path / "link.json";
  fs::create_symlink(good, link);
  CHECK(kind_of([&] { read_regular_file(link.string()); }) == ErrorKind::input);
  auto fifo = d.path / "fifo.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(kind_of([&] { read_regular_file(fifo.string()); }) == ErrorKind::input);  // and does not block
  CHECK(kind_of([&] { read_regular_file("/dev/zero"); }) == ErrorKind::input);
  CHECK(read_file(link.string()) == "{}");  // the ordinary reader still follows (--template /dev/stdin)
}

TEST_CASE("read_file caps what it reads even when the size is not known up front", "[atomic]") {
  // /dev/zero never ends and has no size: the cap must stop it.
  CHECK(kind_of([] { read_file("/dev/zero", 1 << 20); }) == ErrorKind::input);
}

// ---- reproducers of what fuzz/ found -----------------------------------------------

TEST_CASE("fuzz_profile: a number too large for a double is an input error, not a crash", "[fuzz][profile]") {
  // nlohmann throws out_of_range (406), not parse_error, for 1e400: it used
  // to escape parse_profile as a foreign exception.
  CHECK(kind_of([] { parse_profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1e400})", "t"); }) ==
        ErrorKind::input);
  CHECK(kind_of([] { parse_profile("[1e400]", "t"); }) == ErrorKind::input);
}

TEST_CASE("fuzz_recording: a number too large for a double is an input error, not a crash", "[fuzz][recording]") {
  CHECK(kind_of([] { recording_from_json(R"({"sctrace_recording": 1e400, "syscalls": {}})", "t"); }) ==
        ErrorKind::input);
}
