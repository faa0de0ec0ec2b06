#include "static/reach.h"

#include <elf.h>
#include <glob.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "static/capstone_api.h"
#include "static/disasm.h"
#include "static/elf_module.h"

namespace sctrace::static_reach {

namespace {

using json = nlohmann::json;

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string display_name(const ElfModule& m) { return m.soname.empty() ? base_name(m.path) : m.soname; }

// glibc's "libc.so.6", musl's "libc.musl-x86_64.so.1" (its loader is its libc too).
bool is_libc(const ElfModule& m) {
  const std::string n = display_name(m);
  return n.rfind("libc.so", 0) == 0 || n.rfind("libc.musl", 0) == 0 || n.rfind("ld-musl", 0) == 0;
}

// A script's interpreter ("#!/bin/sh -e" -> "/bin/sh"), "" for anything else.
std::string shebang(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line) || line.rfind("#!", 0) != 0) return "";
  std::istringstream words(line.substr(2));
  std::string interp;
  words >> interp;
  return interp;
}

// Per build-id results, as JSON files; anything unreadable is a miss.
class Cache {
 public:
  explicit Cache(std::string dir) : dir_(std::move(dir)) {}
  std::optional<json> get(const ElfModule& m, const char* what) const {
    if (dir_.empty() || m.build_id.empty()) return std::nullopt;
    try {
      json j = json::parse(read_file(file(m, what)));
      if (j.is_object() && j.value("sctrace_static", 0) == 1 && j.contains("data")) return j["data"];
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  void put(const ElfModule& m, const char* what, json data) const {
    if (dir_.empty() || m.build_id.empty()) return;
    try {
      std::filesystem::create_directories(dir_);
      write_file_atomic(file(m, what), json{{"sctrace_static", 1}, {"module", m.path}, {"data", std::move(data)}}.dump());
    } catch (const std::exception&) {  // a cache that cannot be written only costs time
    }
  }

 private:
  std::string file(const ElfModule& m, const char* what) const { return dir_ + "/" + m.build_id + "." + what + ".json"; }
  std::string dir_;
};

}  // namespace

std::vector<std::string> loader_dirs(const std::string& ld_so_conf) {
  std::vector<std::string> dirs;
  std::set<std::string> read;
  auto read_conf = [&](auto& self, const std::string& path) -> void {
    if (!read.insert(path).second) return;
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      line = line.substr(0, line.find('#'));
      std::istringstream words(line);
      std::string w;
      if (!(words >> w)) continue;
      if (w != "include") {
        dirs.push_back(w);
        continue;
      }
      while (words >> w) {
        if (w[0] != '/') w = path.substr(0, path.rfind('/') + 1) + w;
        glob_t g{};
        if (glob(w.c_str(), 0, nullptr, &g) == 0)
          for (size_t i = 0; i < g.gl_pathc; ++i) self(self, g.gl_pathv[i]);
        globfree(&g);
      }
    }
  };
  read_conf(read_conf, ld_so_conf);
  for (const char* d : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) dirs.emplace_back(d);
  return dirs;
}

ReachFacts reachable_syscalls(const std::vector<std::string>& roots, const ReachOptions& opts) {
  ReachFacts facts;
  if (!capstone_api()) {
    facts.notes.push_back("not done: " + capstone_error());
    return facts;
  }
  const Cache cache(opts.cache_dir);
  const std::vector<std::string> system_dirs = opts.library_dirs.empty() ? loader_dirs() : opts.library_dirs;

  // The modules: the roots, then every DT_NEEDED as the loader finds it.
  std::vector<ElfModule> modules;
  std::set<std::string> looked_at, sonames;
  std::vector<std::string> todo(roots.rbegin(), roots.rend());
  auto add = [&](const std::string& path) -> const ElfModule* {
    if (!looked_at.insert(path).second) return nullptr;
    std::optional<ElfModule> m = read_elf(path);
    if (!m) {
      if (const std::string interp = shebang(path); !interp.empty()) todo.push_back(interp);
      return nullptr;
    }
    if (sonames.count(display_name(*m)) != 0) return nullptr;  // the loader by two paths (PT_INTERP, DT_NEEDED)
    if (m->machine != EM_X86_64) {
      facts.notes.push_back(path + ": not x86-64 code, not analysed");
      return nullptr;
    }
    sonames.insert(display_name(*m));
    modules.push_back(std::move(*m));
    return &modules.back();
  };
  while (!todo.empty()) {
    const std::string path = todo.back();
    todo.pop_back();
    const ElfModule* m = add(path);
    if (!m) continue;
    const std::vector<std::string> needed = m->needed, search = m->search;
    if (!m->interp.empty()) todo.push_back(m->interp);
    for (auto it = needed.rbegin(); it != needed.rend(); ++it) {
      if (sonames.count(*it) != 0) continue;
      std::optional<std::string> found;
      if (it->find('/') != std::string::npos) found = *it;
      for (const auto* dirs : {&search, &system_dirs}) {
        for (const auto& d : *dirs) {
          if (found) break;
          const std::string p = d + "/" + *it;
          if (std::optional<ElfModule> c = read_elf(p); c && c->machine == EM_X86_64) found = p;
        }
      }
      if (found) todo.push_back(*found);
      else facts.notes.push_back(fmt::format("{} needs {}, which was not found", display_name(*m), *it));
    }
  }

  // The libc's functions -> numbers.
  std::map<std::string, std::set<int>> libc_map;
  // The libc and the dynamic loader provide: what they reach is reached
  // through the functions others import from them.
  std::set<std::string> providers;
  for (const auto& m : modules)
    if (!m.interp.empty())
      if (std::optional<ElfModule> ld = read_elf(m.interp)) providers.insert(display_name(*ld));
  for (const auto& m : modules) {
    facts.modules.push_back(m.path);
    if (!is_libc(m) || !facts.libc.empty()) continue;
    facts.libc = m.path;
    providers.insert(display_name(m));
    if (std::optional<json> c = cache.get(m, "libc")) {
      libc_map = c->get<std::map<std::string, std::set<int>>>();
      ++facts.from_cache;
    } else {
      libc_map = exported_syscalls(m);
      cache.put(m, "libc", libc_map);
    }
  }
  if (facts.libc.empty() && !modules.empty())
    facts.notes.push_back("no libc among the loaded modules: only their own syscall instructions were analysed");

  for (const auto& m : modules) {
    if (providers.count(display_name(m)) != 0) continue;
    for (const auto& fn : m.imports)
      if (auto it = libc_map.find(fn); it != libc_map.end())
        for (int nr : it->second) facts.reach.push_back({nr, display_name(m), fn});
    std::set<int> own;
    if (std::optional<json> c = cache.get(m, "own")) {
      own = c->get<std::set<int>>();
      ++facts.from_cache;
    } else {
      own = own_syscalls(m);
      cache.put(m, "own", own);
    }
    for (int nr : own) facts.reach.push_back({nr, display_name(m), ""});
  }
  return facts;
}

}  // namespace sctrace::static_reach
