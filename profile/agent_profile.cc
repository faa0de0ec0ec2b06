#include "profile/agent_profile.h"

#include <seccomp.h>

#include <map>
#include <set>

#include "core/arch.h"
#include "core/error.h"

namespace sctrace {

namespace {

constexpr const char* kAllow = "SCMP_ACT_ALLOW";
constexpr const char* kNotify = "SCMP_ACT_NOTIFY";

bool hands_listener_over(const std::string& name) {
  return name == "write" || name == "rt_sigreturn" || name == "restart_syscall";
}

// Every syscall name libseccomp knows on `arches`. libseccomp cannot list
// them, so numbers are tried: 0..kMaxNr covers every arch's table (mips
// numbers its ABIs from 4000, 5000 and 6000); x32's carry bit 30.
constexpr int kMaxNr = 8192;
std::set<std::string> known_names(const std::vector<arch::Token>& arches) {
  std::set<std::string> out;
  for (arch::Token t : arches) {
    std::vector<int> bases = {0};
    if (t == SCMP_ARCH_X32) bases.push_back(static_cast<int>(arch::kX32SyscallBit));
    for (int base : bases)
      for (int nr = 0; nr < kMaxNr; ++nr)
        if (auto n = arch::syscall_name(t, base + nr)) out.insert(*n);
  }
  return out;
}

}  // namespace

SeccompProfile recording_profile(const SeccompProfile& tmpl, const std::string& listener_path) {
  SeccompProfile p = tmpl;
  if (p.default_action == kAllow)
    fail(ErrorKind::input, "backend notify: the template's defaultAction is SCMP_ACT_ALLOW, which runc cannot notify "
                           "(use a template that lists what it allows)");
  std::vector<SyscallRule> out;
  for (const SyscallRule& r : p.syscalls) {
    if (r.action != kAllow) {
      out.push_back(r);
      continue;
    }
    SyscallRule notify = r;
    notify.names.clear();
    SyscallRule keep = r;
    keep.names.clear();
    for (const auto& n : r.names) {
      if (hands_listener_over(n)) keep.names.push_back(n);
      else notify.names.push_back(n);
    }
    if (!keep.names.empty()) out.push_back(std::move(keep));
    if (!notify.names.empty()) {
      notify.action = kNotify;
      out.push_back(std::move(notify));
    }
  }
  p.syscalls = std::move(out);
  p.listener_path = listener_path;
  p.listener_metadata = "sctrace";
  return p;
}

SeccompProfile check_runtime_profile(const SeccompProfile& p, const EvalContext& ctx, const std::string& listener_path,
                                     std::vector<std::string>* unwatchable, const std::vector<std::string>& always) {
  auto runs = [](const std::string& action) { return action == kAllow || action == "SCMP_ACT_LOG"; };
  // name -> whether every rule that names it (for this container) allows it
  // whatever its arguments. A name with any other rule (conditions, errno,
  // kill, trace) is notified and the watch program decides, exactly as the
  // compiled P would.
  std::map<std::string, bool> plain;
  for (const SyscallRule& r : p.syscalls) {
    if (!rule_applies(r, ctx)) continue;
    const bool allow = runs(r.action) && r.args.empty();
    for (const auto& n : r.names) {
      auto [it, fresh] = plain.try_emplace(n, allow);
      if (!fresh) it->second = it->second && allow;
    }
  }
  auto unconditional = [&](const std::string& name) {
    auto it = plain.find(name);
    return it == plain.end() ? runs(p.default_action) : it->second;
  };
  const std::set<std::string> watched(always.begin(), always.end());

  const std::vector<arch::Token> arches = profile_arches(p, ctx);
  SyscallRule allow;
  allow.action = kAllow;
  allow.comment = "allowed by the checked profile whatever the arguments (and runc's listener hand-over)";
  SyscallRule notify;
  notify.action = kNotify;
  notify.comment = "judged by sctrace's seccomp agent with the checked profile's watch program";
  for (const std::string& name : known_names(arches)) {
    if (hands_listener_over(name)) {
      allow.names.push_back(name);
      if (!unconditional(name) && unwatchable) unwatchable->push_back(name);
    } else if (unconditional(name) && watched.count(name) == 0) {
      // With an allowing default the name is not listed at all: the default
      // lets it run (runc would skip a rule equal to the default anyway).
      if (plain.count(name)) allow.names.push_back(name);
    } else {
      notify.names.push_back(name);
    }
  }

  SeccompProfile out;
  out.default_action = p.default_action;
  out.default_errno_ret = p.default_errno_ret;
  for (arch::Token t : arches) out.architectures.push_back(arch::scmp_name(t));
  out.flags = p.flags;
  if (!allow.names.empty()) out.syscalls.push_back(std::move(allow));
  if (!notify.names.empty()) out.syscalls.push_back(std::move(notify));
  out.listener_path = listener_path;
  out.listener_metadata = "sctrace";
  return out;
}

}  // namespace sctrace
