#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
namespace fs = std::filesystem;

using sctrace::test::slurp;
using sctrace::test::TempDir;

TEST_CASE("atomic writes replace the file whole and leave no temp files", "[atomic]") {
  TempDir d;
  auto p = (d.path / "p.json").string();
  write_file_atomic(p, "one\n");
  write_file_atomic(p, "two\n");
  CHECK(slurp(p) == "two\n");
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1);
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("a failed write leaves the previous file untouched", "[atomic]") {
  TempDir d;
  auto p = (d.path / "p.json").string();
  write_file_atomic(p, "old\n");
  CHECK_THROWS_AS(write_file_atomic((d.path / "missing" / "p.json").string(), "x"), Error);
  if (::geteuid() != 0) {  // root ignores directory permissions
    ::chmod(d.path.c_str(), 0500);
    CHECK_THROWS_AS(write_file_atomic(p, "new\n"), Error);
    ::chmod(d.path.c_str(), 0700);
  }
  CHECK(slurp(p) == "old\n");
  CHECK_THROWS_AS(check_writable((d.path / "missing" / "p.json").string()), Error);
  CHECK_THROWS_AS(check_writable(d.path.string()), Error);
}

TEST_CASE("devices are written in place, never replaced", "[atomic]") {
  // Renaming over /dev/null as root would turn it into a regular file.
  check_writable("/dev/null");
  write_file_atomic("/dev/null", "discarded\n");
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("read_file refuses files over the limit", "[atomic]") {
  TempDir d;
  auto p = (d.path / "big").string();
  write_file_atomic(p, std::string(1000, 'x'));
  CHECK(read_file(p).size() == 1000);
  CHECK_THROWS_AS(read_file(p, 100), Error);
  CHECK_THROWS_AS(read_file((d.path / "nope").string()), Error);
}

TEST_CASE("a FIFO at the path is written while read, replaced when nobody reads it", "[atomic]") {
  TempDir d;
  auto p = (d.path / "out.json").string();
  REQUIRE(::mkfifo(p.c_str(), 0644) == 0);
  // Nobody reads it: it used to block forever; now it is replaced by a file.
  write_file_atomic(p, "x\n");
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(slurp(p) == "x\n");
  // With a reader it is written through.
  auto q = (d.path / "read.json").string();
  REQUIRE(::mkfifo(q.c_str(), 0644) == 0);
  int rfd = ::open(q.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(rfd >= 0);
  write_file_atomic(q, "y\n");
  char buf[8] = {};
  CHECK(::read(rfd, buf, sizeof buf) == 2);
  ::close(rfd);
  REQUIRE(::lstat(q.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("check_writable fails where the write would, before anything runs", "[atomic]") {
  TempDir d;
  std::string message;
  // The temp name (".NAME.sctrace-XXXXXX") is 16 bytes longer than NAME.
  CHECK(test::kind_of([&] { check_writable((d.path / std::string(245, 'c')).string()); }, &message) ==
        ErrorKind::io);
  CHECK(message.find("too long") != std::string::npos);
  // A file where a directory should be.
  auto f = (d.path / "p.json").string();
  write_file_atomic(f, "{}");
  CHECK(test::kind_of([&] { check_writable(f + "/x.json"); }, &message) == ErrorKind::io);
  CHECK(message.find("Not a directory") != std::string::npos);
  CHECK(test::kind_of([&] { check_writable("/proc/sctrace-nothing"); }, &message) == ErrorKind::io);
  CHECK(test::kind_of([&] { check_writable(""); }, &message) == ErrorKind::usage);
  // Nothing is left behind by the checks.
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1);
}
