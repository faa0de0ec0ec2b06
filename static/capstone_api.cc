#include "static/capstone_api.h"

#include <dlfcn.h>

#include <mutex>

namespace sctrace::static_reach {

namespace {

constexpr const char* kLibcapstone = "libcapstone.so.4";

std::string& load_error() {
  static std::string e;
  return e;
}

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out) {
  ::dlerror();
  out = reinterpret_cast<Fn>(::dlsym(handle, name));
  return out != nullptr;
}

}  // namespace

const CapstoneApi* capstone_api() {
  static CapstoneApi api;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    // Never dlclose'd: a leaked mapping costs nothing.
    void* h = ::dlopen(kLibcapstone, RTLD_NOW | RTLD_LOCAL);
    CapstoneApi a;
    loaded = h && resolve(h, "cs_open", a.open) && resolve(h, "cs_close", a.close) &&
             resolve(h, "cs_option", a.option) && resolve(h, "cs_malloc", a.malloc) &&
             resolve(h, "cs_free", a.free) && resolve(h, "cs_disasm_iter", a.disasm_iter) &&
             resolve(h, "cs_regs_access", a.regs_access);
    if (loaded) {
      api = a;
    } else {
      const char* why = ::dlerror();
      load_error() = std::string("cannot load ") + kLibcapstone + " (Debian's libcapstone4): " +
                     (why ? why : "a function is missing");
    }
  });
  return loaded ? &api : nullptr;
}

std::string capstone_error() {
  capstone_api();
  return load_error();
}

}  // namespace sctrace::static_reach
