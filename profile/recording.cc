#include "profile/recording.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "profile/templates.h"

namespace sctrace {

using nlohmann::json;

void ArgValues::add(uint64_t v) {
  if (overflow) return;
  values.insert(v);
  if (values.size() > kMaxArgValues) {
    overflow = true;
    values.clear();
  }
}

void ArgValues::merge(const ArgValues& o) {
  if (o.overflow) {
    overflow = true;
    values.clear();
    return;
  }
  for (uint64_t v : o.values) add(v);
}

bool SyscallRecord::only_enosys() const {
  if (ok != 0 || errors.empty()) return false;
  return errors.size() == 1 && errors.begin()->first == ENOSYS;
}

void Recording::merge(const Recording& other) {
  for (const auto& [arch, calls] : other.syscalls) {
    auto& mine = syscalls[arch];
    for (const auto& [name, r] : calls) {
      auto it = mine.find(name);
      if (it == mine.end()) {
        mine.emplace(name, r);
        continue;
      }
      SyscallRecord& m = it->second;
      m.count += r.count;
      m.ok += r.ok;
      for (const auto& [e, n] : r.errors) m.errors[e] += n;
      for (const auto& [idx, vals] : r.args) m.args[idx].merge(vals);
      for (const auto& c : r.classes) merge_class(m.classes, m.classes_overflow, c);
      m.classes_overflow = m.classes_overflow || r.classes_overflow;
    }
  }
  // The same command line once: re-recording it (run --baseline, merge of
  // several runs) must not make the recording grow or change.
  for (const auto& c : other.commands)
    if (std::find(commands.begin(), commands.end(), c) == commands.end()) commands.push_back(c);
  execs.insert(other.execs.begin(), other.execs.end());
  complete = complete && other.complete;
  if (backend.empty()) {
    backend = other.backend;
  } else if (!other.backend.empty() && other.backend != backend) {
    backend = "mixed";
  }
}

const ArgClass* SyscallRecord::find_class(const std::map<unsigned, uint64_t>& a) const {
  for (const auto& c : classes)
    if (c.args == a) return &c;
  return nullptr;
}

void merge_class(std::vector<ArgClass>& into, bool& overflow, const ArgClass& c) {
  auto it = std::find_if(into.begin(), into.end(), [&](const ArgClass& m) { return m.args == c.args; });
  if (it == into.end()) {
    if (into.size() >= kMaxArgClasses) {
      overflow = true;
      return;
    }
    into.push_back(ArgClass{c.args, 0, {}, {}});
    it = std::prev(into.end());
  }
  it->count += c.count;
  for (const auto& e : c.execs) {
    if (it->execs.size() >= kMaxClassExecs) break;
    it->execs.insert(e);
  }
  for (const auto& st : c.stacks) {
    if (it->stacks.size() >= kMaxClassStacks) break;
    // One stack per calling executable: the first seen stays.
    bool have = std::any_of(it->stacks.begin(), it->stacks.end(),
                            [&](const CallStack& m) { return m.exe == st.exe; });
    if (!have) it->stacks.push_back(st);
  }
}

std::string default_recording_path(std::string_view out) {
  std::string base(out);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  return base + ".recording.json";
}

std::string frame_text(const StackFrame& f) {
  if (!f.function.empty())
    return f.module.empty() ? fmt::format("{}+{:#x}", f.function, f.offset)
                            : fmt::format("{}+{:#x} ({})", f.function, f.offset, f.module);
  if (!f.module.empty()) return fmt::format("{}+{:#x}", f.module, f.module_offset);
  return "??";
}

size_t Recording::total_names() const {
  std::set<std::string> names;
  for (const auto& [arch, calls] : syscalls)
    for (const auto& [name, r] : calls) names.insert(name);
  return names.size();
}

const std::vector<unsigned>& filtered_args(std::string_view syscall_name) {
  static const std::vector<unsigned> none;
  const auto& table = arg_filter_table();
  auto it = table.find(std::string(syscall_name));
  return it == table.end() ? none : it->second;
}

std::string errno_name(int err) {
  const char* n = strerrorname_np(err);
  return n ? std::string(n) : fmt::format("E{}", err);
}

int errno_from_name(std::string_view name) {
  static const std::map<std::string, int, std::less<>> table = [] {
    std::map<std::string, int, std::less<>> t;
    for (int e = 1; e < 4096; ++e)
      if (const char* n = strerrorname_np(e)) t.emplace(n, e);
    return t;
  }();
  auto it = table.find(name);
  if (it != table.end()) return it->second;
  if (name.size() > 1 && name[0] == 'E') {
    int v = 0;
    for (char c : name.substr(1)) {
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
      if (v > 4095) return -1;
    }
    return v;
  }
  return -1;
}

std::string recording_to_json(const Recording& rec) {
  json j;
  j["sctrace_recording"] = 1;
  j["complete"] = rec.complete;
  j["backend"] = rec.backend;
  j["commands"] = rec.commands;
  j["execs"] = rec.execs;
  json sys = json::object();
  for (const auto& [arch, calls] : rec.syscalls) {
    json a = json::object();
    for (const auto& [name, r] : calls) {
      json o;
      o["nr"] = r.nr;
      o["count"] = r.count;
      o["first_pid"] = r.first_pid;
      o["ok"] = r.ok;
      json errs = json::object();
      for (const auto& [e, n] : r.errors) errs[errno_name(e)] = n;
      o["errors"] = errs;
      json args = json::object();
      for (const auto& [idx, vals] : r.args)
        args[std::to_string(idx)] = {{"values", vals.values}, {"overflow", vals.overflow}};
      o["args"] = args;
      if (!r.classes.empty()) {
        json classes = json::array();
        for (const auto& c : r.classes) {
          json jc;
          json cargs = json::object();
          for (const auto& [idx, v] : c.args) cargs[std::to_string(idx)] = v;
          jc["args"] = cargs;
          jc["count"] = c.count;
          jc["execs"] = c.execs;
          json stacks = json::array();
          for (const auto& st : c.stacks) {
            json frames = json::array();
            for (const auto& f : st.frames)
              frames.push_back({{"module", f.module},
                                {"build_id", f.build_id},
                                {"function", f.function},
                                {"offset", f.offset},
                                {"module_offset", f.module_offset}});
            stacks.push_back({{"exe", st.exe}, {"frames", frames}});
          }
          jc["stacks"] = stacks;
          classes.push_back(jc);
        }
        o["classes"] = classes;
      }
      if (r.classes_overflow) o["classes_overflow"] = true;
      a[name] = o;
    }
    sys[arch::scmp_name(arch)] = a;
  }
  j["syscalls"] = sys;
  return j.dump(2) + "\n";
}

namespace {

// Parsing with a JSON path kept for error messages.
struct Parser {
  std::string_view source;
  [[noreturn]] void bad(const std::string& path, const std::string& what) const {
    fail(ErrorKind::input, "{}: {}: {}", source, path.empty() ? "(top level)" : path, what);
  }
  const json& field(const json& o, const std::string& path, const char* key, bool required = true) const {
    static const json null_value;
    if (!o.is_object()) bad(path, "expected an object");
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) bad(path, fmt::format("missing field '{}'", key));
      return null_value;
    }
    return *it;
  }
  uint64_t u64(const json& v, const std::string& path) const {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
      bad(path, "expected a non-negative integer");
    return v.get<uint64_t>();
  }
  std::string str(const json& o, const std::string& path, const char* key) const {
    const json& v = field(o, path, key, false);
    if (v.is_null()) return {};
    if (!v.is_string()) bad(path + "." + key, "expected a string");
    return v.get<std::string>();
  }
  std::vector<ArgClass> classes(const json& cl, const std::string& path) const {
    if (!cl.is_array()) bad(path, "expected an array");
    std::vector<ArgClass> out;
    bool overflow = false;
    for (size_t i = 0; i < cl.size(); ++i) {
      std::string cpath = fmt::format("{}[{}]", path, i);
      ArgClass c;
      if (const json& a = field(cl[i], cpath, "args", false); !a.is_null()) {
        if (!a.is_object()) bad(cpath + ".args", "expected an object");
        for (const auto& [idx_s, v] : a.items()) {
          if (idx_s.size() != 1 || idx_s[0] < '0' || idx_s[0] > '5')
            bad(cpath + ".args." + idx_s, "argument index must be 0..5");
          c.args[static_cast<unsigned>(idx_s[0] - '0')] = u64(v, cpath + ".args." + idx_s);
        }
      }
      c.count = u64(field(cl[i], cpath, "count"), cpath + ".count");
      if (const json& ex = field(cl[i], cpath, "execs", false); !ex.is_null()) {
        if (!ex.is_array()) bad(cpath + ".execs", "expected an array");
        for (size_t k = 0; k < ex.size(); ++k) {
          if (!ex[k].is_string()) bad(fmt::format("{}.execs[{}]", cpath, k), "expected a string");
          c.execs.insert(ex[k].get<std::string>());
        }
      }
      if (const json& sts = field(cl[i], cpath, "stacks", false); !sts.is_null()) {
        if (!sts.is_array()) bad(cpath + ".stacks", "expected an array");
        for (size_t k = 0; k < sts.size(); ++k) {
          std::string spath = fmt::format("{}.stacks[{}]", cpath, k);
          CallStack st;
          st.exe = str(sts[k], spath, "exe");
          const json& frames = field(sts[k], spath, "frames");
          if (!frames.is_array()) bad(spath + ".frames", "expected an array");
          for (size_t f = 0; f < frames.size(); ++f) {
            std::string fpath = fmt::format("{}.frames[{}]", spath, f);
            StackFrame fr;
            fr.module = str(frames[f], fpath, "module");
            fr.build_id = str(frames[f], fpath, "build_id");
            fr.function = str(frames[f], fpath, "function");
            if (const json& v = field(frames[f], fpath, "offset", false); !v.is_null()) fr.offset = u64(v, fpath + ".offset");
            if (const json& v = field(frames[f], fpath, "module_offset", false); !v.is_null())
              fr.module_offset = u64(v, fpath + ".module_offset");
            st.frames.push_back(std::move(fr));
          }
          c.stacks.push_back(std::move(st));
        }
      }
      // Through merge_class so that a hand-edited file cannot exceed the bounds.
      merge_class(out, overflow, c);
    }
    return out;
  }
};

}  // namespace

Recording recording_from_json(std::string_view text, std::string_view source) {
  Parser p{source};
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    fail(ErrorKind::input, "{}: invalid JSON: {}", source, json_error_text(e));
  }
  if (!j.is_object()) p.bad("", "expected an object");
  const json& ver = p.field(j, "", "sctrace_recording");
  if (!ver.is_number_integer() || ver.get<int64_t>() != 1)
    p.bad("sctrace_recording", "unsupported recording version (expected 1)");
  Recording rec;
  if (const json& c = p.field(j, "", "complete", false); !c.is_null()) {
    if (!c.is_boolean()) p.bad("complete", "expected true or false");
    rec.complete = c.get<bool>();
  }
  if (const json& b = p.field(j, "", "backend", false); !b.is_null()) {
    if (!b.is_string()) p.bad("backend", "expected a string");
    rec.backend = b.get<std::string>();
  }
  if (const json& cmds = p.field(j, "", "commands", false); !cmds.is_null()) {
    if (!cmds.is_array()) p.bad("commands", "expected an array");
    for (size_t i = 0; i < cmds.size(); ++i) {
      std::vector<std::string> argv;
      if (!cmds[i].is_array()) p.bad(fmt::format("commands[{}]", i), "expected an array of strings");
      for (size_t k = 0; k < cmds[i].size(); ++k) {
        if (!cmds[i][k].is_string()) p.bad(fmt::format("commands[{}][{}]", i, k), "expected a string");
        argv.push_back(cmds[i][k].get<std::string>());
      }
      rec.commands.push_back(std::move(argv));
    }
  }
  if (const json& ex = p.field(j, "", "execs", false); !ex.is_null()) {
    if (!ex.is_array()) p.bad("execs", "expected an array");
    for (size_t i = 0; i < ex.size(); ++i) {
      if (!ex[i].is_string()) p.bad(fmt::format("execs[{}]", i), "expected a string");
      rec.execs.insert(ex[i].get<std::string>());
    }
  }
  const json& sys = p.field(j, "", "syscalls");
  if (!sys.is_object()) p.bad("syscalls", "expected an object");
  for (const auto& [arch_name, calls] : sys.items()) {
    std::string apath = "syscalls." + arch_name;
    auto token = arch::from_scmp_name(arch_name);
    if (!token) p.bad(apath, fmt::format("unknown architecture '{}'", arch_name));
    if (!calls.is_object()) p.bad(apath, "expected an object");
    auto& out = rec.syscalls[*token];
    for (const auto& [name, o] : calls.items()) {
      std::string spath = apath + "." + name;
      SyscallRecord r;
      auto nr = arch::syscall_nr(*token, name);
      const json& jnr = p.field(o, spath, "nr");
      if (!jnr.is_number_integer()) p.bad(spath + ".nr", "expected an integer");
      r.nr = jnr.get<int>();
      if (name.rfind("__nr_", 0) != 0) {
        if (!nr) p.bad(spath, fmt::format("unknown syscall name '{}' for {}", name, arch_name));
        r.nr = *nr;
      }
      r.count = p.u64(p.field(o, spath, "count"), spath + ".count");
      if (const json& fp = p.field(o, spath, "first_pid", false); !fp.is_null())
        r.first_pid = static_cast<pid_t>(p.u64(fp, spath + ".first_pid"));
      if (const json& ok = p.field(o, spath, "ok", false); !ok.is_null()) r.ok = p.u64(ok, spath + ".ok");
      if (const json& errs = p.field(o, spath, "errors", false); !errs.is_null()) {
        if (!errs.is_object()) p.bad(spath + ".errors", "expected an object");
        for (const auto& [ename, n] : errs.items()) {
          int e = errno_from_name(ename);
          if (e <= 0) p.bad(spath + ".errors", fmt::format("unknown errno name '{}'", ename));
          r.errors[e] = p.u64(n, spath + ".errors." + ename);
        }
      }
      if (const json& args = p.field(o, spath, "args", false); !args.is_null()) {
        if (!args.is_object()) p.bad(spath + ".args", "expected an object");
        for (const auto& [idx_s, av] : args.items()) {
          std::string apath2 = spath + ".args." + idx_s;
          if (idx_s.size() != 1 || idx_s[0] < '0' || idx_s[0] > '5') p.bad(apath2, "argument index must be 0..5");
          ArgValues vals;
          if (const json& ov = p.field(av, apath2, "overflow", false); !ov.is_null()) {
            if (!ov.is_boolean()) p.bad(apath2 + ".overflow", "expected true or false");
            vals.overflow = ov.get<bool>();
          }
          const json& vs = p.field(av, apath2, "values");
          if (!vs.is_array()) p.bad(apath2 + ".values", "expected an array");
          if (!vals.overflow) {
            for (size_t i = 0; i < vs.size(); ++i) vals.add(p.u64(vs[i], fmt::format("{}.values[{}]", apath2, i)));
          }
          r.args[static_cast<unsigned>(idx_s[0] - '0')] = std::move(vals);
        }
      }
      if (const json& cl = p.field(o, spath, "classes", false); !cl.is_null())
        r.classes = p.classes(cl, spath + ".classes");
      if (const json& ov = p.field(o, spath, "classes_overflow", false); !ov.is_null()) {
        if (!ov.is_boolean()) p.bad(spath + ".classes_overflow", "expected true or false");
        r.classes_overflow = ov.get<bool>();
      }
      out[name] = std::move(r);
    }
  }
  return rec;
}

}  // namespace sctrace
