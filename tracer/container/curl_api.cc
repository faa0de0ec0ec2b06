#include "tracer/container/curl_api.h"

#include "core/error.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace sctrace::container {

namespace {

constexpr const char* kLibcurl = "libcurl.so.4";

[[noreturn]] void missing(const char* library) {
  const char* why = ::dlerror();
  fail(ErrorKind::runtime, "container mode needs libcurl ({}): {}", library, why ? why : "unknown dlopen error");
}

template <typename Fn>
void resolve(void* handle, const char* library, const char* name, Fn& out) {
  ::dlerror();  // clear: dlsym reports failure only through dlerror
  void* sym = ::dlsym(handle, name);
  if (!sym) missing(library);
  out = reinterpret_cast<Fn>(sym);
}

}  // namespace

CurlApi load_curl_api(const char* library) {
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) missing(library);
  // Never dlclose'd, not even on a missing symbol: dlclose of a library with
  // TLS or atexit state is not reliably safe, and a leaked mapping costs nothing.
  CurlApi api;
  resolve(handle, library, "curl_global_init", api.global_init);
  resolve(handle, library, "curl_easy_init", api.easy_init);
  resolve(handle, library, "curl_easy_cleanup", api.easy_cleanup);
  resolve(handle, library, "curl_easy_setopt", api.easy_setopt);
  resolve(handle, library, "curl_easy_perform", api.easy_perform);
  resolve(handle, library, "curl_easy_getinfo", api.easy_getinfo);
  resolve(handle, library, "curl_easy_strerror", api.easy_strerror);
  resolve(handle, library, "curl_slist_append", api.slist_append);
  resolve(handle, library, "curl_slist_free_all", api.slist_free_all);
  return api;
}

const CurlApi& curl_api() {
  static CurlApi api;
  static std::once_flag once;
  // curl_global_init is not thread-safe: it runs here, once, before any
  // thread can get the table and create a handle. A throw leaves the flag
  // unset, so a later request tries again.
  std::call_once(once, [] {
    CurlApi loaded = load_curl_api(kLibcurl);
    if (loaded.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail(ErrorKind::runtime, "cannot initialise libcurl");
    api = loaded;
  });
  return api;
}

}  // namespace sctrace::container
