// The owner a temp directory's name records, and when the next run removes it.
#include "tracer/temp_dir.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

using namespace sctrace;

TEST_CASE("temp dir names record their owner", "[temp_dir]") {
  auto o = parse_owned_temp_dir_name("sctrace-4026531836-1234-98765-aB3xYz");
  REQUIRE(o);
  CHECK(o->pid_namespace == "4026531836");
  CHECK(o->pid == 1234);
  CHECK(o->start_time == 98765);
  auto a = parse_owned_temp_dir_name("sctrace-agent-4026531836-1234-98765-aB3xYz");
  REQUIRE(a);
  CHECK(a->pid == 1234);
  CHECK(parse_owned_temp_dir_name("sctrace-calibrate-1-2-3-abcdef"));
}

TEST_CASE("names not of sctrace's shape are never touched", "[temp_dir]") {
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-aB3xYz"));  // the old, ownerless shape
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-agent-aB3xYz"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctracex-1-2-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-1-2-3-abcde"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-1-x-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-1-0-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-Agent-1-2-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name("sctrace-a-b-1-2-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name("other-1-2-3-abcdef"));
  CHECK_FALSE(parse_owned_temp_dir_name(""));
}

TEST_CASE("a temp dir's owner is gone only when its process is", "[temp_dir]") {
  TempDirOwner o{"42", 1234, 500};
  CHECK(temp_dir_owner_gone(o, "42", std::nullopt));           // no such pid
  CHECK(temp_dir_owner_gone(o, "42", ProcStat{.ppid = 1, .start_time = 501}));       // pid reused later
  CHECK_FALSE(temp_dir_owner_gone(o, "42", ProcStat{.ppid = 1, .start_time = 500}));  // alive
  CHECK_FALSE(temp_dir_owner_gone(o, "43", std::nullopt));     // another pid namespace's
  CHECK_FALSE(temp_dir_owner_gone(TempDirOwner{"", 1234, 500}, "", std::nullopt));
}

TEST_CASE("the sweep removes a dead owner's dir and keeps a live one's", "[temp_dir]") {
  namespace fs = std::filesystem;
  std::string mine = make_owned_temp_dir("test");
  // A child's directory, the child then reaped: its owner is gone.
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string d = make_owned_temp_dir("test");
    (void)!::write(pipefd[1], d.data(), d.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char buf[512];
  ssize_t n = ::read(pipefd[0], buf, sizeof buf);
  ::close(pipefd[0]);
  int st = 0;
  REQUIRE(::waitpid(child, &st, 0) == child);
  REQUIRE(n > 0);
  std::string dead(buf, static_cast<size_t>(n));
  REQUIRE(fs::is_directory(dead));
  auto removed = remove_orphaned_temp_dirs();
  CHECK(std::find(removed.begin(), removed.end(), dead) != removed.end());
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::is_directory(mine));
  fs::remove_all(mine);
}
