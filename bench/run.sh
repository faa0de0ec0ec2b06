#!/bin/sh
# One command: configure and build sctrace and the samples if needed, then run
# the benchmark. BUILD_DIR (default: <repo>/build-bench, Release) can point at
# an existing build; extra arguments go to bench.py (--runs N, --quick, --json F).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}
if [ ! -f "$build/CMakeCache.txt" ]; then
  gen=
  command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
  # shellcheck disable=SC2086
  cmake -S "$repo" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
log=$build/bench-build.log
if ! cmake --build "$build" -j2 --target sctrace samples >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "bench/run.sh: build failed (whole log: $log)" >&2
  exit 1
fi
sctrace=$build/cli/sctrace
[ -x "$sctrace" ] || sctrace=$build/sctrace
exec python3 "$repo/bench/bench.py" --sctrace "$sctrace" --samples "$build/samples" "$@"
