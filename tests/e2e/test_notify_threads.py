"""The notify supervisor never holds a multi-threaded workload back for good.

  - samples/mt_loop --threads 64: 64 threads released by one barrier, each making 2 x N
    syscalls, runs to completion under `--backend notify` within a bound
    (with the default single supervisor and with SCTRACE_NOTIFY_THREADS=4),
    and every call is recorded: getppid and write counts are 64 x N each;
  - `mt_loop --threads 64 --exit-early`: the main thread calls exit_group while the 64
    workers are in the middle of their notified syscalls, so the supervisor
    answers tasks that are gone (ENOENT): sctrace exits 0 with the sample's
    exit code, no error line, a recording that says complete; five times.
"""
import json
import os
import time

import sctrace_e2e as e2e

NAME = "notify_threads"
N = 1000

c = e2e.Checks(NAME)
exe = e2e.sample("mt_loop")

probe = e2e.sctrace("run", "--backend", "notify", "-o", "/dev/null", "--", "/bin/true")
if probe.returncode != 0 and "notif" in probe.stderr:
    e2e.skip(NAME, "no seccomp user notification with CONTINUE here: " + probe.stderr.strip())


def counts(rec, name):
    return ((rec or {}).get("syscalls", {}).get("SCMP_ARCH_X86_64", {}).get(name) or {}).get("count", 0)


with e2e.tempdir(NAME) as tmp:
    for threads in ("1", "4"):
        env = dict(os.environ, SCTRACE_NOTIFY_THREADS=threads)
        rec_path = os.path.join(tmp, f"rec{threads}.json")
        start = time.monotonic()
        r = e2e.run([e2e.SCTRACE, "run", "--backend", "notify", "--timeout", "240", "-o",
                     os.path.join(tmp, "p.json"), "--recording", rec_path, "--", exe, str(N), "--threads", "64"], timeout=300, env=env)
        took = time.monotonic() - start
        c.check(r.returncode == 0 and f"mt_loop: 64 x {N} iterations" in r.stdout,
                f"{threads} supervisor thread(s): 64 threads run to completion ({took:.1f} s)", r.describe())
        c.check(took < 200, f"{threads} supervisor thread(s): well within the time limit", f"{took:.1f} s")
        rec = e2e.load_json(rec_path)
        c.check(counts(rec, "getppid") == 64 * N and counts(rec, "write") >= 64 * N,
                f"{threads} supervisor thread(s): every getppid and write of the 64 threads is recorded",
                json.dumps({"getppid": counts(rec, "getppid"), "write": counts(rec, "write")}))
        if threads != "1":
            c.check(f"{threads} supervisor threads" in r.stderr, "the backend line names the supervisor threads",
                    r.describe())

    for i in range(5):
        rec_path = os.path.join(tmp, f"early{i}.json")
        r = e2e.sctrace("run", "--backend", "notify", "--timeout", "120", "-o", os.path.join(tmp, "p.json"),
                        "--recording", rec_path, "--", exe, "1000000", "--threads", "64", "--exit-early", timeout=180)
        ok = (r.returncode == 0 and "mt_loop: exiting early" in r.stdout and "error" not in r.stderr
              and e2e.sctrace_lines_ok(r))
        rec = e2e.load_json(rec_path)
        c.check(ok and isinstance(rec, dict) and rec.get("complete") is True,
                f"--exit-early run {i + 1}: threads die mid-notification, sctrace exits 0 with a complete recording",
                r.describe())

c.finish()
