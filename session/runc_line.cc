#include "session/runc_line.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"

namespace sctrace {

namespace {

// runc's global options that take a value (runc --help).
bool runc_global_takes_value(const std::string& a) {
  return a == "--root" || a == "--log" || a == "--log-format" || a == "--criu";
}

}  // namespace

bool is_runc_line(const std::vector<std::string>& argv) {
  if (argv.size() < 2) return false;
  std::string base = std::filesystem::path(argv[0]).filename().string();
  if (base != "runc" && base != "crun") return false;
  return std::find(argv.begin() + 1, argv.end(), "run") != argv.end();
}

RuncLine parse_runc_line(const std::vector<std::string>& argv) {
  RuncLine l;
  size_t i = 1;
  for (; i < argv.size() && argv[i] != "run"; ++i)
    if (runc_global_takes_value(argv[i])) ++i;
  if (i >= argv.size()) fail(ErrorKind::usage, "runc: no 'run' command on the line");
  l.run_index = i;
  for (size_t j = i + 1; j < argv.size(); ++j) {
    const std::string& a = argv[j];
    if (a == "-b" || a == "--bundle") {
      if (j + 1 >= argv.size()) fail(ErrorKind::usage, "runc run: {} needs a value", a);
      l.bundle_value = j + 1;
      l.bundle = argv[++j];
    } else if (a.rfind("--bundle=", 0) == 0 || a.rfind("-b=", 0) == 0) {
      l.bundle_inline = j;
      l.bundle = a.substr(a.find('=') + 1);
    } else if (a == "-d" || a == "--detach") {
      l.detach = true;
    } else if (a == "--console-socket" || a == "--pid-file" || a == "--preserve-fds") {
      ++j;
    }
  }
  return l;
}

std::vector<std::string> with_bundle(const std::vector<std::string>& argv, const RuncLine& line,
                                     const std::string& bundle) {
  std::vector<std::string> out = argv;
  if (line.bundle_value) out[*line.bundle_value] = bundle;
  else if (line.bundle_inline) out[*line.bundle_inline] = "--bundle=" + bundle;
  else out.insert(out.begin() + static_cast<long>(line.run_index) + 1, {"--bundle", bundle});
  return out;
}

}  // namespace sctrace
