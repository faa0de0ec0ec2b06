"""Round trip: trace a sample, then enforce the profile it produced.

For each sample: `sctrace run` records it and writes a profile; `sctrace verify`
runs it again under that profile with nothing denied; `sctrace enforce` runs it
with a dangerous syscall appended (--danger=NAME) and the syscall is refused
with the profile's errno, while the same call made without the filter is NOT
refused (so the refusal comes from the profile, not from the kernel).
"""
import json
import os
import re

import sctrace_e2e as e2e

SAMPLES = ["static_basic", "dynamic_basic", "threads", "forkexec", "int80"]
DANGERS = ["unshare", "ptrace", "bpf", "keyctl", "io_uring_setup", "userfaultfd"]

# Syscalls each sample makes on purpose (see samples/*.c); the recording must
# have them under SCMP_ARCH_X86_64.
EXPECTED_NATIVE = {
    "static_basic": {"getpid", "openat", "read", "write", "close", "exit_group", "execve"},
    "dynamic_basic": {"openat", "read", "write", "close", "getpid", "exit_group", "mmap"},
    "threads": {"getuid", "sysinfo", "getcpu", "times", "futex", "write", "exit", "exit_group"},
    "forkexec": {"readlink", "wait4", "vfork", "execve", "getpid", "openat", "write", "exit_group"},
    "int80": {"getpid", "mmap", "write", "exit_group"},
}
OK_LINE = {
    "static_basic": "static_basic: ok",
    "dynamic_basic": "dynamic_basic: ok",
    "threads": "threads: ok",
    "forkexec": "forkexec: ok",
    "int80": "int80: ok",
}

TEMPLATE_ALLOWED = e2e.allowed_names(e2e.load_json(e2e.template_path()))
ENOSYS_POLICY = set(e2e.load_json(os.path.join(e2e.SOURCE, "templates", "errno-policy.json"))["enosys"])

c = e2e.Checks("roundtrip")

with e2e.tempdir("roundtrip") as tmp:
    for name in SAMPLES:
        if name == "int80" and e2e.skip_without_int80("roundtrip", "the int80 sample"):
            continue
        exe = e2e.sample(name)
        prof = os.path.join(tmp, f"{name}.json")
        rec_path = os.path.join(tmp, f"{name}.rec.json")
        print(f"--- {name}")

        r = e2e.sctrace("run", "-o", prof, "--recording", rec_path, "--", exe)
        c.check(r.returncode == 0, f"{name}: sctrace run exits 0", r.describe())
        c.check(OK_LINE[name] in r.stdout, f"{name}: the workload's stdout passes through", r.describe())
        c.check(e2e.sctrace_lines_ok(r), f"{name}: every stderr line starts with 'sctrace: '", r.describe())
        profile = e2e.load_json(prof)
        rec = e2e.load_json(rec_path)
        if not c.check(isinstance(profile, dict), f"{name}: profile {prof} is JSON"):
            continue
        if not c.check(isinstance(rec, dict), f"{name}: recording {rec_path} is JSON"):
            continue

        # The default backend (auto) is whatever the run announced.
        m = re.search(r"^sctrace: backend (\w+) \(", r.stderr, re.M)
        backend = m.group(1) if m else None
        c.check(backend in ("ptrace", "notify"), f"{name}: the run says which backend it chose", r.describe())
        c.check(rec.get("sctrace_recording") == 1 and rec.get("complete") is True
                and rec.get("backend") == backend,
                f"{name}: recording header (sctrace_recording 1, complete true, backend {backend})",
                json.dumps({k: rec.get(k) for k in ("sctrace_recording", "complete", "backend")}))
        c.check(rec.get("commands") == [[exe]], f"{name}: recording commands == [[{exe}]]",
                json.dumps(rec.get("commands")))
        native = e2e.recorded_names(rec)
        missing = EXPECTED_NATIVE[name] - native
        c.check(not missing, f"{name}: recording has {sorted(EXPECTED_NATIVE[name])}",
                f"missing: {sorted(missing)}; recorded: {sorted(native)}")
        getpid = rec.get("syscalls", {}).get("SCMP_ARCH_X86_64", {}).get("getpid", {})
        if "getpid" in EXPECTED_NATIVE[name]:
            # notify answers before the syscall runs: no results (ok stays 0).
            want_ok = 1 if backend == "ptrace" else 0
            c.check(getpid.get("nr") == 39 and getpid.get("count", 0) >= 1
                    and (getpid.get("ok", 0) >= 1 if want_ok else getpid.get("ok", 0) == 0),
                    f"{name}: getpid record has nr 39, count >= 1, ok {'>= 1' if want_ok else '== 0 (notify)'}",
                    json.dumps(getpid))

        c.check(profile.get("defaultAction") == "SCMP_ACT_ERRNO",
                f"{name}: profile defaultAction is SCMP_ACT_ERRNO", profile.get("defaultAction"))
        allowed = e2e.allowed_names(profile)
        for d in DANGERS:
            c.check(d not in allowed, f"{name}: profile does not allow {d}")
        if name == "forkexec":
            c.check(os.path.join(e2e.SAMPLES, "static_basic") in (rec.get("execs") or []),
                    f"{name}: recording execs lists the static_basic child", json.dumps(rec.get("execs")))

        if name == "int80":
            x86 = e2e.recorded_names(rec, "SCMP_ARCH_X86")
            c.check({"getpid", "write"} <= x86, "int80: recording has SCMP_ARCH_X86 getpid and write",
                    f"SCMP_ARCH_X86: {sorted(x86)}")
            arches = e2e.arch_map_arches(profile)
            c.check("SCMP_ARCH_X86" in arches, "int80: profile archMap lists SCMP_ARCH_X86",
                    json.dumps(profile.get("archMap")))
            # Negative control: the same profile without SCMP_ARCH_X86 must
            # break the 32-bit calls, else the archMap check above proves nothing.
            stripped = json.loads(json.dumps(profile))
            for entry in stripped.get("archMap") or []:
                entry["subArchitectures"] = [a for a in (entry.get("subArchitectures") or [])
                                             if a != "SCMP_ARCH_X86"] or None
            stripped["archMap"] = [e for e in stripped.get("archMap") or []
                                   if e.get("architecture") != "SCMP_ARCH_X86"]
            sp = os.path.join(tmp, "int80-no-x86.json")
            with open(sp, "w") as f:
                json.dump(stripped, f)
            r = e2e.sctrace("enforce", "--profile", sp, "--", exe)
            c.check(r.returncode not in (0, None) and "int80: ok" not in r.stdout,
                    "int80: enforce with SCMP_ARCH_X86 removed from archMap fails", r.describe())

        r = e2e.sctrace("verify", "--profile", prof, "--", exe)
        c.check(r.returncode == 0, f"{name}: sctrace verify exits 0", r.describe())
        c.check("sctrace: denied:" not in r.stderr, f"{name}: verify reports no denial", r.describe())
        c.check(OK_LINE[name] in r.stdout, f"{name}: verify: the workload's stdout passes through",
                r.describe())

        r = e2e.sctrace("enforce", "--profile", prof, "--", exe)
        c.check(r.returncode == 0 and OK_LINE[name] in r.stdout, f"{name}: enforce runs it (exit 0)",
                r.describe())

        for d in DANGERS:
            ctl = e2e.run([exe, f"--danger={d}"])
            m = re.search(rf"^danger {d}: (\S+)$", ctl.stdout, re.M)
            c.check(m is not None and m.group(1) not in ("EPERM",) and ctl.returncode == 3,
                    f"{name}: control: {d} is not refused without a filter ({m.group(1) if m else '?'})",
                    ctl.describe())
            # EPERM, except for a syscall the template allows that
            # templates/errno-policy.json answers with ENOSYS when unobserved.
            want = "ENOSYS" if d in ENOSYS_POLICY and d in TEMPLATE_ALLOWED else "EPERM"
            says = e2e.expected_errno(profile, d)
            c.check(says == want, f"{name}: the profile answers {d} with {want} (it says {says})")
            r = e2e.sctrace("enforce", "--profile", prof, "--", exe, f"--danger={d}")
            m = re.search(rf"^danger {d}: (\S+)$", r.stdout, re.M)
            got = m.group(1) if m else None
            c.check(OK_LINE[name] in r.stdout and got == want
                    and r.returncode == (0 if want == "EPERM" else 3),
                    f"{name}: enforce: {d} refused with {want} (got {got})", r.describe())

        r = e2e.sctrace("verify", "--profile", prof, "--", exe, "--danger=unshare")
        denied = [l for l in r.stderr_lines() if l.startswith("sctrace: denied: ")]
        c.check(r.returncode == 1, f"{name}: verify --danger=unshare exits 1", r.describe())
        c.check(any(re.match(r"^sctrace: denied: \S+ unshare\b", l) for l in denied),
                f"{name}: verify names unshare in a 'sctrace: denied:' line", r.describe())
        c.check(all(re.match(r"^sctrace: denied: \S+ unshare\b", l) for l in denied),
                f"{name}: verify denies nothing but unshare", "\n".join(denied))

        if "uname" not in native and "uname" not in allowed:
            r = e2e.sctrace("verify", "--profile", prof, "--", exe, "--extra-syscall")
            c.check(r.returncode == 1 and re.search(r"^sctrace: denied: \S+ uname\b", r.stderr, re.M),
                    f"{name}: verify --extra-syscall exits 1 naming uname", r.describe())

c.finish()
