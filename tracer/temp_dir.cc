#include "tracer/temp_dir.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.h"

namespace sctrace {

namespace fs = std::filesystem;

namespace {

std::string own_pid_namespace() {
  std::error_code ec;
  std::string link = fs::read_symlink("/proc/self/ns/pid", ec).string();  // "pid:[4026531836]"
  std::string digits;
  for (char ch : link)
    if (ch >= '0' && ch <= '9') digits += ch;
  return digits;
}

std::string default_base() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

std::string name_prefix(std::string_view kind) {
  auto st = read_proc_stat(::getpid());
  std::string prefix = kind.empty() ? std::string("sctrace") : fmt::format("sctrace-{}", kind);
  return fmt::format("{}-{}-{}-{}-", prefix, own_pid_namespace(), ::getpid(), st ? st->start_time : 0ULL);
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

size_t owned_temp_dir_length(std::string_view kind, const std::string& base) {
  return (base.empty() ? default_base() : base).size() + 1 + name_prefix(kind).size() + 6;
}

std::string make_owned_temp_dir(std::string_view kind, std::string base) {
  if (base.empty()) base = default_base();
  std::string tmpl = fmt::format("{}/{}XXXXXX", base, name_prefix(kind));
  if (::mkdtemp(tmpl.data()) == nullptr) fail_errno(ErrorKind::io, errno, "cannot create a temp directory in " + base);
  return tmpl;
}

std::optional<TempDirOwner> parse_owned_temp_dir_name(std::string_view name) {
  // sctrace[-kind]-NS-PID-START-XXXXXX, kind being lower-case letters.
  std::vector<std::string_view> parts;
  size_t from = 0;
  for (size_t dash; (dash = name.find('-', from)) != std::string_view::npos; from = dash + 1)
    parts.push_back(name.substr(from, dash - from));
  parts.push_back(name.substr(from));
  if (parts.size() != 5 && parts.size() != 6) return std::nullopt;
  if (parts[0] != "sctrace") return std::nullopt;
  size_t i = 1;
  if (parts.size() == 6) {
    if (parts[1].empty() || parts[1].find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string_view::npos)
      return std::nullopt;
    i = 2;
  }
  const auto ns = parts[i], pid = parts[i + 1], start = parts[i + 2], suffix = parts[i + 3];
  if (!all_digits(ns) || !all_digits(pid) || !all_digits(start) || pid.size() > 9 || start.size() > 19)
    return std::nullopt;
  if (suffix.size() != 6) return std::nullopt;
  for (char ch : suffix)
    if (!std::isalnum(static_cast<unsigned char>(ch))) return std::nullopt;
  TempDirOwner o;
  o.pid_namespace = std::string(ns);
  o.pid = static_cast<pid_t>(std::strtol(std::string(pid).c_str(), nullptr, 10));
  o.start_time = std::strtoull(std::string(start).c_str(), nullptr, 10);
  if (o.pid <= 0) return std::nullopt;
  return o;
}

bool temp_dir_owner_gone(const TempDirOwner& owner, std::string_view own_pid_namespace,
                         const std::optional<ProcStat>& now) {
  // Another namespace's pids mean nothing here: its sctrace may well live.
  if (owner.pid_namespace.empty() || owner.pid_namespace != own_pid_namespace) return false;
  return !now || now->start_time != owner.start_time;
}

std::vector<std::string> orphaned_owned_dirs(const std::string& base) {
  std::vector<std::string> found;
  const std::string ns = own_pid_namespace();
  std::error_code ec;
  fs::directory_iterator it(base, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    auto owner = parse_owned_temp_dir_name(name);
    if (!owner || !temp_dir_owner_gone(*owner, ns, read_proc_stat(owner->pid))) continue;
    // A real directory (not a symlink) of this user: another user's is theirs to remove.
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    found.push_back(it->path().string());
  }
  return found;
}

std::vector<std::string> remove_orphaned_temp_dirs() {
  std::vector<std::string> removed;
  for (const auto& base : std::set<std::string>{default_base(), "/tmp"})
    for (const auto& dir : orphaned_owned_dirs(base)) {
      std::error_code rm;
      fs::remove_all(dir, rm);
      if (!rm) removed.push_back(dir);
    }
  return removed;
}

}  // namespace sctrace
