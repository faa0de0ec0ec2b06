"""`run --baseline OLD.json`: incremental recording.

Known syscalls pass through the watch filter without stopping; the output
recording is OLD plus what was new, and the profile is minimized from it.
For each backend: re-running the same command stops on nothing ("traced 0
syscalls", "0 syscalls new"); running it with --extra-syscall stops only on
uname, adds it, and the new profile passes `check` for that mode while the old
one does not.
"""
import os

import sctrace_e2e as e2e

c = e2e.Checks("baseline")
EXE = e2e.sample("static_basic")

with e2e.tempdir("baseline") as tmp:
    for backend in ("ptrace", "notify"):
        old_prof = os.path.join(tmp, f"old.{backend}.json")
        old_rec = os.path.join(tmp, f"old.{backend}.rec.json")
        r = e2e.sctrace("run", "--backend", backend, "-o", old_prof, "--recording", old_rec, "--", EXE)
        if backend == "notify" and r.returncode != 0:
            print(f"SKIP notify: {r.describe()}")
            continue
        c.check(r.returncode == 0, f"{backend}: baseline recorded", r.describe())
        old = e2e.load_json(old_rec)
        old_names = e2e.recorded_names(old)

        same_rec = os.path.join(tmp, f"same.{backend}.rec.json")
        r = e2e.sctrace("run", "--backend", backend, "--baseline", old_rec, "-o", os.path.join(tmp, "same.json"),
                        "--recording", same_rec, "--", EXE)
        c.check(r.returncode == 0 and "0 syscalls new" in r.stderr and "traced 0 syscalls" in r.stderr,
                f"{backend}: the same command against its baseline stops on nothing", r.describe())
        c.check(e2e.recorded_names(e2e.load_json(same_rec)) == old_names,
                f"{backend}: the recording written is the baseline's set")
        # Byte for byte: a CI job that updates the committed recording with nothing new must see no change
        # (the command line used to be appended once more each time).
        c.check(e2e.read_bytes(same_rec) == e2e.read_bytes(old_rec),
                f"{backend}: nothing new -> the recording written is byte-identical to the baseline")

        new_prof = os.path.join(tmp, f"new.{backend}.json")
        new_rec = os.path.join(tmp, f"new.{backend}.rec.json")
        r = e2e.sctrace("run", "--backend", backend, "--baseline", old_rec, "-o", new_prof, "--recording", new_rec,
                        "--", EXE, "--extra-syscall")
        c.check(r.returncode == 0 and "1 syscall new" in r.stderr and "traced 1 syscall " in r.stderr,
                f"{backend}: --extra-syscall against the baseline stops once (uname)", r.describe())
        new = e2e.load_json(new_rec)
        c.check(e2e.recorded_names(new) == old_names | {"uname"},
                f"{backend}: the new recording is the old one plus uname",
                sorted(e2e.recorded_names(new) ^ (old_names | {"uname"})))
        c.check(new is not None and old_rec and len(new.get("commands", [])) == len(old.get("commands", [])) + 1,
                f"{backend}: the new recording lists both commands")
        r = e2e.sctrace("check", "--profile", new_prof, "--", EXE, "--extra-syscall")
        c.check(r.returncode == 0, f"{backend}: the merged profile passes check for the new mode", r.describe())
        r = e2e.sctrace("check", "--profile", old_prof, "--", EXE, "--extra-syscall")
        c.check(r.returncode == 1 and "uname" in r.stderr, f"{backend}: the old profile does not", r.describe())

    r = e2e.sctrace("run", "--baseline", os.path.join(tmp, "missing.json"), "-o", os.path.join(tmp, "x.json"),
                    "--", EXE)
    c.check(r.returncode not in (0, None) and "sctrace: error:" in r.stderr and "static_basic: ok" not in r.stdout,
            "a missing baseline is an error before the workload starts", r.describe())

c.finish()
