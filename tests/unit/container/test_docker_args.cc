#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/engine.h"
#include "tracer/container/tar.h"
#include "tests/unit/unit_helpers.h"

extern char** environ;

using namespace sctrace;
using namespace sctrace::container;
using V = std::vector<std::string>;

namespace {

// Excerpt of `docker run --help` from the Debian 20.10 client (wrapped
// descriptions, as docker prints them).
constexpr std::string_view kDockerHelp = R"(
Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]

Run a command in a new container

Options:
      --add-host list                  Add a custom host-to-IP mapping
      --cap-add list                   Add Linux capabilities
      --cap-drop list                  Drop Linux capabilities
      --cgroupns string                Cgroup namespace to use
                                       (host|private)
                                       'host':    Run the container in
                                       the Docker host's cgroup namespace
                                       '':        Use the cgroup
                                       namespace as configured by the
                                                  default-cgroupns-mode
                                       option on the daemon (default)
      --cidfile string                 Write the container ID to the file
      --cpus decimal                   Number of CPUs
  -d, --detach                         Run container in background and
                                       print container ID
      --detach-keys string             Override the key sequence for
                                       detaching a container
      --entrypoint string              Overwrite the default ENTRYPOINT
                                       of the image
  -e, --env list                       Set environment variables
      --help                           Print usage
  -h, --hostname string                Container host name
      --init                           Run an init inside the container
                                       that forwards signals and reaps
                                       processes
  -i, --interactive                    Keep STDIN open even if not attached
  -l, --label list                     Set meta data on a container
  -m, --memory bytes                   Memory limit
      --name string                    Assign a name to the container
      --network network                Connect a container to a network
      --pids-limit int                 Tune container pids limit (set
                                       -1 for unlimited)
      --platform string                Set platform if server is
                                       multi-platform capable
      --privileged                     Give extended privileges to this
                                       container
  -p, --publish list                   Publish a container's port(s) to
                                       the host
  -P, --publish-all                    Publish all exposed ports to
                                       random ports
      --rm                             Automatically remove the container
                                       when it exits
      --security-opt list              Security Options
      --sig-proxy                      Proxy received signals to the
                                       process (default true)
  -t, --tty                            Allocate a pseudo-TTY
  -u, --user string                    Username or UID (format:
                                       <name|uid>[:<group|gid>])
  -v, --volume list                    Bind mount a volume
  -w, --workdir string                 Working directory inside the container
)";

// Excerpt of podman 4.3's `run --help` (one line per flag, odd type names,
// trailing blanks after an empty description), plus a type with a blank as
// pflag prints it for a `backquoted` usage word.
constexpr std::string_view kPodmanHelp =
    "Run a command in a new container\n\nDescription:\n  Runs a command in a new container from the given image\n\n"
    "Usage:\n  podman run [options] IMAGE [COMMAND [ARG...]]\n\nExamples:\n"
    "  podman run imageID ls -alF /etc\n  podman run --network=host imageID dnf -y install java\n\n"
    "Options:\n"
    "      --blkio-weight-device DEVICE_NAME:WEIGHT   Block IO weight (relative device weight)\n"
    "  -d, --detach                                   Run container in background and print container ID\n"
    "      --detach-keys [a-Z]                        Override the key sequence for detaching a container\n"
    "  -e, --env stringArray                          Set environment variables in container\n"
    "      --help                                     \n"
    "  -i, --interactive                              Keep STDIN open even if not attached\n"
    "      --memory-reservation <number>[<unit>]      Memory soft limit\n"
    "      --odd some thing                           A type with a blank\n"
    "      --passwd                                   add entries to /etc/passwd and /etc/group (default true)\n"
    "      --rm                                       Remove container (and pod if created) after exit\n"
    "      --rmi                                      Remove container image unless used by other containers\n"
    "  -t, --tty                                      Allocate a pseudo-TTY for container\n";

using sctrace::test::kind_of;

DockerRun parse(const V& argv) { return parse_docker_run(argv, kDockerHelp); }

std::string usage_error(const V& argv) {
  std::string msg;
  CHECK(kind_of([&] { parse(argv); }, &msg) == ErrorKind::usage);
  CHECK(msg.find('\n') == std::string::npos);
  return msg;
}

// Every distinct executable called `name` on PATH.
V on_path(const std::string& name) {
  V out, real;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t colon = p.find(':', pos);
    std::string dir = p.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    pos = colon == std::string::npos ? p.size() + 1 : colon + 1;
    std::string f = (dir.empty() ? "." : dir) + "/" + name;
    if (access(f.c_str(), X_OK) != 0) continue;
    char buf[4096];
    std::string r = realpath(f.c_str(), buf) ? buf : f;
    if (std::find(real.begin(), real.end(), r) != real.end()) continue;
    real.push_back(r);
    out.push_back(f);
  }
  return out;
}

struct Ran {
  int status = -1;
  std::string out, err;
};

// Runs argv (no shell), collecting stdout and stderr.
Ran run(const V& argv) {
  int o[2], e[2];
  REQUIRE(pipe2(o, O_CLOEXEC) == 0);
  UniqueFd orr(o[0]), ow(o[1]);
  REQUIRE(pipe2(e, O_CLOEXEC) == 0);
  UniqueFd er(e[0]), ew(e[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, ow.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, ew.get(), 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  ow.reset();
  ew.reset();
  Ran r;
  while (orr || er) {
    pollfd p[2] = {{orr.get(), POLLIN, 0}, {er.get(), POLLIN, 0}};
    if (poll(p, 2, 60'000) <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      UniqueFd& fd = i == 0 ? orr : er;
      char buf[4096];
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n > 0)
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      else
        fd.reset();
    }
  }
  waitpid(pid, &r.status, 0);
  return r;
}

}  // namespace

// ---- help parsing ----------------------------------------------------------------------

TEST_CASE("flag table from docker's wrapped help", "[docker_args]") {
  FlagTable t = FlagTable::from_help(kDockerHelp);
  const FlagInfo* env = t.find("env");
  REQUIRE(env);
  CHECK(env->takes_value);
  CHECK(env->type == "list");
  CHECK(env->shorthand == 'e');
  CHECK(t.find_short('e') == env);
  REQUIRE(t.find("detach"));
  CHECK_FALSE(t.find("detach")->takes_value);
  CHECK(t.find("detach")->shorthand == 'd');
  CHECK(t.find("cpus")->takes_value);
  CHECK(t.find("cpus")->type == "decimal");
  CHECK(t.find_short('h')->name == "hostname");  // -h is not help in docker run
  CHECK(t.find_short('h')->takes_value);
  CHECK_FALSE(t.find("help")->takes_value);
  CHECK_FALSE(t.find("rm")->takes_value);
  CHECK_FALSE(t.find("init")->takes_value);
  CHECK(t.find("publish-all")->shorthand == 'P');
  CHECK(t.find("publish")->shorthand == 'p');
  // Wrapped description lines are not flags ("-1 for unlimited" included).
  CHECK(t.flags().size() == 30);
  CHECK_FALSE(t.find_short('1'));
  CHECK(t.find("pids-limit")->takes_value);
}

TEST_CASE("flag table from podman's help", "[docker_args]") {
  FlagTable t = FlagTable::from_help(kPodmanHelp);
  CHECK(t.flags().size() == 12);
  CHECK(t.find("blkio-weight-device")->takes_value);
  CHECK(t.find("blkio-weight-device")->type == "DEVICE_NAME:WEIGHT");
  CHECK(t.find("detach-keys")->type == "[a-Z]");
  CHECK(t.find("memory-reservation")->takes_value);
  CHECK(t.find("odd")->takes_value);
  CHECK(t.find("odd")->type == "some thing");
  CHECK_FALSE(t.find("help")->takes_value);
  CHECK_FALSE(t.find("passwd")->takes_value);
  CHECK(t.find_short('e')->type == "stringArray");
  CHECK_FALSE(t.find("network"));  // only in the examples
  CHECK(kind_of([] { FlagTable::from_help("no flags in here\n  at all\n"); }) == ErrorKind::runtime);
}

// ---- parsing ----------------------------------------------------------------------------

TEST_CASE("docker run argv: options, image, args", "[docker_args]") {
  V argv{"docker", "run", "-d", "--name", "web", "-p", "8080:80", "-e", "A=1", "--rm",
         "nginx:1.25", "nginx", "-g", "daemon off;"};
  DockerRun r = parse(argv);
  CHECK(r.cli == "docker");
  CHECK(r.flavor == CliFlavor::docker);
  CHECK(r.command == V{"run"});
  CHECK(r.options == V{"-d", "--name", "web", "-p", "8080:80", "-e", "A=1", "--rm"});
  CHECK(r.image == "nginx:1.25");
  CHECK(r.args == V{"nginx", "-g", "daemon off;"});
  CHECK(r.detach);
  CHECK(r.auto_remove);
  CHECK_FALSE(r.tty);
  CHECK(r.name == "web");
  CHECK(r.publish == V{"8080:80"});
  CHECK(r.env == V{"A=1"});
  CHECK(r.argv() == argv);
  REQUIRE(r.flags.size() == 5);
  CHECK(r.flags[1].name == "name");
  CHECK(r.flags[1].token == 1);
  CHECK(r.flags[1].value_in_next);
}

TEST_CASE("docker run argv: clusters, attached values, booleans with =", "[docker_args]") {
  V argv{"/usr/bin/docker", "container", "run", "-dit", "-p8080:80", "--env=X=1", "-e=Y=2", "-ve:/v",
         "--rm=false", "--init=true", "-P", "--security-opt", "no-new-privileges", "--entrypoint=/bin/sh",
         "--network", "host", "-u", "65534", "alpine", "-c", "echo hi"};
  DockerRun r = parse(argv);
  CHECK(r.cli == "/usr/bin/docker");
  CHECK(r.flavor == CliFlavor::docker);
  CHECK(r.command == V{"container", "run"});
  CHECK(r.image == "alpine");
  CHECK(r.args == V{"-c", "echo hi"});
  CHECK(r.detach);
  CHECK(r.interactive);
  CHECK(r.tty);
  CHECK_FALSE(r.auto_remove);
  CHECK(r.init);
  CHECK(r.publish_all);
  CHECK(r.publish == V{"8080:80"});
  CHECK(r.env == V{"X=1", "Y=2"});
  CHECK(r.values("volume") == V{"e:/v"});
  CHECK(r.security_opts == V{"no-new-privileges"});
  CHECK(r.entrypoint == "/bin/sh");
  CHECK(r.network == "host");
  CHECK(r.user == "65534");
  CHECK(r.argv() == argv);
}

TEST_CASE("docker run argv: values that look like flags, --, args that look like flags", "[docker_args]") {
  DockerRun r = parse({"docker", "run", "-e", "-FOO", "--label", "--x", "img"});
  CHECK(r.env == V{"-FOO"});
  CHECK(r.values("label") == V{"--x"});
  CHECK(r.image == "img");

  r = parse({"docker", "run", "img", "-d", "--rm", "--bogus"});
  CHECK(r.image == "img");
  CHECK(r.args == V{"-d", "--rm", "--bogus"});
  CHECK_FALSE(r.detach);
  CHECK(r.options.empty());

  r = parse({"docker", "run", "-d", "--", "img", "--flag"});
  CHECK(r.image == "img");
  CHECK(r.args == V{"--flag"});
  CHECK(r.options == V{"-d", "--"});
  CHECK(r.argv() == V{"docker", "run", "-d", "--", "img", "--flag"});

  // The later value wins, as in docker.
  r = parse({"docker", "run", "--rm", "--rm=false", "--name", "a", "--name=b", "img"});
  CHECK_FALSE(r.auto_remove);
  CHECK(r.name == "b");
  r = parse({"docker", "run", "-d=false", "-i=true", "img"});
  CHECK_FALSE(r.detach);
  CHECK(r.interactive);
}

TEST_CASE("docker run argv: hidden flags only as --flag=value", "[docker_args]") {
  DockerRun r = parse({"docker", "run", "--net=host", "--annotation=a=b", "img"});
  CHECK(r.network == "host");
  CHECK(r.values("annotation") == V{"a=b"});
  std::string msg = usage_error({"docker", "run", "--net", "host", "img"});
  CHECK(msg.find("--net") != std::string::npos);
  CHECK(msg.find("--net=VALUE") != std::string::npos);
}

TEST_CASE("docker run argv: usage errors name the problem", "[docker_args]") {
  CHECK(usage_error({"docker", "run", "--bogus", "img"}).find("--bogus") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-dZ", "img"}).find("'Z'") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-d", "--name"}).find("--name") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-de"}).find("-e") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-d"}).find("no IMAGE") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-d", "--"}).find("no IMAGE") != std::string::npos);
  CHECK(usage_error({"docker", "run", "--rm=maybe", "img"}).find("maybe") != std::string::npos);
  CHECK(usage_error({"docker", "run", "-d=2", "img"}).find("\"2\"") != std::string::npos);
  CHECK(usage_error({"docker", "ps"}).find("docker ps") != std::string::npos);
  CHECK(usage_error({"docker", "--context", "x", "run", "img"}).find("docker --context") != std::string::npos);
  CHECK(usage_error({"docker"}).find("docker run") != std::string::npos);
  CHECK(kind_of([] { parse_docker_run({}, kDockerHelp); }) == ErrorKind::usage);
}

// ---- rewriting ----------------------------------------------------------------------------

TEST_CASE("to_create_argv drops exactly the run-only flags", "[docker_args]") {
  auto create = [](const V& argv) { return to_create_argv(parse(argv)); };
  CHECK(create({"docker", "run", "-d", "img"}) == V{"docker", "create", "img"});
  CHECK(create({"docker", "run", "-dit", "--rm", "img", "-d"}) == V{"docker", "create", "-it", "--rm", "img", "-d"});
  CHECK(create({"docker", "run", "-itd", "img"}) == V{"docker", "create", "-it", "img"});
  CHECK(create({"docker", "run", "-dp", "80:80", "img"}) == V{"docker", "create", "-p", "80:80", "img"});
  CHECK(create({"docker", "run", "-dp80:80", "img"}) == V{"docker", "create", "-p80:80", "img"});
  CHECK(create({"docker", "run", "-id=false", "img"}) == V{"docker", "create", "-i", "img"});
  CHECK(create({"docker", "run", "--detach", "--detach-keys", "ctrl-x", "--sig-proxy=false", "-e", "A=1", "img"}) ==
        V{"docker", "create", "-e", "A=1", "img"});
  CHECK(create({"docker", "run", "--detach-keys=ctrl-x", "--name", "d", "img", "x"}) ==
        V{"docker", "create", "--name", "d", "img", "x"});
  CHECK(create({"docker", "container", "run", "-t", "--", "img"}) ==
        V{"docker", "container", "create", "-t", "--", "img"});
  // A value that happens to be "-d" is not the flag.
  CHECK(create({"docker", "run", "-e", "-d", "img"}) == V{"docker", "create", "-e", "-d", "img"});

  DockerRun p = parse_docker_run({"podman", "run", "--rmi", "--passwd=false", "-dt", "img"}, kPodmanHelp);
  CHECK(p.flavor == CliFlavor::podman);
  CHECK(to_create_argv(p) == V{"podman", "create", "-t", "img"});
  // An explicit list (e.g. from run_only_flags) is used as given.
  CHECK(to_create_argv(p, {"tty"}) == V{"podman", "create", "--rmi", "--passwd=false", "-d", "img"});
}

TEST_CASE("with_security_opt inserts after run/create", "[docker_args]") {
  CHECK(with_security_opt({"docker", "run", "-d", "img"}, "seccomp=/p.json") ==
        V{"docker", "run", "--security-opt", "seccomp=/p.json", "-d", "img"});
  CHECK(with_security_opt({"/usr/bin/docker", "container", "create", "img", "run"}, "seccomp=/p.json") ==
        V{"/usr/bin/docker", "container", "create", "--security-opt", "seccomp=/p.json", "img", "run"});
  CHECK(kind_of([] { with_security_opt({"docker", "ps"}, "seccomp=x"); }) == ErrorKind::usage);
  // The result parses: the option is an ordinary one.
  DockerRun r = parse(with_security_opt({"docker", "run", "img"}, "seccomp=/p.json"));
  CHECK(r.security_opts == V{"seccomp=/p.json"});
  CHECK(r.image == "img");
}

TEST_CASE("with_flag labels the user's create line before its image", "[docker_args]") {
  DockerRun r = parse({"docker", "run", "--rm", "-e", "A=1", "img", "--label", "x"});
  V create = with_flag(to_create_argv(r), "--label", "sctrace.owner=b/4026531836/42/7");
  // Before the user's options and the image, so the image's own "--label x"
  // stays an argument of the container's command.
  CHECK(create ==
        V{"docker", "create", "--label", "sctrace.owner=b/4026531836/42/7", "--rm", "-e", "A=1", "img", "--label", "x"});
  CHECK(kind_of([] { with_flag({"docker", "ps"}, "--label", "a=b"); }) == ErrorKind::usage);
}

// ---- the real CLIs ----------------------------------------------------------------------------

TEST_CASE("the installed CLIs' help: value flags and run-only flags", "[docker_args][cli]") {
  V clients = on_path("docker");
  REQUIRE_FALSE(clients.empty());
  for (const auto& p : on_path("podman")) clients.push_back(p);
  for (const auto& cli : clients) {
    INFO("client: " << cli);
    std::string run_help = cli_help_text(cli, "run");
    CHECK(cli_help_text(cli, "run") == run_help);  // cached: the same text again
    FlagTable t = FlagTable::from_help(run_help);
    CHECK(t.flags().size() > 80);
    for (const char* v : {"env", "publish", "volume", "name", "entrypoint", "security-opt", "user", "network",
                          "workdir", "label", "memory", "cap-add"}) {
      INFO("flag --" << v);
      REQUIRE(t.find(v));
      CHECK(t.find(v)->takes_value);
    }
    for (const char* b : {"detach", "rm", "interactive", "tty", "init", "privileged", "publish-all", "help"}) {
      INFO("flag --" << b);
      REQUIRE(t.find(b));
      CHECK_FALSE(t.find(b)->takes_value);
    }
    CHECK(t.find_short('e')->name == "env");
    CHECK(t.find_short('p')->name == "publish");
    CHECK(t.find_short('d')->name == "detach");
    std::string create_help = cli_help_text(cli, "create");
    auto run_only = run_only_flags(run_help, create_help);
    std::string list;
    for (const auto& f : run_only) list += " --" + f;
    WARN(cli << ": run-only flags:" << list);
    CHECK(run_only == default_run_only_flags(cli_flavor(cli)));
    // parse_docker_run fetches the help itself.
    DockerRun r = parse_docker_run({cli, "run", "-dit", "--rm", "-p", "80", "img", "arg"});
    CHECK(r.detach);
    CHECK(r.publish == V{"80"});
    CHECK(r.args == V{"arg"});
  }
  CHECK(kind_of([] { cli_help_text("/nonexistent/docker", "run"); }) == ErrorKind::not_found);
  CHECK(kind_of([] { cli_help_text("false", "run"); }) == ErrorKind::runtime);
}

TEST_CASE("real docker create with the rewritten argv, every docker client", "[docker_args][container]") {
  Engine engine;
  try {
    engine.version_info();
  } catch (const Error& e) {
    WARN("Docker daemon not reachable, skipping: " << e.what());
    if (std::getenv("SCTRACE_REQUIRE_DOCKER")) FAIL("SCTRACE_REQUIRE_DOCKER is set");
    return;
  }
  static std::atomic<int> n{0};
  std::string suffix = std::to_string(getpid()) + "-" + std::to_string(n++);
  std::string image = import_image(engine, make_tar({{"app", "#!/nothing\n", 0755}}), {"ENTRYPOINT [\"/app\"]"},
                                   "sctrace-unit-create:" + suffix);
  struct ImageGone {
    Engine& e;
    std::string id;
    ~ImageGone() {
      try {
        remove_image(e, id);
      } catch (...) {
      }
    }
  } image_guard{engine, image};
  std::string profile = "/tmp/sctrace-unit-seccomp-" + suffix + ".json";
  std::ofstream(profile) << R"({"defaultAction": "SCMP_ACT_ALLOW"})";

  V clients = on_path("docker");
  REQUIRE_FALSE(clients.empty());
  for (const auto& cli : clients) {
    INFO("client: " << cli);
    std::string name = "sctrace-unit-create-" + suffix + "-" + std::to_string(n++);
    V user{cli, "run", "-dit", "--rm", "-p", "127.0.0.1::8080", "-e", "X=1", "--name", name, "--detach-keys",
           "ctrl-x", "--sig-proxy=false", "--label=sctrace.test=1", image, "arg1", "--flag"};
    DockerRun r = parse_docker_run(user);
    V create = with_security_opt(to_create_argv(r), "seccomp=" + profile);
    CHECK(create == V{cli, "create", "--security-opt", "seccomp=" + profile, "-it", "--rm", "-p", "127.0.0.1::8080",
                      "-e", "X=1", "--name", name, "--label=sctrace.test=1", image, "arg1", "--flag"});
    Ran ran = run(create);
    INFO("stderr: " << ran.err);
    REQUIRE(WIFEXITED(ran.status));
    REQUIRE(WEXITSTATUS(ran.status) == 0);
    std::string id = ran.out.substr(0, ran.out.find('\n'));
    REQUIRE(id.size() == 64);
    OwnedContainer owned(engine, id);
    nlohmann::json ins = inspect_container(engine, id);
    CHECK(ins.at("Name") == "/" + name);
    CHECK(ins.at("State").at("Status") == "created");
    CHECK(ins.at("HostConfig").at("AutoRemove") == true);  // --rm works with create
    CHECK(ins.at("Config").at("Tty") == true);
    CHECK(ins.at("Config").at("OpenStdin") == true);
    CHECK(ins.at("Config").at("Cmd") == nlohmann::json{"arg1", "--flag"});
    CHECK(ins.at("Config").at("Labels").at("sctrace.test") == "1");
    auto env = ins.at("Config").at("Env").get<V>();
    CHECK(std::find(env.begin(), env.end(), "X=1") != env.end());
    CHECK(ins.at("HostConfig").at("PortBindings").at("8080/tcp").at(0).at("HostIp") == "127.0.0.1");
    auto sec = ins.at("HostConfig").at("SecurityOpt").get<V>();
    REQUIRE(sec.size() == 1);
    // The CLI inlines the profile file's JSON.
    CHECK(sec[0].starts_with("seccomp="));
    CHECK(sec[0].find("SCMP_ACT_ALLOW") != std::string::npos);
  }
  unlink(profile.c_str());
}

TEST_CASE("create_error_line says what docker create refused, not its --help hint", "[docker_args]") {
  using sctrace::container::create_error_line;
  // Docker 28's client: the reason, a blank line, then the hint (which used to be all sctrace showed).
  CHECK(create_error_line("docker: invalid containerPort: notaport\n\nRun 'docker create --help' for more information\n",
                          "img") == "invalid containerPort: notaport");
  // Docker 20.10's client puts its hint on a "See" line.
  CHECK(create_error_line("invalid argument \"1x\" for \"-m, --memory\" flag: invalid size: '1x'\n"
                          "See 'docker create --help'.\n",
                          "img") == "invalid argument \"1x\" for \"-m, --memory\" flag: invalid size: '1x'");
  // A missing image with no registry to pull from names the image.
  CHECK(create_error_line("Unable to find image 'nonexist:1' locally\nError response from daemon: Get "
                          "\"https://registry-1.docker.io/v2/\": dial tcp: no such host\n",
                          "nonexist:1") ==
        "image nonexist:1 is not here and could not be pulled: Error response from daemon: Get "
        "\"https://registry-1.docker.io/v2/\": dial tcp: no such host");
  CHECK(create_error_line("Error response from daemon: No such image: nonexist:1\n", "nonexist:1") ==
        "Error response from daemon: No such image: nonexist:1");
  CHECK(create_error_line("", "img") == "no error message");
}
