// Which local backend `auto` picks, and which engines hand listenerPath on
// (moved from test_notify.cc: these are cli/ decisions).
#include <catch2/catch.hpp>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/backend.h"
#include "core/error.h"
#include "tracer/notify.h"

using namespace sctrace;

TEST_CASE("backend auto: notify where the kernel can continue notified syscalls, else ptrace", "[notify][backend]") {
  const NotifyCaps full{true, true, true};
  const NotifyCaps no_sync{true, true, false};
  const NotifyCaps no_continue{true, false, false};
  const NotifyCaps none{};

  auto c = cli::decide_local_backend("auto", full, true);
  CHECK(c.name == "notify");
  CHECK_THAT(c.why, Catch::StartsWith("auto: ") && Catch::Contains("synchronous wake-up"));
  c = cli::decide_local_backend("auto", no_sync, true);
  CHECK(c.name == "notify");  // one stop per syscall still beats ptrace's two
  CHECK_THAT(c.why, Catch::Contains("no synchronous wake-up"));
  c = cli::decide_local_backend("auto", full, false);
  CHECK_THAT(c.why, Catch::Contains("no_new_privs"));
  CHECK(cli::decide_local_backend("auto", no_continue, true).name == "ptrace");
  // --ptrace-stops belongs to the ptrace backend: with notify asked for, it is refused, not ignored.
  CHECK_THROWS_AS(cli::decide_local_backend("notify", full, true, "two"), Error);
  CHECK(cli::decide_local_backend("auto", full, true, "two").name == "ptrace");
  CHECK(cli::decide_local_backend("auto", none, true).name == "ptrace");
  CHECK_THAT(cli::decide_local_backend("auto", none, true).why, Catch::Contains("no seccomp user notification"));
  // Asking for ptrace stops is asking for ptrace.
  c = cli::decide_local_backend("auto", full, true, "one");
  CHECK(c.name == "ptrace");
  CHECK_THAT(c.why, Catch::Contains("--ptrace-stops one"));

  CHECK(cli::decide_local_backend("ptrace", full, true).name == "ptrace");
  CHECK(cli::decide_local_backend("notify", no_sync, true).name == "notify");
  try {
    cli::decide_local_backend("notify", no_continue, true);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
  }
  try {
    cli::decide_local_backend("seccomp", full, true);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

TEST_CASE("docker passes listenerPath from API 1.42 (Docker 23) on", "[notify][backend]") {
  std::string why;
  CHECK_FALSE(cli::engine_passes_listener_path({{"Version", "20.10.24+dfsg1"}, {"ApiVersion", "1.41"}}, why));
  CHECK_THAT(why, Catch::Contains("20.10.24+dfsg1") && Catch::Contains("drops listenerPath"));
  CHECK(cli::engine_passes_listener_path({{"Version", "23.0.1"}, {"ApiVersion", "1.42"}}, why));
  CHECK_THAT(why, Catch::Contains("passes listenerPath"));
  CHECK(cli::engine_passes_listener_path({{"Version", "27.3.1"}, {"ApiVersion", "1.47"}}, why));
  CHECK(cli::engine_passes_listener_path({{"Version", "24.0.0"}}, why));
  CHECK_FALSE(cli::engine_passes_listener_path({{"Version", "19.03.1"}}, why));
  CHECK_FALSE(cli::engine_passes_listener_path(nlohmann::json::object(), why));
  CHECK_FALSE(cli::engine_passes_listener_path(nlohmann::json(), why));
}
