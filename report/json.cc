#include "report/json.h"

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "core/text.h"
#include "profile/emit/summary.h"

namespace sctrace {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

ojson example_json(const ViolationExample& e) {
  ojson j = ojson::object();
  j["pid"] = e.pid;
  if (e.tid) j["tid"] = e.tid;
  if (!e.executable.empty()) j["executable"] = e.executable;
  if (e.ip) j["ip"] = hex(e.ip);
  if (!e.call_site.empty()) j["call_site"] = e.call_site;
  if (e.has_args) {
    ojson a = ojson::array();
    for (uint64_t v : e.args) a.push_back(hex(v));
    j["args"] = a;
  }
  if (!e.classified.empty()) {
    ojson a = ojson::object();
    for (const auto& [idx, vals] : e.classified) {
      ojson vs = ojson::array();
      for (uint64_t v : vals) vs.push_back(hex(v));
      a[std::to_string(idx)] = vs;
    }
    j["classified_args"] = a;
  }
  return j;
}

json frame_json(const StackFrame& f) {
  return {{"module", f.module},        {"build_id", f.build_id}, {"function", f.function},
          {"offset", f.offset},        {"module_offset", f.module_offset}, {"text", frame_text(f)}};
}

json stack_json(const CallStack& s) {
  json frames = json::array();
  for (const auto& f : s.frames) frames.push_back(frame_json(f));
  CallSite cs = call_site(s);
  return {{"exe", s.exe},
          {"frames", frames},
          {"caller", {{"group", std::string(group_title(cs.group))},
                      {"module", cs.frame.module},
                      {"function", cs.frame.function}}}};
}

}  // namespace

std::string report_json(const CheckReport& r) {
  ojson j = ojson::object();
  j["profile"] = r.profile;
  j["command"] = r.command;
  j["backend"] = r.backend;
  j["enforce"] = r.enforce;
  if (r.deny_errno) j["deny_errno"] = errno_name(*r.deny_errno);
  j["passed"] = r.violations.empty();
  ojson w = ojson::object();
  w["status"] = workload_status(r);
  w["exit_code"] = r.exit_code;
  w["timed_out"] = r.timed_out;
  w["interrupted"] = r.interrupted;
  j["workload"] = w;
  ojson vs = ojson::array();
  for (const auto& v : r.violations) {
    ojson o2 = ojson::object();
    o2["arch"] = v.arch;
    o2["syscall"] = v.name;
    o2["nr"] = v.nr;
    o2["count"] = v.count;
    o2["action"] = r.enforce ? "denied" : "allowed";
    o2["executables"] = v.executables;
    ojson ex = ojson::array();
    for (const auto& e : v.examples) ex.push_back(example_json(e));
    o2["examples"] = ex;
    vs.push_back(o2);
  }
  j["violations"] = vs;
  return j.dump(2) + "\n";
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

std::string diff_json(const DiffResult& d, std::string_view old_name, std::string_view new_name) {
  auto entries = [](const std::vector<DiffEntry>& v) {
    json a = json::array();
    for (const auto& e : v) {
      json stacks = json::array();
      for (const auto& s : e.stacks) stacks.push_back(stack_json(s));
      a.push_back({{"arch", e.arch}, {"syscall", e.syscall}, {"detail", e.detail}, {"stacks", stacks}});
    }
    return a;
  };
  json j = {{"old", old_name},
            {"new", new_name},
            {"kind", d.kind},
            {"new_allows_more", d.new_allows_more()},
            {"arches_added", d.arches_added},
            {"arches_removed", d.arches_removed},
            {"added", entries(d.added)},
            {"removed", entries(d.removed)},
            {"widened", entries(d.widened)},
            {"narrowed", entries(d.narrowed)},
            {"notes", d.notes}};
  return j.dump(2) + "\n";
}

std::string explain_json(const SyscallExplanation& x) {
  json j;
  j["syscall"] = x.syscall;
  j["description"] = x.info ? x.info->description : "";
  j["capability"] = x.info ? x.info->capability : "";
  j["capability_note"] = x.info ? x.info->capability_note : "";
  j["docker_default"] = {{"allowed", x.docker_default.allowed},
                         {"conditional", x.docker_default.conditional},
                         {"summary", x.docker_default.summary},
                         {"otherwise", x.docker_default.otherwise}};
  j["recording"] = x.recording;
  j["recorded"] = !x.found.empty();
  json classes = json::array();
  for (const auto& f : x.found) {
    if (f.record.classes.empty()) {
      classes.push_back({{"arch", arch::short_name(f.arch)}, {"args", nullptr}, {"count", f.record.count},
                         {"execs", json::array()}, {"stacks", json::array()}});
      continue;
    }
    for (const auto& c : f.record.classes) {
      json args = json::object();
      for (const auto& [i, v] : c.args) args[std::to_string(i)] = v;
      json stacks = json::array();
      for (const auto& s : c.stacks) stacks.push_back(stack_json(s));
      classes.push_back({{"arch", arch::short_name(f.arch)}, {"args", args}, {"count", c.count},
                         {"execs", c.execs}, {"stacks", stacks}});
    }
  }
  j["classes"] = classes;
  json reached = json::array();
  for (const auto& r : x.reached)
    reached.push_back({{"arch", arch::short_name(r.arch)}, {"tier", r.reach.sensitive ? "sensitive" : "benign"},
                       {"added", r.reach.added}, {"via", r.reach.provenance}});
  j["static"] = reached;
  // What the profile made from the recording answers, when it refuses on purpose.
  j["profile_answer"] = nullptr;
  if (x.enosys)
    j["profile_answer"] = {{"action", "SCMP_ACT_ERRNO"},
                           {"errno", "ENOSYS"},
                           {"errno_ret", ENOSYS},
                           {"on_purpose", true},
                           {"source", x.enosys->source},
                           {"reason", x.enosys->reason},
                           {"falls_back_to", x.enosys->fallback_known ? json(x.enosys->falls_back_to) : json()}};
  return j.dump(2) + "\n";
}

}  // namespace sctrace
