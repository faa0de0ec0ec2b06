#include "core/error.h"

#include <cstring>

namespace sctrace {

void fail_errno(ErrorKind kind, int err, const std::string& context) {
  throw Error(kind, fmt::format("{}: {}", context, std::strerror(err)));
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found: return 127;
    case ErrorKind::not_exec: return 126;
    default: return 2;
  }
}

std::string json_error_text(const std::exception& e) {
  std::string what = e.what();
  if (auto pos = what.find("] "); what.rfind("[json.exception", 0) == 0 && pos != std::string::npos)
    what = what.substr(pos + 2);
  return what;
}

}  // namespace sctrace
