#include "report/junit.h"

#include <fmt/format.h>

#include "core/arch.h"
#include "core/text.h"
#include "report/text.h"

namespace sctrace {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for other control characters.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

}  // namespace

std::string report_junit(const CheckReport& r) {
  struct Case {
    std::string classname, name, failure_message, failure_text;
  };
  std::vector<Case> cases;
  Case all{"sctrace.check", fmt::format("syscalls stay inside {}", r.profile), "", ""};
  if (!r.violations.empty()) {
    all.failure_message = fmt::format("{} syscall{} outside the profile", r.violations.size(),
                                      r.violations.size() == 1 ? "" : "s");
    for (const auto& v : r.violations) all.failure_text += violation_message(r, v) + "\n";
  }
  cases.push_back(all);
  for (const auto& v : r.violations)
    cases.push_back({"sctrace.check." + short_arch(v.arch), v.name, fmt::format("{} is not allowed by the profile", v.name),
                     violation_message(r, v)});
  Case exit_case{"sctrace.check", "workload exit status", "", ""};
  if (!workload_ok(r)) {
    const std::string st = workload_status(r);  // "exited 3", "killed by signal 9 (KILL)", "interrupted", ...
    const bool passive = st.rfind("killed", 0) == 0 || st.rfind("interrupted", 0) == 0;
    exit_case.failure_message = (passive ? "the workload was " : "the workload ") + st;
  }
  cases.push_back(exit_case);

  size_t failures = 0;
  for (const auto& c : cases) failures += c.failure_message.empty() ? 0 : 1;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites name=\"sctrace check\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                   cases.size(), failures, r.seconds);
  x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3f}\">\n",
                   xml_escape("seccomp check: " + r.profile), cases.size(), failures, r.seconds);
  for (const auto& c : cases) {
    x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", xml_escape(c.classname), xml_escape(c.name));
    if (c.failure_message.empty()) {
      x += "/>\n";
      continue;
    }
    x += ">\n";
    x += fmt::format("      <failure message=\"{}\" type=\"seccomp\">{}</failure>\n", xml_escape(c.failure_message),
                     xml_escape(c.failure_text));
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace sctrace
