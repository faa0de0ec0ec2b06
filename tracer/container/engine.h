#pragma once
// A small client for the Docker Engine API over its unix socket (libcurl).
//
// API version: the first request asks the daemon for its version through the
// unversioned GET /version and from then on every path is prefixed with
// "/v<min(daemon ApiVersion, kMaxApiVersion)>". kMaxApiVersion is the newest
// version whose JSON this code was written against (Docker 20.10's 1.41);
// a newer daemon speaks it too, an older one (>= kMinApiVersion) gets its own.
// Podman's Docker-compatible socket answers the same way.
//
// Errors are sctrace::Error(ErrorKind::runtime) with one line:
//   "cannot reach the Docker daemon at /var/run/docker.sock: <curl error>"
//   "lost the connection to the Docker daemon at /var/run/docker.sock during GET ...: <curl error>"
//   "docker: No such image: foo:latest"      (HTTP >= 400, the daemon's "message")
// The first two are DaemonUnreachable.
// EngineError carries the HTTP status for callers that treat 404/304 as normal.
//
// Every request uses its own CURL handle, so one Engine can be shared between
// threads (e.g. one thread blocked in wait_container while another stops it).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sctrace::container {

class EngineError : public Error {
 public:
  EngineError(int http_status, std::string message)
      : Error(ErrorKind::runtime, std::move(message)), http_status_(http_status) {}
  int http_status() const { return http_status_; }

 private:
  int http_status_;
};

// The daemon could not be reached, or dropped the connection before it
// answered (it stopped or crashed): no HTTP status, and nothing can be asked
// of that daemon any more.
class DaemonUnreachable : public Error {
 public:
  explicit DaemonUnreachable(std::string message) : Error(ErrorKind::runtime, std::move(message)) {}
};

inline constexpr std::string_view kMaxApiVersion = "1.41";
inline constexpr std::string_view kMinApiVersion = "1.30";  // wait?condition=, stop?t=

// Compares dotted API versions numerically ("1.9" < "1.41"); -1, 0 or 1.
int compare_api_versions(std::string_view a, std::string_view b);

// The socket path from $DOCKER_HOST ("unix:///path"), else /var/run/docker.sock.
// Throws Error(usage) when DOCKER_HOST names something other than a unix socket.
std::string default_socket_path();

struct Response {
  long status = 0;
  std::string body;
  bool cancelled = false;  // RequestOptions::cancelled stopped it
};

class Engine {
 public:
  // socket: a path or "unix://path"; empty = default_socket_path().
  explicit Engine(std::string socket = {});

  const std::string& socket_path() const { return socket_; }
  // The version used in request paths ("1.41"); asks the daemon the first time.
  const std::string& api_version();
  // The daemon's answer to GET /version (cached).
  const nlohmann::json& version_info();

  // Versioned requests ("/containers/json" -> /v1.41/containers/json). An empty
  // response body gives a null json. Throw on transport errors and HTTP >= 400.
  nlohmann::json get(const std::string& path);
  nlohmann::json post(const std::string& path, const nlohmann::json& body = nullptr);
  void del(const std::string& path);

  struct RequestOptions {
    // 0 = no limit (for requests that block until something happens).
    std::chrono::milliseconds timeout{120'000};
    // Called for every chunk of the response body instead of collecting it
    // (then Response::body stays empty; error bodies are still collected).
    std::function<void(std::string_view)> on_data;
    // Called once the response headers have arrived, with the HTTP status.
    std::function<void(long)> on_headers;
    // Polled about once a second; returning true aborts the request
    // (request() then returns with Response::cancelled set).
    std::function<bool()> cancelled;
    bool versioned = true;
  };
  // The general form: method "GET"/"POST"/"DELETE"/..., body sent as JSON
  // unless null. Does not throw on HTTP >= 400 (check Response::status).
  Response request(const std::string& method, const std::string& path, const nlohmann::json& body,
                   const RequestOptions& opts);
  // Like request() but throws EngineError for HTTP >= 400 and
  // Error(runtime, "... interrupted") when cancelled.
  Response checked(const std::string& method, const std::string& path, const nlohmann::json& body,
                   const RequestOptions& opts);
  // The same with a body that is not JSON (a tar for image import or
  // PUT /containers/ID/archive).
  Response request_raw(const std::string& method, const std::string& path, std::string_view data,
                       const std::string& content_type, const RequestOptions& opts);
  Response checked_raw(const std::string& method, const std::string& path, std::string_view data,
                       const std::string& content_type, const RequestOptions& opts);

 private:
  Response perform(const std::string& method, const std::string& path, std::string_view data,
                   const std::string& content_type, const RequestOptions& opts);

  std::string socket_;
  std::mutex mutex_;  // guards the lazily fetched version
  std::optional<nlohmann::json> version_;
  std::string api_version_;
};

// Percent-encodes for a query value (everything but unreserved characters).
std::string url_query_escape(std::string_view s);
// Percent-encodes a path segment that may itself contain '/' and ':' (image
// references like "registry:5000/team/app:v1" are sent as they are by docker).
std::string url_path_escape(std::string_view s);

// ---- helpers over the raw API -------------------------------------------

nlohmann::json inspect_container(Engine& e, const std::string& id);
nlohmann::json inspect_image(Engine& e, const std::string& ref);

// POST /containers/create[?name=NAME]; returns the new container's ID.
std::string create_container(Engine& e, const nlohmann::json& body, const std::string& name = {});
// Already running (HTTP 304) is not an error.
void start_container(Engine& e, const std::string& id);
// SIGTERM, then SIGKILL after timeout seconds. Already stopped is not an error.
void stop_container(Engine& e, const std::string& id, int timeout_sec);
// DELETE /containers/ID?force=1&v=1; a container that is already gone is fine.
void remove_container(Engine& e, const std::string& id);

struct WaitOptions {
  // "not-running" (returns at once for an exited container), "next-exit", or
  // "removed" (for --rm containers: register the wait BEFORE starting them).
  std::string condition = "not-running";
  // Called once the daemon has registered the wait (its response headers came
  // back): a container started after this cannot be missed.
  std::function<void()> on_registered;
  std::function<bool()> cancelled;
};
// Blocks until the container reaches the condition and returns its exit code
// (128+N for a signal N, as Docker reports it); nullopt only when cancelled.
std::optional<int> wait_container(Engine& e, const std::string& id, const WaitOptions& opts = {});

// NetworkSettings.Ports of an inspect answer: container TCP port -> host port,
// for the published ones only.
std::map<int, int> published_ports(const nlohmann::json& inspect);
// The host address a published port is bound to, as something one can connect
// to ("0.0.0.0" and "" -> "127.0.0.1", "::" -> "::1"); "127.0.0.1" when none.
std::string published_host_ip(const nlohmann::json& inspect);
// NetworkSettings.IPAddress, else the first network's IPAddress, else "".
std::string container_ip(const nlohmann::json& inspect);

// POST /images/create?fromSrc=- with a root filesystem tar (see tar.h), like
// `docker import`: changes are Dockerfile lines ("ENTRYPOINT [\"/app\"]",
// "EXPOSE 8080/tcp", ...); reference "repo:tag" may be empty. Returns the
// image ID ("sha256:...").
std::string import_image(Engine& e, std::string_view tar, const std::vector<std::string>& changes,
                         const std::string& reference = {});
// DELETE /images/ID?force=1; an image that is already gone is fine.
void remove_image(Engine& e, const std::string& id);
// PUT /containers/ID/archive?path=DIR: unpacks a tar into a (created or
// running) container, like `docker cp`.
void put_archive(Engine& e, const std::string& id, const std::string& dir, std::string_view tar);

// Containers sctrace creates carry the label kOwnerLabel naming the sctrace
// process that owns them. When the daemon goes away mid-run that process
// cannot remove its container, and a stopped daemon does not remove it either
// (only --rm containers are removed when it starts again); the next run
// removes it instead.
inline constexpr std::string_view kOwnerLabel = "sctrace.owner";
// This process as a kOwnerLabel value: "<boot id>/<pid namespace>/<pid>/<start time>".
std::string owner_label_value();
// True only when the value names a process of this boot and pid namespace
// that is no longer running (so never for another namespace's sctrace).
bool owner_gone(std::string_view value);
// Removes (best effort) every container whose owner is gone; returns their IDs.
std::vector<std::string> remove_orphaned_containers(Engine& e);
// Removes the containers labelled with exactly this owner value: those a
// docker client interrupted mid-create may have made without saying their ID.
std::vector<std::string> remove_containers_owned_by(Engine& e, std::string_view owner);

// Owns a container: the destructor force-removes it (with its anonymous
// volumes), ignoring one that is already gone. release() gives up ownership.
class OwnedContainer {
 public:
  OwnedContainer(Engine& engine, std::string id) : engine_(&engine), id_(std::move(id)) {}
  OwnedContainer(const OwnedContainer&) = delete;
  OwnedContainer& operator=(const OwnedContainer&) = delete;
  OwnedContainer(OwnedContainer&& o) noexcept : engine_(o.engine_), id_(o.release()) {}
  OwnedContainer& operator=(OwnedContainer&& o) noexcept;
  ~OwnedContainer() { reset(); }

  const std::string& id() const { return id_; }
  Engine& engine() const { return *engine_; }
  std::string release() { return std::exchange(id_, std::string()); }
  // Removes the owned container now (errors other than "gone" are swallowed:
  // this runs on cleanup paths).
  void reset() noexcept;

 private:
  Engine* engine_;
  std::string id_;
};

}  // namespace sctrace::container
