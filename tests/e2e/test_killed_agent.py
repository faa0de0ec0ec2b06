"""A SIGKILLed sctrace on the agent path: the next run removes its container.

`sctrace run --duration 60 -- podman run ... http_server` (the seccomp agent
path, private TMPDIR) is SIGKILLed once its container runs. The container
stays (its notified syscalls now fail), but it carries sctrace's owner label;
the next `sctrace run -- podman run ...` removes it and says so in one line,
and removes the killed run's sctrace-agent-* directory too (in TMPDIR, or
/tmp when TMPDIR is too long for the agent socket's path).
"""
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

NAME = "killed_agent"
LABEL_VALUE = f"{NAME}-{uuid.uuid4().hex}"
LABEL = f"sctrace-test={LABEL_VALUE}"

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)

img = None
proc = None
try:
    with e2e.tempdir(NAME) as tmp:
        img = ct.build_scratch_image({"/http_server": e2e.sample("http_server")}, name="killed-agent",
                                     entrypoint=["/http_server"], expose=[8080], docker="podman")
        sessions = os.path.join(tmp, "sessions")
        os.mkdir(sessions)
        env = {**os.environ, "TMPDIR": sessions}
        argv = [e2e.SCTRACE, "run", "-o", os.path.join(tmp, "p.json"), "--duration", "60", "--",
                "podman", "run", "--label", LABEL, img.id]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        deadline = time.monotonic() + 90
        running = []
        while time.monotonic() < deadline and not running and proc.poll() is None:
            running = ct.run_docker("ps", "-q", "--no-trunc", "--filter", f"label={LABEL}", docker="podman",
                                    check=False).stdout.split()
            time.sleep(0.2)
        c.check(len(running) == 1, f"the agent run's container runs ({running})")
        time.sleep(1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # In TMPDIR, or in /tmp when TMPDIR is too long for the socket's path.
        agent_dirs = [os.path.join(base, d) for base in (sessions, "/tmp") for d in os.listdir(base)
                      if re.fullmatch(rf"sctrace-agent-\d+-{proc.pid}-\d+-\w{{6}}", d)]
        c.check(len(agent_dirs) == 1, f"the killed run left its agent directory ({agent_dirs})")
        left = ct.containers_with_label("sctrace-test", LABEL_VALUE, docker="podman")
        c.check(len(left) == 1, f"and its container ({left})")
        owner = ct.run_docker("inspect", "--format", '{{index .Config.Labels "sctrace.owner"}}', *left[:1],
                              docker="podman", check=False).stdout.strip() if left else ""
        c.check(owner.split("/")[2:3] == [str(proc.pid)], f"which carries the owner label ({owner!r})")

        res = e2e.run([e2e.SCTRACE, "run", "-o", os.path.join(tmp, "q.json"), "--http-probe", "8080/", "--",
                       "podman", "run", "--label", LABEL, "-p", "127.0.0.1::8080", img.id], env=env, timeout=240)
        c.check(res.returncode == 0, f"the next agent run succeeds (exit {res.returncode})", res.describe())
        for cid in left:
            c.check(cid not in ct.containers_with_label("sctrace-test", LABEL_VALUE, docker="podman"),
                    f"the next run removed container {cid[:12]}", res.describe())
            lines = [ln for ln in res.stderr.splitlines() if f"removed container {cid[:12]}" in ln]
            c.check(len(lines) == 1 and lines[0].startswith("sctrace: "), f"and said so in one line ({lines})",
                    res.describe())
        for d in agent_dirs:
            c.check(not os.path.exists(d), f"the next run removed {d}", res.describe())
        c.check(ct.containers_with_label("sctrace-test", LABEL_VALUE, docker="podman") == [],
                "no container of this test is left")
except RuntimeError:
    pass
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    ct.remove_containers_with_label("sctrace-test", LABEL_VALUE, docker="podman")
    if img:
        img.remove()

c.finish()
