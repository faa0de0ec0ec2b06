#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "session/outputs.h"
#include "tests/unit/unit_helpers.h"
#include "core/error.h"

using namespace sctrace;
using sctrace::cli::Command;

namespace {
cli::Options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sctrace");
  return cli::parse_args(static_cast<int>(args.size()), args.data());
}
ErrorKind kind_of(std::vector<const char*> args) {
  try {
    parse(std::move(args));
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("expected a usage error");
  return ErrorKind::runtime;
}
}  // namespace

TEST_CASE("run takes options then the workload after --", "[options]") {
  auto o = parse({"run", "-o", "p.json", "--recording", "r.json", "--timeout", "2.5", "--", "ls", "-la", "/"});
  CHECK(o.command == Command::run);
  CHECK(o.output == "p.json");
  CHECK(o.recording == "r.json");
  CHECK(o.timeout_sec == 2.5);
  CHECK(o.workload == std::vector<std::string>{"ls", "-la", "/"});
}

TEST_CASE("run without -- stops at the first positional", "[options]") {
  auto o = parse({"run", "sqlite3", ":memory:", "-batch"});
  CHECK(o.output == "seccomp-profile.json");
  CHECK(o.workload == std::vector<std::string>{"sqlite3", ":memory:", "-batch"});
}

TEST_CASE("workload options are never taken as sctrace options", "[options]") {
  auto o = parse({"run", "--", "prog", "-o", "x", "--recording", "y"});
  CHECK(o.output == "seccomp-profile.json");
  CHECK(o.recording.empty());
  CHECK(o.workload.size() == 5);
}

TEST_CASE("help and version flags after -- belong to the workload", "[options]") {
  // docker's own -h HOSTNAME, and a program's --help/--version: each used to
  // print sctrace's help or version and exit 0, so a CI check "passed".
  auto r = parse({"run", "-o", "p.json", "--", "docker", "run", "--rm", "-h", "myhost", "img"});
  CHECK(r.command == Command::run);
  CHECK(r.workload == std::vector<std::string>{"docker", "run", "--rm", "-h", "myhost", "img"});
  auto c = parse({"check", "--profile", "p.json", "--", "prog", "--help"});
  CHECK(c.command == Command::check);
  CHECK(c.workload == std::vector<std::string>{"prog", "--help"});
  auto v = parse({"verify", "--profile", "p.json", "--http-probe", "8080/", "--", "prog", "--version"});
  CHECK(v.command == Command::verify);
  CHECK(v.workload == std::vector<std::string>{"prog", "--version"});
  CHECK(v.probes.size() == 1);
  auto e = parse({"enforce", "--profile", "p.json", "--", "prog", "-h"});
  CHECK(e.command == Command::enforce);
  CHECK(e.workload == std::vector<std::string>{"prog", "-h"});
  // Without --, a -- inside the workload stays there.
  auto n = parse({"run", "prog", "--", "-h"});
  CHECK(n.workload == std::vector<std::string>{"prog", "--", "-h"});
  // sctrace's own help before -- still works.
  CHECK(parse({"check", "-h", "--", "prog"}).command == Command::help);
}

TEST_CASE("usage errors", "[options]") {
  CHECK(kind_of({"run", "--bogus", "--", "ls"}) == ErrorKind::usage);
  CHECK(kind_of({"run"}) == ErrorKind::usage);
  CHECK(kind_of({"run", "--"}) == ErrorKind::usage);
  CHECK(kind_of({"frobnicate"}) == ErrorKind::usage);
  CHECK(kind_of({"verify", "--", "ls"}) == ErrorKind::usage);  // --profile is required
  CHECK(kind_of({"run", "--timeout", "-1", "--", "ls"}) == ErrorKind::usage);
  // Seconds: finite, at most a year (1e10 overflowed the deadline into an immediate kill), at least a
  // millisecond when not 0 (0.0004 truncated to "no limit").
  for (const char* bad : {"nan", "inf", "abc", "1e10", "0.0004", ""})
    CHECK(kind_of({"check", "--profile", "p.json", "--timeout", bad, "--", "ls"}) == ErrorKind::usage);
  CHECK(kind_of({"run", "--duration", "nan", "--", "ls"}) == ErrorKind::usage);
  CHECK(kind_of({"run", "--ready-timeout", "1e300", "--", "ls"}) == ErrorKind::usage);
  CHECK(parse({"run", "--timeout", "0.001", "--", "ls"}).timeout_sec == 0.001);
  CHECK(kind_of({"merge", "-o", "out.json"}) == ErrorKind::usage);
  // Subcommands without a workload refuse what they do not know (they used to ignore it; `calibrate --bogus`
  // went on to start containers).
  CHECK(kind_of({"merge", "-o", "m.json", "--no-new-privilegs", "r.json"}) == ErrorKind::usage);
  CHECK(kind_of({"diff", "--josn", "a.json", "b.json"}) == ErrorKind::usage);
  CHECK(kind_of({"diff", "a.json", "b.json", "c.json"}) == ErrorKind::usage);
  CHECK(kind_of({"explain", "--jsn", "read"}) == ErrorKind::usage);
  CHECK(kind_of({"explain", "read", "extra"}) == ErrorKind::usage);
  CHECK(kind_of({"calibrate", "--bogus"}) == ErrorKind::usage);
  // ... but "--" before their own arguments is fine.
  sctrace::test::TempDir dir;
  const std::string a = (dir.path / "a.json").string(), b = (dir.path / "b.json").string();
  std::ofstream(a) << "{}";
  std::ofstream(b) << "{}";
  auto m = parse({"merge", "-o", "m.json", "--", a.c_str(), b.c_str()});
  CHECK(m.inputs == std::vector<std::string>{a, b});
  CHECK(parse({"diff", "--", a.c_str(), b.c_str()}).inputs == std::vector<std::string>{a, b});
  CHECK(parse({"explain", "--", "read"}).syscall_name == "read");
}

TEST_CASE("verify, enforce, merge, version and help", "[options]") {
  auto v = parse({"verify", "--profile", "p.json", "--", "true"});
  CHECK(v.command == Command::verify);
  CHECK(v.profile == "p.json");
  auto e = parse({"enforce", "--profile", "p.json", "true"});
  CHECK(e.command == Command::enforce);
  CHECK(e.workload == std::vector<std::string>{"true"});
  auto m = parse({"merge", "-o", "m.json", SCTRACE_SOURCE_DIR "/CMakeLists.txt"});
  CHECK(m.command == Command::merge);
  CHECK(m.inputs.size() == 1);
  CHECK(parse({"--version"}).command == Command::version);
  auto h = parse({"run", "--help"});
  CHECK(h.command == Command::help);
  CHECK(h.help_text.find("--recording") != std::string::npos);
}

TEST_CASE("an incomplete run never replaces a profile or recording that exists", "[options][outputs]") {
  sctrace::test::TempDir dir;
  cli::Options o;
  o.output = (dir.path / "p.json").string();
  o.recording = (dir.path / "p.recording.json").string();
  auto run_outputs = [&o](bool complete) {
    return sctrace::run_outputs({o.format, o.output, o.recording}, complete, [](const std::string&) {});
  };
  // Nothing there yet: an incomplete run writes where it was told.
  CHECK(run_outputs(false).output == o.output);
  std::ofstream(o.recording) << "{}";
  // A complete run replaces what is there.
  CHECK(run_outputs(true).output == o.output);
  // An incomplete one goes beside, profile and recording alike.
  sctrace::RunOutputs out = run_outputs(false);
  CHECK(out.output == (dir.path / "p.incomplete.json").string());
  CHECK(out.recording == (dir.path / "p.recording.incomplete.json").string());
  // --format k8s writes a JSON sibling: an existing one counts too.
  std::filesystem::remove(o.recording);
  o.recording.clear();
  o.format = "k8s";
  o.output = (dir.path / "sp.yaml").string();
  std::ofstream(dir.path / "sp.json") << "{}";
  CHECK(run_outputs(false).output == (dir.path / "sp.incomplete.yaml").string());
  // Devices are written as they are, also when another output exists as a file.
  o.format = "docker";
  o.output = "/dev/null";
  CHECK(run_outputs(false).output == "/dev/null");
  o.recording = (dir.path / "r.json").string();
  std::ofstream(o.recording) << "{}";
  out = run_outputs(false);
  CHECK(out.output == "/dev/null");
  CHECK(out.recording == (dir.path / "r.incomplete.json").string());
  // Devices never count as two outputs on one file.
  CHECK_NOTHROW(cli::check_distinct_outputs({{"--junit", "/dev/stdout"}, {"--report-json", "/dev/stdout"}}));
  CHECK_NOTHROW(cli::check_distinct_outputs({{"--sarif", "/dev/null"}, {"--junit", "/dev/null"}}));
}

TEST_CASE("two outputs naming the same file are refused", "[options][outputs]") {
  using Outs = std::vector<std::pair<std::string, std::string>>;
  CHECK(sctrace::test::kind_of([] { cli::check_distinct_outputs(Outs{{"-o", "p.json"}, {"--recording", "p.json"}}); }) ==
        ErrorKind::usage);
  CHECK(sctrace::test::kind_of([] {
          cli::check_distinct_outputs(Outs{{"-o", "d/p.json"}, {"--recording", "d/../d/./p.json"}});
        }) == ErrorKind::usage);
  CHECK_NOTHROW(cli::check_distinct_outputs(Outs{{"-o", "p.json"}, {"--recording", "p.recording.json"}, {"--sarif", ""},
                                                 {"--report-json", ""}}));
}

TEST_CASE("the --backend and --ptrace-stops options are parsed once into enums, bad values refused as before", "[options]") {
  auto o = parse({"run", "--", "ls"});
  CHECK(o.backend == RequestedBackend::automatic);
  CHECK(o.ptrace_stops == PtraceStops::automatic);
  o = parse({"run", "--backend", "ptrace", "--ptrace-stops", "one", "--", "ls"});
  CHECK(o.backend == RequestedBackend::ptrace);
  CHECK(o.ptrace_stops == PtraceStops::one);
  CHECK(parse({"run", "--ptrace-stops=two", "--", "ls"}).ptrace_stops == PtraceStops::two);
  CHECK(parse({"check", "--profile", "p.json", "--backend", "notify", "--", "ls"}).backend == RequestedBackend::notify);
  CHECK(parse({"verify", "--profile", "p.json", "--backend=ptrace", "--", "ls"}).backend == RequestedBackend::ptrace);
  // The workload's own --backend is the workload's.
  CHECK(parse({"run", "--", "tool", "--backend", "notify"}).backend == RequestedBackend::automatic);
  std::string msg;
  CHECK(sctrace::test::kind_of([] { parse({"run", "--backend", "seccomp", "--", "ls"}); }, &msg) == ErrorKind::usage);
  CHECK(msg == "--backend: seccomp not in {auto,ptrace,notify}");
  CHECK(sctrace::test::kind_of([] { parse({"check", "--profile", "p", "--backend", "x", "--", "ls"}); }, &msg) ==
        ErrorKind::usage);
  CHECK(msg == "--backend: x not in {auto,ptrace,notify}");
  CHECK(sctrace::test::kind_of([] { parse({"run", "--ptrace-stops", "three", "--", "ls"}); }, &msg) ==
        ErrorKind::usage);
  CHECK(msg == "--ptrace-stops: three not in {auto,one,two}");
  // check and verify have no --ptrace-stops.
  CHECK(kind_of({"check", "--profile", "p.json", "--ptrace-stops", "one", "--", "ls"}) == ErrorKind::usage);
}

TEST_CASE("run --static off|benign|all, benign by default, other values refused", "[options]") {
  CHECK(parse({"run", "--", "ls"}).static_mode == StaticMode::benign);
  CHECK(parse({"run", "--static", "off", "--", "ls"}).static_mode == StaticMode::off);
  CHECK(parse({"run", "--static=all", "--", "ls"}).static_mode == StaticMode::all);
  // The workload's own --static is the workload's.
  CHECK(parse({"run", "--", "gcc", "--static", "off"}).static_mode == StaticMode::benign);
  std::string msg;
  CHECK(sctrace::test::kind_of([] { parse({"run", "--static", "some", "--", "ls"}); }, &msg) == ErrorKind::usage);
  CHECK(msg == "--static: some not in {off,benign,all}");
  // verify has no --static.
  CHECK(kind_of({"verify", "--profile", "p.json", "--static", "off", "--", "ls"}) == ErrorKind::usage);
}
