"""A profile written to a device (-o /dev/stdout, /dev/null, /proc/self/fd/1,
a FIFO) gets no companion recording file (issue 16, defect 14): before, `run
-o /dev/stdout` also created the regular file /dev/stdout.recording.json in
/dev. --recording still names one wherever it is asked for, and a profile in
a regular file still gets its recording beside it."""
import json
import os
import stat
import threading
import time

import sctrace_e2e as e2e

c = e2e.Checks("device_output")
STATIC = e2e.sample("static_basic")


def regular_files(d):
    out = set()
    for n in os.listdir(d):
        try:
            if stat.S_ISREG(os.lstat(os.path.join(d, n)).st_mode):
                out.add(n)
        except OSError:
            pass
    return out


def profile_in(text):
    """The profile JSON in run's stdout (the workload's own lines come first)."""
    start = text.find("{\n")
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        return None


for backend in ("ptrace", "notify"):
    for target in ("/dev/stdout", "/proc/self/fd/1", "/dev/null"):
        before = set(os.listdir("/dev"))
        before_files = regular_files("/dev")
        r = e2e.sctrace("run", "--backend", backend, "-o", target, "--", STATIC)
        after = set(os.listdir("/dev"))
        new_files = regular_files("/dev") - before_files
        c.check(r.returncode == 0, f"{backend}: run -o {target} succeeds", r.describe())
        c.check(not new_files and not any(n.endswith(".recording.json") for n in after - before),
                f"{backend}: run -o {target} creates no file in /dev", f"new in /dev: {sorted(after - before)}")
        for stray in new_files:
            if stray.endswith(".recording.json"):
                os.unlink(os.path.join("/dev", stray))
        c.check(".recording.json" not in r.stderr,
                f"{backend}: run -o {target} does not claim to write a recording", r.describe())
        if target != "/dev/null":
            p = profile_in(r.stdout)
            c.check(p is not None and "defaultAction" in p and p.get("syscalls"),
                    f"{backend}: run -o {target}: the profile arrives on stdout", r.describe())

# --format k8s writes a second file beside -o (its localhost JSON): refused
# with a device before the workload runs, instead of /dev/stdout.json in /dev.
for target in ("/dev/stdout", "/dev/null"):
    before_files = regular_files("/dev")
    r = e2e.sctrace("run", "--format", "k8s", "-o", target, "--", STATIC)
    lines = r.stderr_lines()
    c.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: ") and target in r.stderr,
            f"run --format k8s -o {target}: one usage error line, exit 2", r.describe())
    c.check("static_basic: ok" not in r.stdout, f"run --format k8s -o {target}: the workload did not run",
            r.describe())
    new_files = regular_files("/dev") - before_files
    c.check(not new_files, f"run --format k8s -o {target}: no file in /dev", str(sorted(new_files)))
    for stray in new_files:
        if stray.endswith(".json"):
            os.unlink(os.path.join("/dev", stray))

with e2e.tempdir("device-output") as tmp:
    # --recording names one: written, the profile still on stdout.
    rec = os.path.join(tmp, "asked.recording.json")
    r = e2e.sctrace("run", "-o", "/dev/stdout", "--recording", rec, "--", STATIC)
    c.check(r.returncode == 0 and (e2e.load_json(rec) or {}).get("sctrace_recording") == 1,
            "run -o /dev/stdout --recording R writes R", r.describe())
    c.check(profile_in(r.stdout) is not None, "run -o /dev/stdout --recording R: profile on stdout", r.describe())

    # A FIFO a reader holds open: the profile goes through it, nothing lands beside it.
    fifo = os.path.join(tmp, "pipe.json")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    time.sleep(0.2)
    r = e2e.sctrace("run", "-o", fifo, "--", STATIC)
    reader.join(timeout=30)
    c.check(r.returncode == 0 and got and b"defaultAction" in got[0], "run -o FIFO: the profile goes through it",
            r.describe())
    c.check(sorted(os.listdir(tmp)) == ["asked.recording.json", "pipe.json"],
            "run -o FIFO: no recording beside the FIFO", str(sorted(os.listdir(tmp))))
    r = e2e.sctrace("run", "--format", "k8s", "-o", fifo, "--", STATIC, timeout=30)
    c.check(r.returncode == 2 and "static_basic: ok" not in r.stdout and fifo in r.stderr,
            "run --format k8s -o FIFO: refused before the workload runs", r.describe())
    c.check(sorted(os.listdir(tmp)) == ["asked.recording.json", "pipe.json"],
            "run --format k8s -o FIFO: nothing beside the FIFO", str(sorted(os.listdir(tmp))))

    # A regular file keeps its companion.
    prof = os.path.join(tmp, "p.json")
    r = e2e.sctrace("run", "-o", prof, "--", STATIC)
    c.check(r.returncode == 0 and e2e.load_json(prof) is not None and
            (e2e.load_json(os.path.join(tmp, "p.recording.json")) or {}).get("sctrace_recording") == 1,
            "control: run -o FILE writes FILE and FILE's .recording.json beside it", r.describe())

c.finish()
