#pragma once
// Errors inside sctrace travel as exceptions of one type; cli/main.cc is the
// single place that turns them into a one-line message and an exit code.
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace sctrace {

enum class ErrorKind {
  usage,      // bad command line                       -> exit 2
  input,      // malformed profile/recording/template    -> exit 2
  io,         // cannot read/write a file                -> exit 2
  not_found,  // COMMAND not found (like a shell)        -> exit 127
  not_exec,   // COMMAND found but not executable        -> exit 126
  runtime,    // tracing/kernel/daemon failure           -> exit 2
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(kind, fmt::format(f, std::forward<Args>(args)...));
}

// "context: strerror(errno)" as a runtime/io error.
[[noreturn]] void fail_errno(ErrorKind kind, int err, const std::string& context);

// An nlohmann::json exception's text without its "[json.exception.parse_error.101] "
// prefix, for the one-line errors every JSON reader gives.
std::string json_error_text(const std::exception& e);

int exit_code_for(ErrorKind kind);

}  // namespace sctrace
