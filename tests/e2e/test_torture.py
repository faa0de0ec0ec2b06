"""Tracer torture: samples/torture/ programs that do what is hard for a tracer,
each run under every backend that applies (ptrace and notify).

For each case and backend:
- no hang: the sctrace run is bounded (RUN_TIMEOUT) and must finish well
  within it;
- correct exit status: what the workload's first process returned (or 128 +
  the signal that killed it);
- no lost syscall: every marker syscall the sample makes at the hard moment
  is in the recording, with its exact count where the count is fixed (each
  sample documents its markers); for the cases whose syscall set does not
  depend on timing, every name `strace -f -c` sees is recorded too (the
  oracle of test_strace_oracle.py);
- the recording says "complete": true and the profile is valid JSON;
- no process of the workload outlives sctrace.

Then the same case under `sctrace check` with a profile that allows nothing,
so every syscall is a violation the backend must stop for (ptrace: a seccomp
stop in every task, exec'd or not; notify: a notification): the check fails
(exit 1), the report carries the workload's own exit status, and each marker
is reported as a violation with the marker's count. The hard moments (an exec
from a non-leader thread, vfork, a fork storm, daemons, int 0x80) are where
the check's own task bookkeeping differs from recording's.
"""
import json
import os
import re
import signal
import subprocess
import time

import sctrace_e2e as e2e

RUN_TIMEOUT = 60
TORTURE = os.path.join(e2e.SAMPLES, "torture")
X64, X86 = "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"
BACKENDS = ("ptrace", "notify")


def at_least(n):
    return ("min", n)


# name, argv (relative to samples/torture), expected exit code, markers
# {arch: {syscall: count | at_least(n)}}, options.
CASES = [
    dict(name="execve from the leader while threads run", argv=["exec_threads", "leader"], code=7,
         markers={X64: {"sysinfo": 1, "getcpu": at_least(4), "execve": at_least(2)}}),
    dict(name="execve from a non-leader thread", argv=["exec_threads", "worker"], code=7,
         markers={X64: {"sysinfo": 1, "getcpu": at_least(4), "execve": at_least(2)}}),
    dict(name="vfork + exec, vfork + _exit", argv=["vfork_exec"], code=0, oracle=True,
         markers={X64: {"vfork": 2, "times": 1, "getppid": 1, "getrusage": 1}}),
    dict(name="clone3 (pidfd, vfork)", argv=["clone3"], code=0, oracle=True,
         markers={X64: {"clone3": 2, "getpriority": 2, "waitid": 1}}),
    dict(name="fork storm of 1000 processes", argv=["fork_storm", "1000"], code=0, oracle=True,
         markers={X64: {"getpgid": 1000, "clone": at_least(1000)}}),
    dict(name="256 threads at once", argv=["many_threads", "256"], code=0, oracle=True,
         markers={X64: {"getcpu": 256, "exit": 256}}),
    dict(name="SIGKILL mid-syscall (a child, then the main process)", argv=["sigkill"],
         code=128 + signal.SIGKILL, markers={X64: {"getsid": 1, "kill": 2, "sched_getparam": 1}}),
    dict(name="self-stop (SIGSTOP, SIGTSTP) and continue", argv=["self_stop"], code=0,
         markers={X64: {"getpgrp": 2, "getitimer": 1}}),
    dict(name="signals during blocking syscalls (restart_syscall, SA_RESTART, EINTR)", argv=["restart"], code=0,
         markers={X64: {"restart_syscall": at_least(1), "clock_nanosleep": at_least(1), "setitimer": 2,
                        "rt_sigreturn": at_least(2)}}),
    dict(name="double-forking daemon outlives its parent", argv=["daemon", "double-fork"], code=0, oracle=True,
         markers={X64: {"sched_getscheduler": 1, "setsid": 1}}),
    dict(name="an orphan is the last process", argv=["daemon", "orphan"], code=5, oracle=True,
         markers={X64: {"sched_getscheduler": 1}}),
    dict(name="int $0x80 from a forked child", argv=["int80_mix"], code=0, oracle=True, int80=True,
         markers={X86: {"getpid": 1, "waitpid": 1, "exit_group": 1}}),
    dict(name="PTRACE_TRACEME and PTRACE_ATTACH to a sibling", argv=["ptrace_peer"], code=0,
         markers={X64: {"ptrace": at_least(2)}},
         stdout={"ptrace": ["traceme: EPERM", "attach: EPERM"], "notify": ["traceme: OK", "attach: OK"]}),
    dict(name="setuid-to-nobody worker", argv=["setuid_worker"], code=0, root=True, oracle=True,
         markers={X64: {"setgroups": 1, "setresuid": 1, "getresuid": 1, "getresgid": 1}}),
]

# strace -c tallies a syscall when it returns: calls that never return are
# not in its table (see test_strace_oracle.py). Everything else it lists must
# be recorded.
STRACE_SECTIONS = {None: X64, "32 bit mode": X86, "x32 mode": "SCMP_ARCH_X32"}


def strace_names(argv, tmp, label):
    out = os.path.join(tmp, f"{label}.strace")
    r = e2e.run(["strace", "-f", "-c", "-o", out, "--", *argv], timeout=RUN_TIMEOUT)
    if r.returncode is None:
        return None, r
    names, arch = {}, X64
    with open(out) as f:
        for line in f:
            m = re.match(r"^System call usage summary for (.+):$", line.strip())
            if m:
                arch = STRACE_SECTIONS.get(m.group(1), m.group(1))
                continue
            fields = line.split()
            if len(fields) < 5 or fields[-1] in ("total", "syscall") or not re.match(r"^[\d.]+$", fields[0]):
                continue
            names.setdefault(arch, set()).add(fields[-1])
    return names, r


def run_sctrace(args, out_prefix):
    """Runs sctrace with stdout/stderr in files, not pipes: a workload process
    left behind (holding them open) must not make sctrace itself look hung.
    A timeout is reported as returncode None (sctrace is killed)."""
    argv = [e2e.SCTRACE, *args]
    start = time.monotonic()
    with open(out_prefix + ".out", "wb") as out, open(out_prefix + ".err", "wb") as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            rc = p.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
    elapsed = time.monotonic() - start
    with open(out_prefix + ".out", "rb") as f:
        o = f.read()
    with open(out_prefix + ".err", "rb") as f:
        e = f.read()
    if rc is None:
        e += f"\n[timed out after {RUN_TIMEOUT}s]".encode()
    return e2e.Result(argv, rc, o.decode("utf-8", "replace"), e.decode("utf-8", "replace"), elapsed, o)


def workload_pids():
    """Pids of live processes running a torture sample (other than ours)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{d}/exe")
        except OSError:
            continue
        if exe.startswith(TORTURE + "/"):
            pids.append(int(d))
    return pids


def count_ok(got, want):
    if isinstance(want, tuple):
        return got is not None and got >= want[1]
    return got == want


def describe_want(want):
    return f">= {want[1]}" if isinstance(want, tuple) else f"== {want}"


def check_everything(case, argv, backend, label, prefix):
    """`sctrace check` against a profile allowing nothing: every syscall is reported."""
    report = prefix + ".report.json"
    r = run_sctrace(["check", "--backend", backend, "--profile", NOTHING, "--report-json", report, "--", *argv],
                    prefix)
    c.check(r.returncode is not None, f"{label} check: no hang (finished in {r.elapsed:.2f}s)", r.describe())
    c.check(r.returncode == 1, f"{label} check: fails (exit 1)", r.describe())
    rep = e2e.load_json(report)
    if not c.check(isinstance(rep, dict), f"{label} check: report written", r.describe()):
        return
    status = rep.get("workload", {})
    c.check(status.get("exit_code") == case["code"] and not status.get("timed_out"),
            f"{label} check: the workload exited {case['code']}", json.dumps(status))
    seen = {(v["arch"], v["syscall"]): v["count"] for v in rep.get("violations", [])}
    for arch, markers in case["markers"].items():
        for name, want in markers.items():
            got = seen.get((arch, name))
            c.check(count_ok(got, want), f"{label} check: {arch} {name} violations {describe_want(want)}",
                    f"reported: {got}")


c = e2e.Checks("torture")
only = os.environ.get("SCTRACE_TORTURE_ONLY")  # substring of a case name, for debugging
have_strace = e2e.run(["strace", "-V"]).returncode == 0
is_root = os.geteuid() == 0
passed_cases, failed_cases = 0, []

with e2e.tempdir("torture") as tmp:
    NOTHING = os.path.join(tmp, "nothing.json")
    with open(NOTHING, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ERRNO", "architectures": [X64, X86, "SCMP_ARCH_X32"], "syscalls": []}, f)
    for i, case in enumerate(CASES):
        if only and only not in case["name"]:
            continue
        if case.get("root") and not is_root:
            print(f"--- skip (needs root): {case['name']}")
            continue
        if case.get("int80") and e2e.skip_without_int80("torture", case["name"]):
            continue
        argv = [os.path.join(TORTURE, case["argv"][0]), *case["argv"][1:]]
        oracle = None
        if case.get("oracle") and have_strace:
            oracle, r = strace_names(argv, tmp, f"case{i}")
            c.check(oracle is not None and r.returncode == case["code"],
                    f"{case['name']}: the oracle (strace -f -c) runs it and exits {case['code']}", r.describe())
        for backend in BACKENDS:
            label = f"{case['name']} [{backend}]"
            print(f"--- {label}")
            failures_before = len(c.failed)
            prof = os.path.join(tmp, f"case{i}.{backend}.json")
            rec_path = os.path.join(tmp, f"case{i}.{backend}.rec.json")
            r = run_sctrace(["run", "--backend", backend, "-o", prof, "--recording", rec_path, "--", *argv],
                            os.path.join(tmp, f"case{i}.{backend}"))
            c.check(r.returncode is not None, f"{label}: no hang (finished in {r.elapsed:.2f}s)", r.describe())
            c.check(r.returncode == case["code"], f"{label}: exit status {case['code']}", r.describe())
            for line in case.get("stdout", {}).get(backend, []):
                c.check(line in r.stdout.splitlines(), f"{label}: prints {line!r}", r.describe())
            rec = e2e.load_json(rec_path)
            if not c.check(isinstance(rec, dict), f"{label}: recording written", r.describe()):
                continue
            c.check(rec.get("complete") is True, f"{label}: recording complete", str(rec.get("complete")))
            c.check(isinstance(e2e.load_json(prof), dict), f"{label}: profile written and valid JSON")
            calls = rec.get("syscalls", {})
            for arch, markers in case["markers"].items():
                for name, want in markers.items():
                    got = calls.get(arch, {}).get(name, {}).get("count")
                    c.check(count_ok(got, want), f"{label}: {arch} {name} count {describe_want(want)}",
                            f"recorded: {got}")
            if oracle is not None:
                for arch, names in oracle.items():
                    lost = names - set(calls.get(arch, {}))
                    c.check(not lost, f"{label}: {arch}: every syscall strace saw is recorded ({len(names)})",
                            f"lost: {sorted(lost)}")
            check_everything(case, argv, backend, label, os.path.join(tmp, f"case{i}.{backend}.check"))
            time.sleep(0.1)
            left = workload_pids()
            c.check(not left, f"{label}: no workload process left", f"pids: {left}")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if len(c.failed) == failures_before:
                passed_cases += 1
            else:
                failed_cases.append(label)

print(f"=== torture cases: {passed_cases} passed, {len(failed_cases)} failed")
for f in failed_cases:
    print(f"    failed case: {f}")
c.finish()
