#pragma once
// sctrace's temp directories carry their owner in the name:
// "sctrace[-KIND]-<pid namespace>-<pid>-<start time>-XXXXXX". A SIGKILLed
// sctrace cannot remove its directory; the next run sees from the name that
// the owner is gone (no such pid, or a later process reusing it) and removes
// it. The owner is in the name, not in a file inside, so that a directory is
// never seen without its owner between mkdtemp and a write.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/proc_stat.h"

namespace sctrace {

struct TempDirOwner {
  std::string pid_namespace;  // digits of /proc/self/ns/pid's inode
  pid_t pid = 0;
  unsigned long long start_time = 0;
};

// Creates a 0700 directory "<base>/sctrace[-kind]-<owner>-XXXXXX" for this
// process (base: $TMPDIR, else /tmp, when empty) and returns its path.
std::string make_owned_temp_dir(std::string_view kind, std::string base = {});
// The length of make_owned_temp_dir's path for this base and kind.
size_t owned_temp_dir_length(std::string_view kind, const std::string& base);

// The owner a directory name records; nullopt for a name that is not of that
// shape (such a directory is never touched).
std::optional<TempDirOwner> parse_owned_temp_dir_name(std::string_view name);
// True only for an owner of this pid namespace whose process is gone: `now`
// is read_proc_stat(owner.pid), nullopt when there is no such process.
bool temp_dir_owner_gone(const TempDirOwner& owner, std::string_view own_pid_namespace,
                         const std::optional<ProcStat>& now);

// The directories directly under `base` that are of that shape, belong to
// this user and whose owner is gone (the temp dirs below, and the cgroups of
// tracer/guardian.h).
std::vector<std::string> orphaned_owned_dirs(const std::string& base);

// Removes (best effort) the directories under $TMPDIR and /tmp that are of
// that shape, belong to this user and whose owner is gone; returns their paths.
std::vector<std::string> remove_orphaned_temp_dirs();

}  // namespace sctrace
