#include <fcntl.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "advice/hardening.h"
#include "profile/templates.h"
#include "tests/unit/advice/hardening_fixtures.h"

using namespace sctrace;
using namespace sctrace::test;
using nlohmann::json;

TEST_CASE("prefork-like recording needs NET_BIND_SERVICE, SETUID, SETGID and KILL", "[hardening]") {
  auto r = analyze(prefork_recording(), server_inspect());
  CHECK(r.cap_add == std::vector<std::string>{"KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"});
  CHECK(has(r.cap_drop, "CHOWN"));
  CHECK(has(r.cap_drop, "DAC_OVERRIDE"));
  CHECK(has(r.cap_drop, "NET_RAW"));
  CHECK_FALSE(has(r.cap_drop, "SETUID"));
  // Evidence names the syscall, the argument and the pid.
  bool setuid_ev = false;
  for (const auto& e : r.evidence)
    if (e.capability == "SETUID" && e.syscall == "setuid" && e.args == "arg0=65534" && e.first_pid == 7)
      setuid_ev = true;
  CHECK(setuid_ev);
  // It needed root after start: no root-user finding, no --user.
  CHECK(finding(r, "root-user") == nullptr);
  CHECK_FALSE(r.plan.user.has_value());
  CHECK(has(r.hardened_command, "--cap-drop=ALL"));
  CHECK(has(r.hardened_command, "--cap-add=SETUID"));
  CHECK(has(r.hardened_command, "--security-opt=no-new-privileges"));
  CHECK(has(r.hardened_command, "--security-opt=seccomp=/p/profile.json"));
  CHECK(r.hardened_command.back() == "app:1");
}

TEST_CASE("a daemon that lets containers bind low ports makes NET_BIND_SERVICE unnecessary", "[hardening]") {
  auto r = analyze(prefork_recording(), server_inspect(), true);
  CHECK(r.cap_add == std::vector<std::string>{"KILL", "SETGID", "SETUID"});
  CHECK(std::any_of(r.notes.begin(), r.notes.end(),
                    [](const std::string& n) { return n.find("ip_unprivileged_port_start") != std::string::npos; }));
  // ... except on the host's network.
  json in = server_inspect();
  in["HostConfig"]["NetworkMode"] = "host";
  CHECK(has(analyze(prefork_recording(), in, true).cap_add, "NET_BIND_SERVICE"));
  // No low port configured: no NET_BIND_SERVICE whatever the bind.
  in = server_inspect();
  in["Config"]["ExposedPorts"] = {{"8080/tcp", json::object()}};
  in["HostConfig"]["PortBindings"] = json::object();
  CHECK_FALSE(has(analyze(prefork_recording(), in).cap_add, "NET_BIND_SERVICE"));
}

TEST_CASE("uid changes to the container's own uid and failed calls are no evidence", "[hardening]") {
  Recording rec;
  args(rec, "setuid", 0, {1000});
  call(rec, "setuid");
  call(rec, "setgroups", 0, EPERM);
  args(rec, "kill", 1, {15});
  call(rec, "kill");
  json in = server_inspect();
  in["Config"]["User"] = "1000:1000";
  auto r = analyze(rec, in);
  CHECK(r.cap_add.empty());  // no SETUID, so no KILL either
  // Not root: no root-user finding.
  CHECK(finding(r, "root-user") == nullptr);
  // The same as root: setuid(1000) needs SETUID, and the kill then needs KILL.
  in["Config"]["User"] = "";
  CHECK(analyze(rec, in).cap_add == std::vector<std::string>{"KILL", "SETUID"});
  // kill(pid, 0) only probes.
  Recording probe;
  args(probe, "setuid", 0, {1000});
  call(probe, "setuid");
  args(probe, "kill", 1, {0});
  call(probe, "kill");
  CHECK(analyze(probe, in).cap_add == std::vector<std::string>{"SETUID"});
}

TEST_CASE("socket and device evidence", "[hardening]") {
  Recording netlink;
  args(netlink, "socket", 0, {AF_NETLINK, AF_UNIX});
  args(netlink, "socket", 1, {SOCK_RAW});
  args(netlink, "socket", 2, {0});
  call(netlink, "socket");
  CHECK(analyze(netlink, server_inspect()).cap_add.empty());

  Recording packet;
  args(packet, "socket", 0, {AF_PACKET});
  call(packet, "socket");
  CHECK(analyze(packet, server_inspect()).cap_add == std::vector<std::string>{"NET_RAW"});

  Recording audit;
  args(audit, "socket", 0, {AF_NETLINK});
  args(audit, "socket", 2, {9});
  call(audit, "socket");
  CHECK(analyze(audit, server_inspect()).cap_add == std::vector<std::string>{"AUDIT_WRITE"});

  Recording fifo;
  args(fifo, "mknodat", 2, {S_IFIFO | 0600});
  call(fifo, "mknodat");
  CHECK(analyze(fifo, server_inspect()).cap_add.empty());
  Recording dev;
  args(dev, "mknodat", 2, {S_IFCHR | 0600});
  call(dev, "mknodat");
  CHECK(analyze(dev, server_inspect()).cap_add == std::vector<std::string>{"MKNOD"});

  Recording chown_noop;
  args(chown_noop, "fchown", 1, {0xffffffffu});
  args(chown_noop, "fchown", 2, {0xffffffffu});
  call(chown_noop, "fchown");
  CHECK(analyze(chown_noop, server_inspect()).cap_add.empty());
  Recording chown;
  args(chown, "fchownat", 2, {33});
  call(chown, "fchownat");
  CHECK(analyze(chown, server_inspect()).cap_add == std::vector<std::string>{"CHOWN"});
  Recording chroot;
  call(chroot, "chroot");
  CHECK(analyze(chroot, server_inspect()).cap_add == std::vector<std::string>{"SYS_CHROOT"});
}

TEST_CASE("template capability gates and unused --cap-add", "[hardening]") {
  Recording rec;
  call(rec, "settimeofday");
  json in = server_inspect();
  // Without CAP_SYS_TIME the call could not have been allowed: no evidence.
  auto r0 = analyze(rec, in);
  CHECK(r0.cap_add.empty());
  in["HostConfig"]["CapAdd"] = {"SYS_TIME", "NET_ADMIN"};
  auto r = analyze(rec, in);
  CHECK(r.cap_add == std::vector<std::string>{"SYS_TIME"});
  const Finding* f = finding(r, "cap-add-unused");
  REQUIRE(f);
  CHECK(f->message.find("NET_ADMIN") != std::string::npos);
  CHECK(f->message.find("SYS_TIME") == std::string::npos);
  CHECK(f->fix == "remove --cap-add=NET_ADMIN");
  // clone has an ungated rule (with argument conditions): no SYS_ADMIN.
  Recording cl;
  call(cl, "clone");
  in["HostConfig"]["CapAdd"] = {"SYS_ADMIN"};
  CHECK(analyze(cl, in).cap_add.empty());
}

TEST_CASE("the bad line gives each finding once with its fix", "[hardening]") {
  json in = json::parse(R"({
    "Config": {"Image": "app:1", "User": "", "ExposedPorts": {"80/tcp": {}},
               "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2", "HARMLESS=1",
                       "UPLOAD=AKIAABCDEFGHIJKLMNOP", "EMPTY_TOKEN="]},
    "HostConfig": {"Privileged": true, "NetworkMode": "host", "PidMode": "host", "IpcMode": "host",
                   "UTSMode": "host",
                   "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                    "81/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8081"}]},
                   "Links": ["/other:/me/other"], "SecurityOpt": ["seccomp=unconfined", "apparmor=unconfined",
                   "label=disable"], "Memory": 0, "ReadonlyRootfs": false},
    "Mounts": [{"Type": "bind", "Source": "/etc", "Destination": "/host-etc", "RW": true},
               {"Type": "bind", "Source": "/srv/data", "Destination": "/data", "RW": true},
               {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/d.sock", "RW": false},
               {"Type": "volume", "Source": "/var/lib/docker/volumes/x", "Destination": "/v", "RW": true}]
  })");
  RunLine line;
  line.prefix = {"docker", "run"};
  line.options = {{"privileged", {}},         {"network", "host"},          {"pid", "host"},
                  {"publish", "8080:80"},     {"publish", "0.0.0.0:8081:81"}, {"volume", "/etc:/host-etc"},
                  {"env", "DB_PASSWORD=hunter2"}, {"link", "other"},         {"security-opt", "seccomp=unconfined"},
                  {"rm", {}},                 {"volume", "/srv/data:/data:z"}};
  line.image = "app:1";
  line.args = {"--serve"};
  Recording rec;
  call(rec, "read");
  auto r = analyze(rec, in, false, nullptr, line);
  for (const char* id : {"privileged", "host-network", "host-pid", "host-ipc", "host-uts", "port-all-interfaces",
                         "link", "sensitive-mount", "writable-host-mount", "secret-env", "root-user",
                         "writable-rootfs", "no-new-privileges", "no-memory-limit", "no-cpu-limit", "no-pids-limit",
                         "seccomp-unconfined", "apparmor-unconfined", "selinux-disabled"}) {
    INFO(id);
    CHECK(std::count_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.id == id; }) == 1);
  }
  // Sorted high first.
  CHECK(std::is_sorted(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) < static_cast<int>(b.severity);
  }));
  CHECK(finding(r, "privileged")->severity == Severity::high);
  const Finding* env = finding(r, "secret-env");
  CHECK(env->message.find("DB_PASSWORD") != std::string::npos);
  CHECK(env->message.find("UPLOAD") != std::string::npos);        // by value
  CHECK(env->message.find("hunter2") == std::string::npos);       // never the secret itself
  CHECK(env->message.find("EMPTY_TOKEN") == std::string::npos);   // nothing in it
  CHECK(env->message.find("HARMLESS") == std::string::npos);
  const Finding* mount = finding(r, "sensitive-mount");
  CHECK(mount->message.find("/etc:/host-etc") != std::string::npos);
  CHECK(mount->message.find("/var/run/docker.sock") != std::string::npos);
  CHECK(finding(r, "writable-host-mount")->message.find("/srv/data") != std::string::npos);
  CHECK(finding(r, "writable-host-mount")->message.find("volumes") == std::string::npos);
  CHECK(finding(r, "port-all-interfaces")->message.find("8081->81/tcp") != std::string::npos);
  CHECK(finding(r, "port-all-interfaces")->fix.find("127.0.0.1") != std::string::npos);
  CHECK(finding(r, "excess-capabilities") == nullptr);  // privileged covers it

  const auto& cmd = r.hardened_command;
  CHECK_FALSE(has(cmd, "--privileged"));
  CHECK_FALSE(has(cmd, "--network=host"));
  CHECK_FALSE(has(cmd, "--pid=host"));
  CHECK_FALSE(has(cmd, "--security-opt=seccomp=unconfined"));
  CHECK(has(cmd, "--publish=127.0.0.1:8080:80"));
  CHECK(has(cmd, "--publish=127.0.0.1:8081:81"));
  CHECK(has(cmd, "--publish=127.0.0.1:80:80"));  // host network's port, now published on loopback
  CHECK(has(cmd, "--volume=/etc:/host-etc:ro"));
  CHECK(has(cmd, "--volume=/srv/data:/data:z"));  // not sensitive: left alone
  CHECK(has(cmd, "--env=DB_PASSWORD"));  // passed by name, the value stays off the line
  CHECK(std::none_of(cmd.begin(), cmd.end(), [](const std::string& a) { return a.find("hunter2") != std::string::npos; }));
  CHECK(has(cmd, "--link=other"));               // cannot be fixed automatically
  CHECK(has(cmd, "--rm"));
  CHECK(has(cmd, "--memory=512m"));
  CHECK(has(cmd, "--pids-limit=256"));
  CHECK(has(cmd, "--user=65534:65534"));
  REQUIRE(cmd.size() >= 2);
  CHECK(cmd[cmd.size() - 2] == "app:1");
  CHECK(cmd.back() == "--serve");
  CHECK(count_at_or_above(r, Severity::high) <= count_at_or_above(r, Severity::medium));
  CHECK(count_at_or_above(r, Severity::low) == r.findings.size());
  CHECK(count_at_or_above(r, Severity::high) ==
        static_cast<size_t>(std::count_if(r.findings.begin(), r.findings.end(),
                                          [](const Finding& f) { return f.severity == Severity::high; })));
}

TEST_CASE("a clean line has no namespace, port, mount or secret findings", "[hardening]") {
  json in = server_inspect();
  in["HostConfig"]["SecurityOpt"] = {"no-new-privileges"};
  in["HostConfig"]["Memory"] = 1 << 28;
  in["HostConfig"]["NanoCpus"] = 1000000000;
  in["HostConfig"]["PidsLimit"] = 50;
  in["HostConfig"]["ReadonlyRootfs"] = true;
  auto r = analyze(prefork_recording(), in);
  std::vector<std::string> ids;
  for (const auto& f : r.findings) ids.push_back(f.id);
  CHECK(ids == std::vector<std::string>{"excess-capabilities"});
  CHECK(finding(r, "excess-capabilities")->fix == "--cap-drop=ALL --cap-add=KILL --cap-add=NET_BIND_SERVICE "
                                                   "--cap-add=SETGID --cap-add=SETUID");
}

TEST_CASE("read-only root filesystem from the recording and the container's changes", "[hardening]") {
  Recording batch;
  args(batch, "openat", 2, {O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, O_RDONLY | O_CLOEXEC});
  call(batch, "openat");
  call(batch, "mkdirat", 0, EEXIST);
  call(batch, "unlinkat");
  json in = server_inspect();
  in["Config"]["ExposedPorts"] = json::object();
  in["HostConfig"]["PortBindings"] = json::object();

  SECTION("the engine's own entries are not the workload's writes: a WORKDIR it made, a mount point's parent") {
    in["Config"]["WorkingDir"] = "/work";
    in["HostConfig"]["Init"] = true;
    json changes = json::parse(R"([{"Path": "/tmp", "Kind": 0}, {"Path": "/work", "Kind": 1},
                                   {"Path": "/sbin", "Kind": 1}, {"Path": "/sbin/docker-init", "Kind": 1}])");
    auto r = analyze(batch, in, false, changes);
    CHECK(r.plan.tmpfs == std::vector<std::string>{"/tmp"});
    // A file the workload left in its WORKDIR still counts.
    changes.push_back({{"Path", "/work/out.txt"}, {"Kind", 1}});
    CHECK(analyze(batch, in, false, changes).plan.tmpfs == std::vector<std::string>{"/tmp", "/work"});
  }

  SECTION("changes known: tmpfs for what was written, sctrace's own mount points ignored") {
    json changes = json::parse(R"([{"Path": "/tmp", "Kind": 0}, {"Path": "/.sctrace", "Kind": 1},
                                   {"Path": "/.sctrace-out", "Kind": 1}])");
    auto r = analyze(batch, in, false, changes);
    CHECK(r.plan.read_only);
    CHECK(r.plan.tmpfs == std::vector<std::string>{"/tmp"});
    CHECK(finding(r, "writable-rootfs")->fix == "--read-only --tmpfs /tmp");
    CHECK(has(r.hardened_command, "--read-only"));
    CHECK(has(r.hardened_command, "--tmpfs=/tmp"));
    // Nothing needed root: run as nobody.
    CHECK(r.cap_add.empty());
    REQUIRE(r.plan.user);
    CHECK(*r.plan.user == "65534:65534");
    CHECK(finding(r, "root-user") != nullptr);
    CHECK(r.compose_yaml.find("read_only: true") != std::string::npos);
    CHECK(r.compose_yaml.find("- \"/tmp\"") != std::string::npos);
    CHECK(r.k8s_yaml.find("readOnlyRootFilesystem: true") != std::string::npos);
    CHECK(r.k8s_yaml.find("runAsUser: 65534") != std::string::npos);
  }
  SECTION("writes that left no change were scratch files: --tmpfs /tmp") {
    auto r = analyze(batch, in, false, json::array());
    CHECK(r.plan.read_only);
    CHECK(r.plan.tmpfs == std::vector<std::string>{"/tmp"});
    CHECK(has(r.hardened_command, "--tmpfs=/tmp"));
  }
  SECTION("no writes and no changes: --read-only alone") {
    Recording ro;
    call(ro, "read");
    auto r = analyze(ro, in, false, json::array());
    CHECK(r.plan.read_only);
    CHECK(r.plan.tmpfs.empty());
  }
  SECTION("nested changes collapse to the smallest cover") {
    json changes = json::parse(R"([{"Path": "/var", "Kind": 0}, {"Path": "/var/cache", "Kind": 0},
                                   {"Path": "/var/cache/app", "Kind": 1}, {"Path": "/run", "Kind": 0},
                                   {"Path": "/run/app.pid", "Kind": 1}, {"Path": "/data", "Kind": 1},
                                   {"Path": "/data/out.txt", "Kind": 1}])");
    CHECK(analyze(batch, in, false, changes).plan.tmpfs == std::vector<std::string>{"/data", "/run", "/var/cache"});
  }
  SECTION("writes under volumes and existing tmpfs do not count") {
    in["Mounts"] = json::parse(R"([{"Type": "volume", "Source": "x", "Destination": "/data", "RW": true}])");
    in["HostConfig"]["Tmpfs"] = {{"/run", ""}};
    json changes = json::parse(R"([{"Path": "/data/x", "Kind": 1}, {"Path": "/run/y", "Kind": 1}])");
    auto r = analyze(batch, in, false, changes);
    CHECK(r.plan.read_only);
    CHECK(r.plan.tmpfs.empty());
  }
  SECTION("changes unknown and files written: no --read-only, a note") {
    auto r = analyze(batch, in);
    CHECK_FALSE(r.plan.read_only);
    CHECK(finding(r, "writable-rootfs")->severity == Severity::low);
    CHECK_FALSE(has(r.hardened_command, "--read-only"));
  }
  SECTION("nothing written at all: --read-only") {
    Recording ro;
    args(ro, "openat", 2, {O_RDONLY | O_CLOEXEC});
    call(ro, "openat");
    auto r = analyze(ro, in);
    CHECK(r.plan.read_only);
    CHECK(has(r.hardened_command, "--read-only"));
  }
}

TEST_CASE("configured capabilities", "[hardening]") {
  json in = server_inspect();
  CHECK(configured_caps(in).size() == docker_default_caps().size());
  in["HostConfig"]["CapDrop"] = {"ALL"};
  in["HostConfig"]["CapAdd"] = {"cap_net_admin", "CHOWN"};
  CHECK(configured_caps(in) == std::vector<std::string>{"CHOWN", "NET_ADMIN"});
  in["HostConfig"]["Privileged"] = true;
  CHECK(configured_caps(in).size() > 30);
}

TEST_CASE("hardened_argv rewrites published ports and keeps what it does not understand", "[hardening]") {
  RunLine line;
  line.prefix = {"docker", "container", "run"};
  line.options = {{"publish", "80"}, {"p", "10.0.0.1:80:80"}, {"detach", {}}, {"name", "web"},
                  {"cap-add", "NET_ADMIN"}, {"user", "1000"}, {"security-opt", "label=type:x"}};
  line.image = "img";
  HardeningPlan plan;
  plan.cap_add = {"CHOWN"};
  auto argv = hardened_argv(line, plan, json::object());
  CHECK(argv == std::vector<std::string>{"docker", "container", "run", "--publish=127.0.0.1::80", "-p",
                                         "10.0.0.1:80:80", "--detach", "--name=web", "--user=1000",
                                         "--security-opt=label=type:x", "--cap-drop=ALL", "--cap-add=CHOWN",
                                         "--security-opt=no-new-privileges", "img"});
}

TEST_CASE("host networking stays in the hardened command when no port is known to publish", "[hardening]") {
  // The image exposes nothing: removing host networking would leave the service unreachable (which
  // port it binds is not in the recording).
  json inspect = json::parse(R"({"Config": {"Image": "app:1"}, "HostConfig": {"NetworkMode": "host"}})");
  RunLine line;
  line.prefix = {"docker", "run"};
  line.options = {{"network", "host"}};
  line.image = "app:1";
  Recording rec;
  call(rec, "read");
  auto r = analyze(rec, inspect, false, nullptr, line);
  REQUIRE(finding(r, "host-network") != nullptr);
  CHECK_FALSE(finding(r, "host-network")->fixed_in_command);
  CHECK(has(r.hardened_command, "--network=host"));
  // With an EXPOSEd port it is replaced by a loopback publish of that port, and the fix says which.
  json exposed = json::parse(R"({"Config": {"Image": "app:1", "ExposedPorts": {"8080/tcp": {}}},
                                "HostConfig": {"NetworkMode": "host"}})");
  auto e = analyze(rec, exposed, false, nullptr, line);
  CHECK(finding(e, "host-network")->fixed_in_command);
  CHECK(finding(e, "host-network")->fix.find("8080") != std::string::npos);
  CHECK_FALSE(has(e.hardened_command, "--network=host"));
  CHECK(has(e.hardened_command, "--publish=127.0.0.1:8080:8080"));
}

TEST_CASE("command lines kept in files lose the values of secret-looking variables", "[hardening]") {
  using V = std::vector<std::string>;
  CHECK(without_secrets(V{"docker", "run", "-e", "DB_PASSWORD=hunter2", "--env=API_TOKEN=abc", "-eSECRET_KEY=x",
                          "-e", "MODE=prod", "--env", "HOME=/root", "img", "-e", "PASSWORD=argument"}) ==
        V{"docker", "run", "-e", "DB_PASSWORD", "--env=API_TOKEN", "-eSECRET_KEY", "-e", "MODE=prod", "--env",
          "HOME=/root", "img", "-e", "PASSWORD"});
  CHECK(without_secrets(V{"prog", "--flag"}) == V{"prog", "--flag"});
}
