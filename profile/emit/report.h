#pragma once
// The hardening report as people and tools read it: text for the terminal,
// JSON for scripts, SARIF 2.1.0 for code-scanning dashboards.
#include <string>

#include "advice/model.h"

namespace sctrace {

// Lines start with "sctrace: "; ANSI colour only when `colour` (the caller
// passes isatty(stderr)).
std::string report_text(const HardeningReport& r, bool colour);

// {"capabilities": {"add", "drop", "evidence"}, "findings": [...],
//  "hardened_command": [...], "notes", "compose", "kubernetes"}; 2-space indent.
std::string report_json(const HardeningReport& r);

// SARIF 2.1.0: one result per finding, located at the image (logical location).
std::string report_sarif(const HardeningReport& r);

}  // namespace sctrace
