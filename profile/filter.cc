#include "profile/filter.h"

#include "core/seccomp_export.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/unique_fd.h"

// How runc 1.1 (libcontainer/seccomp/seccomp_linux.go and patchbpf/) loads a
// profile, and what is reproduced here:
//  - the filter starts from seccomp_init(defaultAction); the native arch stays
//    in the filter even when the profile does not list it, every listed arch
//    is added with seccomp_arch_add;
//  - the bad-arch action is left at libseccomp's default, SCMP_ACT_KILL
//    (kill the thread): neither runc nor libseccomp-golang's NewFilter sets
//    SCMP_FLTATR_ACT_BADARCH;
//  - ERRNO/TRACE use the rule's errnoRet, EPERM when absent. defaultErrnoRet
//    only applies to the default action, never to rules without errnoRet;
//  - SCMP_ACT_KILL is kill-thread;
//  - a rule whose action equals the default action is skipped;
//  - names libseccomp does not know are skipped; other names are resolved for
//    the native arch (possibly to a negative pseudo number) and added with the
//    non-exact seccomp_rule_add, which translates them per arch and leaves
//    them out of arches that do not have them;
//  - several conditions on the same argument index: one rule per condition
//    (libseccomp cannot AND two comparisons of one argument);
//  - more than 32 rules: libseccomp's binary-tree optimisation;
//  - patchbpf prepends a stub that answers ENOSYS for syscall numbers above
//    the largest one the profile names on each listed arch, unless the
//    default action is ALLOW, LOG or TRACE. Reproduced here, so that a
//    syscall newer than everything in the profile gets ENOSYS like in a
//    real container. (runc skips the stub when defaultErrnoRet "equals
//    ENOSYS", but compares it with the whole SCMP_ACT_ERRNO(ENOSYS) value, so
//    in practice the stub is always there; with defaultErrnoRet 38 the result
//    is the same either way.)

namespace sctrace {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using CtxPtr = std::unique_ptr<void, CtxDeleter>;

uint32_t errno_action(std::optional<unsigned> errno_ret) {
  return SCMP_ACT_ERRNO(errno_ret ? *errno_ret : static_cast<unsigned>(EPERM));
}

// The libseccomp action for a profile action name. `what` names the place in
// the profile for error messages.
uint32_t parse_action(const std::string& name, std::optional<unsigned> errno_ret, const std::string& what) {
  if (errno_ret && *errno_ret > 0xffff) fail(ErrorKind::input, "{}: errnoRet {} is out of range", what, *errno_ret);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return errno_action(errno_ret);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret ? *errno_ret : static_cast<unsigned>(EPERM));
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  fail(ErrorKind::input, "{}: unknown action '{}'", what, name);
}

// ALLOW and LOG let the syscall run: they stay as they are in notify mode.
bool runs_syscall(uint32_t action) { return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG; }

// How a verdict that does not run the syscall is compiled.
struct Denials {
  uint32_t action;           // replaces it (notify_denials and watch filters)
  bool keep_enosys = false;  // except ERRNO(ENOSYS), kept as it is
  uint32_t always_data = 0;  // SECCOMP_RET_DATA of the always-watched calls the profile lets run
};

uint32_t for_mode(uint32_t action, std::optional<Denials> denials) {
  if (!denials || runs_syscall(action)) return action;
  if (denials->keep_enosys && action == SCMP_ACT_ERRNO(ENOSYS)) return action;
  return denials->action;
}

scmp_compare parse_op(const std::string& op, const std::string& what) {
  static const std::map<std::string, scmp_compare> kOps = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  auto it = kOps.find(op);
  if (it == kOps.end()) fail(ErrorKind::input, "{}: unknown operator '{}'", what, op);
  return it->second;
}

// ---- The ENOSYS stub ------------------------------------------------------

// A tiny assembler with forward labels, enough for the stub.
class StubBuilder {
 public:
  explicit StubBuilder(const char* what = "ENOSYS stub") : what_(what) {}
  int new_label() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void bind(int label) { labels_[label] = static_cast<int>(code_.size()); }
  void emit(uint16_t code, uint32_t k) { code_.push_back({code, 0, 0, k}); }
  // Conditional jump; label -1 = fall through.
  void jump_if(uint16_t code, uint32_t k, int label_true, int label_false) {
    fixups_.push_back({code_.size(), label_true, label_false});
    code_.push_back({static_cast<uint16_t>(BPF_JMP | code | BPF_K), 0, 0, k});
  }
  void jump(int label) {
    fixups_.push_back({code_.size(), label, -1});
    code_.push_back({BPF_JMP | BPF_JA, 0, 0, 0});
  }
  std::vector<sock_filter> finish() {
    for (const auto& f : fixups_) {
      sock_filter& insn = code_[f.at];
      auto dist = [&](int label) -> uint32_t {
        if (label < 0) return 0;
        int target = labels_[label];
        return static_cast<uint32_t>(target - static_cast<int>(f.at) - 1);
      };
      if (BPF_OP(insn.code) == BPF_JA) {
        insn.k = dist(f.t);
        continue;
      }
      uint32_t jt = dist(f.t), jf = dist(f.f);
      // The stub is a few instructions per arch; libseccomp knows ~20 arches.
      if (jt > 255 || jf > 255) fail(ErrorKind::input, "{} too large", what_);
      insn.jt = static_cast<uint8_t>(jt);
      insn.jf = static_cast<uint8_t>(jf);
    }
    return std::move(code_);
  }

 private:
  struct Fixup {
    size_t at;
    int t, f;
  };
  const char* what_;
  std::vector<sock_filter> code_;
  std::vector<int> labels_;
  std::vector<Fixup> fixups_;
};

// runc's patchbpf stub, built independently: for each listed arch, syscall
// numbers above the largest one the profile names get `enosys_action`;
// everything else falls through to the libseccomp program.
// `rules` are the rules that apply (Docker drops the others before runc sees
// the profile), including those skipped for repeating the default action.
std::vector<sock_filter> enosys_stub(const std::vector<const SyscallRule*>& rules,
                                     const std::vector<arch::Token>& arches, uint32_t enosys_action) {
  // audit arch -> (token -> largest nr). x86_64 and x32 share one audit arch.
  std::map<uint32_t, std::map<arch::Token, uint32_t>> largest;
  for (arch::Token t : arches) {
    uint32_t max_nr = 0;
    for (const SyscallRule* rule : rules) {
      for (const auto& name : rule->names) {
        int nr = seccomp_syscall_resolve_name_arch(t, name.c_str());
        if (nr > 0 && static_cast<uint32_t>(nr) > max_nr) max_nr = static_cast<uint32_t>(nr);
      }
    }
    if (max_nr != 0) largest[arch::to_audit(t, 0).audit_arch][t] = max_nr;
  }
  if (largest.empty()) return {};

  constexpr uint32_t kArchOff = offsetof(seccomp_data, arch);
  constexpr uint32_t kNrOff = offsetof(seccomp_data, nr);
  StubBuilder b;
  const int to_filter = b.new_label();
  const int to_enosys = b.new_label();
  std::vector<std::pair<uint32_t, int>> sections;
  b.emit(BPF_LD | BPF_W | BPF_ABS, kArchOff);
  for (const auto& [audit, tokens] : largest) {
    int label = b.new_label();
    sections.emplace_back(audit, label);
    b.jump_if(BPF_JEQ, audit, label, -1);
  }
  b.jump(to_filter);
  for (const auto& [audit, label] : sections) {
    const auto& tokens = largest[audit];
    b.bind(label);
    b.emit(BPF_LD | BPF_W | BPF_ABS, kNrOff);
    if (audit == SCMP_ARCH_X86_64) {
      // x32 calls carry bit 30 in nr; compare each ABI with its own maximum,
      // and leave an ABI the profile does not list to the filter.
      const int x32 = b.new_label();
      b.jump_if(BPF_JSET, arch::kX32SyscallBit, x32, -1);
      if (auto it = tokens.find(SCMP_ARCH_X86_64); it != tokens.end())
        b.jump_if(BPF_JGT, it->second, to_enosys, to_filter);
      else
        b.jump(to_filter);
      b.bind(x32);
      if (auto it = tokens.find(SCMP_ARCH_X32); it != tokens.end())
        b.jump_if(BPF_JGT, it->second, to_enosys, to_filter);
      else
        b.jump(to_filter);
      continue;
    }
    if (audit == SCMP_ARCH_S390 || audit == SCMP_ARCH_S390X) {
      // s390 multiplexes large syscall numbers through nr 0 (setup(2)), which
      // is where unknown syscalls end up.
      b.jump_if(BPF_JEQ, 0, to_enosys, -1);
    }
    b.jump_if(BPF_JGT, tokens.begin()->second, to_enosys, to_filter);
  }
  b.bind(to_enosys);
  b.emit(BPF_RET | BPF_K, enosys_action);
  b.bind(to_filter);
  return b.finish();
}

// AlwaysWatched: every RET of `runs` (ALLOW or LOG) in `prog` becomes a jump
// to a tail appended to it, which answers the always-watched calls of the
// filter's arches with `action` and everything else with `runs`, as before.
// One JA replaces one RET, so no other jump moves.
void watch_always(std::vector<sock_filter>& prog, const std::vector<arch::Token>& arches,
                  const AlwaysWatched& always, uint32_t runs, uint32_t action) {
  const sock_filter ret = BPF_STMT(BPF_RET | BPF_K, runs);
  auto is_ret = [&](const sock_filter& in) { return in.code == ret.code && in.k == ret.k; };
  if (std::none_of(prog.begin(), prog.end(), is_ret)) return;
  // audit arch -> the numbers the seccomp_data of those calls carries.
  std::map<uint32_t, std::vector<uint32_t>> numbers;
  for (arch::Token t : arches)
    for (const auto& name : always) {
      const int nr = seccomp_syscall_resolve_name_arch(t, name.c_str());
      if (nr < 0) continue;  // not a syscall of this arch
      const arch::AuditNr k = arch::to_audit(t, nr);
      numbers[k.audit_arch].push_back(static_cast<uint32_t>(k.nr));
    }
  if (numbers.empty()) return;
  StubBuilder b("the always-watched calls' tail");
  const int to_runs = b.new_label();
  const int to_action = b.new_label();
  std::vector<int> sections;
  b.emit(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  for (const auto& entry : numbers) {
    sections.push_back(b.new_label());
    b.jump_if(BPF_JEQ, entry.first, sections.back(), -1);
  }
  b.jump(to_runs);
  size_t i = 0;
  for (const auto& entry : numbers) {
    b.bind(sections[i++]);
    b.emit(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
    for (uint32_t nr : entry.second) b.jump_if(BPF_JEQ, nr, to_action, -1);
    b.jump(to_runs);
  }
  b.bind(to_action);
  b.emit(BPF_RET | BPF_K, action);
  b.bind(to_runs);
  b.emit(BPF_RET | BPF_K, runs);
  const std::vector<sock_filter> tail = b.finish();
  const size_t start = prog.size();
  for (size_t at = 0; at < start; ++at)
    if (is_ret(prog[at])) prog[at] = BPF_JUMP(BPF_JMP | BPF_JA, static_cast<uint32_t>(start - at - 1), 0, 0);
  prog.insert(prog.end(), tail.begin(), tail.end());
}

std::vector<sock_filter> compile(const SeccompProfile& profile, const EvalContext& ctx,
                                 std::optional<Denials> denials, const AlwaysWatched& always = {}) {
  const uint32_t enforce_default =
      parse_action(profile.default_action, profile.default_errno_ret, "defaultAction");
  const uint32_t default_action = for_mode(enforce_default, denials);

  CtxPtr fctx(seccomp_init(default_action));
  if (!fctx) fail(ErrorKind::input, "libseccomp rejects the default action {}", profile.default_action);

  // Listed arches, native first. seccomp_init already holds the native arch,
  // which runc never removes.
  std::vector<arch::Token> arches = profile_arches(profile, ctx);
  for (arch::Token t : arches) {
    int rc = seccomp_arch_add(fctx.get(), t);
    if (rc < 0 && rc != -EEXIST)
      fail(ErrorKind::input, "architecture {}: libseccomp: {}", arch::scmp_name(t), std::strerror(-rc));
  }
  // Bad-arch action: libseccomp's default (kill the thread), as in runc. In
  // notify and watch modes it is a denial like any other, so the handler sees it.
  if (denials) {
    int rc = seccomp_attr_set(fctx.get(), SCMP_FLTATR_ACT_BADARCH, denials->action);
    if (rc < 0) fail(ErrorKind::input, "libseccomp: cannot set the bad-arch action: {}", std::strerror(-rc));
  }
  std::vector<const SyscallRule*> applicable;
  std::vector<size_t> applicable_index;
  size_t rule_count = 0;
  for (size_t ri = 0; ri < profile.syscalls.size(); ++ri) {
    const SyscallRule& rule = profile.syscalls[ri];
    if (!rule_applies(rule, ctx)) continue;
    applicable.push_back(&rule);
    applicable_index.push_back(ri);
    for (const auto& name : rule.names)
      if (seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR) ++rule_count;
  }
  // runc's threshold. (libseccomp 2.5.4's binary tree misbehaves without rules.)
  if (rule_count > 32) seccomp_attr_set(fctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  for (size_t i = 0; i < applicable.size(); ++i) {
    const SyscallRule& rule = *applicable[i];
    const std::string where = fmt::format("syscalls[{}]", applicable_index[i]);
    const uint32_t action = for_mode(parse_action(rule.action, rule.errno_ret, where), denials);
    if (action == default_action) continue;

    std::vector<scmp_arg_cmp> conds;
    std::array<int, 6> per_index{};
    for (size_t ai = 0; ai < rule.args.size(); ++ai) {
      const ArgCond& a = rule.args[ai];
      const std::string awhere = fmt::format("{}.args[{}]", where, ai);
      if (a.index >= per_index.size()) fail(ErrorKind::input, "{}: argument index {} is out of range", awhere, a.index);
      ++per_index[a.index];
      scmp_compare op = parse_op(a.op, awhere);
      // MASKED_EQ: value is the mask, valueTwo the expected masked value.
      conds.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
    }
    const bool split = std::any_of(per_index.begin(), per_index.end(), [](int n) { return n > 1; });

    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: skipped like runc does
      auto add = [&](const scmp_arg_cmp* c, unsigned n) {
        int rc = seccomp_rule_add_array(fctx.get(), action, nr, n, c);
        if (rc < 0)
          fail(ErrorKind::input, "{} ({}): libseccomp rejects the rule: {}", where, name, std::strerror(-rc));
      };
      if (conds.empty()) {
        add(nullptr, 0);
      } else if (split) {
        for (const auto& c : conds) add(&c, 1);
      } else {
        add(conds.data(), static_cast<unsigned>(conds.size()));
      }
    }
  }

  std::vector<sock_filter> prog = export_bpf(fctx.get());

  // runc leaves permissive default actions without the stub.
  const bool permissive = enforce_default == SCMP_ACT_ALLOW || enforce_default == SCMP_ACT_LOG ||
                          (enforce_default & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE(0);
  if (!permissive) {
    // runc computes the stub over the OCI "architectures", which Docker fills
    // from the archMap entry of the native arch and from "architectures": a
    // profile naming neither gets an empty stub.
    const std::string native_name = arch::scmp_name(ctx.native_arch != 0 ? ctx.native_arch : arch::native());
    const bool listed = !profile.architectures.empty() ||
                        std::any_of(profile.arch_map.begin(), profile.arch_map.end(),
                                    [&](const ArchMapEntry& e) { return e.architecture == native_name; });
    std::vector<arch::Token> stub_arches;
    if (listed) stub_arches = arches;
    std::vector<sock_filter> stub =
        enosys_stub(applicable, stub_arches, for_mode(SCMP_ACT_ERRNO(ENOSYS), denials));
    prog.insert(prog.begin(), stub.begin(), stub.end());
  }
  if (denials && !always.empty())
    for (uint32_t runs : {SCMP_ACT_ALLOW, SCMP_ACT_LOG})
      watch_always(prog, arches, always, runs, denials->action | denials->always_data);
  if (prog.size() > BPF_MAXINSNS)
    fail(ErrorKind::input,
         "the profile compiles to {} BPF instructions, more than the kernel's limit of {} (BPF_MAXINSNS): no "
         "runtime can load it",
         prog.size(), BPF_MAXINSNS);
  return prog;
}

}  // namespace

std::vector<sock_filter> compile_filter(const SeccompProfile& profile, const EvalContext& ctx, FilterMode mode,
                                        const AlwaysWatched& always) {
  if (mode == FilterMode::notify_denials) return compile(profile, ctx, Denials{SCMP_ACT_NOTIFY}, always);
  return compile(profile, ctx, std::nullopt);
}

std::vector<sock_filter> compile_watch_filter(const SeccompProfile& profile, const EvalContext& ctx,
                                              uint32_t watch_action, const AlwaysWatched& always,
                                              uint32_t always_data) {
  // libseccomp's SCMP_ACT_TRACE(0) and SCMP_ACT_NOTIFY are the kernel's
  // SECCOMP_RET_TRACE and SECCOMP_RET_USER_NOTIF.
  if (watch_action != SECCOMP_RET_TRACE && watch_action != SECCOMP_RET_USER_NOTIF)
    fail(ErrorKind::input, "watch filter: action {:#x} is neither SECCOMP_RET_TRACE nor SECCOMP_RET_USER_NOTIF",
         watch_action);
  // A notification carries no data: only a ptrace stop can tell them apart.
  if (always_data != 0 && (watch_action != SECCOMP_RET_TRACE || (always_data & ~SECCOMP_RET_DATA) != 0))
    fail(ErrorKind::input, "watch filter: data {:#x} for the always-watched calls needs SECCOMP_RET_TRACE and 16 bits",
         always_data);
  return compile(profile, ctx, Denials{watch_action, true, always_data}, always);
}

// ---- Baseline ---------------------------------------------------------------

SeccompProfile baseline_profile(const Recording& old) {
  SeccompProfile p;
  // compile_watch_filter turns TRACE into the watch action, and runc (so
  // compile_filter) puts no ENOSYS stub in front of a TRACE default: a
  // syscall numbered above everything OLD made stops like any other.
  p.default_action = "SCMP_ACT_TRACE";
  const arch::Token native = arch::native();
  p.architectures.push_back(arch::scmp_name(native));
  for (const auto& [token, calls] : old.syscalls)
    if (token != native && !calls.empty()) p.architectures.push_back(arch::scmp_name(token));

  // name -> classified argument values, merged over arches; nullopt when the
  // name is allowed whatever its arguments.
  std::map<std::string, std::optional<std::map<unsigned, ArgValues>>> by_name;
  for (const auto& [token, calls] : old.syscalls) {
    for (const auto& [name, rec] : calls) {
      if (seccomp_syscall_resolve_name(name.c_str()) == __NR_SCMP_ERROR) continue;
      auto [it, fresh] = by_name.try_emplace(name);
      if (filtered_args(name).empty()) {
        it->second.reset();
        continue;
      }
      if (fresh) it->second.emplace();
      if (!it->second) continue;
      for (unsigned idx : filtered_args(name)) {
        auto a = rec.args.find(idx);
        // A recording without the argument (written before it was
        // classified) says nothing about it: not constrained.
        ArgValues v = a == rec.args.end() || a->second.values.empty() ? ArgValues{{}, true} : a->second;
        (*it->second)[idx].merge(v);
      }
    }
  }

  SyscallRule plain;
  plain.action = "SCMP_ACT_ALLOW";
  plain.comment = "seen in the baseline recording";
  for (const auto& [name, args] : by_name) {
    if (!args) {
      plain.names.push_back(name);
      continue;
    }
    // The cartesian product of the constrained arguments' values.
    std::vector<std::vector<ArgCond>> combos(1);
    bool too_many = false;
    for (const auto& [idx, vals] : *args) {
      if (vals.overflow) continue;
      if (combos.size() * vals.values.size() > kMaxBaselineCombinations) {
        too_many = true;
        break;
      }
      std::vector<std::vector<ArgCond>> next;
      for (const auto& c : combos)
        for (uint64_t v : vals.values) {
          auto n = c;
          n.push_back(ArgCond{idx, v, 0, "SCMP_CMP_EQ"});
          next.push_back(std::move(n));
        }
      combos = std::move(next);
    }
    if (too_many) continue;
    for (auto& c : combos) {
      SyscallRule r;
      r.names = {name};
      r.action = "SCMP_ACT_ALLOW";
      r.args = std::move(c);
      r.comment = "seen in the baseline recording with these arguments";
      p.syscalls.push_back(std::move(r));
    }
  }
  if (!plain.names.empty()) p.syscalls.insert(p.syscalls.begin(), std::move(plain));
  return p;
}

// ---- The interpreter ------------------------------------------------------

uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  // The kernel refuses such programs at load time; a program that gets here
  // anyway is answered the way the kernel treats an unknown action.
  constexpr uint32_t kInvalid = SECCOMP_RET_KILL_PROCESS;
  constexpr uint32_t kDataLen = sizeof(seccomp_data);
  unsigned char bytes[sizeof(seccomp_data)];
  std::memcpy(bytes, &data, sizeof bytes);

  uint32_t a = 0, x = 0;
  std::array<uint32_t, BPF_MEMWORDS> mem{};
  const size_t n = prog.size();
  for (size_t pc = 0; pc < n; ++pc) {
    const sock_filter& in = prog[pc];
    const uint32_t k = in.k;
    switch (BPF_CLASS(in.code)) {
      case BPF_LD:
      case BPF_LDX: {
        uint32_t v = 0;
        switch (BPF_MODE(in.code)) {
          case BPF_ABS:
            // seccomp only accepts aligned 32-bit loads from seccomp_data.
            if (BPF_CLASS(in.code) != BPF_LD || BPF_SIZE(in.code) != BPF_W || k % 4 != 0 || k > kDataLen - 4)
              return kInvalid;
            std::memcpy(&v, bytes + k, 4);
            break;
          case BPF_IMM: v = k; break;
          case BPF_MEM:
            if (k >= BPF_MEMWORDS) return kInvalid;
            v = mem[k];
            break;
          case BPF_LEN: v = kDataLen; break;
          default: return kInvalid;  // IND, MSH: rejected by seccomp
        }
        (BPF_CLASS(in.code) == BPF_LD ? a : x) = v;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return kInvalid;
        mem[k] = BPF_CLASS(in.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        const uint32_t src = BPF_SRC(in.code) == BPF_X ? x : k;
        switch (BPF_OP(in.code)) {
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_MUL: a *= src; break;
          case BPF_DIV:
            if (src == 0) return 0;  // classic BPF: division by zero ends the program with 0
            a /= src;
            break;
          case BPF_MOD:
            if (src == 0) return 0;
            a %= src;
            break;
          case BPF_OR: a |= src; break;
          case BPF_AND: a &= src; break;
          case BPF_XOR: a ^= src; break;
          case BPF_LSH: a = src >= 32 ? 0 : a << src; break;
          case BPF_RSH: a = src >= 32 ? 0 : a >> src; break;
          case BPF_NEG: a = 0u - a; break;
          default: return kInvalid;
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(in.code) == BPF_JA) {
          if (k >= n - pc - 1) return kInvalid;
          pc += k;
          break;
        }
        const uint32_t src = BPF_SRC(in.code) == BPF_X ? x : k;
        bool taken;
        switch (BPF_OP(in.code)) {
          case BPF_JEQ: taken = a == src; break;
          case BPF_JGT: taken = a > src; break;
          case BPF_JGE: taken = a >= src; break;
          case BPF_JSET: taken = (a & src) != 0; break;
          default: return kInvalid;
        }
        const size_t off = taken ? in.jt : in.jf;
        if (off >= n - pc - 1) return kInvalid;
        pc += off;
        break;
      }
      case BPF_RET:
        if (BPF_RVAL(in.code) == BPF_K) return k;
        if (BPF_RVAL(in.code) == BPF_A) return a;
        return kInvalid;
      case BPF_MISC:
        if (BPF_MISCOP(in.code) == BPF_TAX)
          x = a;
        else if (BPF_MISCOP(in.code) == BPF_TXA)
          a = x;
        else
          return kInvalid;
        break;
      default: return kInvalid;
    }
  }
  return kInvalid;  // fell off the end: the kernel requires a final RET
}

}  // namespace sctrace
