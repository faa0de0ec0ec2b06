"""A local notify workload dies with a SIGKILLed sctrace, daemons included.

`sctrace run --backend notify`, `sctrace verify` and `sctrace check --backend
notify` start a workload that forks three children and a daemon (setsid and a
double fork); every process keeps making syscalls (and goes on when they fail,
as they all do with ENOSYS once sctrace's listener is gone). sctrace is
SIGKILLed by its pid; then every workload process must be gone within a
generous deadline (polled), and neither the run's cgroup nor a temp dir may be
left. Run over both cgroup kinds the guardian can use on this host
($SCTRACE_GUARDIAN_CGROUP=v2|v1); a kind the host lacks is skipped.
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import sctrace_e2e as e2e

WORKLOAD = r"""
import os, sys, time
pids = sys.argv[1]

def note():
    with open(pids, "a") as f:
        f.write(f"{os.getpid()}\n")

def spin():
    while True:
        try:
            os.getppid()
            os.getuid()
            time.sleep(0.02)
        except BaseException:
            pass

for _ in range(3):
    if os.fork() == 0:
        note()
        spin()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if os.fork() == 0:
            note()
            spin()
        os._exit(0)
    os._exit(0)
note()
spin()
"""
PROCESSES = 5  # the first, three children, the daemon
CGROUP_ROOTS = {"v2": None, "v1": "/sys/fs/cgroup/freezer"}


def cgroup_v2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")
            if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
                return line.split()[4]
    return None


def start_time(pid):
    """The process's start time, or None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if rest[0] in ("Z", "X") else rest[19]


def owned_cgroups(root, owner):
    return glob.glob(os.path.join(root, "**", f"sctrace-workload-*-{owner}-*"), recursive=True)


@pytest.mark.parametrize("cgroup", ["v2", "v1"])
@pytest.mark.parametrize("command", ["run", "verify", "check"])
def test_notify_workload_dies_with_sctrace(command, cgroup, checks, tmp):
    root = cgroup_v2_root() if cgroup == "v2" else CGROUP_ROOTS["v1"]
    if root is None or not os.path.isdir(root):
        pytest.skip(f"no cgroup {cgroup} hierarchy on this host")
    script = os.path.join(tmp, "workload.py")
    with open(script, "w") as f:
        f.write(WORKLOAD)
    pids_file = os.path.join(tmp, "pids")
    sessions = os.path.join(tmp, "sessions")
    os.mkdir(sessions)
    # getppid is denied (verify) or a violation (check): those calls are
    # notified too, not only under `run`.
    profile = os.path.join(tmp, "profile.json")
    with open(profile, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}, f)
    workload = ["--", sys.executable, script, pids_file]
    argv = {"run": [e2e.SCTRACE, "run", "--backend", "notify", "-o", os.path.join(tmp, "p.json")] + workload,
            "verify": [e2e.SCTRACE, "verify", "--profile", profile] + workload,
            "check": [e2e.SCTRACE, "check", "--backend", "notify", "--profile", profile] + workload}[command]
    env = {**os.environ, "TMPDIR": sessions, "SCTRACE_GUARDIAN_CGROUP": cgroup}
    # sctrace's stderr goes to a file: a workload that outlives sctrace keeps
    # a pipe open, and reading it would never end.
    err_path = os.path.join(tmp, "stderr")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
    pids = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pids) < PROCESSES and proc.poll() is None:
            try:
                with open(pids_file) as f:
                    pids = [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        checks.check(len(pids) == PROCESSES, f"the workload started {PROCESSES} processes ({pids})")
        started = {pid: start_time(pid) for pid in pids}
        checks.check(len(owned_cgroups(root, proc.pid)) == 1,
                     f"the run holds its workload in a cgroup of {root} ({owned_cgroups(root, proc.pid)})")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with open(err_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()

        def alive():
            return [p for p, st in started.items() if st is not None and start_time(p) == st]

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (alive() or owned_cgroups(root, proc.pid)):
            time.sleep(0.05)
        checks.check(not alive(), f"every workload process died with sctrace (left: {alive()})", stderr)
        checks.check(not owned_cgroups(root, proc.pid),
                     f"the run's cgroup is removed ({owned_cgroups(root, proc.pid)})", stderr)
        checks.check(not [d for d in os.listdir(sessions) if d.startswith("sctrace")],
                     f"no temp dir is left ({os.listdir(sessions)})", stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, st in ({p: start_time(p) for p in pids}).items():
            if st is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    checks.done()


def test_leftover_cgroup_is_swept(checks, tmp):
    """A run whose guardian died too leaves its cgroup, with whatever still
    runs there; the next run kills that and removes the cgroup."""
    root = CGROUP_ROOTS["v1"]
    if not os.path.isdir(root) or not os.access(root, os.W_OK):
        pytest.skip("no writable cgroup v1 freezer hierarchy")
    # A dead owner: a child of this test, reaped.
    child = subprocess.Popen(["/bin/true"])
    child.wait()
    ns = re.sub(r"\D", "", os.readlink("/proc/self/ns/pid"))
    own = next(line.split(":", 2)[2].strip() for line in open("/proc/self/cgroup")
               if "freezer" in line.split(":")[1].split(","))
    parent = os.path.join(root, own.lstrip("/"))
    leftover = os.path.join(parent, f"sctrace-workload-{ns}-{child.pid}-1-abcdef")
    os.mkdir(leftover)
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        with open(os.path.join(leftover, "cgroup.procs"), "w") as f:
            f.write(str(sleeper.pid))
        res = e2e.run([e2e.SCTRACE, "run", "-o", os.path.join(tmp, "q.json"), "--", "/bin/true"])
        checks.check(res.returncode == 0, f"the next run succeeds (exit {res.returncode})", res.describe())
        checks.check(not os.path.exists(leftover), f"it removed {leftover}", res.describe())
        checks.check(any(leftover in ln and ln.startswith("sctrace: removed ") for ln in res.stderr.splitlines()),
                     "and said so", res.describe())
        try:
            sleeper.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        checks.check(sleeper.returncode == -signal.SIGKILL,
                     f"the process left in it was killed ({sleeper.returncode})", res.describe())
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        if os.path.isdir(leftover):
            os.rmdir(leftover)
    checks.done()
