// The command line itself (cli/options.h parse_args): NUL-separated
// arguments after "sctrace". It must return Options or throw sctrace::Error;
// it never exits the process or prints.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "core/error.h"

using namespace sctrace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args{"sctrace"};
  size_t start = 0;
  while (start <= text.size() && args.size() < 64) {
    size_t end = text.find('\0', start);
    args.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  try {
    (void)cli::parse_args(static_cast<int>(args.size()), argv.data());
  } catch (const Error&) {
  }
  return 0;
}
