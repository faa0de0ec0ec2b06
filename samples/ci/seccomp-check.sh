#!/bin/sh
# Generic CI example: record a seccomp profile for the test suite once, commit
# it, and on every later build check that the suite stays inside it.
#
#   samples/ci/seccomp-check.sh record   # writes $PROFILE (+ recording), commit both
#   samples/ci/seccomp-check.sh check    # exit 1 when a syscall outside $PROFILE was made
#   samples/ci/seccomp-check.sh update   # incremental: re-record only what is new
#
# Settings (environment): SCTRACE (the binary), PROFILE, TEST_CMD (the command
# to watch; a `docker run ...` line works too), REPORTS (where SARIF/JUnit go).
set -eu

SCTRACE=${SCTRACE:-sctrace}
PROFILE=${PROFILE:-seccomp/profile.json}
RECORDING=${RECORDING:-${PROFILE%.json}.recording.json}
TEST_CMD=${TEST_CMD:-make test}
REPORTS=${REPORTS:-reports}

case "${1:-check}" in
  record)
    mkdir -p "$(dirname "$PROFILE")"
    # shellcheck disable=SC2086 # TEST_CMD is a command line
    "$SCTRACE" run -o "$PROFILE" --recording "$RECORDING" -- $TEST_CMD
    echo "review and commit: git add $PROFILE $RECORDING && git commit -m 'seccomp: record profile'"
    ;;
  update)
    # Only syscalls (and argument classes) the committed recording does not
    # cover stop the suite; the result is the old recording plus what is new.
    # shellcheck disable=SC2086
    "$SCTRACE" run --baseline "$RECORDING" -o "$PROFILE" --recording "$RECORDING" -- $TEST_CMD
    # What the new profile allows that the committed one did not (exit 1 if any).
    old=$(mktemp)
    trap 'rm -f "$old"' EXIT
    if git show HEAD:"$PROFILE" >"$old" 2>/dev/null; then
      "$SCTRACE" diff "$old" "$PROFILE" || echo "review the additions above, then commit $PROFILE $RECORDING"
    fi
    ;;
  check)
    mkdir -p "$REPORTS"
    # Exit 1 on a violation (named on stderr and in the reports); otherwise the
    # suite's own exit status. The suite runs at full speed: only violations
    # wake sctrace up.
    # shellcheck disable=SC2086
    "$SCTRACE" check --profile "$PROFILE" \
      --sarif "$REPORTS/seccomp.sarif" --junit "$REPORTS/seccomp-junit.xml" \
      --report-json "$REPORTS/seccomp-check.json" -- $TEST_CMD
    ;;
  *)
    echo "usage: $0 record|update|check" >&2
    exit 2
    ;;
esac
