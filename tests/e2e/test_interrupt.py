"""Ctrl-C / SIGTERM to sctrace while a workload runs: the signal is forwarded,
sctrace exits promptly with the workload's status, the profile and the
recording are still written, and the recording says "complete": false.
A workload that ignores the first signal is killed by the second; --timeout
ends a workload that runs too long. No workload process outlives sctrace."""
import os
import signal
import subprocess
import time

import sctrace_e2e as e2e

c = e2e.Checks("interrupt")




def interrupted_run(tmp, label, workload, signals, expect_code, marker):
    prof = os.path.join(tmp, f"{label}.json")
    rec = os.path.join(tmp, f"{label}.rec.json")
    argv = [e2e.SCTRACE, "run", "-o", prof, "--recording", rec, "--", *workload]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(0.5)
    sent = time.monotonic()
    for s in signals:
        p.send_signal(s)
        time.sleep(0.3)
    try:
        out, err = p.communicate(timeout=10)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = None
    took = time.monotonic() - sent
    res = e2e.Result(argv, rc, out.decode(errors="replace"), err.decode(errors="replace"), took)
    names = "+".join(signal.Signals(s).name for s in signals)
    c.check(rc is not None and took < 5, f"{label}: exits within 5 s of {names} ({took:.2f}s)", res.describe())
    c.check(rc == expect_code, f"{label}: exit code {expect_code}", res.describe())
    profile = e2e.load_json(prof)
    c.check(isinstance(profile, dict) and profile.get("syscalls"), f"{label}: profile written and valid",
            res.describe())
    recording = e2e.load_json(rec)
    c.check(isinstance(recording, dict) and recording.get("complete") is False,
            f'{label}: recording written with "complete": false',
            str(recording.get("complete")) if isinstance(recording, dict) else res.describe())
    c.check(isinstance(recording, dict) and "nanosleep" in " ".join(e2e.recorded_names(recording)),
            f"{label}: the recording has what ran before the signal (a *nanosleep)",
            str(sorted(e2e.recorded_names(recording))) if isinstance(recording, dict) else None)
    time.sleep(0.2)
    left = e2e.pids_with_marker(marker)
    c.check(not left, f"{label}: no workload process left behind", f"pids: {left}")
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


with e2e.tempdir("interrupt") as tmp:
    interrupted_run(tmp, "SIGINT", ["sleep", "31.4159"], [signal.SIGINT], 128 + signal.SIGINT, "31.4159")
    interrupted_run(tmp, "SIGTERM", ["sleep", "31.4160"], [signal.SIGTERM], 128 + signal.SIGTERM, "31.4160")
    # The shell ignores SIGINT and so does the sleep it starts: the first
    # SIGINT is forwarded and ignored, the second kills every process.
    interrupted_run(tmp, "SIGINT twice, ignored",
                    ["sh", "-c", "trap '' INT; sleep 31.4161; echo survived"],
                    [signal.SIGINT, signal.SIGINT], 128 + signal.SIGKILL, "31.4161")

    prof = os.path.join(tmp, "timeout.json")
    rec = os.path.join(tmp, "timeout.rec.json")
    r = e2e.sctrace("run", "--timeout", "1", "-o", prof, "--recording", rec, "--", "sleep", "31.4162",
                    timeout=20)
    c.check(r.returncode is not None and r.elapsed < 6, f"--timeout 1 ends the run ({r.elapsed:.2f}s)",
            r.describe())
    c.check(r.returncode not in (0, None), "--timeout: non-zero exit", r.describe())
    c.check(isinstance(e2e.load_json(prof), dict), "--timeout: profile written", r.describe())
    c.check((e2e.load_json(rec) or {}).get("complete") is False, '--timeout: recording "complete": false',
            r.describe())
    c.check(not e2e.pids_with_marker("31.4162"), "--timeout: no workload process left behind")

c.finish()
