#include "cli/argv.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string_view>

#include "core/error.h"

namespace sctrace::cli {

namespace {

// The placeholder an argument after "--" is shown to CLI11 as (see argv.h).
constexpr std::string_view kHidden = "\x1f" "sctrace-hidden-arg-";

std::string unhidden(const std::string& arg, int argc, const char* const* argv) {
  if (arg.rfind(kHidden, 0) != 0) return arg;
  const std::string digits = arg.substr(kHidden.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return arg;
  const int i = std::stoi(digits);
  return i < argc ? argv[i] : arg;
}

// What CLI11 left over for SUB: its own extras, then the app's (arguments
// after "--" reach the app rather than the subcommand in CLI11 2.1).
std::vector<std::string> leftovers(CLI::App* app, CLI::App* sub) {
  std::vector<std::string> rest = sub->remaining();
  for (const auto& r : app->remaining(false)) rest.push_back(r);
  return rest;
}

}  // namespace

std::vector<std::string> hide_after_dashdash(int argc, const char* const* argv,
                                             std::initializer_list<const CLI::App*> with_workload) {
  std::vector<std::string> args(argv, argv + argc);
  std::size_t i = 1;
  while (i < args.size() && !args[i].empty() && args[i][0] == '-') ++i;  // --version, -h
  if (i == args.size() || std::none_of(with_workload.begin(), with_workload.end(),
                                       [&](const CLI::App* a) { return a->get_name() == args[i]; }))
    return args;
  for (; i < args.size(); ++i)
    if (args[i] == "--") {
      for (std::size_t j = i + 1; j < args.size(); ++j) args[j] = fmt::format("{}{}", kHidden, j);
      break;
    }
  return args;
}

std::vector<std::string> workload_from(CLI::App* app, CLI::App* sub, int argc, const char* const* argv) {
  std::vector<std::string> rest = leftovers(app, sub);
  for (auto& r : rest) r = unhidden(r, argc, argv);
  if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
  else if (!rest.empty() && !rest.front().empty() && rest.front()[0] == '-')
    fail(ErrorKind::usage, "{}: unknown option '{}'", sub->get_name(), rest.front());
  if (rest.empty()) fail(ErrorKind::usage, "{}: no command given (usage: sctrace {} [options] -- COMMAND...)",
                         sub->get_name(), sub->get_name());
  return rest;
}

void no_extras(CLI::App* app, CLI::App* sub) {
  std::vector<std::string> rest = leftovers(app, sub);
  std::erase(rest, "--");  // `merge -o M -- A B`: CLI11 keeps the "--" as an extra
  if (rest.empty()) return;
  const bool option = rest.front().size() > 1 && rest.front()[0] == '-';
  fail(ErrorKind::usage, "{}: unknown {} '{}' (see sctrace {} --help)", sub->get_name(),
       option ? "option" : "argument", rest.front(), sub->get_name());
}

std::vector<Options::Probe> probes_in_order(int argc, const char* const* argv) {
  std::vector<Options::Probe> out;
  const std::pair<const char*, const char*> kinds[] = {
      {"--http-probe", "http"}, {"--probe-cmd", "cmd"}, {"--exec-probe", "exec"}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    for (const auto& [flag, kind] : kinds) {
      std::string f = flag;
      if (a == f && i + 1 < argc) {
        out.push_back({kind, argv[++i]});
      } else if (a.rfind(f + "=", 0) == 0) {
        out.push_back({kind, a.substr(f.size() + 1)});
      }
    }
  }
  return out;
}

}  // namespace sctrace::cli
