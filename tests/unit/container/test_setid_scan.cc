#include <catch2/catch.hpp>

#include "tracer/container/setid_scan.h"
#include "tracer/container/tar.h"

using namespace sctrace::container;

TEST_CASE("the tar scanner finds setuid and setgid regular files, in any chunking", "[container][setid]") {
  std::string long_dir(120, 'd');
  std::string tar = make_tar({
      {"bin", "", 0755, true},
      {"bin/su", std::string(3000, 'x'), 04755, false},
      {"bin/ls", std::string(700, 'y'), 0755, false},
      {"usr/bin/wall", "z", 02755, false},
      {"tmp", "", 01777, true},
      {long_dir + "/ping", "p", 04711, false},
  });
  for (size_t chunk : {1u, 100u, 512u, 4096u, 1u << 20}) {
    SetidTarScanner scan;
    for (size_t i = 0; i < tar.size(); i += chunk) scan.feed(std::string_view(tar).substr(i, chunk));
    std::vector<std::string> want = {"/bin/su", "/usr/bin/wall", "/" + long_dir + "/ping"};
    CHECK(scan.files() == want);
  }
}

TEST_CASE("the tar scanner ignores directories and end-of-archive blocks", "[container][setid]") {
  SetidTarScanner scan;
  scan.feed(make_tar({{"d", "", 02775, true}}));
  scan.feed(std::string(1024, '\0'));
  CHECK(scan.files().empty());
}
