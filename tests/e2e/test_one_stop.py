"""One stop per syscall: recording with `--ptrace-stops one` (a SECCOMP_RET_TRACE
filter, one PTRACE_EVENT_SECCOMP stop per syscall, results only until a
syscall has succeeded once) gives the same results as `--ptrace-stops two`
(syscall-entry and syscall-exit stops) on every local sample.

For each sample, both modes must:
- exit with the same status (the sample's own);
- record the same arches, the same syscall names per arch, the same execs,
  and the same "only ever failed with ENOSYS" verdict per name (the one thing
  the minimizer takes from results);
- for the samples whose calls do not depend on timing, the same count per
  name;
- produce the same profile (compared as parsed JSON).
And one-stop must really be one-stop: on `loop`, two-stop has a result for
each of the N getppid calls, one-stop for the first only.

The in-container sensor's --watch-filter/--deny-errno are exercised here
directly on the host (the sensor is a static program): a raw cBPF file that
answers TRACE for getppid only records getppid only, and --deny-errno makes it
fail.

Not here: http_server and prefork_server are services (container tests with
probes run them); torture samples whose set of calls depends on timing even
within one mode (sigkill, self_stop, restart, ptrace_peer) are compared on
exit status and markers only.
"""
import errno
import json
import os
import struct

import sctrace_e2e as e2e

TORTURE = os.path.join(e2e.SAMPLES, "torture")
ROOT = os.geteuid() == 0

# (label, argv, compare) -- compare: "exact" (names and counts), "names"
# (names only: how often a futex or sched_yield is made depends on timing),
# or a set of marker names that must be recorded in both modes.
CASES = [
    ("static_basic", [e2e.sample("static_basic")], "exact"),
    ("dynamic_basic", [e2e.sample("dynamic_basic")], "exact"),
    ("threads", [e2e.sample("threads")], "names"),
    ("forkexec", [e2e.sample("forkexec")], "exact"),
    ("int80", [e2e.sample("int80")], "exact"),
    ("loop", [e2e.sample("loop"), "200"], "exact"),
    ("mt_loop", [e2e.sample("mt_loop"), "50"], "names"),
    ("batch", [e2e.sample("batch")], "exact"),
    ("affinity", [e2e.sample("affinity"), "--extra"], "exact"),
    ("mt_loop --threads 64", [e2e.sample("mt_loop"), "20", "--threads", "64"], "names"),
    ("torture/vfork_exec", [os.path.join(TORTURE, "vfork_exec")], "exact"),
    ("torture/clone3", [os.path.join(TORTURE, "clone3")], "exact"),
    ("torture/int80_mix", [os.path.join(TORTURE, "int80_mix")], "exact"),
    ("torture/fork_storm", [os.path.join(TORTURE, "fork_storm"), "200", "16"], "names"),
    ("torture/many_threads", [os.path.join(TORTURE, "many_threads"), "64"], "names"),
    ("torture/daemon double-fork", [os.path.join(TORTURE, "daemon"), "double-fork"], "names"),
    ("torture/daemon orphan", [os.path.join(TORTURE, "daemon"), "orphan"], "names"),
    ("torture/exec_threads leader", [os.path.join(TORTURE, "exec_threads"), "leader"],
     {"sysinfo", "getcpu", "execve"}),
    ("torture/exec_threads worker", [os.path.join(TORTURE, "exec_threads"), "worker"],
     {"sysinfo", "getcpu", "execve"}),
    ("torture/sigkill", [os.path.join(TORTURE, "sigkill")], {"getsid", "kill", "sched_getparam"}),
    ("torture/self_stop", [os.path.join(TORTURE, "self_stop")], {"getpgrp", "getitimer"}),
    ("torture/restart", [os.path.join(TORTURE, "restart")],
     {"restart_syscall", "clock_nanosleep", "setitimer", "rt_sigreturn"}),
    ("torture/ptrace_peer", [os.path.join(TORTURE, "ptrace_peer")], {"ptrace"}),
]
if ROOT:
    CASES.append(("torture/setuid_worker", [os.path.join(TORTURE, "setuid_worker")], "names"))

c = e2e.Checks("one_stop")


def names_per_arch(rec):
    return {arch: set(calls) for arch, calls in (rec or {}).get("syscalls", {}).items() if calls}


def counts_per_arch(rec):
    return {arch: {n: v.get("count") for n, v in calls.items()}
            for arch, calls in (rec or {}).get("syscalls", {}).items() if calls}


def only_enosys(v):
    errs = v.get("errors") or {}
    return v.get("ok", 0) == 0 and list(errs) == ["ENOSYS"]


def enosys_verdicts(rec):
    return {(arch, n): only_enosys(v) for arch, calls in (rec or {}).get("syscalls", {}).items()
            for n, v in calls.items()}


def record(tmp, label, argv, stops):
    base = os.path.join(tmp, label.replace("/", "_").replace(" ", "_") + "." + stops)
    prof, rec = base + ".json", base + ".rec.json"
    r = e2e.sctrace("run", "--backend", "ptrace", "--ptrace-stops", stops, "--timeout", "100",
                    "-o", prof, "--recording", rec, "--", *argv, timeout=150)
    return r, e2e.load_json(rec), e2e.load_json(prof)


with e2e.tempdir("onestop") as tmp:
    for label, argv, compare in CASES:
        if not os.path.exists(argv[0]):
            c.check(False, f"{label}: sample built ({argv[0]})")
            continue
        # Where int $0x80 faults, both modes would only agree on the SIGSEGV.
        if "int80" in label and e2e.skip_without_int80("one_stop", label):
            continue
        print(f"--- {label}")
        out = {}
        for stops in ("one", "two"):
            r, rec, prof = record(tmp, label, argv, stops)
            ok = c.check(r.returncode is not None and isinstance(rec, dict) and isinstance(prof, dict),
                         f"{label}: --ptrace-stops {stops} records and writes a profile", r.describe())
            if ok:
                c.check(rec.get("backend") == "ptrace" and rec.get("complete") is True,
                        f"{label}/{stops}: backend ptrace, complete recording",
                        json.dumps({k: rec.get(k) for k in ("backend", "complete")}))
                out[stops] = (r, rec, prof)
        if len(out) != 2:
            continue
        (r1, rec1, prof1), (r2, rec2, prof2) = out["one"], out["two"]
        c.check(r1.returncode == r2.returncode, f"{label}: same exit status ({r2.returncode})",
                f"one: {r1.returncode}, two: {r2.returncode}")
        n1, n2 = names_per_arch(rec1), names_per_arch(rec2)
        if isinstance(compare, set):
            for stops, names in (("one", n1), ("two", n2)):
                got = set().union(*names.values()) if names else set()
                c.check(compare <= got, f"{label}/{stops}: markers {sorted(compare)} recorded",
                        f"missing {sorted(compare - got)}")
            continue
        c.check(set(n1) == set(n2), f"{label}: same arches ({sorted(n2)})", f"one {sorted(n1)} two {sorted(n2)}")
        for arch in sorted(set(n1) | set(n2)):
            a, b = n1.get(arch, set()), n2.get(arch, set())
            c.check(a == b, f"{label}: {arch}: same {len(b)} syscall names",
                    f"one only: {sorted(a - b)}\ntwo only: {sorted(b - a)}")
        c.check(sorted(rec1.get("execs") or []) == sorted(rec2.get("execs") or []), f"{label}: same execs",
                f"one {rec1.get('execs')}\ntwo {rec2.get('execs')}")
        v1, v2 = enosys_verdicts(rec1), enosys_verdicts(rec2)
        c.check(v1 == v2, f"{label}: same ENOSYS-only verdict per syscall",
                "\n".join(f"{k}: one {v1.get(k)} two {v2.get(k)}" for k in sorted(set(v1) | set(v2))
                          if v1.get(k) != v2.get(k)))
        if compare == "exact":
            k1, k2 = counts_per_arch(rec1), counts_per_arch(rec2)
            diff = [f"{a}/{n}: one {k1.get(a, {}).get(n)} two {k2.get(a, {}).get(n)}"
                    for a in sorted(set(k1) | set(k2)) for n in sorted(set(k1.get(a, {})) | set(k2.get(a, {})))
                    if k1.get(a, {}).get(n) != k2.get(a, {}).get(n)]
            c.check(not diff, f"{label}: same count per syscall", "\n".join(diff))
        c.check(prof1 == prof2, f"{label}: the same profile",
                f"one: {json.dumps(prof1, sort_keys=True)[:1500]}\ntwo: {json.dumps(prof2, sort_keys=True)[:1500]}")

    # One-stop asks for results only until a syscall has succeeded once.
    print("--- results are fetched only while they matter")
    loop_n = 200
    for stops, want_ok in (("one", 1), ("two", loop_n)):
        r, rec, _ = record(tmp, "loop-results", [e2e.sample("loop"), str(loop_n)], stops)
        getppid = (rec or {}).get("syscalls", {}).get("SCMP_ARCH_X86_64", {}).get("getppid", {})
        c.check(getppid.get("count") == loop_n and getppid.get("ok") == want_ok,
                f"loop/{stops}: getppid count {loop_n}, ok {want_ok}", json.dumps(getppid))

    # The sensor's --watch-filter and --deny-errno (on the host: it is static).
    print("--- sctrace-sensor --watch-filter / --deny-errno")
    sensor = os.path.join(os.path.dirname(e2e.SCTRACE), "sctrace-sensor")
    if not c.check(os.access(sensor, os.X_OK), f"sensor built ({sensor})"):
        c.finish()
    SYS_getppid = 110
    AUDIT_ARCH_X86_64 = 0xC000003E
    RET_TRACE, RET_ALLOW = 0x7FF00000, 0x7FFF0000
    BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
    prog = [
        (BPF_LD_W_ABS, 0, 0, 4),                    # seccomp_data.arch
        (BPF_JEQ_K, 0, 3, AUDIT_ARCH_X86_64),
        (BPF_LD_W_ABS, 0, 0, 0),                    # seccomp_data.nr
        (BPF_JEQ_K, 0, 1, SYS_getppid),
        (BPF_RET_K, 0, 0, RET_TRACE),
        (BPF_RET_K, 0, 0, RET_ALLOW),
    ]
    filt = os.path.join(tmp, "watch.bpf")
    with open(filt, "wb") as f:
        for code, jt, jf, k in prog:
            f.write(struct.pack("=HBBI", code, jt, jf, k))

    rec_path = os.path.join(tmp, "sensor-watch.json")
    r = e2e.run([sensor, "--out", rec_path, "--watch-filter", filt, "--", e2e.sample("loop"), "7"])
    rec = e2e.load_json(rec_path) or {}
    c.check(r.returncode == 0, "sensor --watch-filter: the workload runs (exit 0)", r.describe())
    calls = rec.get("syscalls", {})
    c.check(names_per_arch(rec) == {"SCMP_ARCH_X86_64": {"getppid"}},
            "sensor --watch-filter: only the watched getppid is recorded", json.dumps(names_per_arch(rec), default=list))
    c.check(calls.get("SCMP_ARCH_X86_64", {}).get("getppid", {}).get("count") == 7,
            "sensor --watch-filter: all 7 getppid calls", json.dumps(calls))

    rec_path = os.path.join(tmp, "sensor-deny.json")
    r = e2e.run([sensor, "--out", rec_path, "--watch-filter", filt, "--deny-errno", str(errno.EACCES), "--",
                 e2e.sample("loop"), "7"])
    rec = e2e.load_json(rec_path) or {}
    getppid = rec.get("syscalls", {}).get("SCMP_ARCH_X86_64", {}).get("getppid", {})
    # loop dies at the first failed getppid: sample_die prints the errno.
    c.check(r.returncode == 1 and "sample: getppid: EACCES" in r.stderr,
            "sensor --deny-errno 13: getppid fails with EACCES and the sample gives up", r.describe())
    c.check(getppid.get("count") == 1, "sensor --deny-errno: the one denied call is recorded", json.dumps(getppid))

    r = e2e.run([sensor, "--out", rec_path, "--deny-errno", "13", "--", e2e.sample("loop"), "1"])
    c.check(r.returncode == 2 and "--watch-filter" in r.stderr, "sensor: --deny-errno alone is refused",
            r.describe())
    bad = os.path.join(tmp, "bad.bpf")
    with open(bad, "wb") as f:
        f.write(b"\x06\x00\x00")
    r = e2e.run([sensor, "--out", rec_path, "--watch-filter", bad, "--", e2e.sample("loop"), "1"])
    c.check(r.returncode != 0 and "sock_filter" in r.stderr, "sensor: a filter file of 3 bytes is refused",
            r.describe())

c.finish()
