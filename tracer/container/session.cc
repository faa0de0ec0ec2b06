#include "tracer/container/session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/container/channel.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/engine.h"
#include "tracer/container/setid_scan.h"
#include "tracer/interrupt.h"
#include "tracer/temp_dir.h"

namespace sctrace::container {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSensorInContainer = "/.sctrace/sctrace-sensor";
constexpr const char* kDockerInitInContainer = "/sbin/docker-init";  // where the engine mounts its init for --init
constexpr const char* kOutInContainer = "/.sctrace-out";
// The watch filter in the out dir.
constexpr const char* kWatchFilterFile = "watch-filter.bpf";
// The recording channel's socket in the out dir.
constexpr const char* kChannelFile = "channel";
// The most one sensor's recording may be (a frame's body): what read_file
// takes, for the same reason (the JSON parser's memory).
constexpr size_t kMaxRecordingBytes = kMaxInputBytes;
// The healthcheck's sensor gets its key from the container's environment,
// beside the entrypoint sensor's kSensorKeyEnv (each sensor removes both).
// The workload can read it there under --init (docker-init keeps the whole
// environment, dumpable), and it serves every healthcheck run: so the channel
// takes it only from a process the engine started (PeerRule), never from one
// the workload started.
constexpr const char* kHealthKeyEnv = "SCTRACE_SENSOR_KEY_HEALTH";

// A private 0700 directory with out/ inside, bind-mounted read-only into the
// container: out/ holds the recording channel's socket (world-connectable,
// which a read-only mount leaves so) and the watch filter. Nothing in it is
// writable by the container: the sensors send their recordings over the
// socket (tracer/container/channel.h), so the workload can neither forge a
// file there nor fill the host's disk.
class SessionDir {
 public:
  SessionDir() {
    path_ = make_owned_temp_dir("", fs::temp_directory_path().string());
    out_ = path_ + "/out";
    if (::mkdir(out_.c_str(), 0700) != 0 || ::chmod(out_.c_str(), 0755) != 0)
      fail_errno(ErrorKind::io, errno, "cannot create " + out_);
  }
  SessionDir(const SessionDir&) = delete;
  ~SessionDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& out() const { return out_; }

 private:
  std::string path_, out_;
};

}  // namespace

bool Captured::ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

Captured run_capture(const std::vector<std::string>& argv, std::chrono::milliseconds limit, bool stop_on_interrupt) {
  const int interrupts_before = interrupt_count();
  bool term_sent = false;
  std::optional<Clock::time_point> interrupted_at;
  std::string exe = resolve_command(argv.at(0));
  int op[2], ep[2];
  if (::pipe2(op, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd out_r(op[0]), out_w(op[1]);
  if (::pipe2(ep, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd err_r(ep[0]), err_w(ep[1]);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) fail_errno(ErrorKind::runtime, errno, "fork");
  if (pid == 0) {
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::signal(SIGINT, SIG_IGN);  // kept across execve
    ::execv(exe.c_str(), cargv.data());
    ::_exit(127);
  }
  out_w.reset();
  err_w.reset();
  Captured c;
  const auto deadline = Clock::now() + limit;
  pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    int timeout = -1;
    if (limit.count() > 0) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        ::kill(pid, SIGKILL);  // not reaped yet: the pid is still ours
        c.timed_out = true;
        break;
      }
      timeout = static_cast<int>(left);
    }
    // After an interrupt the command gets 2 s to finish by itself (a create
    // request in flight then completes, and its container is removed by ID
    // like any other); one still running then (pulling an image) is stopped.
    if (stop_on_interrupt && !term_sent && interrupted_at) timeout = timeout < 0 ? 100 : std::min(timeout, 100);
    const int polled = ::poll(fds, 2, timeout);
    if (stop_on_interrupt && !interrupted_at && interrupt_count() != interrupts_before) interrupted_at = Clock::now();
    if (interrupted_at && !term_sent && Clock::now() - *interrupted_at > std::chrono::seconds(2)) {
      ::kill(pid, SIGTERM);  // not reaped yet: the pid is still ours
      term_sent = true;
    }
    if (polled < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? c.out : c.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  while (::waitpid(pid, &c.status, 0) < 0 && errno == EINTR) {
  }
  return c;
}

namespace {

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// A `docker start -a` child that passes the container's output through.
class Attached {
 public:
  Attached(const std::string& cli, const std::string& id, bool interactive) {
    std::vector<std::string> argv = {cli, "start", "-a"};
    if (interactive) argv.push_back("-i");
    argv.push_back(id);
    std::string exe = resolve_command(cli);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) fail_errno(ErrorKind::runtime, errno, "fork");
    if (pid_ == 0) {
      // Ctrl-C goes to sctrace, which stops the container properly.
      ::signal(SIGINT, SIG_IGN);
      ::execv(exe.c_str(), cargv.data());
      ::_exit(127);
    }
  }
  Attached(const Attached&) = delete;
  ~Attached() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
  // Non-blocking: true once the attach client has exited.
  bool done() {
    if (pid_ <= 0) return true;
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  void finish(std::chrono::milliseconds grace) {
    auto until = Clock::now() + grace;
    while (!done() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

 private:
  pid_t pid_ = -1;
};

bool running(Engine& e, const std::string& id) {
  json st = inspect_container(e, id).value("State", json::object());
  return st.value("Running", false);
}

// The healthcheck runs under the container's profile in production, so it is
// traced too: wrap its command in the sensor.
void wrap_healthcheck(json& config, const std::vector<std::string>& sensor_flags) {
  if (!config.contains("Healthcheck") || !config["Healthcheck"].is_object()) return;
  json& test = config["Healthcheck"]["Test"];
  if (!test.is_array() || test.empty()) return;
  std::string kind = test[0].get<std::string>();
  std::vector<std::string> cmd;
  if (kind == "CMD") {
    for (size_t i = 1; i < test.size(); ++i) cmd.push_back(test[i].get<std::string>());
  } else if (kind == "CMD-SHELL" && test.size() > 1) {
    cmd = {"/bin/sh", "-c", test[1].get<std::string>()};
  } else {
    return;
  }
  json wrapped = json::array({"CMD", kSensorInContainer, "--channel", std::string(kOutInContainer) + "/" + kChannelFile,
                              "--key-env", kHealthKeyEnv, "--flush-ms", "100000"});
  for (const auto& f : sensor_flags) wrapped.push_back(f);
  wrapped.push_back("--");
  for (auto& c : cmd) wrapped.push_back(c);
  test = wrapped;
}

}  // namespace

bool is_container_run(const std::vector<std::string>& argv) {
  if (argv.size() < 2) return false;
  CliFlavor f = cli_flavor(argv[0]);
  if (f == CliFlavor::other) return false;
  return argv[1] == "run" || (argv.size() > 2 && argv[1] == "container" && argv[2] == "run");
}

std::string default_sensor_path() {
  if (const char* env = std::getenv("SCTRACE_SENSOR"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "sctrace-sensor").string();
}

namespace {

// What arrived over the recording channel, into result.recordings. A peer
// without a key (the workload) is named and ignored: it changes nothing. A
// sensor's broken stream fails the run. A sensor whose last frame is missing
// (killed at the end of the stop's grace period, or an exec probe that never
// reported) is said, and makes the recording incomplete.
void collect_recordings(const ChannelReport& rep, int exec_started, SessionResult& result) {
  for (const auto& r : rep.refused)
    std::fprintf(stderr, "sctrace: recording channel: refused a peer without a sensor's key: %s\n", r.c_str());
  std::vector<std::string> broken = rep.tampered;
  for (const auto& st : rep.streams)
    if (st.label != "health" && st.connections > 1)
      broken.push_back(fmt::format("the {} sensor's key was used by {} connections", st.label, st.connections));
  if (!broken.empty()) {
    std::string all;
    for (const auto& b : broken) all += (all.empty() ? "" : "; ") + b;
    fail(ErrorKind::runtime, "the recording channel was tampered with ({}); nothing was written", all);
  }
  for (const auto& st : rep.streams) {
    const bool exec = st.label.rfind("exec-", 0) == 0;
    if (exec && std::stoi(st.label.substr(5)) >= exec_started) continue;
    if (st.label == "main" || exec) {
      if (st.recordings.empty() && exec) {
        result.probes_ok = false;
        result.probe_failures.push_back(fmt::format("the recording of exec probe {} did not arrive", st.label.substr(5)));
      } else if (!st.recordings.empty() && !st.final_seen) {
        std::fprintf(stderr, "sctrace: the %s sensor's final recording did not arrive: its last snapshot is used, "
                     "and the profile is incomplete\n", st.label.c_str());
        if (exec) {
          result.probes_ok = false;
          result.probe_failures.push_back(fmt::format("the recording of exec probe {} is incomplete", st.label.substr(5)));
        }
      }
    }
    for (const auto& r : st.recordings) result.recordings.push_back(r);
  }
}

// run_session without the daemon-loss message; container_id is set once the
// traced container exists.
SessionResult run_session_inner(const SessionOptions& opts, std::string& container_id) {
  // From here on a Ctrl-C or SIGTERM is noted, not fatal: whatever has been
  // created by then (the session directory, containers) is removed on the way out.
  install_interrupt_handlers();
  auto interrupted = [] { return interrupt_count() > 0; };
  DockerRun run = parse_docker_run(opts.argv);
  std::string sensor = opts.sensor_path.empty() ? default_sensor_path() : opts.sensor_path;
  if (opts.with_sensor && ::access(sensor.c_str(), R_OK | X_OK) != 0)
    fail(ErrorKind::runtime, "the in-container sensor is missing: {} (build target sctrace-sensor)", sensor);

  Engine engine;
  engine.api_version();  // fails early and clearly when the daemon is down
  for (const auto& left : remove_orphaned_containers(engine))
    std::fprintf(stderr, "sctrace: removed container %s, left behind by an earlier run that lost its daemon\n",
                 left.substr(0, 12).c_str());
  SessionDir dir;
  SessionResult result;
  // One key per sensor: the entrypoint's, each exec probe's, the healthcheck's.
  std::optional<RecordingChannel> channel;
  if (opts.with_sensor) {
    std::vector<std::string> labels = {"main", "health"};
    for (size_t i = 0; i < opts.probes.size(); ++i)
      if (opts.probes[i].kind == ProbeKind::exec) labels.push_back(fmt::format("exec-{}", labels.size() - 2));
    channel.emplace(dir.out() + "/" + kChannelFile, labels, kMaxRecordingBytes, PeerRule{{"health"}, "main"});
  }

  // 1. The user's line creates the container, so every flag keeps its meaning
  //    whatever the client version. It carries the owner label from the
  //    start: should the daemon die before sctrace removes it, the next run
  //    finds it like any container sctrace left behind.
  const std::string owner = owner_label_value();
  // --cidfile is left out: that container is only read and removed; the
  // file gets the ID of the one that runs (below).
  std::set<std::string> not_for_create = default_run_only_flags(run.flavor);
  not_for_create.insert("cidfile");
  Captured created = run_capture(
      with_flag(to_create_argv(run, not_for_create), "--label", fmt::format("{}={}", kOwnerLabel, owner)),
      std::chrono::milliseconds(0), true);
  const bool create_ok = WIFEXITED(created.status) && WEXITSTATUS(created.status) == 0;
  if (interrupted()) {  // during the create: nothing ran, nothing is kept
    if (create_ok) OwnedContainer(engine, last_line(created.out)).reset();
    remove_containers_owned_by(engine, owner);  // an interrupted client may not have said its ID
    result.interrupted = true;
    return result;
  }
  if (!create_ok) {
    fail(ErrorKind::runtime, "{} create failed: {}", run.cli, create_error_line(created.err, run.image));
  }
  std::string first_id = last_line(created.out);
  json inspect;
  {
    OwnedContainer original(engine, first_id);
    inspect = inspect_container(engine, first_id);
  }  // removed: it was never started
  result.config = inspect;

  // Every sensor (entrypoint, exec probes, healthcheck) gets the same flags:
  // check's watch program, and the stack depth.
  std::vector<std::string> sensor_flags;
  if (!opts.watch_filter_bpf.empty()) {
    write_file_atomic(dir.out() + "/" + kWatchFilterFile, opts.watch_filter_bpf);
    sensor_flags = {"--watch-filter", std::string(kOutInContainer) + "/" + kWatchFilterFile};
  }
  if (opts.deny_errno) {
    sensor_flags.push_back("--deny-errno");
    sensor_flags.push_back(std::to_string(*opts.deny_errno));
  }
  sensor_flags.push_back("--stack-depth");
  sensor_flags.push_back(std::to_string(opts.stack_depth));

  // 2. Re-create it from its full configuration, with the sensor as entrypoint.
  json body = inspect.at("Config");
  body["HostConfig"] = inspect.at("HostConfig");
  json& hc = body["HostConfig"];
  if (!body.contains("Labels") || !body["Labels"].is_object()) body["Labels"] = json::object();
  body["Labels"][std::string(kOwnerLabel)] = owner;
  if (!run.has("hostname")) body.erase("Hostname");
  hc["AutoRemove"] = false;  // sctrace removes it after collecting
  // The endpoint settings (--ip, --ip6, --network-alias, --link on a user
  // network) live outside Config and HostConfig: carried over for the
  // network the container starts on (one endpoint is all a create takes).
  if (inspect.contains("NetworkSettings") && inspect["NetworkSettings"].is_object() && hc.contains("NetworkMode") &&
      hc["NetworkMode"].is_string()) {
    const json& nets = inspect["NetworkSettings"].value("Networks", json::object());
    const std::string mode = hc["NetworkMode"].get<std::string>();
    if (nets.is_object() && nets.contains(mode) && nets[mode].is_object()) {
      const json& n = nets[mode];
      json ep = json::object();
      for (const char* key : {"IPAMConfig", "Links", "DriverOpts"})
        if (n.contains(key) && !n[key].is_null()) ep[key] = n[key];
      if (n.contains("Aliases") && n["Aliases"].is_array()) {
        json aliases = json::array();
        for (const auto& a : n["Aliases"])  // not the discarded container's own short ID
          if (a.is_string() && first_id.rfind(a.get<std::string>(), 0) != 0) aliases.push_back(a);
        if (!aliases.empty()) ep["Aliases"] = aliases;
      }
      if (!ep.empty()) body["NetworkingConfig"] = {{"EndpointsConfig", {{mode, ep}}}};
    }
  }
  if (opts.with_sensor) {
    std::vector<std::string> cmd;
    for (const char* key : {"Entrypoint", "Cmd"})
      if (body.contains(key) && body[key].is_array())
        for (const auto& a : body[key]) cmd.push_back(a.get<std::string>());
    if (cmd.empty()) fail(ErrorKind::usage, "the image {} has no ENTRYPOINT or CMD and none was given", run.image);
    json ep = json::array({kSensorInContainer, "--channel", std::string(kOutInContainer) + "/" + kChannelFile,
                           "--key-env", kSensorKeyEnv});
    for (const auto& f : sensor_flags) ep.push_back(f);
    // The container ends with its main process: so does the recording (the
    // exec probes' and the healthcheck's sensors trace their whole tree).
    ep.push_back("--container-main");
    ep.push_back("--");
    // --init: the engine runs its init (tini) as PID 1 and the sensor under
    // it, so the init's own calls (signal set-up, fork, setpgid, the
    // forwarding kill, wait4) were never seen and a profile without them broke
    // `docker run --init`. A second copy of the init, traced, runs the command
    // the way PID 1 does; -s (subreaper) keeps it from warning that it is not
    // PID 1.
    if (hc.contains("Init") && hc["Init"].is_boolean() && hc["Init"].get<bool>())
      for (const char* a : {kDockerInitInContainer, "-s", "--"}) ep.push_back(a);
    for (auto& c : cmd) ep.push_back(c);
    body["Entrypoint"] = ep;
    body["Cmd"] = nullptr;
    if (!hc.contains("Binds") || !hc["Binds"].is_array()) hc["Binds"] = json::array();
    hc["Binds"].push_back(sensor + ":" + kSensorInContainer + ":ro");
    hc["Binds"].push_back(dir.out() + ":" + kOutInContainer + ":ro");
    if (!body.contains("Env") || !body["Env"].is_array()) body["Env"] = json::array();
    body["Env"].push_back(fmt::format("{}={}", kSensorKeyEnv, channel->key_hex("main")));
    if (body.contains("Healthcheck") && body["Healthcheck"].is_object())
      body["Env"].push_back(fmt::format("{}={}", kHealthKeyEnv, channel->key_hex("health")));
    wrap_healthcheck(body, sensor_flags);
  } else if (!body.contains("Entrypoint") || body["Entrypoint"].is_null()) {
    // No entrypoint (--entrypoint ""): said as the client says it, or the
    // engine fills in the image's again.
    body["Entrypoint"] = json::array({""});
  }
  if (!opts.seccomp_json.empty()) {
    json secopts = json::array();
    if (hc.contains("SecurityOpt") && hc["SecurityOpt"].is_array())
      for (const auto& s : hc["SecurityOpt"])
        if (s.get<std::string>().rfind("seccomp", 0) != 0) secopts.push_back(s);
    secopts.push_back("seccomp=" + opts.seccomp_json);
    hc["SecurityOpt"] = secopts;
  }
  std::string name;
  if (run.name) name = *run.name;
  OwnedContainer owned(engine, create_container(engine, body, name));
  const std::string& id = owned.id();
  container_id = id;
  if (run.cidfile && opts.write_cidfile) write_file_atomic(*run.cidfile, id);
  if (interrupted()) {  // before it started: removed unstarted
    result.interrupted = true;
    return result;
  }
  auto start = Clock::now();
  auto timed_out = [&] {
    return opts.timeout_sec > 0 &&
           Clock::now() - start > std::chrono::milliseconds(static_cast<int64_t>(opts.timeout_sec * 1000));
  };

  // 3. Start, attached unless the user asked for -d.
  std::optional<Attached> attached;
  if (!run.detach) {
    attached.emplace(run.cli, id, run.interactive);
    // docker start -a starts it; wait until it runs (or already ran).
    auto until = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < until) {
      json st = inspect_container(engine, id).value("State", json::object());
      if (st.value("Running", false) || st.value("StartedAt", "").rfind("0001", 0) != 0) break;
      if (attached->done()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } else {
    start_container(engine, id);
    std::printf("%s\n", id.c_str());
  }

  int exec_n = 0;  // exec probes started
  bool service = !opts.probes.empty() || !opts.wait_ports.empty() || opts.duration_sec > 0;
  if (service) {
    ProbeTarget target = probe_target_from_inspect(inspect_container(engine, id));
    target.container_id = id;
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opts.ready_timeout_sec * 1000));
    auto fail_probe = [&](std::string what) {
      result.probes_ok = false;
      result.probe_failures.push_back(std::move(what));
    };
    std::vector<int> ports = opts.wait_ports;
    for (const auto& p : opts.probes)
      if (p.kind == ProbeKind::http) ports.push_back(p.port);
    for (int port : ports) {
      if (!wait_port(target, port, deadline, [&] { return interrupted() || timed_out() || !running(engine, id); })) {
        if (interrupted() || timed_out()) break;
        fail_probe(running(engine, id) ? fmt::format("port {} not ready after {} s", port, opts.ready_timeout_sec)
                                       : fmt::format("the container exited before port {} was ready", port));
        break;
      }
    }
    for (const auto& p : opts.probes) {
      if (!result.probes_ok || interrupted() || timed_out()) break;
      if (!running(engine, id)) {
        fail_probe(fmt::format("the container exited during probing (before {})", p.text));
        break;
      }
      ProbeResult r;
      switch (p.kind) {
        case ProbeKind::http: r = run_http_probe(p, target); break;
        case ProbeKind::cmd: r = run_cmd_probe(p.command, target, std::chrono::seconds(60), interrupted); break;
        case ProbeKind::exec: {
          std::vector<std::string> argv = p.argv;
          std::vector<std::string> env;
          if (opts.with_sensor) {
            std::vector<std::string> wrapped = {kSensorInContainer, "--channel",
                                                std::string(kOutInContainer) + "/" + kChannelFile, "--key-env",
                                                kSensorKeyEnv};
            wrapped.insert(wrapped.end(), sensor_flags.begin(), sensor_flags.end());
            wrapped.push_back("--");
            wrapped.insert(wrapped.end(), argv.begin(), argv.end());
            argv = wrapped;
            // Replaces the entrypoint sensor's key in the exec's environment.
            env.push_back(fmt::format("{}={}", kSensorKeyEnv, channel->key_hex(fmt::format("exec-{}", exec_n++))));
            // Not the healthcheck's key either: a workload racing this
            // sensor's first microseconds for its environment gets a one-shot
            // key only, whose second use fails the run.
            env.push_back(fmt::format("{}=", kHealthKeyEnv));
          }
          r = run_exec_probe(engine, argv, target, std::chrono::seconds(60), env);
          break;
        }
        case ProbeKind::wait_port: r.ok = true; break;
      }
      if (r.cancelled) break;
      std::fprintf(stderr, "sctrace: probe %s: %s%s%s\n", p.text.c_str(), r.ok ? "ok" : "FAILED",
                   r.detail.empty() ? "" : " - ", r.detail.c_str());
      if (!r.ok) fail_probe(fmt::format("probe {} failed: {}", p.text, r.detail));
    }
    auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opts.duration_sec * 1000));
    while (result.probes_ok && Clock::now() < until && !interrupted() && !timed_out() && running(engine, id))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    result.timed_out = timed_out() && !interrupted();
    result.planned_stop = result.probes_ok && !interrupted() && !result.timed_out && running(engine, id);
    // Graceful stop: the shutdown path is recorded too.
    stop_container(engine, id, 10);
  } else {
    // A batch container: traced until it exits.
    while (running(engine, id)) {
      if (interrupted() || timed_out()) {
        result.timed_out = !interrupted();
        stop_container(engine, id, 10);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (interrupted()) {
    stop_container(engine, id, 10);
    result.interrupted = true;
  }
  auto code = wait_container(engine, id);
  result.exit_code = code.value_or(-1);
  if (attached) attached->finish(std::chrono::seconds(5));
  // What the run changed in the root filesystem (for the read-only advice);
  // an answer of null means nothing changed.
  try {
    json changes = engine.get("/containers/" + id + "/changes");
    result.changes = changes.is_array() ? changes : json::array();
  } catch (const Error&) {
  }
  if (opts.with_sensor) {
    try {
      result.setid_files = setid_files(engine, id);
    } catch (const Error& e) {
      std::fprintf(stderr, "sctrace: could not scan the image for setuid/setgid files: %s\n", e.what());
    }
  }

  // 4. Collect what the sensors sent; the container goes with `owned`.
  if (channel) collect_recordings(channel->finish(), exec_n, result);
  if (opts.with_sensor && result.recordings.empty()) {
    // The container's command did not start (the sensor reports an exec
    // failure like a shell): 127/126 as `docker run` would exit.
    if (result.exit_code == 127)
      fail(ErrorKind::not_found, "the container's command was not found (exit 127); see the output above");
    if (result.exit_code == 126)
      fail(ErrorKind::not_exec, "the container's command could not be executed (exit 126); see the output above");
    fail(ErrorKind::runtime, "the sensor wrote no recording (container exit code {}); see the output above",
         result.exit_code);
  }
  return result;
}

}  // namespace

SessionResult run_session(const SessionOptions& opts) {
  std::string id;
  try {
    return run_session_inner(opts, id);
  } catch (const DaemonUnreachable& e) {
    if (id.empty()) throw;
    // ~OwnedContainer could not remove the container, unless the daemon is
    // back already.
    bool removed = false;
    try {
      Engine engine;
      inspect_container(engine, id);
    } catch (const EngineError& gone) {
      removed = gone.http_status() == 404;
    } catch (const Error&) {
    }
    if (removed) throw;
    fail(ErrorKind::runtime, "{} (the daemon went away during the run); container {} is left behind: the next "
         "sctrace run against this daemon removes it", e.what(), id.substr(0, 12));
  }
}

}  // namespace sctrace::container
