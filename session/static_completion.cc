#include "session/static_completion.h"

#include <chrono>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

namespace sctrace {

std::vector<std::string> loaded_roots(const Recording& rec) {
  std::vector<std::string> roots(rec.execs.begin(), rec.execs.end());
  std::set<std::string> seen(roots.begin(), roots.end());
  for (const auto& [a, calls] : rec.syscalls)
    for (const auto& [name, r] : calls)
      for (const auto& c : r.classes)
        for (const auto& st : c.stacks)
          for (const auto& f : st.frames)
            // "[vdso]" and the like are not files.
            if (!f.module.empty() && f.module[0] == '/' && seen.insert(f.module).second) roots.push_back(f.module);
  return roots;
}

std::string static_cache_dir() {
  if (const char* d = std::getenv("SCTRACE_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d == '/') return std::string(d) + "/sctrace/static";
  if (const char* h = std::getenv("HOME"); h && *h == '/') return std::string(h) + "/.cache/sctrace/static";
  return "";
}

void complete_statically(Recording& rec, const Workload& w, StaticMode mode,
                         const std::function<void(const std::string&)>& say) {
  if (mode == StaticMode::off) return;
  if (w.kind != WorkloadKind::local) {
    say("static completion: not done (local workloads only so far: the files a container ran are in its root "
        "filesystem)");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const static_reach::ReachFacts facts =
      static_reach::reachable_syscalls(loaded_roots(rec), {.cache_dir = static_cache_dir(), .library_dirs = {}});
  const StaticOutcome outcome = apply_static_completion(rec, facts, mode);
  for (const auto& line : static_outcome_lines(outcome, rec)) say(line);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  say(fmt::format("static completion took {:.2f} s ({} analyses read from the cache)", secs, facts.from_cache));
}

}  // namespace sctrace
