"""A multi-process container recorded through runc's seccomp agent reports its
processes and execs (issue 15: the agent path never called on_exec/on_exit,
and said "from 1 container process" whatever ran).

samples/forkexec (with the libc it links, and static_basic it execs) in a
FROM-scratch image: one process that forks and vforks, each child execs
/static_basic. Recorded with `sctrace run -- ENGINE run ...`, on every engine
and backend that applies (conftest.py):
  - notify (the agent: podman, Docker >= 23): the summary says "from 3
    container processes"; the recording's execs are /forkexec and
    /static_basic, and not runc's own image;
  - ptrace (the in-container sensor, docker): the sensor records the same
    execs for the same image as the agent did on podman.
Images are removed by ID; containers run with --rm and a --cidfile.
"""
import os
import re
import subprocess

import pytest

import containers
import sctrace_e2e as e2e

ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
EXECS = {"/forkexec", "/static_basic"}


def image_files():
    """forkexec, static_basic, and the shared objects forkexec loads (ldd)."""
    forkexec = e2e.sample("forkexec")
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


_agent_runs = {}


def record_with_agent(engine, tmp):
    """(Result, the recording) of forkexec recorded through the agent on this
    engine; once per engine, shared by the items that need it."""
    if engine.name not in _agent_runs:
        img = containers.build_scratch_image(image_files(), name="agent-processes", cmd=["/forkexec"],
                                             docker=engine.client)
        cid = os.path.join(tmp, f"{engine.name}.cid")
        try:
            prof = os.path.join(tmp, f"{engine.name}-profile.json")
            rec_path = os.path.join(tmp, f"{engine.name}-rec.json")
            extra = ULIMITS if engine.name == "podman" else []
            r = e2e.run([e2e.SCTRACE, "run", "--backend", "notify", "-o", prof, "--recording", rec_path, "--",
                         *engine.line, "run", *extra, "--rm", "--cidfile", cid, img.id, "/forkexec"],
                        timeout=180, env=engine.env)
            _agent_runs[engine.name] = (r, e2e.load_json(rec_path))
        finally:
            cid_text = (e2e.read_bytes(cid) or b"").decode().strip()
            if cid_text:
                engine.run("rm", "-f", cid_text)
            img.remove()
    return _agent_runs[engine.name]


def execs_of(rec):
    return set(rec.get("execs", [])) if isinstance(rec, dict) else set()


def test_processes_and_execs(engine, backend, checks, tmp):
    c = checks
    if backend == "notify":
        r, rec = record_with_agent(engine, tmp)
        c.check(r.returncode == 0 and "forkexec: ok" in r.stdout,
                f"sctrace run -- {engine.line[0]} run forkexec exits 0", r.describe())
        c.check("sctrace: backend notify (" in r.stderr, "recorded through the seccomp agent", r.describe())
        n = container_processes(r.stderr)
        c.check(n == 3, "the summary counts 3 container processes (forkexec, its fork, its vfork)",
                f"counted {n}\n{r.describe()}")
        execs = execs_of(rec)
        c.check(EXECS <= execs, f"the recording's execs include {sorted(EXECS)}", f"execs {sorted(execs)}")
        c.check(not [e for e in execs if "runc" in e or "memfd" in e],
                "runc's own image is not reported as an exec", f"execs {sorted(execs)}")
    else:
        # The sensor, compared with what the agent recorded on podman.
        import conftest
        podman = conftest._engine("podman")
        if isinstance(podman, str):
            pytest.skip(f"no agent recording to compare with: {podman}")
        _, agent_rec = record_with_agent(podman, tmp)
        execs = execs_of(agent_rec)
        dimg = containers.build_scratch_image(image_files(), name="agent-processes", cmd=["/forkexec"],
                                              docker=engine.client)
        try:
            drec = os.path.join(tmp, "docker-rec.json")
            r = e2e.run([e2e.SCTRACE, "run", "--backend", "ptrace", "-o", os.path.join(tmp, "docker.json"),
                         "--recording", drec, "--", *engine.line, "run", "--rm", dimg.id, "/forkexec"],
                        timeout=300, env=engine.env)
            c.check(r.returncode == 0, "sctrace run -- docker run forkexec (the sensor) exits 0", r.describe())
            sensor_execs = execs_of(e2e.load_json(drec))
            c.check(EXECS <= sensor_execs and sensor_execs == execs,
                    "the sensor records the same execs for the same image",
                    f"sensor {sorted(sensor_execs)}, agent {sorted(execs)}")
        finally:
            dimg.remove()
    c.done()
