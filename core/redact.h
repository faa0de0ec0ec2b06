#pragma once
// Secrets kept out of what sctrace writes: recordings, reports and hardened
// command lines name a secret-looking variable, never its value.
#include <string>
#include <string_view>
#include <vector>

namespace sctrace {

// An environment variable that looks like a secret: its name (PASSWORD,
// SECRET, TOKEN, KEY, ...) or its value (PEM, cloud key prefixes, long
// random-looking strings). Empty values never are.
bool looks_like_secret(std::string_view name, std::string_view value);
// A command line to keep in a recording or report: each `-e/--env NAME=VALUE`
// whose value looks secret becomes `NAME` alone (the value never reaches a
// file that gets committed); everything else as it is.
std::vector<std::string> without_secrets(const std::vector<std::string>& argv);

}  // namespace sctrace
