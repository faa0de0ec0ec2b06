"""A SIGKILLed sctrace leaves its temp directory; the next run removes it.

`sctrace run -- docker run ... http_server` (with its private TMPDIR) is
SIGKILLed once its session directory exists. The directory's name records
its owner; the next `sctrace run` (a local one, same TMPDIR) removes it and
says so in one line, and leaves alone a directory whose owner lives (this
test's own process) and one that is not of sctrace's shape.

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import os
import re
import signal
import subprocess
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("killed_leftovers")

e2e.docker_usable(c, "killed_leftovers")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"killed-{uuid.uuid4().hex}"

image = None
proc = None
try:
    image = ct.build_scratch_image({"/http_server": e2e.sample("http_server")}, name="killed",
                                   entrypoint=["/http_server"], expose=[8080])
    with e2e.tempdir("killed") as tmp:
        sessions = os.path.join(tmp, "sessions")
        os.mkdir(sessions)
        env = {**os.environ, "TMPDIR": sessions}
        argv = [e2e.SCTRACE, "run", "-o", os.path.join(tmp, "p.json"), "--http-probe", "8080/", "--duration", "30",
                "--", "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", "-p", "127.0.0.1::8080",
                image.tag]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        deadline = time.monotonic() + 60
        left = []
        while time.monotonic() < deadline and not left:
            left = [d for d in os.listdir(sessions) if d.startswith("sctrace-")]
            time.sleep(0.05)
        c.check(len(left) == 1, f"the run made one session directory ({left})")
        c.check(bool(left) and re.fullmatch(rf"sctrace-\d+-{proc.pid}-\d+-\w{{6}}", left[0]) is not None,
                f"its name records the owner's pid {proc.pid} ({left})")
        time.sleep(1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        c.check(all(os.path.isdir(os.path.join(sessions, d)) for d in left),
                "after SIGKILL the session directory is still there")

        # Beside it: one whose owner lives (this process) and one not of sctrace's shape.
        with open(f"/proc/{os.getpid()}/stat") as f:
            start = f.read().rsplit(")", 1)[1].split()[19]
        ns = re.sub(r"\D", "", os.readlink("/proc/self/ns/pid"))
        alive = os.path.join(sessions, f"sctrace-{ns}-{os.getpid()}-{start}-abcdef")
        other = os.path.join(sessions, "sctrace-abcdef")
        os.mkdir(alive)
        os.mkdir(other)

        res = e2e.run([e2e.SCTRACE, "run", "-o", os.path.join(tmp, "q.json"), "--", "/bin/true"], env=env)
        c.check(res.returncode == 0, f"the next run succeeds (exit {res.returncode})", res.describe())
        for d in left:
            path = os.path.join(sessions, d)
            c.check(not os.path.exists(path), f"the next run removed {d}", res.describe())
            lines = [ln for ln in res.stderr.splitlines() if path in ln]
            c.check(len(lines) == 1 and lines[0].startswith("sctrace: removed "),
                    f"and said so in one line ({lines})", res.describe())
        c.check(os.path.isdir(alive), "a directory whose owner lives is kept", res.describe())
        c.check(os.path.isdir(other), "a directory not of sctrace's shape is kept", res.describe())
        os.rmdir(alive)
        os.rmdir(other)
except RuntimeError:
    pass
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
    if image:
        image.remove()

c.finish()
