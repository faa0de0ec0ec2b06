#pragma once
// The few lines sctrace prints on stderr after it wrote a profile.
#include <string>

#include "profile/minimizer.h"

namespace sctrace {

// Every line starts with "sctrace: " and ends with '\n'.
std::string summary_text(const MinimizeResult& result);

}  // namespace sctrace
