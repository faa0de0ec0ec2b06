"""A signal while a --probe-cmd runs (issue 16, defect 5).

`sctrace run --probe-cmd '... exec sleep 60' -- docker run ...` (the sensor
path) and `-- podman run ...` (the OCI seccomp agent path) get SIGTERM while
the probe command sleeps. The probe (its whole process group: the shell's
background job too) is killed at once and the run ends as any interrupted
run does: within a few seconds of the signal (not after the probe's 60 s),
exit 143, the container stopped and removed (found by a unique label), the
profile already at the -o path left as it was and the incomplete profile and
recording (marked "complete": false) written beside it, and neither sleep of
the probe alive (found by the pids the probe command wrote).

The docker part skips (loudly) when `docker info` fails and CI is not
"true"; the podman part when podman is not installed.
"""
import os
import shutil
import signal
import subprocess
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

NAME = "probe_interrupt"
LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"{NAME}-{uuid.uuid4().hex}"
ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
PROBE_SLEEP = 60

c = e2e.Checks(NAME)


def read_pid(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def alive_sleep(pid):
    """True while pid is a live (not zombie) process running sleep."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False
    return ") Z " not in stat and b"sleep" in cmdline


def interrupt_during_probe(part, cli, image, extra, tmp):
    pidfile = os.path.join(tmp, f"{part}.probe.pid")
    bgfile = os.path.join(tmp, f"{part}.bg.pid")
    prof = os.path.join(tmp, f"{part}.json")
    rec = os.path.join(tmp, f"{part}.rec.json")
    kept = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}\n'
    with open(prof, "w") as f:
        f.write(kept)
    # The background sleep shares the probe's process group; the foreground
    # one replaces the shell, so its pid is the group's leader.
    probe = f"sleep {PROBE_SLEEP + 1} & echo $! > {bgfile}; echo $$ > {pidfile}; exec sleep {PROBE_SLEEP}"
    argv = [e2e.SCTRACE, "run", "-o", prof, "--recording", rec, "--probe-cmd", probe, "--",
            cli, "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", *extra, image]
    print("$ " + " ".join(argv))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watch = e2e.StreamWatch(proc)
    pids = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if read_pid(pidfile) and read_pid(bgfile):
                break
            time.sleep(0.1)
        pids = [p for p in (read_pid(pidfile), read_pid(bgfile)) if p]
        if not c.check(len(pids) == 2 and all(alive_sleep(p) for p in pids),
                       f"{part}: the probe command is running (its pids {pids})", watch.tail()):
            return
        time.sleep(1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=PROBE_SLEEP + 60)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - sent
        watch.drain()
        detail = f"exit code {rc}, {took:.1f}s after SIGTERM\n" + watch.tail()
        c.check(rc is not None and took <= 10,
                f"{part}: sctrace ends within 10 s of SIGTERM, not after the probe's {PROBE_SLEEP} s "
                f"({took:.1f}s)", detail)
        c.check(rc == 128 + signal.SIGTERM, f"{part}: exit code 143 (got {rc})", detail)
        c.check(not any(l.startswith("sctrace: error") for l in watch.err), f"{part}: no error line", detail)
        c.check(not any(l.startswith(f"sctrace: probe {probe}") for l in watch.err),
                f"{part}: the stopped probe is not reported as passed or failed", detail)
        left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE, docker=cli)
        c.check(not left, f"{part}: no container left (label {LABEL_VALUE})", "\n".join(left))
        c.check(open(prof).read() == kept, f"{part}: the profile already at the -o path is left as it was", detail)
        beside = e2e.load_json(os.path.join(tmp, f"{part}.incomplete.json"))
        c.check(isinstance(beside, dict) and beside.get("defaultAction") and beside.get("syscalls"),
                f"{part}: the incomplete profile is written beside it ({part}.incomplete.json)", detail)
        recording = e2e.load_json(os.path.join(tmp, f"{part}.rec.incomplete.json"))
        c.check(isinstance(recording, dict) and recording.get("complete") is False,
                f'{part}: the recording is written beside too and says "complete": false', detail)
        survivors = []
        for _ in range(50):
            survivors = [p for p in pids if alive_sleep(p)]
            if not survivors:
                break
            time.sleep(0.1)
        c.check(not survivors, f"{part}: no sleep of the probe survives (pids {pids})", f"alive: {survivors}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in pids:
            if alive_sleep(p):
                os.kill(p, signal.SIGKILL)
        ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE, docker=cli)


with e2e.tempdir(NAME) as tmp:
    server = e2e.sample("http_server")
    if e2e.docker_usable(c, NAME, part="docker"):
        img = ct.build_scratch_image({"/http_server": server}, name="probe-interrupt",
                                     entrypoint=["/http_server"], expose=[8080])
        try:
            interrupt_during_probe("docker", "docker", img.tag, [], tmp)
        finally:
            img.remove()
    if shutil.which("podman") is None:
        print("#" * 72 + f"\nSKIP {NAME}: podman: podman is not installed\n" + "#" * 72)
    else:
        pimg = ct.build_scratch_image({"/http_server": server}, name="probe-interrupt", entrypoint=["/http_server"],
                                      expose=[8080], docker="podman")
        try:
            interrupt_during_probe("podman", "podman", pimg.id, ULIMITS, tmp)
        finally:
            pimg.remove()

c.finish()
