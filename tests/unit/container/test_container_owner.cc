// The owner label on containers sctrace creates, and when its owner counts as gone.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "tracer/container/engine.h"

using namespace sctrace::container;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t slash; (slash = s.find('/', from)) != std::string::npos; from = slash + 1)
    out.push_back(s.substr(from, slash - from));
  out.push_back(s.substr(from));
  return out;
}

}  // namespace

TEST_CASE("owner label: this process, four non-empty parts, not gone") {
  std::string v = owner_label_value();
  auto parts = split(v);
  REQUIRE(parts.size() == 4);
  for (const auto& p : parts) CHECK(!p.empty());
  CHECK(parts[2] == std::to_string(::getpid()));
  CHECK_FALSE(owner_gone(v));
}

TEST_CASE("owner label: a reaped process is gone, a reused pid too") {
  auto parts = split(owner_label_value());
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  // The child's own value: same boot and namespace, its pid and start time.
  std::string stat_path = "/proc/" + std::to_string(child) + "/stat";
  std::string value;
  {
    // Ask through the public function's format: our value with the child's pid
    // and start time is not gone while the child lives.
    FILE* f = std::fopen(stat_path.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096] = {};
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string stat(buf, n);
    std::string rest = stat.substr(stat.rfind(')') + 2);
    std::vector<std::string> fields;
    size_t from = 0;
    for (size_t sp; (sp = rest.find(' ', from)) != std::string::npos; from = sp + 1)
      fields.push_back(rest.substr(from, sp - from));
    REQUIRE(fields.size() > 19);
    value = parts[0] + "/" + parts[1] + "/" + std::to_string(child) + "/" + fields[19];
  }
  CHECK_FALSE(owner_gone(value));
  // The same pid with another start time is another process: the owner is gone.
  CHECK(owner_gone(parts[0] + "/" + parts[1] + "/" + std::to_string(child) + "/1"));
  ::kill(child, SIGKILL);
  int st;
  REQUIRE(::waitpid(child, &st, 0) == child);
  CHECK(owner_gone(value));
}

TEST_CASE("owner label: another boot, another pid namespace or garbage is never gone") {
  auto parts = split(owner_label_value());
  CHECK_FALSE(owner_gone("00000000-0000-0000-0000-000000000000/" + parts[1] + "/999999999/5"));
  CHECK_FALSE(owner_gone(parts[0] + "/1/999999999/5"));
  CHECK_FALSE(owner_gone(""));
  CHECK_FALSE(owner_gone("garbage"));
  CHECK_FALSE(owner_gone(parts[0] + "/" + parts[1] + "/notapid/5"));
  CHECK_FALSE(owner_gone(parts[0] + "/" + parts[1] + "/999999999"));
}
