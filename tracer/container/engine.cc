#include "tracer/container/engine.h"

#include "tracer/container/curl_api.h"
#include "tracer/proc_stat.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include <unistd.h>

namespace sctrace::container {

namespace {

// Both deleters only ever run on objects made through curl_api(), so the
// table is loaded by then.
struct CurlDeleter {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_api().slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, SlistDeleter>;

void append_header(CurlList& list, const char* header) {
  curl_slist* next = curl_api().slist_append(list.get(), header);
  if (!next) fail(ErrorKind::runtime, "out of memory building a Docker API request");
  (void)list.release();
  list.reset(next);
}

// State shared with libcurl's C callbacks. Exceptions must not cross the C
// frames, so callbacks park them here and the request rethrows afterwards.
struct Transfer {
  const Engine::RequestOptions* opts;
  Response* response;
  long status = 0;
  bool headers_done = false;
  bool cancelled = false;
  std::exception_ptr error;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // "HTTP/1.1 200 OK": a new response starts (after a 1xx one, too).
    auto sp = line.find(' ');
    t->status = sp == std::string_view::npos ? 0 : std::strtol(line.data() + sp + 1, nullptr, 10);
    t->headers_done = false;
  } else if ((line == "\r\n" || line == "\n") && t->status >= 200 && !t->headers_done) {
    t->headers_done = true;
    if (t->opts->on_headers) {
      try {
        t->opts->on_headers(t->status);
      } catch (...) {
        t->error = std::current_exception();
        return 0;  // aborts the transfer
      }
    }
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  if (t->opts->on_data && t->status < 400) {
    try {
      t->opts->on_data(chunk);
    } catch (...) {
      t->error = std::current_exception();
      return 0;
    }
  } else {
    t->response->body.append(chunk);
  }
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->opts->cancelled) return 0;
  try {
    if (t->opts->cancelled()) {
      t->cancelled = true;
      return 1;
    }
  } catch (...) {
    t->error = std::current_exception();
    return 1;
  }
  return 0;
}

// "docker: <message>" from an error answer ({"message": "..."}), falling back
// to the status and the first line of whatever came back.
std::string daemon_message(const Response& r) {
  std::string msg;
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      msg = j["message"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  if (msg.empty()) {
    std::string_view body = r.body;
    body = body.substr(0, body.find('\n'));
    msg = body.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {}: {}", r.status, body);
  }
  // Engine 20.10 repeats itself for missing objects ("no such image: foo:
  // No such image: foo"): keep one copy when both halves are equal.
  for (size_t at = msg.find(": "); at != std::string::npos; at = msg.find(": ", at + 1)) {
    std::string_view left(msg.data(), at), right(msg.data() + at + 2, msg.size() - at - 2);
    if (left.size() == right.size() &&
        std::equal(left.begin(), left.end(), right.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); })) {
      msg = std::string(right);
      break;
    }
  }
  // Messages are one line for the CLI.
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  return "docker: " + msg;
}

nlohmann::json parse_body(const Response& r, const std::string& what) {
  if (r.body.empty()) return nullptr;
  try {
    return nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::runtime, "Docker API {}: answer is not JSON: {}", what, e.what());
  }
}

}  // namespace

int compare_api_versions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    auto take = [](std::string_view& s) {
      long v = 0;
      size_t i = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
      s.remove_prefix(i < s.size() ? i + 1 : i);  // the number and its '.'
      return v;
    };
    long x = take(a), y = take(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string default_socket_path() {
  const char* host = std::getenv("DOCKER_HOST");
  if (!host || !*host) return "/var/run/docker.sock";
  std::string_view h(host);
  if (!h.starts_with("unix://"))
    fail(ErrorKind::usage, "DOCKER_HOST={} is not a unix socket (sctrace talks to the daemon through unix:// only)",
         h);
  return std::string(h.substr(7));
}

Engine::Engine(std::string socket) {
  if (socket.empty()) socket = default_socket_path();
  if (socket.starts_with("unix://")) socket.erase(0, 7);
  socket_ = std::move(socket);
}

const nlohmann::json& Engine::version_info() {
  std::lock_guard lock(mutex_);
  if (!version_) {
    RequestOptions opts;
    opts.timeout = std::chrono::seconds(30);
    opts.versioned = false;
    Response r = checked("GET", "/version", nullptr, opts);
    version_ = parse_body(r, "GET /version");
  }
  return *version_;
}

const std::string& Engine::api_version() {
  const nlohmann::json& v = version_info();
  std::lock_guard lock(mutex_);
  if (api_version_.empty()) {
    std::string daemon = v.is_object() && v.contains("ApiVersion") && v["ApiVersion"].is_string()
                             ? v["ApiVersion"].get<std::string>()
                             : std::string();
    if (daemon.empty()) fail(ErrorKind::runtime, "the Docker daemon at {} did not report an API version", socket_);
    if (compare_api_versions(daemon, kMinApiVersion) < 0)
      fail(ErrorKind::runtime, "the Docker daemon at {} speaks API {}, sctrace needs at least {}", socket_, daemon,
           kMinApiVersion);
    api_version_ = compare_api_versions(daemon, kMaxApiVersion) < 0 ? daemon : std::string(kMaxApiVersion);
  }
  return api_version_;
}

Response Engine::request(const std::string& method, const std::string& path, const nlohmann::json& body,
                         const RequestOptions& opts) {
  if (body.is_null()) return perform(method, path, {}, {}, opts);
  return perform(method, path, body.dump(), "application/json", opts);
}

Response Engine::request_raw(const std::string& method, const std::string& path, std::string_view data,
                             const std::string& content_type, const RequestOptions& opts) {
  return perform(method, path, data, content_type, opts);
}

Response Engine::perform(const std::string& method, const std::string& path, std::string_view payload,
                         const std::string& content_type, const RequestOptions& opts) {
  const CurlApi& curl = curl_api();  // loads libcurl and runs curl_global_init once
  std::string full = opts.versioned ? fmt::format("/v{}{}", api_version(), path) : path;
  std::string url = "http://localhost" + full;

  CurlHandle handle(curl.easy_init());
  if (!handle) fail(ErrorKind::runtime, "cannot create a libcurl handle");
  CURL* c = handle.get();
  Response response;
  Transfer t{&opts, &response};
  char errbuf[CURL_ERROR_SIZE] = {};

  CurlList headers;
  append_header(headers, "Expect:");  // no 100-continue round trip
  if (!content_type.empty()) append_header(headers, ("Content-Type: " + content_type).c_str());

  curl.easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl.easy_setopt(c, CURLOPT_URL, url.c_str());
  curl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT" || !payload.empty()) {
    // Never NULL: libcurl would then read the body from stdin.
    curl.easy_setopt(c, CURLOPT_POSTFIELDS, payload.empty() ? "" : payload.data());
    curl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  curl.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opts.timeout.count()));
  curl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl.easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (opts.cancelled) {
    curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl.easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }

  CURLcode rc = curl.easy_perform(c);
  if (t.error) std::rethrow_exception(t.error);
  if (t.cancelled) {
    response.cancelled = true;
    return response;
  }
  if (rc != CURLE_OK) {
    long os_errno = 0;
    curl.easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    std::string detail = curl.easy_strerror(rc);
    if (os_errno != 0) detail += fmt::format(" ({})", std::strerror(static_cast<int>(os_errno)));
    if (rc == CURLE_COULDNT_CONNECT)
      throw DaemonUnreachable(fmt::format("cannot reach the Docker daemon at {}: {}", socket_, detail));
    // The daemon closed the connection without (a whole) answer: it stopped
    // or died while the request was in flight.
    if (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE)
      throw DaemonUnreachable(fmt::format("lost the connection to the Docker daemon at {} during {} {}: {}", socket_,
                                          method, full, detail));
    if (rc == CURLE_OPERATION_TIMEDOUT)
      fail(ErrorKind::runtime, "the Docker daemon at {} did not answer {} {} within {} ms", socket_, method, full,
           opts.timeout.count());
    fail(ErrorKind::runtime, "Docker API {} {} at {} failed: {}{}", method, full, socket_, detail,
         errbuf[0] ? fmt::format(" ({})", errbuf) : std::string());
  }
  curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Response Engine::checked(const std::string& method, const std::string& path, const nlohmann::json& body,
                         const RequestOptions& opts) {
  Response r = request(method, path, body, opts);
  if (r.cancelled) fail(ErrorKind::runtime, "Docker API {} {} interrupted", method, path);
  if (r.status >= 400) throw EngineError(static_cast<int>(r.status), daemon_message(r));
  return r;
}

Response Engine::checked_raw(const std::string& method, const std::string& path, std::string_view data,
                             const std::string& content_type, const RequestOptions& opts) {
  Response r = request_raw(method, path, data, content_type, opts);
  if (r.cancelled) fail(ErrorKind::runtime, "Docker API {} {} interrupted", method, path);
  if (r.status >= 400) throw EngineError(static_cast<int>(r.status), daemon_message(r));
  return r;
}

nlohmann::json Engine::get(const std::string& path) {
  return parse_body(checked("GET", path, nullptr, {}), "GET " + path);
}

nlohmann::json Engine::post(const std::string& path, const nlohmann::json& body) {
  return parse_body(checked("POST", path, body, {}), "POST " + path);
}

void Engine::del(const std::string& path) { checked("DELETE", path, nullptr, {}); }

std::string url_query_escape(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
      out += static_cast<char>(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

std::string url_path_escape(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || std::strchr("-._~/:@", ch) != nullptr)
      out += static_cast<char>(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

// ---- helpers -----------------------------------------------------------------

nlohmann::json inspect_container(Engine& e, const std::string& id) {
  return e.get(fmt::format("/containers/{}/json", url_query_escape(id)));
}

nlohmann::json inspect_image(Engine& e, const std::string& ref) {
  return e.get(fmt::format("/images/{}/json", url_path_escape(ref)));
}

std::string create_container(Engine& e, const nlohmann::json& body, const std::string& name) {
  std::string path = "/containers/create";
  if (!name.empty()) path += "?name=" + url_query_escape(name);
  nlohmann::json r = e.post(path, body.is_null() ? nlohmann::json::object() : body);
  if (!r.is_object() || !r.contains("Id") || !r["Id"].is_string())
    fail(ErrorKind::runtime, "Docker API POST /containers/create: no Id in the answer");
  return r["Id"].get<std::string>();
}

void start_container(Engine& e, const std::string& id) {
  // 304 (already started) is below 400 and so not an error.
  e.post(fmt::format("/containers/{}/start", url_query_escape(id)));
}

void stop_container(Engine& e, const std::string& id, int timeout_sec) {
  Engine::RequestOptions opts;
  // The daemon answers only after the grace period (and the SIGKILL).
  opts.timeout = std::chrono::seconds(std::max(timeout_sec, 0) + 60);
  e.checked("POST", fmt::format("/containers/{}/stop?t={}", url_query_escape(id), timeout_sec), nullptr, opts);
}

void remove_container(Engine& e, const std::string& id) {
  try {
    e.del(fmt::format("/containers/{}?force=1&v=1", url_query_escape(id)));
  } catch (const EngineError& err) {
    // Gone already, or the daemon is removing it right now (--rm).
    if (err.http_status() == 404) return;
    if (err.http_status() == 409 && std::string_view(err.what()).find("already in progress") != std::string_view::npos)
      return;
    throw;
  }
}

std::optional<int> wait_container(Engine& e, const std::string& id, const WaitOptions& wo) {
  Engine::RequestOptions opts;
  opts.timeout = std::chrono::milliseconds(0);
  opts.cancelled = wo.cancelled;
  if (wo.on_registered)
    opts.on_headers = [&](long status) {
      if (status < 300) wo.on_registered();
    };
  std::string path = fmt::format("/containers/{}/wait?condition={}", url_query_escape(id),
                                 url_query_escape(wo.condition));
  Response r = e.request("POST", path, nullptr, opts);
  if (r.cancelled) return std::nullopt;
  if (r.status >= 400) throw EngineError(static_cast<int>(r.status), daemon_message(r));
  nlohmann::json j = parse_body(r, "POST " + path);
  if (j.is_object() && j.contains("Error") && j["Error"].is_object()) {
    const auto& err = j["Error"];
    if (err.contains("Message") && err["Message"].is_string() && !err["Message"].get<std::string>().empty())
      fail(ErrorKind::runtime, "docker: waiting for container {}: {}", id.substr(0, 12),
           err["Message"].get<std::string>());
  }
  if (!j.is_object() || !j.contains("StatusCode") || !j["StatusCode"].is_number_integer())
    fail(ErrorKind::runtime, "Docker API POST {}: no StatusCode in the answer", path);
  return j["StatusCode"].get<int>();
}

std::map<int, int> published_ports(const nlohmann::json& inspect) {
  std::map<int, int> out;
  if (!inspect.is_object() || !inspect.contains("NetworkSettings") || !inspect["NetworkSettings"].is_object()) return out;
  const auto& ns = inspect["NetworkSettings"];
  if (!ns.contains("Ports") || !ns["Ports"].is_object()) return out;
  for (const auto& [key, bindings] : ns["Ports"].items()) {
    // "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}, ...] or null
    // for a port that is exposed but not published.
    auto slash = key.find('/');
    if (slash == std::string::npos || key.substr(slash + 1) != "tcp" || !bindings.is_array()) continue;
    int cport = std::atoi(key.substr(0, slash).c_str());
    for (const auto& b : bindings) {
      if (!b.is_object() || !b.contains("HostPort") || !b["HostPort"].is_string()) continue;
      int hport = std::atoi(b["HostPort"].get<std::string>().c_str());
      if (cport > 0 && hport > 0) {
        out.emplace(cport, hport);
        break;
      }
    }
  }
  return out;
}

std::string published_host_ip(const nlohmann::json& inspect) {
  std::string v6;
  try {
    for (const auto& [key, bindings] : inspect.at("NetworkSettings").at("Ports").items()) {
      if (!bindings.is_array()) continue;
      for (const auto& b : bindings) {
        std::string ip = b.value("HostIp", std::string());
        if (ip.empty() || ip == "0.0.0.0") return "127.0.0.1";
        if (ip == "::") {
          v6 = "::1";
          continue;
        }
        if (ip.find(':') != std::string::npos) {
          v6 = ip;
          continue;
        }
        return ip;
      }
    }
  } catch (const nlohmann::json::exception&) {
  }
  return v6.empty() ? "127.0.0.1" : v6;
}

std::string container_ip(const nlohmann::json& inspect) {
  try {
    const auto& ns = inspect.at("NetworkSettings");
    std::string ip = ns.value("IPAddress", std::string());
    if (!ip.empty()) return ip;
    if (ns.contains("Networks") && ns["Networks"].is_object())
      for (const auto& [name, net] : ns["Networks"].items()) {
        if (!net.is_object()) continue;
        ip = net.value("IPAddress", std::string());
        if (!ip.empty()) return ip;
      }
  } catch (const nlohmann::json::exception&) {
  }
  return {};
}

std::string import_image(Engine& e, std::string_view tar, const std::vector<std::string>& changes,
                         const std::string& reference) {
  std::string path = "/images/create?fromSrc=-";
  if (!reference.empty()) {
    // "repo:tag" -> repo=...&tag=...; the tag is after the last ':' that
    // follows the last '/' (a registry port is not a tag).
    auto slash = reference.rfind('/');
    auto colon = reference.rfind(':');
    bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
    path += "&repo=" + url_query_escape(has_tag ? reference.substr(0, colon) : reference);
    if (has_tag) path += "&tag=" + url_query_escape(reference.substr(colon + 1));
  }
  for (const auto& c : changes) path += "&changes=" + url_query_escape(c);
  Engine::RequestOptions opts;
  opts.timeout = std::chrono::minutes(10);
  Response r = e.checked_raw("POST", path, tar, "application/x-tar", opts);
  // A stream of JSON messages; failures arrive as {"error": ...} with 200.
  std::string id;
  size_t pos = 0;
  while (pos < r.body.size()) {
    size_t nl = r.body.find('\n', pos);
    std::string_view line = std::string_view(r.body).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? r.body.size() : nl + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    nlohmann::json m = nlohmann::json::parse(line, nullptr, false);
    if (m.is_discarded() || !m.is_object()) continue;
    if (m.contains("error") && m["error"].is_string())
      fail(ErrorKind::runtime, "docker: {}", m["error"].get<std::string>());
    if (m.contains("status") && m["status"].is_string() && m["status"].get<std::string>().starts_with("sha256:"))
      id = m["status"].get<std::string>();
  }
  if (id.empty()) fail(ErrorKind::runtime, "Docker API image import: no image ID in the answer");
  return id;
}

void remove_image(Engine& e, const std::string& id) {
  try {
    e.del(fmt::format("/images/{}?force=1", url_path_escape(id)));
  } catch (const EngineError& err) {
    if (err.http_status() != 404) throw;
  }
}

void put_archive(Engine& e, const std::string& id, const std::string& dir, std::string_view tar) {
  Engine::RequestOptions opts;
  opts.timeout = std::chrono::minutes(5);
  e.checked_raw("PUT", fmt::format("/containers/{}/archive?path={}", url_query_escape(id), url_query_escape(dir)), tar,
                "application/x-tar", opts);
}

namespace {

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or ""
// when there is no such process.
std::string process_start_time(const std::string& pid) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(pid.c_str(), &end, 10);
  if (pid.empty() || *end != '\0' || errno == ERANGE || n <= 0 || n > INT32_MAX) return {};
  auto st = read_proc_stat(static_cast<pid_t>(n));
  return st ? std::to_string(st->start_time) : std::string();
}

std::string own_pid_namespace() {
  std::error_code ec;
  std::string link = std::filesystem::read_symlink("/proc/self/ns/pid", ec).string();  // "pid:[4026531836]"
  std::string digits;
  for (char ch : link)
    if (ch >= '0' && ch <= '9') digits += ch;
  return digits;
}

}  // namespace

std::string owner_label_value() {
  std::string pid = std::to_string(::getpid());
  return fmt::format("{}/{}/{}/{}", first_line_of("/proc/sys/kernel/random/boot_id"), own_pid_namespace(), pid,
                     process_start_time(pid));
}

bool owner_gone(std::string_view value) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t slash; (slash = value.find('/', from)) != std::string_view::npos; from = slash + 1)
    parts.emplace_back(value.substr(from, slash - from));
  parts.emplace_back(value.substr(from));
  if (parts.size() != 4 || parts[0].empty() || parts[1].empty() || parts[3].empty()) return false;
  if (parts[2].empty() || parts[2].find_first_not_of("0123456789") != std::string::npos) return false;
  if (parts[0] != first_line_of("/proc/sys/kernel/random/boot_id") || parts[1] != own_pid_namespace()) return false;
  // Gone, or the pid was reused by a process started at another time.
  return process_start_time(parts[2]) != parts[3];
}

namespace {

// Removes every container whose owner label satisfies `match`; best effort.
std::vector<std::string> remove_owned_where(Engine& e, const std::function<bool(std::string_view)>& match) {
  std::vector<std::string> removed;
  try {
    nlohmann::json filters = {{"label", nlohmann::json::array({std::string(kOwnerLabel)})}};
    nlohmann::json list = e.get("/containers/json?all=1&filters=" + url_query_escape(filters.dump()));
    if (!list.is_array()) return removed;
    for (const auto& c : list) {
      if (!c.is_object() || !c.contains("Id") || !c["Id"].is_string()) continue;
      const auto& labels = c.value("Labels", nlohmann::json::object());
      auto it = labels.is_object() ? labels.find(std::string(kOwnerLabel)) : labels.end();
      if (it == labels.end() || !it->is_string() || !match(it->get<std::string>())) continue;
      try {
        remove_container(e, c["Id"].get<std::string>());
        removed.push_back(c["Id"].get<std::string>());
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
    // Best effort: whatever is wrong with the daemon, the run's own requests say it.
  }
  return removed;
}

}  // namespace

std::vector<std::string> remove_orphaned_containers(Engine& e) { return remove_owned_where(e, owner_gone); }

std::vector<std::string> remove_containers_owned_by(Engine& e, std::string_view owner) {
  return remove_owned_where(e, [owner](std::string_view v) { return v == owner; });
}

OwnedContainer& OwnedContainer::operator=(OwnedContainer&& o) noexcept {
  if (this != &o) {
    reset();
    engine_ = o.engine_;
    id_ = o.release();
  }
  return *this;
}

void OwnedContainer::reset() noexcept {
  if (id_.empty()) return;
  std::string id = release();
  try {
    remove_container(*engine_, id);
  } catch (...) {
    // Cleanup path: nothing sensible to do; the CLI has already reported
    // whatever failed first.
  }
}

}  // namespace sctrace::container
