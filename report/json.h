#pragma once
// Reports for scripts: JSON, 2-space indent, a trailing newline.
#include <string>
#include <string_view>

#include "profile/diff.h"
#include "profile/explain.h"
#include "advice/model.h"
#include "report/check_report.h"

namespace sctrace {

// {"profile", "command", "backend", "enforce", "deny_errno"?, "passed",
//  "workload": {...}, "violations": [...]}, keys in that order.
std::string report_json(const CheckReport& r);

// {"capabilities": {"add", "drop", "evidence"}, "findings": [...],
//  "hardened_command": [...], "notes", "compose", "kubernetes"}.
std::string report_json(const HardeningReport& r);

std::string diff_json(const DiffResult& d, std::string_view old_name, std::string_view new_name);
std::string explain_json(const SyscallExplanation& x);

}  // namespace sctrace
