#pragma once
// A `runc run` (or `crun run`) line as sctrace reads it: where "run" is,
// where the bundle is named (if it is), and whether it detaches. Pure; no
// file is read.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace sctrace {

// argv[0] is runc or crun (any directory) and "run" follows somewhere.
bool is_runc_line(const std::vector<std::string>& argv);

struct RuncLine {
  size_t run_index = 0;                 // of "run"
  std::optional<size_t> bundle_value;   // index of the bundle path after -b / --bundle
  std::optional<size_t> bundle_inline;  // index of "--bundle=PATH" / "-b=PATH"
  std::string bundle = ".";             // as written (relative to the working directory)
  bool detach = false;                  // -d / --detach
};

// Throws Error(usage) when there is no "run" command or -b has no value.
RuncLine parse_runc_line(const std::vector<std::string>& argv);

// The line with its bundle replaced by `bundle` (added after "run" when the
// line names none).
std::vector<std::string> with_bundle(const std::vector<std::string>& argv, const RuncLine& line,
                                     const std::string& bundle);

}  // namespace sctrace
