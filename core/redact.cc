#include "core/redact.h"

#include <cctype>

namespace sctrace {
namespace {

bool secret_name(std::string_view name) {
  std::string u(name);
  for (auto& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const char* w : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"})
    if (u.find(w) != std::string::npos) return true;
  return false;
}

// Values that look like key material whatever the variable is called.
bool secret_value(std::string_view v) {
  if (v.find("-----BEGIN") != std::string_view::npos) return true;
  for (std::string_view p : {"AKIA", "ghp_", "github_pat_", "sk_live_", "xoxb-", "xoxp-", "glpat-"})
    if (v.substr(0, p.size()) == p && v.size() >= 16) return true;
  if (v.size() < 32) return false;
  bool digit = false, alpha = false;
  for (char c : v) {
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (std::isalpha(static_cast<unsigned char>(c))) alpha = true;
    else if (c != '+' && c != '/' && c != '=' && c != '_' && c != '-') return false;
  }
  return digit && alpha;
}

}  // namespace

bool looks_like_secret(std::string_view name, std::string_view value) {
  return !value.empty() && (secret_name(name) || secret_value(value));
}

std::vector<std::string> without_secrets(const std::vector<std::string>& argv) {
  std::vector<std::string> out = argv;
  auto redact = [](std::string& assignment) {
    const size_t eq = assignment.find('=');
    if (eq != std::string::npos &&
        looks_like_secret(std::string_view(assignment).substr(0, eq), std::string_view(assignment).substr(eq + 1)))
      assignment.resize(eq);
  };
  for (size_t i = 0; i < out.size(); ++i) {
    std::string& a = out[i];
    if ((a == "-e" || a == "--env") && i + 1 < out.size()) {
      redact(out[++i]);
    } else if (a.rfind("--env=", 0) == 0) {
      std::string v = a.substr(6);
      redact(v);
      a = "--env=" + v;
    } else if (a.rfind("-e", 0) == 0 && a.size() > 2 && a[2] != '-') {
      std::string v = a.substr(2);
      redact(v);
      a = "-e" + v;
    }
  }
  return out;
}

}  // namespace sctrace
