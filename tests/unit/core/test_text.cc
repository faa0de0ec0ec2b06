#include <catch2/catch.hpp>

#include "core/text.h"

using sctrace::printable;

TEST_CASE("printable: control characters escaped, UTF-8 kept", "[text]") {
  CHECK(printable("/usr/bin/env") == "/usr/bin/env");
  CHECK(printable("") == "");
  CHECK(printable("a\x1b[31mred\nsctrace: wrote nothing") == "a\\x1b[31mred\\nsctrace: wrote nothing");
  CHECK(printable("tab\there\rcr") == "tab\\there\\rcr");
  CHECK(printable(std::string_view("nul\0x", 5)) == "nul\\x00x");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("back\\slash") == "back\\\\slash");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an
  // overlong form, a surrogate) and C1 controls (U+009B is CSI) are bytes.
  CHECK(printable("\x80") == "\\x80");
  CHECK(printable("\xe2\x82") == "\\xe2\\x82");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(printable("\xc2\x9b" "31m") == "\\xc2\\x9b31m");
  // No output line can start where the input had a newline.
  CHECK(printable("x\nsctrace: y").find('\n') == std::string::npos);
}
