#include "profile/seccomp_log.h"

#include <linux/seccomp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/text.h"

namespace sctrace {

namespace {

template <typename T>
std::optional<T> number(std::string_view s, int base = 10) {
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) s.remove_prefix(2);
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// audit logs an untrusted string (comm, exe) in quotes, or, when it holds a
// space, a quote or a control character, as bare hex digits; "(null)" when
// there is none.
std::string untrusted(std::string_view v, bool quoted) {
  if (quoted) return std::string(v);
  if (v == "(null)" || v == "?") return {};
  if (v.size() % 2 != 0 || !std::all_of(v.begin(), v.end(), [](char c) { return std::isxdigit(uint8_t(c)) != 0; }))
    return std::string(v);
  std::string out;
  for (size_t i = 0; i < v.size(); i += 2) out.push_back(static_cast<char>(*number<unsigned>(v.substr(i, 2), 16)));
  return out;
}

// key=value fields, values bare or in double quotes. auditd's enriched
// format appends interpreted fields after a 0x1d separator: the raw ones
// before it are all that is read.
std::map<std::string, std::pair<std::string, bool>, std::less<>> fields(std::string_view s) {
  std::map<std::string, std::pair<std::string, bool>, std::less<>> out;
  if (size_t gs = s.find('\x1d'); gs != std::string_view::npos) s = s.substr(0, gs);
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(s.substr(i, eq - i));
    i = eq + 1;
    const bool quoted = i < s.size() && s[i] == '"';
    size_t end = quoted ? s.find('"', i + 1) : s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    std::string value(s.substr(quoted ? i + 1 : i, end - (quoted ? i + 1 : i)));
    i = quoted ? end + 1 : end;
    if (key.find(' ') == std::string::npos) out.emplace(std::move(key), std::pair{std::move(value), quoted});
  }
  return out;
}

}  // namespace

bool SeccompLogRecord::logged_only() const { return (code & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_LOG; }

std::optional<SeccompLogRecord> parse_seccomp_line(std::string_view line) {
  size_t type = line.find("type=1326 ");
  if (type == std::string_view::npos) type = line.find("type=SECCOMP ");
  if (type == std::string_view::npos) return std::nullopt;
  const size_t open = line.find("audit(", type);
  const size_t close = open == std::string_view::npos ? open : line.find("):", open);
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view stamp = line.substr(open + 6, close - open - 6);  // "1796663300.737:34"
  const size_t colon = stamp.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  SeccompLogRecord r;
  const std::string seconds(stamp.substr(0, colon));
  char* end = nullptr;
  r.time = std::strtod(seconds.c_str(), &end);
  auto serial = number<uint64_t>(stamp.substr(colon + 1));
  if (end != seconds.c_str() + seconds.size() || !std::isfinite(r.time) || !serial) return std::nullopt;
  r.serial = *serial;

  const auto f = fields(line.substr(close + 2));
  auto raw = [&](std::string_view key) -> const std::string* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second.first;
  };
  const std::string* pid = raw("pid");
  const std::string* arch = raw("arch");
  const std::string* nr = raw("syscall");
  if (!pid || !arch || !nr) return std::nullopt;
  auto pid_v = number<pid_t>(*pid);
  auto arch_v = number<uint32_t>(*arch, 16);
  auto nr_v = number<int32_t>(*nr);
  if (!pid_v || !arch_v || !nr_v) return std::nullopt;
  r.pid = *pid_v;
  r.audit_arch = *arch_v;
  r.nr = *nr_v;
  if (const std::string* code = raw("code")) r.code = number<uint32_t>(*code, 16).value_or(0);
  if (auto it = f.find("comm"); it != f.end()) r.comm = untrusted(it->second.first, it->second.second);
  if (auto it = f.find("exe"); it != f.end()) r.exe = untrusted(it->second.first, it->second.second);
  return r;
}

std::optional<LogLoss> parse_loss_line(std::string_view line) {
  // Only audit's own printer: other printk_ratelimit() callers announce
  // their misses under their own names.
  if (size_t at = line.find("printk_skb: "); at != std::string_view::npos) {
    std::string_view rest = line.substr(at + 12);
    const size_t sp = rest.find(" callbacks suppressed");
    if (sp == std::string_view::npos) return std::nullopt;
    if (auto n = number<uint64_t>(rest.substr(0, sp))) return LogLoss{*n, std::nullopt};
    return std::nullopt;
  }
  if (size_t at = line.find("audit: audit_lost="); at != std::string_view::npos) {
    std::string_view rest = line.substr(at + 18);
    rest = rest.substr(0, rest.find(' '));
    if (auto n = number<uint64_t>(rest)) return LogLoss{0, *n};
  }
  return std::nullopt;
}

Harvester::Harvester(HarvestSelect select) : select_(std::move(select)) { h_.recording.backend = "harvest"; }

void Harvester::add_line(std::string_view line) {
  if (auto loss = parse_loss_line(line)) {
    pending_suppressed_ += loss->suppressed;
    if (loss->audit_lost) h_.audit_lost = std::max(h_.audit_lost.value_or(0), *loss->audit_lost);
    return;
  }
  const std::optional<SeccompLogRecord> r = parse_seccomp_line(line);
  if (!r || !seen_.emplace(r->time, r->serial).second) return;
  ++h_.records;
  // The kernel announces what it dropped just before the next record it
  // prints: the drops belong to the time up to that record.
  const uint64_t suppressed = std::exchange(pending_suppressed_, 0);
  if (select_.since > 0 && r->time < select_.since) return;
  ++h_.in_window;
  h_.suppressed += suppressed;
  if (!select_.exe.empty() && r->exe != select_.exe) return;
  if (select_.process) {
    auto it = asked_.find(r->pid);
    if (it == asked_.end()) it = asked_.emplace(r->pid, select_.process(r->pid)).first;
    if (it->second == Whose::gone) ++h_.gone;
    if (it->second != Whose::selected) return;
  }
  ++h_.selected;
  if (!r->logged_only()) {
    ++h_.not_logged;
    return;
  }
  recorder_.add_syscall(r->audit_arch, r->nr, {}, std::nullopt, r->pid, recorder_.intern_exe(r->exe));
  if (!r->exe.empty()) h_.recording.execs.insert(r->exe);
}

Harvest Harvester::finish() && {
  // The log carries no arguments: those the recorder would narrow on are
  // unknown, not zero.
  for (auto& [arch, calls] : h_.recording.syscalls)
    for (auto& [name, rec] : calls) {
      const std::vector<unsigned>& idx = filtered_args(name);
      if (idx.empty()) continue;
      for (unsigned i : idx) rec.args[i] = ArgValues{{}, true};
      rec.classes.clear();
      h_.arguments_unknown.push_back(name);
    }
  std::sort(h_.arguments_unknown.begin(), h_.arguments_unknown.end());
  h_.arguments_unknown.erase(std::unique(h_.arguments_unknown.begin(), h_.arguments_unknown.end()),
                             h_.arguments_unknown.end());
  h_.recording.complete = !h_.losses();
  return std::move(h_);
}

std::vector<std::string> harvest_summary(const Harvest& h, const std::string& source, const std::string& whose) {
  std::vector<std::string> out;
  out.push_back(fmt::format("read {} from {} ({} in the time asked for); {} of {}", plural(h.records, "seccomp record", "seccomp records"),
                            source, h.in_window, h.selected, whose));
  if (h.gone > 0)
    out.push_back(fmt::format("{} came from processes that had exited: their pid no longer tells whose they were "
                              "(harvest while the container runs)",
                              plural(h.gone, "record", "records")));
  if (h.not_logged > 0)
    out.push_back(fmt::format("{} of them answered by the filter with something other than SCMP_ACT_LOG (the call did "
                              "not run): left out",
                              h.not_logged));
  std::vector<std::string> names;
  for (const auto& [arch, calls] : h.recording.syscalls)
    for (const auto& [name, rec] : calls) names.push_back(arch == arch::native() ? name : name + " (" + arch::short_name(arch) + ")");
  out.push_back(names.empty() ? std::string("no syscall to add")
                              : fmt::format("{}: {}", plural(names.size(), "syscall", "syscalls"), fmt::join(names, ", ")));
  if (!h.arguments_unknown.empty())
    out.push_back(fmt::format("the log carries no arguments: a profile made with this recording does not narrow {} "
                              "on theirs",
                              fmt::join(h.arguments_unknown, ", ")));
  if (!h.losses()) {
    out.push_back("the kernel reported no losses");
    return out;
  }
  std::string what;
  if (h.suppressed > 0)
    what = fmt::format("{} dropped by its printk rate limit (sysctl kernel.printk_ratelimit, "
                       "kernel.printk_ratelimit_burst)",
                       plural(h.suppressed, "record", "records"));
  if (h.audit_lost.value_or(0) > 0)
    what += fmt::format("{}audit_lost={} (the audit backlog, since boot)", what.empty() ? "" : "; ", *h.audit_lost);
  out.push_back(fmt::format("the kernel reported losses: {}. Calls may be missing: merge this recording, deploy the "
                            "canary made from it (merge --unlisted log --profile ...), and harvest again (what it allows is no longer logged, so the "
                            "rest gets through)",
                            what));
  return out;
}

std::optional<double> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double unit = 1;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
  }
  if (unit != 0) text.remove_suffix(1);
  else unit = 1;
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0 || !std::isdigit(uint8_t(s[0])))
    return std::nullopt;
  return v * unit;
}

}  // namespace sctrace
