// run --static's session step: what it looks at, and what it leaves alone.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "session/static_completion.h"

using namespace sctrace;

TEST_CASE("complete_statically: a local workload's exec'd files and stack modules are looked at", "[static]") {
  const auto cache = std::filesystem::temp_directory_path() / ("sctrace-static-session-" + std::to_string(getpid()));
  setenv("SCTRACE_CACHE_DIR", cache.c_str(), 1);
  Recording rec;
  rec.execs = {std::string(SCTRACE_SAMPLES_DIR) + "/lazy_sleep"};
  ArgClass c;
  c.stacks.push_back({"x", {{"/lib/x86_64-linux-gnu/libc.so.6", "", "", 0, 0}, {"[vdso]", "", "", 0, 0}}});
  rec.syscalls[arch::native()]["write"].classes.push_back(c);
  const std::vector<std::string> roots = loaded_roots(rec);
  CHECK(roots == std::vector<std::string>{rec.execs.begin()->c_str(), "/lib/x86_64-linux-gnu/libc.so.6"});

  std::vector<std::string> said;
  complete_statically(rec, Workload{WorkloadKind::local, {"lazy_sleep"}}, StaticMode::benign,
                      [&](const std::string& l) { said.push_back(l); });
  CHECK(rec.static_reach[arch::native()].count("clock_nanosleep") == 1);
  CHECK(std::any_of(said.begin(), said.end(), [](const std::string& l) { return l.find("took") != std::string::npos; }));
  unsetenv("SCTRACE_CACHE_DIR");
  std::filesystem::remove_all(cache);
}

TEST_CASE("complete_statically: a bundle's or container's files are not the host's: not looked at", "[static]") {
  Recording rec;
  rec.execs = {std::string(SCTRACE_SAMPLES_DIR) + "/lazy_sleep"};
  std::vector<std::string> said;
  complete_statically(rec, Workload{WorkloadKind::runc_bundle, {"runc", "run", "x"}}, StaticMode::benign,
                      [&](const std::string& l) { said.push_back(l); });
  CHECK(rec.static_reach.empty());
  REQUIRE(said.size() == 1);
  CHECK(said[0].find("static completion: not done") == 0);
  said.clear();
  complete_statically(rec, Workload{WorkloadKind::local, {"lazy_sleep"}}, StaticMode::off,
                      [&](const std::string& l) { said.push_back(l); });
  CHECK(said.empty());
  CHECK(rec.static_reach.empty());
}
