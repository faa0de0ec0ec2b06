// Where the guardian's cgroup goes (tracer/guardian.h): the mounts and
// memberships it reads, and the pid lists it kills from.
#include "tracer/guardian.h"

#include <catch2/catch.hpp>

using namespace sctrace;

namespace {

// A hybrid host: v1 controllers and the v2 hierarchy beside them.
constexpr const char* kMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 30 0:32 / /sys/fs/cgroup/freezer rw,relatime shared:7 - cgroup cgroup rw,freezer\n"
    "36 30 0:33 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

constexpr const char* kProcSelfCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "6:freezer:/ci/job7\n"
    "4:memory:/process_api/a7c0\n"
    "1:cpu,cpuacct:/\n"
    "0::/user.slice/session-2.scope\n";

}  // namespace

TEST_CASE("guardian: the cgroup mounts come from mountinfo", "[guardian]") {
  auto v2 = find_cgroup_mount(kMountinfo, "");
  REQUIRE(v2);
  CHECK(v2->mount_point == "/sys/fs/cgroup/unified");
  CHECK(v2->root == "/");
  auto freezer = find_cgroup_mount(kMountinfo, "freezer");
  REQUIRE(freezer);
  CHECK(freezer->mount_point == "/sys/fs/cgroup/freezer");
  CHECK_FALSE(find_cgroup_mount(kMountinfo, "free"));  // whole controller names only
  CHECK_FALSE(find_cgroup_mount(kMountinfo, "devices"));
  CHECK_FALSE(find_cgroup_mount("", ""));
  // A pure v2 host.
  auto pure = find_cgroup_mount("25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "");
  REQUIRE(pure);
  CHECK(pure->mount_point == "/sys/fs/cgroup");
  CHECK_FALSE(find_cgroup_mount("25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "freezer"));
}

TEST_CASE("guardian: this process's cgroup per hierarchy", "[guardian]") {
  CHECK(own_cgroup_path(kProcSelfCgroup, "") == "/user.slice/session-2.scope");
  CHECK(own_cgroup_path(kProcSelfCgroup, "freezer") == "/ci/job7");
  CHECK(own_cgroup_path(kProcSelfCgroup, "cpuacct") == "/");
  CHECK_FALSE(own_cgroup_path(kProcSelfCgroup, "devices"));
  CHECK_FALSE(own_cgroup_path("6:freezer:/a\n", ""));  // no v2 line
  CHECK_FALSE(own_cgroup_path("garbage\n", "freezer"));
}

TEST_CASE("guardian: the cgroup's directory under its mount", "[guardian]") {
  CHECK(cgroup_dir({"/sys/fs/cgroup/freezer", "/"}, "/ci/job7") == "/sys/fs/cgroup/freezer/ci/job7");
  CHECK(cgroup_dir({"/sys/fs/cgroup/unified", "/"}, "/") == "/sys/fs/cgroup/unified");
  // A bind-mounted subtree (a container's view).
  CHECK(cgroup_dir({"/sys/fs/cgroup", "/docker/abc"}, "/docker/abc/x") == "/sys/fs/cgroup/x");
  CHECK(cgroup_dir({"/sys/fs/cgroup", "/docker/abc"}, "/docker/abc") == "/sys/fs/cgroup");
  CHECK_FALSE(cgroup_dir({"/sys/fs/cgroup", "/docker/abc"}, "/docker/abcd"));
  CHECK_FALSE(cgroup_dir({"/sys/fs/cgroup", "/docker/abc"}, "/other"));
  // Another cgroup namespace's view of a process outside it.
  CHECK_FALSE(cgroup_dir({"/sys/fs/cgroup", "/"}, "/../../init.scope"));
}

TEST_CASE("guardian: pid lists as cgroup.procs has them", "[guardian]") {
  pid_t out[8];
  const std::string text = "12\n3456\n7\n";
  REQUIRE(parse_pid_list(text.data(), text.size(), out, 8) == 3);
  CHECK(out[0] == 12);
  CHECK(out[1] == 3456);
  CHECK(out[2] == 7);
  // Cut off in the middle of a number (a full buffer): that one is left out.
  CHECK(parse_pid_list(text.data(), 6, out, 8) == 1);
  CHECK(parse_pid_list("", 0, out, 8) == 0);
  CHECK(parse_pid_list("1\n2\n3\n", 6, out, 2) == 2);  // at most max
  const std::string junk = "0\n99999999999999\n5\n";
  CHECK(parse_pid_list(junk.data(), junk.size(), out, 8) == 0);  // no pid list
}
