#include "profile/emit/summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/arch.h"

namespace sctrace {
namespace {

// "SCMP_ARCH_X86_64" -> "x86_64"; names libseccomp does not know stay as written.
std::string short_arch(const std::string& scmp) {
  auto t = arch::from_scmp_name(scmp);
  return t ? arch::short_name(*t) : scmp;
}

}  // namespace

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
  for (const auto& d : r.template_denied)
    out += fmt::format("sctrace: observed but denied by the template: {} {} ({})\n", short_arch(d.arch), d.syscall,
                       d.reason);
  return out;
}

}  // namespace sctrace
