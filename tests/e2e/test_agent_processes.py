"""A multi-process container recorded through runc's seccomp agent reports its
processes and execs (issue 15: the agent path never called on_exec/on_exit,
and said "from 1 container process" whatever ran).

samples/forkexec (with the libc it links, and static_basic it execs) in a
FROM-scratch image: one process that forks and vforks, each child execs
/static_basic. Recorded with `sctrace run -- podman run ...`:
  - the summary says "from 3 container processes";
  - the recording's execs are /forkexec and /static_basic;
  - where docker works, the in-container sensor (docker's backend on an
    engine without listenerPath) records the same execs for the same image.
Images are removed by ID; containers run with --rm and a --cidfile.
"""
import os
import re
import shutil
import subprocess

import containers
import sctrace_e2e as e2e

NAME = "agent_processes"
ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
EXECS = {"/forkexec", "/static_basic"}

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)
forkexec = e2e.sample("forkexec")


def image_files():
    """forkexec, static_basic, and the shared objects forkexec loads (ldd)."""
    files = {"/forkexec": forkexec, "/static_basic": e2e.sample("static_basic")}
    out = subprocess.run(["ldd", forkexec], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            files[m.group(1)] = os.path.realpath(m.group(1))
    return files


def container_processes(stderr):
    m = re.search(r"recorded \d+ notifications from (\d+) container process", stderr)
    return int(m.group(1)) if m else None


with e2e.tempdir(NAME) as tmp:
    files = image_files()
    img = containers.build_scratch_image(files, name="agent-processes", cmd=["/forkexec"], docker="podman")
    cid = os.path.join(tmp, "cid")
    try:
        prof = os.path.join(tmp, "profile.json")
        rec_path = os.path.join(tmp, "rec.json")
        r = e2e.sctrace("run", "-o", prof, "--recording", rec_path, "--", "podman", "run", *ULIMITS, "--rm",
                        "--cidfile", cid, img.id, "/forkexec", timeout=180)
        c.check(r.returncode == 0 and "forkexec: ok" in r.stdout, "sctrace run -- podman run forkexec exits 0",
                r.describe())
        c.check("sctrace: backend notify (" in r.stderr, "recorded through the seccomp agent", r.describe())
        n = container_processes(r.stderr)
        c.check(n == 3, "the summary counts 3 container processes (forkexec, its fork, its vfork)",
                f"counted {n}\n{r.describe()}")
        rec = e2e.load_json(rec_path)
        execs = set(rec.get("execs", [])) if isinstance(rec, dict) else set()
        c.check(EXECS <= execs, f"the recording's execs include {sorted(EXECS)}", f"execs {sorted(execs)}")
        c.check(not [e for e in execs if "runc" in e or "memfd" in e],
                "runc's own image is not reported as an exec", f"execs {sorted(execs)}")
    finally:
        cid_text = (e2e.read_bytes(cid) or b"").decode().strip()
        if cid_text:
            containers.run_docker("rm", "-f", cid_text, docker="podman", check=False)
        img.remove()

    if e2e.docker_usable(c, NAME, part="the sensor comparison on docker"):
        dimg = containers.build_scratch_image(files, name="agent-processes", cmd=["/forkexec"])
        try:
            drec = os.path.join(tmp, "docker-rec.json")
            r = e2e.sctrace("run", "--backend", "ptrace", "-o", os.path.join(tmp, "docker.json"), "--recording",
                            drec, "--", containers.DOCKER, "run", "--rm", dimg.id, "/forkexec", timeout=300)
            c.check(r.returncode == 0, "sctrace run -- docker run forkexec (the sensor) exits 0", r.describe())
            rec = e2e.load_json(drec)
            sensor_execs = set(rec.get("execs", [])) if isinstance(rec, dict) else set()
            c.check(EXECS <= sensor_execs and sensor_execs == execs,
                    "the sensor records the same execs for the same image",
                    f"sensor {sorted(sensor_execs)}, agent {sorted(execs)}")
        finally:
            dimg.remove()

c.finish()
