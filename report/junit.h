#pragma once
// JUnit XML, what CI systems show as test results.
#include <string>

#include "report/check_report.h"

namespace sctrace {

// Testcase "syscalls stay inside PROFILE" (failing on any violation), one
// testcase per violating syscall, and "workload exit status".
std::string report_junit(const CheckReport& r);

}  // namespace sctrace
