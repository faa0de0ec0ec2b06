#!/usr/bin/env bash
# Configures and builds sctrace into build/ (BUILD_DIR to change). Extra
# arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S "$root" -B "$build" -DSCTRACE_WERROR=$werror "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
