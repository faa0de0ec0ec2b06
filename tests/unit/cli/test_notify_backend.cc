// The notify backend's pieces that need no container: the seccomp agent's
// message parsing, the agent socket's lifetime, the notify-everything filter,
// and --backend parsing.
#include <linux/audit.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "profile/filter.h"
#include "tracer/container/listener.h"
#include "tracer/notify.h"
#include "tracer/notify_tracer.h"

using namespace sctrace;

TEST_CASE("seccomp agent: the released runtime-spec state names the fd in \"fds\"") {
  container::AgentConnection c;
  std::string s = R"({"ociVersion":"1.0.2","fds":["pidFd","seccompFd"],"pid":4422,"metadata":"x",
                      "state":{"ociVersion":"1.0.2","id":"abc","status":"creating","pid":4422,"bundle":"/b"}})";
  CHECK(container::parse_agent_state(s, c) == 1);
  CHECK(c.pid == 4422);
  CHECK(c.container_id == "abc");
}

TEST_CASE("seccomp agent: the draft state's fdIndexes map is understood") {
  container::AgentConnection c;
  CHECK(container::parse_agent_state(R"({"ociVersion":"1.0.2-dev","fdIndexes":{"seccompFd":0},"pid":7})", c) == 0);
  CHECK(c.pid == 7);
}

TEST_CASE("seccomp agent: no seccompFd or no JSON is an error") {
  container::AgentConnection c;
  CHECK_THROWS_AS(container::parse_agent_state(R"({"fds":["pidFd"],"pid":1})", c), Error);
  CHECK_THROWS_AS(container::parse_agent_state("not json", c), Error);
}

TEST_CASE("seccomp agent: a private socket directory, removed afterwards") {
  std::string path;
  {
    container::SeccompAgent agent;
    path = agent.socket_path();
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    std::string dir = path.substr(0, path.rfind('/'));
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }
  CHECK(::access(path.c_str(), F_OK) != 0);
  CHECK(::access(path.substr(0, path.rfind('/')).c_str(), F_OK) != 0);
}

TEST_CASE("notify backend: the filter notifies native, x86 and x32 syscalls and other arches") {
  std::vector<sock_filter> prog = notify_everything_filter();
  auto verdict = [&](uint32_t arch, int nr) {
    seccomp_data d{};
    d.arch = arch;
    d.nr = nr;
    return run_filter(prog, d) & SECCOMP_RET_ACTION_FULL;
  };
  CHECK(verdict(AUDIT_ARCH_X86_64, SYS_getpid) == SECCOMP_RET_USER_NOTIF);
  CHECK(verdict(AUDIT_ARCH_I386, 20) == SECCOMP_RET_USER_NOTIF);
  CHECK(verdict(AUDIT_ARCH_X86_64, 0x40000000 | 39) == SECCOMP_RET_USER_NOTIF);
  CHECK(verdict(AUDIT_ARCH_AARCH64, 172) == SECCOMP_RET_USER_NOTIF);
}
