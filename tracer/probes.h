#pragma once
// Probes: what sctrace does to a traced server so that it exercises its
// request paths (and so the recorded syscall set covers them).
//
//   --http-probe PORT[/PATH]          GET http://<target>:PORT/PATH
//   --http-probe METHOD:PORT[/PATH]   any method; POST/PUT/PATCH send a small
//                                     text body ("sctrace-probe")
//   --probe-cmd 'SHELL COMMAND'       /bin/sh -c on the host, with
//                                     SCTRACE_PORT_<containerport>=<hostport> per published port,
//                                     SCTRACE_HOST (where published ports listen),
//                                     SCTRACE_CONTAINER (ID), SCTRACE_CONTAINER_IP (if any)
//   --exec-probe 'COMMAND'            run inside the container (engine exec API);
//                                     split with split_words, no shell involved
//   --wait-port PORT                  readiness: a TCP connect succeeds
//
// Where a container port is reached (resolve_endpoint): its published host
// port on host_ip when published, else container_ip:PORT, else host_ip:PORT
// (host networking).
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sctrace {

namespace container {
class Engine;
}

enum class ProbeKind { http, cmd, exec, wait_port };

struct ProbeSpec {
  ProbeKind kind = ProbeKind::http;
  std::string text;             // as the user wrote it, for messages
  std::string method = "GET";   // http
  int port = 0;                 // http, wait_port: the CONTAINER port
  std::string path = "/";       // http
  std::string body;             // http: sent for POST/PUT/PATCH
  std::string command;          // cmd: the shell command
  std::vector<std::string> argv;  // exec: the command's words
};

// Each throws Error(usage) with one line for a malformed spec.
ProbeSpec parse_http_probe(std::string_view text);
ProbeSpec parse_probe_cmd(std::string_view text);
ProbeSpec parse_exec_probe(std::string_view text);
ProbeSpec parse_wait_port(std::string_view text);

struct ProbeTarget {
  std::string host_ip = "127.0.0.1";  // where published ports listen
  std::map<int, int> ports;           // container port -> host port (TCP)
  std::string container_ip;
  std::string container_id;
};
// From an inspect answer (published ports, their host address, the IP).
ProbeTarget probe_target_from_inspect(const nlohmann::json& inspect);

struct Endpoint {
  std::string host;
  int port = 0;
  bool published = false;  // through a published port (docker-proxy or NAT)
};
Endpoint resolve_endpoint(const ProbeTarget& target, int container_port);

struct ProbeResult {
  bool ok = false;
  int code = 0;        // HTTP status, or the command's exit code
  std::string detail;  // status line, "exit status 3", or what went wrong
  bool cancelled = false;  // stopped because cancelled() said so: not a verdict
};

// Polls (50 ms, doubling up to 1 s) until a TCP connection to the port is
// accepted, the deadline passes (false) or cancelled() returns true (false).
// A container's own address is preferred: docker-proxy accepts connections
// on a published port before anything listens in the container and then
// closes them, so through a published port a connection must also stay open
// for a moment to count.
bool wait_port(const ProbeTarget& target, int port, std::chrono::steady_clock::time_point deadline,
               const std::function<bool()>& cancelled = {});

// HTTP/1.1 with Connection: close; ok for a 2xx/3xx answer within timeout.
ProbeResult run_http_probe(const ProbeSpec& spec, const ProbeTarget& target,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

// /bin/sh -c cmd in its own process group (killed whole on timeout, or at
// once when cancelled() returns true: it is polled while the command runs),
// stdin from /dev/null, stdout/stderr shared with sctrace. ok = exit status 0.
ProbeResult run_cmd_probe(const std::string& cmd, const ProbeTarget& target,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::function<bool()>& cancelled = {});

// argv inside the container (POST /containers/ID/exec), its output copied to
// our stdout/stderr; ok = exit code 0. On timeout the command may go on
// running inside the container (the API cannot kill an exec).
// env: NAME=VALUE entries added to the exec's environment.
ProbeResult run_exec_probe(container::Engine& engine, const std::vector<std::string>& argv,
                           const ProbeTarget& target, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                           const std::vector<std::string>& env = {});

// Shell-like word splitting without a shell: blanks separate words; '...'
// is literal; "..." is literal except \" \\ \$ \` and backslash-newline;
// an unquoted backslash quotes the next character; adjacent parts join
// ("a'b'\"c\"" -> abc; '' is an empty word). Nothing is expanded, so
// unquoted shell syntax (| & ; < > ( ) `, $NAME, ${, $( and the same $/`
// inside "...") is an Error(usage) instead of being passed on literally, as
// is an unterminated quote.
std::vector<std::string> split_words(std::string_view text);

}  // namespace sctrace
