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
