#!/usr/bin/env bash
# The test command: installs what is missing, makes sure a Docker engine runs,
# builds, and runs every CTest test (unit and end-to-end). Extra arguments go to
# ctest (e.g. -L unit, -R roundtrip). The fuzz label (fuzz/, a clang build of
# its own that .ci/run makes) is never part of this run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/ensure-docker.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 900 -LE fuzz "$@"
