#include "static/disasm.h"

#include "static/capstone_api.h"

#include <elf.h>

#include <algorithm>
#include <bitset>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sctrace::static_reach {

namespace {

// Syscall numbers kept per function; x86-64's are below 512 (x32's carry bit 30
// and are not made through glibc's x86-64 wrappers).
constexpr int kMaxNr = 1024;
using NrSet = std::bitset<kMaxNr>;
constexpr int kUnknown = -1;

enum class Kind : uint8_t { other, syscall, call, jump, branch, stop };

// One decoded instruction, reduced to what the walk needs.
struct Step {
  Kind kind = Kind::stop;
  uint8_t size = 0;
  bool has_target = false;
  uint64_t target = 0;
  bool writes_eax = false;
  int eax_const = kUnknown;  // the value it leaves in eax, when a constant
  bool returns = false;      // a ret (Kind::stop)
};

bool is_eax(unsigned reg) { return reg == X86_REG_RAX || reg == X86_REG_EAX; }
bool in_eax(unsigned reg) {
  return reg == X86_REG_RAX || reg == X86_REG_EAX || reg == X86_REG_AX || reg == X86_REG_AL || reg == X86_REG_AH;
}

class Capstone {
 public:
  Capstone() : cs_(capstone_api()) {
    if (!cs_ || cs_->open(CS_ARCH_X86, CS_MODE_64, &h_) != CS_ERR_OK) {
      h_ = 0;
      return;
    }
    cs_->option(h_, CS_OPT_DETAIL, CS_OPT_ON);
    insn_ = cs_->malloc(h_);
  }
  ~Capstone() {
    if (insn_) cs_->free(insn_, 1);
    if (h_) cs_->close(&h_);
  }
  Capstone(const Capstone&) = delete;
  Capstone& operator=(const Capstone&) = delete;
  bool ok() const { return h_ != 0 && insn_ != nullptr; }

  // Decodes one instruction at *code (advancing it); nullopt when invalid.
  std::optional<Step> next(const uint8_t** code, size_t* size, uint64_t* addr) {
    if (!cs_->disasm_iter(h_, code, size, addr, insn_)) return std::nullopt;
    return step(*insn_);
  }

 private:
  Step step(const cs_insn& in) {
    Step s;
    s.size = static_cast<uint8_t>(in.size);
    const cs_x86& x = in.detail->x86;
    auto group = [&](uint8_t g) {
      for (uint8_t i = 0; i < in.detail->groups_count; ++i)
        if (in.detail->groups[i] == g) return true;
      return false;
    };
    if (x.op_count >= 1 && x.operands[0].type == X86_OP_IMM) {
      s.has_target = true;
      s.target = static_cast<uint64_t>(x.operands[0].imm);
    }
    switch (in.id) {
      case X86_INS_SYSCALL: s.kind = Kind::syscall; s.writes_eax = true; return s;
      case X86_INS_CALL: s.kind = Kind::call; s.writes_eax = true; return s;
      case X86_INS_JMP: s.kind = Kind::jump; return s;
      case X86_INS_HLT: case X86_INS_UD2: case X86_INS_INT3: s.kind = Kind::stop; return s;
      default: break;
    }
    if (group(CS_GRP_RET) || group(CS_GRP_IRET)) {
      s.returns = true;  // Kind::stop
      return s;
    }
    if (group(CS_GRP_JUMP)) {
      s.kind = Kind::branch;
      return s;
    }
    s.kind = Kind::other;
    s.has_target = false;
    if (x.op_count == 2 && x.operands[0].type == X86_OP_REG && is_eax(x.operands[0].reg)) {
      if (in.id == X86_INS_MOV && x.operands[1].type == X86_OP_IMM && x.operands[1].imm >= 0 &&
          x.operands[1].imm < kMaxNr) {
        s.writes_eax = true;
        s.eax_const = static_cast<int>(x.operands[1].imm);
        return s;
      }
      if (in.id == X86_INS_XOR && x.operands[1].type == X86_OP_REG && x.operands[1].reg == x.operands[0].reg) {
        s.writes_eax = true;
        s.eax_const = 0;
        return s;
      }
    }
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (cs_->regs_access(h_, &in, read, &nread, written, &nwritten) == CS_ERR_OK) {
      for (uint8_t i = 0; i < nwritten; ++i)
        if (in_eax(written[i])) s.writes_eax = true;
    } else {
      s.writes_eax = true;  // not known: not a constant any more
    }
    return s;
  }

  const CapstoneApi* cs_;
  csh h_ = 0;
  cs_insn* insn_ = nullptr;
};

// Decodes on demand by virtual address, each address once.
class CodeMap {
 public:
  CodeMap(const ElfModule& m, Capstone& cs) : m_(m), cs_(cs) {}
  const Step* at(uint64_t addr) {
    if (auto it = cache_.find(addr); it != cache_.end()) return it->second ? &*it->second : nullptr;
    std::optional<Step> s;
    for (const auto& r : m_.code) {
      if (addr < r.vaddr || addr - r.vaddr >= r.bytes.size()) continue;
      const uint8_t* p = reinterpret_cast<const uint8_t*>(r.bytes.data()) + (addr - r.vaddr);
      size_t left = r.bytes.size() - (addr - r.vaddr);
      uint64_t a = addr;
      s = cs_.next(&p, &left, &a);
      break;
    }
    auto& slot = cache_[addr];
    slot = s;
    return slot ? &*slot : nullptr;
  }

 private:
  const ElfModule& m_;
  Capstone& cs_;
  std::unordered_map<uint64_t, std::optional<Step>> cache_;
};

struct Node {
  NrSet local;
  std::vector<uint64_t> callees;  // calls, and jumps to another exported entry (tail calls)
  bool returns = false;           // some path reaches a ret (or leaves through a pointer)
};

// exit and exit_group: a `syscall` with these in eax does not come back.
bool ends_process(int nr) { return nr == 60 || nr == 231; }

// Walks the code reachable from `entry` without entering calls; eax is
// tracked per path ((address, eax) pairs are visited once). The code after a
// call is walked only when the callee is known to return: glibc places the
// next function right after calls to abort() or __libc_fatal(), and walking
// into it made every function reach everything.
Node walk(uint64_t entry, CodeMap& code, const std::unordered_set<uint64_t>& entries,
          const std::unordered_set<uint64_t>& returning) {
  Node n;
  std::vector<std::pair<uint64_t, int>> todo{{entry, kUnknown}};
  std::set<std::pair<uint64_t, int>> seen;
  auto tail_call = [&](uint64_t target) {
    n.callees.push_back(target);
    if (returning.count(target) != 0) n.returns = true;
  };
  while (!todo.empty()) {
    auto [addr, eax] = todo.back();
    todo.pop_back();
    while (seen.insert({addr, eax}).second) {
      if (addr != entry && entries.count(addr) != 0) {  // ran into another function: it is its own node
        tail_call(addr);
        break;
      }
      const Step* s = code.at(addr);
      if (!s) break;
      if (s->kind == Kind::stop) {
        n.returns = n.returns || s->returns;
        break;
      }
      const uint64_t next = addr + s->size;
      if (s->kind == Kind::syscall && eax != kUnknown) {
        n.local.set(static_cast<size_t>(eax));
        if (ends_process(eax)) break;
      }
      if (s->kind == Kind::call && s->has_target) {
        n.callees.push_back(s->target);
        if (returning.count(s->target) == 0) break;
      } else if (s->kind == Kind::jump) {
        if (!s->has_target) {  // through a pointer: a PLT stub, a jump table
          n.returns = true;
          break;
        }
        if (entries.count(s->target) != 0 && s->target != entry) {
          tail_call(s->target);
          break;
        }
        addr = s->target;
        continue;
      } else if (s->kind == Kind::branch && s->has_target) {
        todo.emplace_back(s->target, eax);
      }
      if (s->writes_eax) eax = s->eax_const;
      addr = next;
    }
  }
  return n;
}

std::set<int> to_set(const NrSet& b) {
  std::set<int> out;
  for (int i = 0; i < kMaxNr; ++i)
    if (b.test(static_cast<size_t>(i))) out.insert(i);
  return out;
}

}  // namespace

std::set<int> own_syscalls(const ElfModule& m) {
  std::set<int> out;
  Capstone cs;
  if (m.machine != EM_X86_64 || !cs.ok()) return out;
  // Decoding every instruction of a 100 MB library took seconds; most modules
  // have no `syscall` at all. So: find the instruction's bytes (0f 05), then
  // decode only the straight-line run before each, from the starts in a
  // small window before it.
  constexpr size_t kWindow = 48;
  for (const auto& r : m.code) {
    const auto* base = reinterpret_cast<const uint8_t*>(r.bytes.data());
    for (size_t k = r.bytes.find("\x0f\x05"); k != std::string_view::npos; k = r.bytes.find("\x0f\x05", k + 1)) {
      // Starts that decode onto k vote for it being an instruction; starts
      // that decode over it vote for its bytes being inside a longer one
      // (libgcc's unwinder holds "mov $15, %rax; syscall" as an immediate to
      // compare code with). Decodings of x86 resynchronize within a few
      // instructions, so the majority is the real boundary.
      size_t onto = 0, over = 0;
      int first_eax = kUnknown;
      for (size_t from = k > kWindow ? k - kWindow : 0; from <= k; ++from) {
        const uint8_t* p = base + from;
        size_t left = std::min(r.bytes.size(), k + 16) - from;  // room to decode over k
        uint64_t addr = r.vaddr + from;
        int eax = kUnknown;
        std::optional<Step> s;
        while (addr < r.vaddr + k && (s = cs.next(&p, &left, &addr)))
          // A constant survives only straight-line code.
          eax = s->kind != Kind::other ? kUnknown : s->writes_eax ? s->eax_const : eax;
        if (addr != r.vaddr + k) {
          if (addr > r.vaddr + k) ++over;
          continue;
        }
        s = cs.next(&p, &left, &addr);
        if (!s || s->kind != Kind::syscall) continue;
        if (onto++ == 0) first_eax = eax;  // the farthest start sees the longest straight line
      }
      if (onto > over && first_eax != kUnknown) out.insert(first_eax);
    }
  }
  return out;
}

std::map<std::string, std::set<int>> exported_syscalls(const ElfModule& lib) {
  std::map<std::string, std::set<int>> out;
  Capstone cs;
  if (lib.machine != EM_X86_64 || !cs.ok()) return out;
  CodeMap code(lib, cs);
  std::unordered_set<uint64_t> entries;
  for (const auto& e : lib.exports) entries.insert(e.value);

  // Which functions return is found with the walks: at first none is assumed
  // to, and each pass walks past the calls to those the last pass saw
  // return, until no more do (the least fixed point: a function that only
  // ever reaches abort() stays non-returning).
  std::unordered_map<uint64_t, Node> nodes;
  std::unordered_set<uint64_t> returning;
  for (;;) {
    nodes.clear();
    std::vector<uint64_t> todo(entries.begin(), entries.end());
    while (!todo.empty()) {
      const uint64_t a = todo.back();
      todo.pop_back();
      if (nodes.count(a) != 0) continue;
      Node n = walk(a, code, entries, returning);
      for (uint64_t c : n.callees)
        if (nodes.count(c) == 0) todo.push_back(c);
      nodes.emplace(a, std::move(n));
    }
    std::unordered_set<uint64_t> now;
    for (const auto& [a, n] : nodes)
      if (n.returns) now.insert(a);
    if (now == returning) break;
    returning = std::move(now);
  }
  // Reach = own numbers plus the callees' reach, to a fixed point (the call
  // graph has cycles: recursion, mutual tail calls).
  std::unordered_map<uint64_t, NrSet> reach;
  for (const auto& [a, n] : nodes) reach[a] = n.local;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [a, n] : nodes) {
      NrSet r = reach[a];
      for (uint64_t c : n.callees) r |= reach[c];
      if (r != reach[a]) {
        reach[a] = r;
        changed = true;
      }
    }
  }
  for (const auto& e : lib.exports) {
    std::set<int> s = to_set(reach[e.value]);
    out[e.name].insert(s.begin(), s.end());
  }
  return out;
}

}  // namespace sctrace::static_reach
