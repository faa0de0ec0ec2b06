#pragma once
// Reading a recording for the advice: the calls by name over every arch, and
// whether they worked. Internal to advice/.
#include <map>
#include <string>

#include "profile/recording.h"

namespace sctrace::advice {

// Every arch's record of a syscall folded into one (the analysis is about
// what the workload did, not on which ABI).
using CallsByName = std::map<std::string, SyscallRecord>;
CallsByName by_name(const Recording& rec);

// Results are unknown for some backends: a call with neither successes nor
// errors counted is taken to have worked.
bool succeeded(const SyscallRecord& r);

// The recorded values of argument `idx`; nullptr when none or too many.
const ArgValues* arg(const SyscallRecord& r, unsigned idx);

// "arg0=65534 arg1=0|1", for evidence lines.
std::string args_text(const SyscallRecord& r);

// A uid/gid argument of -1 ("leave unchanged"), in its 32-bit form.
bool is_minus_one_id(uint64_t v);

// Whether the workload changed the file system (a successful open for
// writing, mkdir, rename, unlink, ...); `which` names the first such call.
bool writes_files(const CallsByName& calls, std::string* which);

}  // namespace sctrace::advice
