// The user's `docker run` / `podman run` line and the CLI's `run --help`
// text it is understood with. Input: one mode byte, then
//   mode 0/1: argv elements separated by NUL, read with the captured help of
//             docker 28 (data/docker-run-help.txt) or podman 4 (podman-...);
//   mode 2:   a help text, "\0\0", then NUL-separated argv elements.
// Everything must accept or throw sctrace::Error; an accepted line must give
// back the argv it came from and rewrite into create/security-opt forms.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tracer/container/docker_args.h"

using namespace sctrace;
using namespace sctrace::container;

namespace {

std::string docker_help, podman_help;

std::string slurp(const char* name) {
  std::ifstream f(std::string(SCTRACE_FUZZ_DATA) + "/" + name);
  std::string s{std::istreambuf_iterator<char>(f), {}};
  if (s.empty()) {
    std::fprintf(stderr, "fuzz_docker_args: cannot read %s/%s\n", SCTRACE_FUZZ_DATA, name);
    std::abort();
  }
  return s;
}

[[noreturn]] void die(const char* what, const std::vector<std::string>& argv) {
  std::fprintf(stderr, "fuzz_docker_args: %s:", what);
  for (const auto& a : argv) std::fprintf(stderr, " [%s]", a.c_str());
  std::fprintf(stderr, "\n");
  std::abort();
}

std::vector<std::string> split_nul(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find('\0', start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

void exercise(const std::vector<std::string>& argv, std::string_view help) {
  DockerRun run;
  try {
    run = parse_docker_run(argv, help);
  } catch (const Error&) {
    return;
  }
  if (run.argv() != argv) die("argv() does not give back the parsed line", argv);
  for (const auto& f : run.flags) {
    if (f.token >= run.options.size()) die("a flag points past the options", argv);
    if (f.value_in_next && f.token + 1 >= run.options.size()) die("a value points past the options", argv);
  }
  try {
    auto created = to_create_argv(run, default_run_only_flags(run.flavor));
    (void)with_security_opt(created, "seccomp=/tmp/p.json");
    (void)with_security_opt(argv, "seccomp=unconfined");
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  docker_help = slurp("docker-run-help.txt");
  podman_help = slurp("podman-run-help.txt");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: exercise(split_nul(rest), docker_help); break;
    case 1: exercise(split_nul(rest), podman_help); break;
    case 2: {
      size_t sep = rest.find(std::string_view("\0\0", 2));
      std::string_view help = rest.substr(0, sep);
      try {
        FlagTable t = FlagTable::from_help(help);
        for (const auto& [name, info] : t.flags())
          if (info.shorthand && t.find_short(info.shorthand) == nullptr) die("a shorthand is not found", {name});
        (void)run_only_flags(help, docker_help);
      } catch (const Error&) {
      }
      if (sep != std::string_view::npos) exercise(split_nul(rest.substr(sep + 2)), help);
      break;
    }
  }
  return 0;
}
