"""A workload cannot stop, read or signal its tracer (issue 16, defect 4).

samples/selfattack turns on its parent, which is sctrace (local backends) or
the sensor (PID 1 of a container): ptrace(PTRACE_ATTACH) and
ptrace(PTRACE_SEIZE) of it, process_vm_readv of its memory, pidfd_open of
it, pidfd_getfd and pidfd_send_signal(SIGSTOP) through a /proc/PPID
directory, kill(PPID, SIGSTOP), tgkill(PPID, PPID, SIGSTOP) and kill(0,
SIGSTOP) to its own process group, which holds its parent too. Before, the
first of these left sctrace stopped by its own tracee: the run hung, deaf to
SIGTERM (in a container PID 1 stopped in ptrace_stop and the host side
waited until killed). Now the tracer refuses each with EPERM, says so in one
line per call, and keeps the call in the recording as made.

For --backend ptrace (both stop modes), --backend notify and the docker
sensor path:
  - the run ends by itself, exit 0, and the sample saw EPERM for every
    attempt, while a SIGTERM to a child of its own still worked;
  - `run` prints "sctrace: refused the workload's ptrace(PTRACE_ATTACH) of
    sctrace itself (pid N): EPERM" (N: sctrace's pid; in a container "of the
    sensor (pid 1)"), one line per kind of call; the recording lists them
    under "refused" and still has ptrace and kill;
  - with the sample left waiting after its attempts, a SIGTERM to sctrace
    ends the run within seconds (128+15).

`verify --profile P` (local, notify) and `check --profile P` (--backend
ptrace and notify) stop only some syscalls: P allows every attack, so before
none of them reached sctrace and the first one stopped it for good (the
test's timeout killed the hung run). Now their filters route the
self-defence calls to sctrace always: the same attack ends with exit 0
(verify passed, no violation), the sample saw EPERM for every attempt,
sctrace printed the same refusal line, and a SIGTERM to sctrace still ends
a run whose workload waits (128+15). P is the profile `run` recorded under
ptrace two-stop, with the attack's syscalls and pause named outright (a
recording does not promise every one of them).
`run --baseline OLD` (every local backend) also stops only some syscalls:
what OLD does not cover. OLD is the recording `run` made of the same attack
on that backend, which holds every attack call with the values it was made
with (ptrace's request and kill's signal are classified arguments), so
before none of them reached sctrace and the first one stopped it for good.
Now the baseline's watch routes the self-defence calls to sctrace always,
as check's does: exit 0, EPERM for every attempt, the same refusal line.

Container checks, with P' (templates/docker-default.json with the attack's
syscalls allowed by name), so that the filters let the attack run:
  - `check --profile P' -- docker run --cap-add SYS_PTRACE ...` (the sensor
    watches with P's program): the sensor is PID 1 and the sample's parent.
    Before, the host compiled the watch program without the self-defence
    calls, so the attack never reached the sensor, ptrace(PTRACE_ATTACH)
    (real with CAP_SYS_PTRACE) stopped PID 1 for good and the run hung. Now
    the sensor refuses each call (the two Docker's own profile would refuse
    too: check runs the container without it), the host says the sensor's
    refusal lines, and the check passes;
  - `check` and `verify --profile P' -- podman run --pid=host ...` (the OCI
    agent path): the sample aims at sctrace (SELFATTACK_TARGET, the pid of
    sctrace, which serves the seccomp agent) and may signal it (same uid, a
    shared pid namespace). Before, the runtime profile let every call P
    allows run unnotified and the agent judged none of them itself: the
    sample's SIGSTOP stopped sctrace, and with it the agent every notified
    syscall of the container waits for, and the run hung. Now the runtime
    profile notifies the self-defence calls always and the agent refuses
    those aimed at sctrace (EPERM), said as on the local backends. `run` on
    the same line: the agent refuses them too, and the recording lists them.
Each run has its own session (a kill(0) that got through must not reach the
test) and is killed with its session after a timeout. Images are
FROM-scratch imports removed by ID; containers carry a unique label and are
removed by it.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid

import json

import containers as ct
import sctrace_e2e as e2e

NAME = "self_defence"
SAMPLE = e2e.sample("selfattack")
ATTEMPTS = ("ptrace_attach", "ptrace_seize", "process_vm_readv", "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
            "kill", "tgkill", "kill_group")
RUN_TIMEOUT = 60
LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"self-defence-{uuid.uuid4().hex}"
# Docker's default profile answers process_vm_readv and pidfd_getfd EPERM
# itself (they need CAP_SYS_PTRACE): its ERRNO wins over the sensor's TRACE,
# so the sensor never sees those two.
DOCKER_REFUSED = len(ATTEMPTS) - 2
BACKENDS = ((["--backend", "ptrace", "--ptrace-stops", "one"], "ptrace one-stop"),
            (["--backend", "ptrace", "--ptrace-stops", "two"], "ptrace two-stop"),
            (["--backend", "notify"], "notify"))
# The commands that stop only what P does not allow, on every local backend.
JUDGED = ((["verify"], "verify"), (["check", "--backend", "ptrace"], "check ptrace"),
          (["check", "--backend", "notify"], "check notify"))
ATTACK_SYSCALLS = ("ptrace", "process_vm_readv", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "kill", "tgkill",
                   "pause", "wait4")

c = e2e.Checks(NAME)


def start(argv):
    # A session of its own: sctrace is its group's leader, so killpg(pid)
    # reaches it and whatever of the workload stayed in its group.
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def kill_session(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def finish(proc, watch, timeout):
    """Waits for proc; on timeout kills its session. Returns (returncode or None, stdout, stderr)."""
    try:
        proc.wait(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = None
        kill_session(proc)
        proc.wait()
    watch.drain()
    return rc, "".join(watch.out), "".join(watch.err)


def describe(argv, rc, out, err):
    return f"$ {' '.join(argv)}\nexit code: {rc}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"


def check_refusing(what, argv, tracer_text="sctrace itself", attempts=ATTEMPTS):
    """One run (of run, verify or check) that ends by itself, exit 0, every attempt refused and said."""
    proc = start(argv)
    watch = e2e.StreamWatch(proc)
    rc, out, err = finish(proc, watch, RUN_TIMEOUT)
    detail = describe(argv, rc, out, err)
    c.check(rc is not None, f"{what}: sctrace ends by itself (within {RUN_TIMEOUT} s)", detail)
    c.check(rc == 0, f"{what}: exit 0", detail)
    for name in attempts:
        c.check(f"selfattack: {name} EPERM" in out, f"{what}: the workload's {name} aimed at its tracer got EPERM",
                detail)
    c.check("selfattack: own_kill OK" in out, f"{what}: the workload's SIGTERM to its own child still works", detail)
    pid = 1 if tracer_text == "the sensor" else proc.pid
    line = f"sctrace: refused the workload's ptrace(PTRACE_ATTACH) of {tracer_text} (pid {pid}): EPERM"
    c.check(line in err.splitlines(), f"{what}: says '{line}'", detail)
    c.check(re.search(r"^sctrace: refused the workload's kill\(SIGSTOP\) of ", err, re.M) is not None,
            f"{what}: names the refused kill(SIGSTOP) too", detail)


def check_run(what, argv, rec_path, tracer_text, refused_kinds, attempts=ATTEMPTS):
    """One `run`: as check_refusing, and the recording keeps the refused calls."""
    check_refusing(what, argv, tracer_text, attempts)
    rec = e2e.load_json(rec_path) or {}
    refused = rec.get("refused") or {}
    c.check(len(refused) == refused_kinds, f"{what}: the recording lists the {refused_kinds} kinds of refused calls",
            str(refused))
    names = e2e.recorded_names(rec)
    c.check({"ptrace", "kill", "tgkill"} <= set(names),
            f"{what}: the refused calls are still recorded as made (ptrace, kill, tgkill)", sorted(names))


def allowing_attack(recorded, path):
    """P: the recorded profile, with the attack's syscalls allowed by name."""
    prof = e2e.load_json(recorded) or {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}
    prof.setdefault("syscalls", []).append({"names": list(ATTACK_SYSCALLS), "action": "SCMP_ACT_ALLOW"})
    with open(path, "w") as f:
        json.dump(prof, f)
    return path


def check_sigterm(what, argv):
    """The sample waits after its attempts: SIGTERM to sctrace ends the run."""
    proc = start(argv)
    watch = e2e.StreamWatch(proc)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None and not any("selfattack: waiting" in l for l in watch.out):
        time.sleep(0.1)
    ready = any("selfattack: waiting" in l for l in watch.out)
    if not ready:
        rc, out, err = finish(proc, watch, 1)
        c.check(False, f"{what}: the workload reached its wait", describe(argv, rc, out, err))
        return
    time.sleep(0.3)  # sctrace back in its wait loop
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc, out, err = finish(proc, watch, 20)
    elapsed = time.monotonic() - sent
    c.check(rc is not None and elapsed < 20, f"{what}: SIGTERM ends the run ({elapsed:.1f} s)",
            describe(argv, rc, out, err))
    c.check(rc == 143, f"{what}: exit 143 (128+SIGTERM)", describe(argv, rc, out, err))


# No untraced control: the sample would stop the test itself, its parent.
with e2e.tempdir(NAME) as tmp:
    for opts, label in BACKENDS:
        tag = label.replace(" ", "_")
        prof = os.path.join(tmp, f"{tag}.json")
        rec = os.path.join(tmp, f"{tag}.recording.json")
        check_run(label, [e2e.SCTRACE, "run", *opts, "-o", prof, "--recording", rec, "--", SAMPLE, "--group"], rec,
                  "sctrace itself", len(ATTEMPTS))
        check_sigterm(f"{label}, SIGTERM", [e2e.SCTRACE, "run", *opts, "-o", os.path.join(tmp, f"{tag}.term.json"),
                                            "--", SAMPLE, "--group", "--wait"])

    allowing = allowing_attack(os.path.join(tmp, "ptrace_two-stop.json"), os.path.join(tmp, "allowing.json"))
    for cmd, label in JUDGED:
        check_refusing(f"{label} --profile P", [e2e.SCTRACE, *cmd, "--profile", allowing, "--", SAMPLE, "--group"])
        check_sigterm(f"{label} --profile P, SIGTERM",
                      [e2e.SCTRACE, *cmd, "--profile", allowing, "--", SAMPLE, "--group", "--wait"])

    for opts, label in BACKENDS:
        tag = label.replace(" ", "_")
        old = os.path.join(tmp, f"{tag}.recording.json")
        check_refusing(f"{label} run --baseline OLD",
                       [e2e.SCTRACE, "run", *opts, "--baseline", old, "-o", os.path.join(tmp, f"{tag}.baseline.json"),
                        "--", SAMPLE, "--group"])

    # P': the template with the attack allowed, for the container checks.
    allowing_tmpl = allowing_attack(e2e.template_path(), os.path.join(tmp, "allowing_template.json"))

    if e2e.docker_usable(c, NAME, part="docker (sensor path)"):
        img = ct.build_scratch_image({"/selfattack": SAMPLE}, name="selfattack", cmd=["/selfattack", "--group"])
        label = ["--label", f"{LABEL_KEY}={LABEL_VALUE}"]
        try:
            prof = os.path.join(tmp, "docker.json")
            rec = os.path.join(tmp, "docker.recording.json")
            check_run("docker sensor", [e2e.SCTRACE, "run", "-o", prof, "--recording", rec, "--", "docker", "run",
                                        "--rm", *label, img.id], rec, "the sensor", DOCKER_REFUSED)
            check_sigterm("docker sensor, SIGTERM",
                          [e2e.SCTRACE, "run", "-o", os.path.join(tmp, "docker.term.json"), "--", "docker", "run",
                           "--rm", *label, img.id, "/selfattack", "--group", "--wait"])
            # CAP_SYS_PTRACE makes ptrace(PTRACE_ATTACH) of the sensor real.
            check_refusing("check docker sensor --profile P'",
                           [e2e.SCTRACE, "check", "--profile", allowing_tmpl, "--", "docker", "run", "--rm", *label,
                            "--cap-add", "SYS_PTRACE", img.id, "/selfattack", "--group"], "the sensor")
        finally:
            ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
            img.remove()

    if shutil.which("podman") is None:
        print("skipped: podman (OCI agent path), podman is not installed")
    else:
        pimg = ct.build_scratch_image({"/selfattack": SAMPLE}, name="selfattack", cmd=["/selfattack"], docker="podman")
        # sh execs sctrace, so $$ is sctrace's pid, known before the line runs.
        def podman_argv(*opts):
            return ["sh", "-c", f"exec {shlex.join([e2e.SCTRACE, *opts])} -- podman run --rm --label "
                                f"{LABEL_KEY}={LABEL_VALUE} --pid=host -e SELFATTACK_TARGET=$$ {pimg.id}"]
        # No kill(0): in its own process group the sample would stop itself.
        attempts = [a for a in ATTEMPTS if a != "kill_group"]
        try:
            for cmd in ("check", "verify"):
                check_refusing(f"{cmd} podman (OCI agent) --profile P'", podman_argv(cmd, "--profile", allowing_tmpl),
                               "sctrace itself", attempts)
            # run: the recording profile notifies every call the template allows; the
            # template refuses pidfd_getfd without CAP_SYS_PTRACE itself.
            rec = os.path.join(tmp, "podman.recording.json")
            check_run("run podman (OCI agent)",
                      podman_argv("run", "-o", os.path.join(tmp, "podman.json"), "--recording", rec), rec,
                      "sctrace itself", len(attempts) - 1, attempts)
        finally:
            ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE, docker="podman")
            pimg.remove()

c.finish()
