"""CLONE_UNTRACED does not take a child out of the recording (issue 16,
defect 7). samples/torture/untraced makes a child with
clone(CLONE_UNTRACED | SIGCHLD), or with clone3 and the flag in clone_args;
the child makes sync, sysinfo and getcwd. Before, --backend ptrace did not
see that child: its syscalls were missing from the recording (in the
one-stop mode they even failed with ENOSYS) and `verify` of the profile
failed. Now the tracer clears the flag of clone at the syscall's stop and
answers clone3 with the flag ENOSYS (libc, and the sample, fall back to
clone).

For each backend (ptrace in both stop modes, notify, whose filter the child
inherits anyway) and each way (clone, clone3): the run exits 0, the
recording has the child's sync, sysinfo and getcwd once each, the profile
passes `sctrace verify` on the same program, and no process of the sample is
left behind."""
import json
import os
import time

import sctrace_e2e as e2e

c = e2e.Checks("untraced")
SAMPLE = os.path.join(e2e.SAMPLES, "torture", "untraced")
X64 = "SCMP_ARCH_X86_64"
MARKERS = ("sync", "sysinfo", "getcwd")
BACKENDS = ((["--backend", "ptrace", "--ptrace-stops", "one"], "ptrace one-stop"),
            (["--backend", "ptrace", "--ptrace-stops", "two"], "ptrace two-stop"),
            (["--backend", "notify"], "notify"))


def leftovers():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink(f"/proc/{d}/exe") == SAMPLE:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


r = e2e.run([SAMPLE, "clone"])
c.check(r.returncode == 0 and "untraced: ok" in r.stdout, "control: the sample works untraced", r.describe())

with e2e.tempdir("untraced") as tmp:
    for way in ("clone", "clone3"):
        for opts, label in BACKENDS:
            what = f"{way} [{label}]"
            prof = os.path.join(tmp, f"{way}.{label.replace(' ', '_')}.json")
            rec_path = os.path.join(tmp, f"{way}.{label.replace(' ', '_')}.recording.json")
            r = e2e.sctrace("run", *opts, "-o", prof, "--recording", rec_path, "--", SAMPLE, way, timeout=60)
            c.check(r.returncode == 0 and "untraced: ok" in r.stdout,
                    f"{what}: run exits 0 and the CLONE_UNTRACED child worked", r.describe())
            rec = e2e.load_json(rec_path) or {}
            calls = rec.get("syscalls", {}).get(X64, {})
            for name in MARKERS:
                c.check((calls.get(name) or {}).get("count") == 1,
                        f"{what}: the child's {name} is in the recording once",
                        f"recorded: {(calls.get(name) or {}).get('count')}")
            time.sleep(0.1)
            left = leftovers()
            c.check(not left, f"{what}: no process of the sample left behind", str(left))
            for pid in left:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            if e2e.load_json(prof) is None:
                c.check(False, f"{what}: a profile to verify", r.describe())
                continue
            v = e2e.sctrace("verify", "--profile", prof, "--", SAMPLE, way, timeout=60)
            c.check(v.returncode == 0 and "untraced: ok" in v.stdout,
                    f"{what}: `sctrace verify` passes with the recorded profile", v.describe())

        # `check` watches with a filter that stops only what the profile
        # refuses: the clone it allows must still not free the child.
        prof = os.path.join(tmp, f"{way}.ptrace_one-stop.json")
        no_sync = e2e.load_json(prof)
        if no_sync is None:
            continue
        for rule in no_sync.get("syscalls") or []:
            rule["names"] = [n for n in rule.get("names") or [] if n != "sync"]
        no_sync["syscalls"] = [r for r in no_sync.get("syscalls") or [] if r["names"]]
        no_sync_path = os.path.join(tmp, f"{way}.no-sync.json")
        with open(no_sync_path, "w") as f:
            json.dump(no_sync, f)
        for backend in ("ptrace", "notify"):
            what = f"{way} [check --backend {backend}]"
            report = os.path.join(tmp, f"{way}.{backend}.report.json")
            r = e2e.sctrace("check", "--backend", backend, "--profile", prof, "--", SAMPLE, way, timeout=60)
            c.check(r.returncode == 0 and "untraced: ok" in r.stdout, f"{what}: passes with the recorded profile",
                    r.describe())
            r = e2e.sctrace("check", "--backend", backend, "--profile", no_sync_path, "--report-json", report, "--",
                            SAMPLE, way, timeout=60)
            rep = e2e.load_json(report) or {}
            seen = {(v.get("arch"), v.get("syscall")): v.get("count") for v in rep.get("violations", [])}
            c.check(r.returncode == 1 and seen.get((X64, "sync")) == 1,
                    f"{what}: the child's sync, which the profile lacks, is reported once",
                    r.describe() + f"\nviolations: {seen}")

# Under a seccomp filter above sctrace (here `sctrace enforce`), the two-stop
# mode's ENOSYS answer to clone3 must survive: at a syscall-entry stop a
# skipped syscall (number -1) still goes through the filters after the stop,
# and a filter that denies by default replaced the answer with its own
# (the sample then died with "clone3: EPERM" instead of falling back).
with e2e.tempdir("untraced-nested") as tmp:
    tmpl = e2e.load_json(e2e.template_path()) or {}
    names = sorted({n for rule in tmpl.get("syscalls") or [] for n in rule.get("names") or []})
    outer = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
             "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}
    outer_path = os.path.join(tmp, "outer.json")
    with open(outer_path, "w") as f:
        json.dump(outer, f)
    for opts, label in BACKENDS[:2]:
        r = e2e.sctrace("enforce", "--profile", outer_path, "--", e2e.SCTRACE, "run", *opts, "-o",
                        os.path.join(tmp, "inner.json"), "--", SAMPLE, "clone3", timeout=60)
        c.check(r.returncode == 0 and "untraced: ok" in r.stdout and "EPERM" not in r.stderr,
                f"clone3 [{label}] under an outer default-EPERM filter: answered ENOSYS, the sample falls back",
                r.describe())

c.finish()
