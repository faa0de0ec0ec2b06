#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine and shows sctrace's main job on
# a bundled sample: record it, write the least-privilege profile, prove the
# profile by enforcing it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
out="$build/quickstart"
mkdir -p "$out"
sample="$build/samples/threads"
echo
echo "== 1. record the bundled sample (samples/threads.c) and write its profile"
"$build/cli/sctrace" run -o "$out/profile.json" --recording "$out/recording.json" -- "$sample"
echo
echo "== 2. verify: run it again with the profile enforced"
"$build/cli/sctrace" verify --profile "$out/profile.json" -- "$sample"
echo
echo "== 3. the same profile stops what the sample never did (unshare -> EPERM)"
"$build/cli/sctrace" enforce --profile "$out/profile.json" -- "$sample" --danger=unshare || true
echo
echo "profile: $out/profile.json   recording: $out/recording.json"
echo "try it on anything: $build/cli/sctrace run -o profile.json -- sqlite3 :memory: 'select 1;'"
