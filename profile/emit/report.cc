#include "profile/emit/report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sctrace {

using nlohmann::json;

namespace {

// Shell-quotes an argument only when it needs it, so the printed command can
// be pasted.
std::string shell_word(const std::string& a) {
  if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                        "-_=/.,:@%+") == std::string::npos)
    return a;
  std::string out = "'";
  for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::high: return "error";
    case Severity::medium: return "warning";
    case Severity::low: return "note";
  }
  return "note";
}

}  // namespace

std::string report_text(const HardeningReport& r, bool colour) {
  auto paint = [&](std::string_view code, const std::string& s) {
    return colour ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  };
  auto sev = [&](Severity s) {
    std::string name(severity_name(s));
    return paint(s == Severity::high ? "1;31" : s == Severity::medium ? "33" : "36", name);
  };
  std::string out;
  auto line = [&](const std::string& s) { out += "sctrace: " + s + "\n"; };
  line(fmt::format("capabilities: --cap-drop=ALL{}", r.cap_add.empty() ? std::string(" (none needed)") : ""));
  for (const auto& c : r.cap_add) {
    line(fmt::format("  add {}", paint("1", c)));
    for (const auto& e : r.evidence)
      if (e.capability == c)
        line(fmt::format("    {}{}{}: {}", e.syscall.empty() ? "config" : e.syscall,
                         e.args.empty() ? "" : " " + e.args, e.first_pid ? fmt::format(" (pid {})", e.first_pid) : "",
                         e.rule));
  }
  if (!r.cap_drop.empty()) {
    std::string d;
    for (const auto& c : r.cap_drop) d += (d.empty() ? "" : ", ") + c;
    line("  drop " + d);
  }
  for (const auto& n : r.notes) line("  note: " + n);
  if (r.findings.empty()) line("findings: none");
  else line(fmt::format("findings: {}", r.findings.size()));
  for (const auto& f : r.findings) {
    line(fmt::format("  [{}] {}: {}", sev(f.severity), f.id, f.message));
    line(fmt::format("      fix: {}{}", f.fix, f.fixed_in_command ? " (applied in the hardened command)" : ""));
  }
  std::string cmd;
  for (const auto& a : r.hardened_command) cmd += (cmd.empty() ? "" : " ") + shell_word(a);
  line("hardened command:");
  line("  " + paint("1", cmd));
  return out;
}

std::string report_json(const HardeningReport& r) {
  json j;
  json ev = json::array();
  for (const auto& e : r.evidence)
    ev.push_back({{"capability", e.capability}, {"syscall", e.syscall}, {"args", e.args}, {"first_pid", e.first_pid},
                  {"rule", e.rule}});
  j["capabilities"] = {{"add", r.cap_add}, {"drop", r.cap_drop}, {"evidence", ev}};
  json fs = json::array();
  for (const auto& f : r.findings)
    fs.push_back({{"id", f.id}, {"severity", severity_name(f.severity)}, {"message", f.message}, {"fix", f.fix},
                  {"fixed_in_command", f.fixed_in_command}});
  j["findings"] = fs;
  j["hardened_command"] = r.hardened_command;
  j["notes"] = r.notes;
  j["image"] = r.image;
  j["compose"] = r.compose_yaml;
  j["kubernetes"] = r.k8s_yaml;
  return j.dump(2) + "\n";
}

std::string report_sarif(const HardeningReport& r) {
  json rules = json::array();
  json results = json::array();
  for (const auto& f : r.findings) {
    rules.push_back({{"id", f.id},
                     {"shortDescription", {{"text", f.message}}},
                     {"help", {{"text", f.fix}}},
                     {"defaultConfiguration", {{"level", sarif_level(f.severity)}}}});
    results.push_back(
        {{"ruleId", f.id},
         {"level", sarif_level(f.severity)},
         {"message", {{"text", fmt::format("{} Fix: {}", f.message, f.fix)}}},
         {"locations", json::array({{{"logicalLocations",
                                      json::array({{{"name", r.image}, {"kind", "module"},
                                                    {"fullyQualifiedName", "image:" + r.image}}})}}})},
         {"properties", {{"severity", severity_name(f.severity)}}}});
  }
  json run = {{"tool", {{"driver", {{"name", "sctrace"},
                                    {"rules", rules}}}}},
              {"results", results}};
  json sarif = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                {"version", "2.1.0"},
                {"runs", json::array({run})}};
  return sarif.dump(2) + "\n";
}

}  // namespace sctrace
