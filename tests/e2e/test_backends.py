"""Backends agree: ptrace and seccomp user notification record the same workload.

For each sample, `sctrace run --backend ptrace` and `--backend notify` must
record exactly the same syscall NAMES per arch, the same execs, and the
recording must name its backend. notify sees no results (every record's "ok"
count is 0, which is its documented difference: the answer is given before
the syscall runs). The notify-recorded profile must then pass `sctrace verify`.

What could differ and must not: the notify filter is installed by the
launcher before execve, and the launcher still makes a syscall or two under it
(it waits on a pipe); the backend drops everything before the first execve,
as ptrace does.
"""
import json
import os

import sctrace_e2e as e2e

SAMPLES = ["static_basic", "dynamic_basic", "threads", "forkexec", "int80"]

c = e2e.Checks("backends")


def names_per_arch(rec):
    return {arch: set(calls) for arch, calls in (rec or {}).get("syscalls", {}).items() if calls}


with e2e.tempdir("backends") as tmp:
    for name in SAMPLES:
        if name == "int80" and e2e.skip_without_int80("backends", "the int80 sample"):
            continue
        exe = e2e.sample(name)
        print(f"--- {name}")
        recs = {}
        for backend in ("ptrace", "notify"):
            prof = os.path.join(tmp, f"{name}.{backend}.json")
            rec_path = os.path.join(tmp, f"{name}.{backend}.rec.json")
            r = e2e.sctrace("run", "--backend", backend, "-o", prof, "--recording", rec_path, "--", exe)
            c.check(r.returncode == 0, f"{name}: run --backend {backend} exits 0", r.describe())
            c.check(f"; backend {backend}\n" in r.stderr, f"{name}: says '...; backend {backend}'", r.describe())
            if backend == "notify":
                c.check("sctrace: backend notify (" in r.stderr, f"{name}: says 'sctrace: backend notify (...)'",
                        r.describe())
            c.check(e2e.sctrace_lines_ok(r), f"{name}/{backend}: every stderr line starts with 'sctrace: '",
                    r.describe())
            rec = e2e.load_json(rec_path)
            if not c.check(isinstance(rec, dict), f"{name}/{backend}: recording is JSON"):
                continue
            c.check(rec.get("backend") == backend, f"{name}/{backend}: recording backend is {backend!r}",
                    json.dumps(rec.get("backend")))
            recs[backend] = (rec, prof)
        if len(recs) != 2:
            continue
        p_rec, n_rec = recs["ptrace"][0], recs["notify"][0]
        p_names, n_names = names_per_arch(p_rec), names_per_arch(n_rec)
        c.check(set(p_names) == set(n_names), f"{name}: same arches ({sorted(p_names)})",
                f"ptrace {sorted(p_names)} notify {sorted(n_names)}")
        for arch in sorted(set(p_names) | set(n_names)):
            a, b = p_names.get(arch, set()), n_names.get(arch, set())
            c.check(a == b, f"{name}: {arch}: same {len(a)} syscall names",
                    f"ptrace only: {sorted(a - b)}\nnotify only: {sorted(b - a)}")
        c.check(sorted(p_rec.get("execs") or []) == sorted(n_rec.get("execs") or []),
                f"{name}: same execs", f"ptrace {p_rec.get('execs')}\nnotify {n_rec.get('execs')}")
        # Documented difference: no results under notify.
        oks = [v.get("ok", 0) for calls in n_rec.get("syscalls", {}).values() for v in calls.values()]
        c.check(oks and all(o == 0 for o in oks), f"{name}: notify records no results (ok == 0 everywhere)")
        if name == "int80":
            c.check("SCMP_ARCH_X86" in n_names and {"getpid", "write"} <= n_names["SCMP_ARCH_X86"],
                    f"{name}: notify sees the int $0x80 calls under SCMP_ARCH_X86", json.dumps(sorted(n_names)))

        r = e2e.sctrace("verify", "--profile", recs["notify"][1], "--", exe)
        c.check(r.returncode == 0 and "verify passed" in r.stderr,
                f"{name}: the notify-recorded profile passes sctrace verify", r.describe())

c.finish()
