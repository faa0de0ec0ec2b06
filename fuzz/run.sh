#!/usr/bin/env bash
# Fuzzes one target for $SCTRACE_FUZZ_SECONDS (default 60) starting from the
# committed seeds. Usage: run.sh BINARY SEED_DIR BUILD_DIR [DICT]
# Exit status: 0 when no crash, leak, timeout or sanitizer report was found.
set -euo pipefail
bin=$1 seeds=$2 build=$3 dict=${4:-}
name=$(basename "$bin")
seconds=${SCTRACE_FUZZ_SECONDS:-60}
work="$build/work/$name"
artifacts="$build/artifacts"
mkdir -p "$work" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
      -print_final_stats=1 -artifact_prefix="$artifacts/$name-")
if [ -n "$dict" ]; then args+=(-dict="$dict"); fi
echo "fuzz: $name for ${seconds}s (seeds $seeds, new inputs in $work)"
# halt_on_error: UBSan reports abort the run like an ASan report does.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# Symbolized stacks in reports (Debian's clang-16 ships without its own).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi
exec "$bin" "${args[@]}" "$work" "$seeds"
