#include "profile/emit/summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/arch.h"
#include "core/text.h"

namespace sctrace {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// musl's libc and its loader are one file, ld-musl-*.so.1: C library code.
bool is_libc_module(std::string_view base) {
  return starts_with(base, "libc.so") || starts_with(base, "libc-") || starts_with(base, "libpthread") ||
         starts_with(base, "libc.musl") || starts_with(base, "ld-musl");
}

bool is_loader_module(std::string_view base) {
  return starts_with(base, "ld-linux") || starts_with(base, "ld.so") || starts_with(base, "ld64.so");
}

// libc linked into a static executable.
bool is_static_libc_function(std::string_view fn) {
  return starts_with(fn, "__libc_") || starts_with(fn, "_IO_") || starts_with(fn, "_dl_") || fn == "_start" ||
         fn == "__GI___libc_start_main" || fn == "_exit" || fn == "exit";
}

bool is_go_runtime_function(std::string_view fn) {
  return starts_with(fn, "runtime.") || starts_with(fn, "syscall.") || starts_with(fn, "internal/") ||
         starts_with(fn, "golang.org/x/sys/unix.");
}

enum class Kind { libc, go_runtime, other };

Kind kind_of(const StackFrame& f, std::string_view exe_base) {
  std::string base = module_basename(f.module);
  if (is_libc_module(base)) return Kind::libc;
  if (base == exe_base) {
    if (is_static_libc_function(f.function)) return Kind::libc;
    if (is_go_runtime_function(f.function)) return Kind::go_runtime;
  }
  return Kind::other;
}

std::string caller_text(const StackFrame& f) {
  if (!f.function.empty()) return f.function;
  if (!f.module.empty()) return fmt::format("+{:#x}", f.module_offset);
  return "??";
}

}  // namespace

std::string module_basename(std::string_view module) {
  size_t slash = module.rfind('/');
  return std::string(slash == std::string_view::npos ? module : module.substr(slash + 1));
}

std::string_view group_title(CallerGroup g) {
  switch (g) {
    case CallerGroup::startup: return "libc/loader startup";
    case CallerGroup::application: return "the application";
    case CallerGroup::runtime: return "the runtime";
    case CallerGroup::unknown: break;
  }
  return "unknown";
}

CallSite call_site(const CallStack& stack) {
  CallSite cs;
  const auto& fr = stack.frames;
  if (fr.empty()) return cs;
  const std::string exe_base = module_basename(stack.exe);
  // Frame 0 holds the syscall instruction: the wrapper, not the caller.
  const size_t first = fr.size() > 1 ? 1 : 0;
  std::optional<size_t> go_frame;
  for (size_t i = first; i < fr.size(); ++i) {
    Kind k = kind_of(fr[i], exe_base);
    if (k == Kind::go_runtime && !go_frame) go_frame = i;
    if (k != Kind::other) continue;
    cs.frame = fr[i];
    std::string base = module_basename(fr[i].module);
    if (fr[i].module.empty())
      cs.group = CallerGroup::unknown;
    else if (is_loader_module(base))
      cs.group = CallerGroup::startup;
    else if (!exe_base.empty() && base == exe_base)
      cs.group = CallerGroup::application;
    else
      cs.group = CallerGroup::runtime;
    return cs;
  }
  // Nothing outside the C library (its start-up and exit), or only the Go
  // runtime (scheduler, GC). A lone libc frame says nothing about the caller:
  // that is all the notify backend sees (it does not unwind).
  if (!go_frame && fr.size() == 1) {
    cs.frame = fr[0];
    cs.group = CallerGroup::unknown;
    return cs;
  }
  if (go_frame) {
    cs.frame = fr[*go_frame];
    cs.group = CallerGroup::runtime;
  } else {
    cs.frame = fr[first];
    cs.group = CallerGroup::startup;
  }
  return cs;
}

std::string summary_text(const MinimizeResult& r) {
  std::string out;
  double pct = r.template_names == 0 ? 0.0 : 100.0 * static_cast<double>(r.allowed_names) / r.template_names;
  std::string native = r.arches.empty() ? arch::short_name(arch::native()) : short_arch(r.arches.front());
  std::vector<std::string> arches;
  for (const auto& a : r.arches) arches.push_back(short_arch(a));
  out += fmt::format("sctrace: allowed {} of {} syscalls the template allows ({:.1f}%) on {}; arches: {}\n",
                     r.allowed_names, r.template_names, pct, native,
                     arches.empty() ? native : fmt::format("{}", fmt::join(arches, ", ")));
  if (!r.added_fallbacks.empty())
    out += fmt::format("sctrace: fallbacks added: {}\n", fmt::join(r.added_fallbacks, ", "));
  if (!r.answered_enosys.empty())
    out += fmt::format("sctrace: note: the workload made {} and the profile answers ENOSYS there, as the template "
                       "does: it works only if the workload falls back (`sctrace verify` shows whether it does)\n",
                       fmt::join(r.answered_enosys, ", "));
  for (const auto& d : r.template_denied)
    out += fmt::format("sctrace: observed but denied by the template: {} {} ({})\n", short_arch(d.arch), d.syscall,
                       d.reason);
  return out;
}

std::string attribution_text(const Recording& rec) {
  struct Line {
    std::string name, module, function;
  };
  std::map<CallerGroup, std::vector<Line>> groups;
  std::vector<std::string> without;
  bool any = false;
  for (const auto& [arch_token, calls] : rec.syscalls) {
    const bool native = arch_token == arch::native();
    for (const auto& [name, r] : calls) {
      std::string label = native ? name : fmt::format("{} ({})", name, arch::short_name(arch_token));
      // The most frequent argument class that has a stack speaks for the syscall.
      const ArgClass* best = nullptr;
      for (const auto& c : r.classes)
        if (!c.stacks.empty() && (best == nullptr || c.count > best->count)) best = &c;
      if (best == nullptr) {
        without.push_back(label);
        continue;
      }
      any = true;
      CallSite cs = call_site(best->stacks.front());
      groups[cs.group].push_back({label, cs.frame.module.empty() ? "??" : printable(module_basename(cs.frame.module)),
                                  printable(caller_text(cs.frame))});
    }
  }
  if (!any) return {};
  std::string out = "sctrace: call sites (`sctrace explain SYSCALL` for the stacks):\n";
  for (CallerGroup g : {CallerGroup::startup, CallerGroup::application, CallerGroup::runtime, CallerGroup::unknown}) {
    auto it = groups.find(g);
    if (it == groups.end()) continue;
    out += fmt::format("sctrace:   {}:\n",
                       g == CallerGroup::unknown ? std::string_view("unknown caller (code with no module, or only the "
                                                                    "syscall's own frame: notify does not unwind, "
                                                                    "--backend ptrace does)")
                                                 : group_title(g));
    for (const auto& l : it->second) out += fmt::format("sctrace:     {:<20} {:<26} {}\n", l.name, l.module, l.function);
  }
  if (!without.empty()) out += fmt::format("sctrace:   no stack: {}\n", fmt::join(without, ", "));
  return out;
}

}  // namespace sctrace
