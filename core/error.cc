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

}  // namespace sctrace
