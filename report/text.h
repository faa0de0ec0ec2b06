#pragma once
// Reports for the terminal: every line starts with "sctrace: " (check, the
// hardening report) or is the command's whole output (diff, explain).
#include <string>
#include <string_view>
#include <vector>

#include "profile/diff.h"
#include "profile/explain.h"
#include "advice/model.h"
#include "report/check_report.h"

namespace sctrace {

// The violations, the workload's end and the verdict, for stderr.
std::string report_text(const CheckReport& r);

// ANSI colour only when `colour` (the caller passes isatty(stderr)).
std::string report_text(const HardeningReport& r, bool colour);

std::string diff_text(const DiffResult& d, std::string_view old_name, std::string_view new_name);
std::string explain_text(const SyscallExplanation& x);

// One violation in a sentence (SARIF's message, JUnit's failure text).
std::string violation_message(const CheckReport& r, const CheckViolation& v);

// An argument as a POSIX shell reads it back: as it is when it needs no
// quoting, else in single quotes; so a printed command can be pasted.
std::string shell_word(const std::string& a);
std::string shell_words(const std::vector<std::string>& argv);

}  // namespace sctrace
