// Probe specs from the command line (--http-probe, --probe-cmd, --exec-probe,
// --wait-port) and the engine's inspect answer they are resolved against.
// The first byte picks the parser; every parser must accept or throw
// sctrace::Error, and split_words must never let shell syntax through.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tracer/probes.h"

using namespace sctrace;

namespace {

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_probes: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void check_spec(const ProbeSpec& s) {
  if ((s.kind == ProbeKind::http || s.kind == ProbeKind::wait_port) && (s.port < 1 || s.port > 65535))
    die("accepted a port out of range", s.text);
  if (s.kind == ProbeKind::http && (s.path.empty() || s.path[0] != '/')) die("http path without '/'", s.text);
  if (s.kind == ProbeKind::exec && s.argv.empty()) die("exec probe without words", s.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: check_spec(parse_http_probe(text)); break;
      case 1: check_spec(parse_probe_cmd(text)); break;
      case 2: check_spec(parse_exec_probe(text)); break;
      case 3: check_spec(parse_wait_port(text)); break;
      case 4: {
        // Without quotes or backslashes every shell metacharacter is
        // unquoted, so split_words must refuse it rather than pass it on.
        bool quoting = text.find_first_of("'\"\\") != std::string_view::npos;
        bool meta = text.find_first_of("|&;<>()`") != std::string_view::npos;
        for (size_t i = 0; i + 1 < text.size(); ++i)  // $NAME, $1, ${, $(, $?, ...
          if (text[i] == '$' && (std::isalnum(static_cast<unsigned char>(text[i + 1])) ||
                                 std::strchr("_{(@*#?$!-", text[i + 1])))
            meta = true;
        (void)split_words(text);
        if (!quoting && meta) die("split_words let unquoted shell syntax through", text);
        break;
      }
      case 5: {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) break;
        ProbeTarget t = probe_target_from_inspect(j);
        for (const auto& [cport, hport] : t.ports) (void)resolve_endpoint(t, cport);
        (void)resolve_endpoint(t, 80);
        break;
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
