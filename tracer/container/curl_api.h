#pragma once
// libcurl, loaded on first use instead of linked.
//
// Only container mode talks HTTP (the Docker Engine API over its unix socket),
// but a linked libcurl makes the dynamic loader map and relocate it and its
// ~30 dependencies (TLS, Kerberos, LDAP, ...) on every start of sctrace. So
// the binary does not link it: the first Docker request dlopen()s
// libcurl.so.4 and resolves exactly the functions engine.cc calls. The
// header still comes from libcurl4-openssl-dev for the types and constants.
//
// Errors: Error(runtime) "container mode needs libcurl (libcurl.so.4): <dlerror text>"
// when the library or one of the functions is missing; "cannot initialise libcurl"
// when curl_global_init fails.

#include <curl/curl.h>

namespace sctrace::container {

// The curl functions engine.cc uses, under their names without "curl_".
// decltype keeps each signature exactly that of <curl/curl.h>.
struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// The process's libcurl: loaded from libcurl.so.4 and curl_global_init'ed
// exactly once (std::call_once), before any handle exists. Thread-safe; every
// later call returns the same table. A failed load or init throws and is
// tried again on the next call.
const CurlApi& curl_api();

// Loads `library` (dlopen RTLD_NOW | RTLD_LOCAL) and resolves every function,
// without curl_global_init. The handle is kept for the life of the process
// (curl's own threads and atexit handlers may still run code from it). For
// curl_api() and for tests of the error path through another library name.
CurlApi load_curl_api(const char* library);

}  // namespace sctrace::container
