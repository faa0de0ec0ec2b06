// parse_workload (session/workload.h): the argv after "--", told apart once.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "session/workload.h"

using namespace sctrace;

namespace {
WorkloadKind kind(std::vector<std::string> argv) { return parse_workload(std::move(argv)).kind; }
}  // namespace

TEST_CASE("a workload is a local command unless it is a container line or a runc bundle", "[workload]") {
  CHECK(kind({"true"}) == WorkloadKind::local);
  CHECK(kind({"/bin/sh", "-c", "docker run alpine"}) == WorkloadKind::local);
  // The engines' other subcommands are local commands: traced like any other.
  CHECK(kind({"docker", "ps"}) == WorkloadKind::local);
  CHECK(kind({"podman", "build", "."}) == WorkloadKind::local);
  CHECK(kind({"docker"}) == WorkloadKind::local);
  CHECK(kind({"docker", "container", "ls"}) == WorkloadKind::local);
}

TEST_CASE("docker and podman lines, by argv[0]'s basename and the run subcommand", "[workload]") {
  CHECK(kind({"docker", "run", "--rm", "alpine", "true"}) == WorkloadKind::docker_line);
  CHECK(kind({"/usr/bin/docker", "run", "alpine"}) == WorkloadKind::docker_line);
  CHECK(kind({"docker", "container", "run", "alpine"}) == WorkloadKind::docker_line);
  CHECK(kind({"podman", "run", "--rm", "alpine", "true"}) == WorkloadKind::podman_line);
  CHECK(kind({"/usr/bin/podman", "container", "run", "alpine"}) == WorkloadKind::podman_line);
  // Global options before "run" are not understood: such a line is a local command.
  CHECK(kind({"docker", "--host", "unix:///x.sock", "run", "alpine"}) == WorkloadKind::local);
  const Workload w = parse_workload({"podman", "run", "alpine"});
  CHECK(w.container_line());
  CHECK(w.argv == std::vector<std::string>{"podman", "run", "alpine"});
  CHECK(parse_workload({"docker", "run", "alpine"}).container_line());
  CHECK_FALSE(parse_workload({"runc", "run", "c1"}).container_line());
  CHECK_FALSE(parse_workload({"true"}).container_line());
}

TEST_CASE("runc and crun with a run anywhere after argv[0] are bundles", "[workload]") {
  CHECK(kind({"runc", "run", "c1"}) == WorkloadKind::runc_bundle);
  CHECK(kind({"/usr/sbin/runc", "--root", "/run/r", "run", "-b", "/b", "c1"}) == WorkloadKind::runc_bundle);
  CHECK(kind({"crun", "run", "--bundle", "/b", "c1"}) == WorkloadKind::runc_bundle);
  CHECK(kind({"runc", "list"}) == WorkloadKind::local);
  CHECK(kind({"runc"}) == WorkloadKind::local);
  CHECK(kind({"runsc", "run", "c1"}) == WorkloadKind::local);
}

TEST_CASE("the bare-argv questions agree with the parsed kind", "[workload]") {
  const std::vector<std::string> podman = {"podman", "run", "alpine"};
  const std::vector<std::string> docker = {"docker", "run", "alpine"};
  const std::vector<std::string> runc = {"runc", "run", "c1"};
  CHECK(is_container_line(podman));
  CHECK(is_container_line(docker));
  CHECK_FALSE(is_container_line(runc));
  CHECK(is_podman_line(podman));
  CHECK_FALSE(is_podman_line(docker));
  CHECK(is_podman_line({"podman", "ps"}));  // argv[0] only: callers ask it of container lines
  CHECK_FALSE(is_podman_line({}));
  CHECK(is_runc_line(runc));
  CHECK_FALSE(is_runc_line(docker));
}
