#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tracer/container/curl_api.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using namespace sctrace::container;
using sctrace::test::kind_of;

TEST_CASE("load_curl_api: a missing library is one runtime error naming it", "[curl_api]") {
  std::string msg;
  CHECK(kind_of([] { load_curl_api("libsctrace-no-such-curl.so.4"); }, &msg) == ErrorKind::runtime);
  CHECK_THAT(msg, Catch::StartsWith("container mode needs libcurl (libsctrace-no-such-curl.so.4): "));
  // dlerror's own text follows.
  CHECK_THAT(msg, Catch::Contains("cannot open shared object file"));
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("load_curl_api: a library without the curl functions is one runtime error", "[curl_api]") {
  // libc is always there and exports none of them.
  std::string msg;
  CHECK(kind_of([] { load_curl_api("libc.so.6"); }, &msg) == ErrorKind::runtime);
  CHECK_THAT(msg, Catch::StartsWith("container mode needs libcurl (libc.so.6): "));
  CHECK_THAT(msg, Catch::Contains("curl_global_init"));
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("load_curl_api: libcurl.so.4 resolves every function", "[curl_api]") {
  CurlApi api = load_curl_api("libcurl.so.4");
  CHECK(api.global_init);
  CHECK(api.easy_init);
  CHECK(api.easy_cleanup);
  CHECK(api.easy_setopt);
  CHECK(api.easy_perform);
  CHECK(api.easy_getinfo);
  CHECK(api.easy_strerror);
  CHECK(api.slist_append);
  CHECK(api.slist_free_all);
  CHECK(std::string(api.easy_strerror(CURLE_COULDNT_CONNECT)) == "Couldn't connect to server");
}

TEST_CASE("curl_api: one table for every thread, usable at once", "[curl_api]") {
  std::vector<const CurlApi*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&seen, i] {
      const CurlApi& api = curl_api();
      // Initialised: a handle can be made and dropped right away.
      CURL* c = api.easy_init();
      if (c) {
        api.easy_cleanup(c);
        seen[i] = &api;
      }
    });
  for (auto& t : threads) t.join();
  for (const CurlApi* p : seen) CHECK(p == &curl_api());
}
