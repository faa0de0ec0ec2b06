#pragma once
// Capstone, loaded on first use (dlopen of libcapstone.so.4) rather than
// linked: its decoder tables carry ~77,000 relocations, which doubled the
// time of every sctrace start (`--version`: 14 -> 30 ms) for an analysis that
// only `run --static` uses.
#include <capstone/capstone.h>

#include <string>

namespace sctrace::static_reach {

struct CapstoneApi {
  decltype(&::cs_open) open = nullptr;
  decltype(&::cs_close) close = nullptr;
  decltype(&::cs_option) option = nullptr;
  decltype(&::cs_malloc) malloc = nullptr;
  decltype(&::cs_free) free = nullptr;
  decltype(&::cs_disasm_iter) disasm_iter = nullptr;
  decltype(&::cs_regs_access) regs_access = nullptr;
};

// The loaded table, or nullptr when the library cannot be loaded; then
// capstone_error() says why.
const CapstoneApi* capstone_api();
std::string capstone_error();

}  // namespace sctrace::static_reach
