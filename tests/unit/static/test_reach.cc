// Static completion's analysis on the real system libc and on a sample.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/arch.h"
#include "static/disasm.h"
#include "static/elf_module.h"
#include "static/reach.h"

using namespace sctrace;
using namespace sctrace::static_reach;

namespace {

int nr(const char* name) { return *arch::syscall_nr(arch::native(), name); }

// The libc the samples load, found as the loader would.
std::string system_libc() {
  for (const auto& d : loader_dirs())
    if (std::filesystem::exists(d + "/libc.so.6")) return d + "/libc.so.6";
  return "";
}

const std::map<std::string, std::set<int>>& libc_map() {
  static const auto m = [] {
    std::optional<ElfModule> libc = read_elf(system_libc());
    REQUIRE(libc);
    return exported_syscalls(*libc);
  }();
  return m;
}

bool reaches(const std::string& fn, const char* sys) {
  auto it = libc_map().find(fn);
  return it != libc_map().end() && it->second.count(nr(sys)) != 0;
}

std::string sample(const char* name) { return std::string(SCTRACE_SAMPLES_DIR) + "/" + name; }

}  // namespace

TEST_CASE("read_elf: the system libc's identity, exports and code", "[static]") {
  const std::string path = system_libc();
  REQUIRE_FALSE(path.empty());
  std::optional<ElfModule> m = read_elf(path);
  REQUIRE(m);
  CHECK(m->soname == "libc.so.6");
  CHECK(m->build_id.size() >= 16);
  CHECK_FALSE(m->code.empty());
  auto exported = [&](const char* n) {
    return std::any_of(m->exports.begin(), m->exports.end(), [&](const ElfSymbol& s) { return s.name == n; });
  };
  CHECK(exported("usleep"));
  CHECK(exported("fsync"));
  CHECK_FALSE(read_elf("/etc/passwd"));
  CHECK_FALSE(read_elf("/nonexistent/file"));
}

TEST_CASE("exported_syscalls: libc functions reach the syscalls glibc makes for them", "[static]") {
  CHECK(reaches("usleep", "clock_nanosleep"));
  CHECK(reaches("nanosleep", "clock_nanosleep"));
  CHECK(reaches("fsync", "fsync"));
  CHECK(reaches("getpid", "getpid"));
  CHECK(reaches("read", "read"));  // `xor eax, eax` before the syscall
  CHECK(reaches("epoll_wait", "epoll_wait"));
  // Not everything reaches everything: a string function makes no syscall,
  // and sleeping does not reach fsync.
  REQUIRE(libc_map().count("strlen") == 1);
  CHECK(libc_map().at("strlen").empty());
  CHECK_FALSE(reaches("usleep", "fsync"));
  CHECK_FALSE(reaches("fsync", "clock_nanosleep"));
}

TEST_CASE("exported_syscalls: the code after a call that never returns is not walked", "[static]") {
  // glibc puts the next function right after calls to abort() and
  // __libc_fatal(): walking on from them made half of libc reach sethostname.
  CHECK(reaches("sethostname", "sethostname"));
  CHECK_FALSE(reaches("usleep", "sethostname"));
  CHECK_FALSE(reaches("read", "sethostname"));
}

TEST_CASE("reachable_syscalls: a sample's imports and its own syscall instruction", "[static]") {
  const std::string exe = sample("lazy_sleep");
  REQUIRE(std::filesystem::exists(exe));
  ReachFacts f = reachable_syscalls({exe}, {});
  CHECK(f.libc == system_libc());
  CHECK(f.notes.empty());
  auto has = [&](const char* sys, const std::string& via) {
    return std::any_of(f.reach.begin(), f.reach.end(), [&](const Reachable& r) {
      return r.nr == nr(sys) && r.module == "lazy_sleep" && r.via == via;
    });
  };
  CHECK(has("clock_nanosleep", "usleep"));
  CHECK(has("getppid", ""));  // mov eax, 110; syscall in lazy_sleep itself
  CHECK_FALSE(has("fsync", "usleep"));
  // The libc's own syscall instructions are reached only through its functions.
  CHECK(std::none_of(f.reach.begin(), f.reach.end(), [](const Reachable& r) { return r.module == "libc.so.6"; }));
}

TEST_CASE("reachable_syscalls: results are cached per build-id and read back", "[static]") {
  const auto dir = std::filesystem::temp_directory_path() / ("sctrace-static-cache-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  ReachOptions o{.cache_dir = dir.string(), .library_dirs = {}};
  ReachFacts cold = reachable_syscalls({sample("lazy_sleep")}, o);
  CHECK(cold.from_cache == 0);
  ReachFacts warm = reachable_syscalls({sample("lazy_sleep")}, o);
  CHECK(warm.from_cache == 2);  // the libc's map and the sample's own instructions
  auto key = [](const ReachFacts& f) {
    std::set<std::tuple<int, std::string, std::string>> s;
    for (const auto& r : f.reach) s.insert({r.nr, r.module, r.via});
    return s;
  };
  CHECK(key(cold) == key(warm));
  std::filesystem::remove_all(dir);
}

TEST_CASE("loader_dirs: ld.so.conf with includes, then the default dirs", "[static]") {
  const auto dir = std::filesystem::temp_directory_path() / ("sctrace-ldconf-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "ld.so.conf") << "# comment\ninclude conf.d/*.conf\n/opt/first\n";
  std::ofstream(dir / "conf.d" / "a.conf") << "/opt/a/lib  # trailing\n";
  const std::vector<std::string> dirs = loader_dirs((dir / "ld.so.conf").string());
  REQUIRE(dirs.size() >= 3);
  CHECK(dirs[0] == "/opt/a/lib");
  CHECK(dirs[1] == "/opt/first");
  CHECK(dirs.back() == "/usr/lib");
  std::filesystem::remove_all(dir);
}

TEST_CASE("own_syscalls: syscall bytes inside another instruction are not a syscall", "[static]") {
  // libgcc's unwinder compares code with "mov $15, %rax; syscall" held as an
  // immediate: decoded from the middle of that instruction, it looks like
  // rt_sigreturn made with a constant.
  std::string libgcc;
  for (const auto& d : loader_dirs())
    if (libgcc.empty() && std::filesystem::exists(d + "/libgcc_s.so.1")) libgcc = d + "/libgcc_s.so.1";
  REQUIRE_FALSE(libgcc.empty());  // every Debian system with gcc has it
  std::optional<ElfModule> m = read_elf(libgcc);
  REQUIRE(m);
  CHECK(own_syscalls(*m).count(nr("rt_sigreturn")) == 0);
  // ... while the sample's own `mov eax, 110; syscall` is found.
  std::optional<ElfModule> s = read_elf(sample("lazy_sleep"));
  REQUIRE(s);
  CHECK(own_syscalls(*s) == std::set<int>{nr("getppid")});
}
