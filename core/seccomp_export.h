#pragma once
// libseccomp filter context -> classic BPF program, for installing it
// ourselves (with the listener flag, in a launched child) or running it in
// user space.
#include <linux/filter.h>

#include <vector>

namespace sctrace {

// `ctx` is a scmp_filter_ctx. Throws Error(ErrorKind::runtime) on failure.
std::vector<sock_filter> export_bpf(void* ctx);

}  // namespace sctrace
