#include "session/harvest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "profile/seccomp_log.h"
#include "tracer/container/engine.h"
#include "tracer/container/session.h"

namespace sctrace {

namespace {

constexpr const char* kKmsg = "/dev/kmsg";
constexpr const char* kAuditLog = "/var/log/audit/audit.log";

// The kernel's ring buffer, read without blocking from its oldest record to
// its newest. One read() is one record ("prio,seq,usec,flags;text\n" and
// continuation lines); EPIPE says the reader fell behind records the buffer
// overwrote, and the next read goes on from the oldest one left.
bool read_kmsg(Harvester& h) {
  UniqueFd fd(::open(kKmsg, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return false;
  std::vector<char> buf(16384);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && (errno == EPIPE || errno == EINTR)) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n < 0) fail_errno(ErrorKind::io, errno, fmt::format("reading {}", kKmsg));
    if (n == 0) return true;
    std::string_view rec(buf.data(), static_cast<size_t>(n));
    h.add_line(rec.substr(0, rec.find('\n')));
  }
}

bool read_lines(const std::string& path, Harvester& h) {
  std::ifstream in(path);
  if (!in) return false;
  for (std::string line; std::getline(in, line);) h.add_line(line);
  return true;
}

// journald keeps what the ring buffer has long overwritten; only asked when
// it runs (its socket directory), and for the kernel's messages only.
bool read_journal(double since, Harvester& h) {
  struct stat st {};
  if (::stat("/run/systemd/journal", &st) != 0) return false;
  std::vector<std::string> argv{"journalctl", "-k", "-o", "cat", "--no-pager", "-q"};
  if (since > 0) argv.push_back(fmt::format("--since=@{}", static_cast<long long>(since)));
  const container::Captured c = container::run_capture(argv, std::chrono::seconds(60), true);
  if (!c.ok()) return false;
  size_t at = 0;
  while (at < c.out.size()) {
    size_t nl = c.out.find('\n', at);
    if (nl == std::string::npos) nl = c.out.size();
    h.add_line(std::string_view(c.out).substr(at, nl - at));
    at = nl + 1;
  }
  return true;
}

std::optional<ino_t> pid_ns(pid_t pid) {
  struct stat st {};
  if (::stat(fmt::format("/proc/{}/ns/pid", pid).c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

// The container's processes: those in its pid namespace, or, for a
// container that shares the host's (--pid=host), those in a cgroup named
// after its ID (cgroup v1 "/docker/ID", the systemd driver's "docker-ID.scope").
struct ContainerProcesses {
  std::string id;
  std::optional<ino_t> ns;  // nullopt: the host's namespace, match by cgroup

  Whose operator()(pid_t pid) const {
    const std::optional<ino_t> theirs = pid_ns(pid);
    if (!theirs) return Whose::gone;
    if (ns) return *theirs == *ns ? Whose::selected : Whose::other;
    std::ifstream in(fmt::format("/proc/{}/cgroup", pid));
    if (!in) return Whose::gone;
    for (std::string line; std::getline(in, line);)
      if (line.find(id) != std::string::npos) return Whose::selected;
    return Whose::other;
  }
};

ContainerProcesses container_processes(const std::string& name) {
  container::Engine engine;
  const nlohmann::json j = container::inspect_container(engine, name);
  const auto& state = j.value("State", nlohmann::json::object());
  const int pid = state.value("Pid", 0);
  if (!state.value("Running", false) || pid <= 0)
    fail(ErrorKind::usage,
         "--container {}: not running; its log records name only pids, which tell whose they are only while the "
         "container runs",
         name);
  ContainerProcesses c{j.value("Id", std::string()), pid_ns(pid)};
  if (!c.ns) fail(ErrorKind::runtime, "--container {}: cannot read /proc/{}/ns/pid", name, pid);
  if (c.ns == pid_ns(::getpid())) c.ns.reset();  // --pid=host
  return c;
}

}  // namespace

int run_harvest(const HarvestRequest& req, const SayFn& say) {
  HarvestSelect select;
  if (!req.since.empty()) {
    const std::optional<double> d = parse_duration(req.since);
    if (!d) fail(ErrorKind::usage, "--since: '{}' is not a duration (90, 90s, 15m, 2h, 1d)", req.since);
    select.since = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - *d;
  }
  select.exe = req.exe;
  std::string whose = req.exe.empty() ? "every process" : "executable " + printable(req.exe);
  if (!req.container.empty()) {
    ContainerProcesses c = container_processes(req.container);
    whose = fmt::format("container {} ({}){}", printable(req.container),
                        c.ns ? fmt::format("pid namespace {}", *c.ns) : std::string("cgroup, --pid=host"),
                        req.exe.empty() ? "" : ", " + whose);
    select.process = c;
  }
  check_writable(req.output);

  const double since = select.since;
  Harvester h(std::move(select));
  std::vector<std::string> sources;
  // Every log this machine keeps: with auditd the records go to its log
  // instead of printk; journald copies the ring buffer. The same record read
  // twice counts once (audit's time and serial name it).
  if (read_lines(kAuditLog, h)) sources.push_back(kAuditLog);
  if (read_kmsg(h)) sources.push_back(kKmsg);
  if (read_journal(since, h)) sources.push_back("journald");
  if (sources.empty())
    fail(ErrorKind::io, "no kernel log to read: {} and {} are not readable and journald does not run", kAuditLog,
         kKmsg);
  const Harvest result = std::move(h).finish();
  write_file_atomic(req.output, recording_to_json(result.recording));
  for (const auto& line : harvest_summary(result, fmt::format("{}", fmt::join(sources, ", ")), whose)) say(line);
  say(fmt::format("wrote {}", req.output));
  return 0;
}

}  // namespace sctrace
