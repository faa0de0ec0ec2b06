"""Workload-derived strings are escaped in text output (issue 16, defect 13).

A file name is the workload's to choose: one holding an ESC sequence and a
newline followed by "sctrace: wrote nothing" would colour the terminal and
forge a line of sctrace's own output if printed raw. Here:
  - a sample copied to such a path runs under `run` (ptrace: its stacks name
    the executable as a module; notify when it works), `check` (the
    violation names the executable) and `explain` (executables and stacks);
  - a container whose image holds a setuid file with such a name runs under
    `run -- docker run`: the hardening report lists the image's setuid files.
No output may hold a raw ESC byte or a line starting with the forged text;
the JSON recording keeps the raw path (its encoder escapes).

The container part skips (loudly) when `docker info` fails and CI is not "true".
"""
import os
import shutil
import uuid

import containers as ct
import sctrace_e2e as e2e

NAME = "terminal_injection"
FORGED = "sctrace: wrote nothing"
EVIL = f"inj\x1b[31mred\n{FORGED}"
LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"{NAME}-{uuid.uuid4().hex}"

c = e2e.Checks(NAME)


def clean(what, text, res):
    c.check("\x1b" not in text, f"{what}: no raw ESC byte in the output", res.describe())
    forged = [l for l in text.splitlines() if l.startswith(FORGED)]
    c.check(not forged, f"{what}: no line starts with the forged '{FORGED}'", res.describe())


with e2e.tempdir(NAME) as tmp:
    exe = os.path.join(tmp, EVIL)
    shutil.copy2(e2e.sample("dynamic_basic"), exe)
    backends = ["ptrace"]
    probe = e2e.sctrace("run", "--backend", "notify", "-o", os.path.join(tmp, "probe.json"), "--",
                        e2e.sample("static_basic"))
    if probe.returncode == 0:
        backends.append("notify")
    else:
        print(f"note: backend notify does not work here, skipped:\n{probe.describe()}")
    for backend in backends:
        prof = os.path.join(tmp, f"{backend}.json")
        rec = os.path.join(tmp, f"{backend}.rec.json")
        r = e2e.sctrace("run", "--backend", backend, "-o", prof, "--recording", rec, "--", exe)
        if not c.check(r.returncode == 0, f"run --backend {backend}: exit 0", r.describe()):
            continue
        clean(f"run --backend {backend}", r.stderr, r)
        raw = open(rec, "rb").read()
        c.check(b"\\u001b[31mred\\n" + FORGED.encode() in raw,
                f"run --backend {backend}: the JSON recording keeps the raw path (JSON-escaped)")

        r = e2e.sctrace("check", "--profile", prof, "--backend", backend, "--", exe, "--extra-syscall")
        c.check(r.returncode == 1 and "violation: x86_64 uname" in r.stderr,
                f"check --backend {backend}: the extra uname is a violation (exit 1)", r.describe())
        clean(f"check --backend {backend}", r.stderr, r)
        c.check("inj\\x1b[31mred\\nsctrace: wrote nothing" in r.stderr,
                f"check --backend {backend}: the violation names the executable, escaped", r.describe())

        for syscall in ("openat", "write"):
            r = e2e.sctrace("explain", "--recording", rec, syscall)
            c.check(r.returncode == 0, f"explain {syscall} ({backend} recording): exit 0", r.describe())
            clean(f"explain {syscall} ({backend} recording)", r.stdout + r.stderr, r)
            c.check("inj\\x1b[31mred\\nsctrace: wrote nothing" in r.stdout,
                    f"explain {syscall} ({backend} recording): names the executable, escaped", r.describe())

    if e2e.docker_usable(c, NAME, part="container"):
        img = ct.build_scratch_image([("/static_basic", e2e.sample("static_basic")),
                                      (f"/bin/{EVIL}", b"#!/bin/false\n", 0o4755)],
                                     name="injection", entrypoint=["/static_basic"])
        try:
            prof = os.path.join(tmp, "container.json")
            r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--label",
                            f"{LABEL_KEY}={LABEL_VALUE}", img.tag, timeout=240)
            c.check(r.returncode == 0, "run -- docker run <image with an odd setuid file>: exit 0", r.describe())
            c.check("setuid/setgid file" in r.stderr and "inj\\x1b[31mred\\nsctrace: wrote nothing" in r.stderr,
                    "the hardening report lists the setuid file, escaped", r.describe())
            clean("run -- docker run", r.stdout + r.stderr, r)
            left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
            c.check(not left, "no container left", "\n".join(left))
        finally:
            ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
            img.remove()

c.finish()
