#pragma once
// What `sctrace calibrate` starts: a do-nothing container (a static program
// of three instructions, exit_group(0), in an otherwise empty root
// filesystem) through one OCI runtime, under a recording profile whose
// listenerPath is sctrace's seccomp agent. cli/cmd_calibrate.cc runs the
// starts and writes the baseline.
#include <map>
#include <memory>
#include <string>

#include "core/owned_path.h"
#include "profile/seccomp_profile.h"

namespace sctrace {

// A static ELF64 executable whose only instructions are exit_group(0), for
// the native arch (x86-64 and aarch64; anything else fails).
std::string do_nothing_elf();

// A private directory for the image or bundle and the profiles, removed with
// the owner.
OwnedPath calibrate_temp_dir();

// One way of starting the do-nothing container under a recording profile.
class CalibrationStarter {
 public:
  virtual ~CalibrationStarter() = default;
  virtual std::string runtime_version() = 0;
  // Starts the container once (n numbers the start, for names); the
  // profile's listenerPath is the agent's. Returns the runtime command's
  // wait status.
  virtual int start(const SeccompProfile& recording, bool no_new_privs, const std::string& dir, int n) = 0;
};

// runtime: runc or crun (an OCI bundle in dir from `<runtime> spec`), podman
// or docker (an image imported from a one-file root filesystem, removed by
// ID when the starter goes).
std::unique_ptr<CalibrationStarter> make_calibration_starter(const std::string& runtime, const std::string& dir);

// name -> in how many starts it was seen, per noNewPrivileges case (false, true).
using CalibrationSeen = std::map<bool, std::map<std::string, int>>;

// The runtime baseline (templates/runtime-baseline.json's format) for what
// `calibrate` saw of runtime rt (version) in `starts` starts per case. An
// existing file at path is updated: the measured lists and "runtime" are
// replaced, "go_runtime" and anything else kept; otherwise "go_runtime" is the
// bundled list. Checked to load as a baseline; throws Error(input) when the
// file there is not a JSON object.
std::string calibrated_baseline(const std::string& path, const std::string& rt, const std::string& version, int starts,
                                const CalibrationSeen& seen);

}  // namespace sctrace
