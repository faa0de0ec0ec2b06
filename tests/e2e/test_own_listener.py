"""A workload that creates its own seccomp listener (issue 16, defect 8).

samples/own_listener installs a filter with SECCOMP_FILTER_FLAG_NEW_LISTENER,
answers its child's getppid through it (4242) and prints what it got. The
kernel allows one listener per filter chain: under the notify backend the
workload already runs behind sctrace's, so its seccomp() fails with EBUSY and
the recording used to be its error path, written as a complete recording with
nothing said. Now:
  - --backend notify: "sctrace: the workload asked for its own seccomp
    listener (pid N), which the notify backend cannot give it (EBUSY): its
    error path was recorded; record it with --backend ptrace", the recording
    marked incomplete (complete: false) and a non-zero exit;
  - --backend auto (which picks notify on this kernel): the same note, then
    the workload is recorded again with ptrace ("recording it again with
    --backend ptrace"), which works: exit 0, the sample's OK, a complete
    recording from backend ptrace with seccomp and ioctl in it;
  - --backend ptrace: works as before, no note;
  - a podman line (the OCI seccomp agent, which has the same limit): the note
    with "(the recording is marked incomplete)" and complete: false. Its
    FROM-scratch image is removed by ID, its container by its --cidfile.
"""
import os
import shutil

import containers

import sctrace_e2e as e2e

NAME = "own_listener"
SAMPLE = e2e.sample("own_listener")
NOTE = "which the notify backend cannot give it (EBUSY): its error path was recorded"

c = e2e.Checks(NAME)


def record(tmp, tag, backend):
    prof = os.path.join(tmp, f"{tag}.json")
    rec = os.path.join(tmp, f"{tag}.recording.json")
    res = e2e.sctrace("run", "--backend", backend, "-o", prof, "--recording", rec, "--", SAMPLE)
    return res, e2e.load_json(rec)


def check_works(what, res, rec, backend):
    detail = res.describe()
    c.check(res.returncode == 0, f"{what}: exit 0", detail)
    c.check("own_listener: OK" in res.stdout and "child getppid returned 4242" in res.stdout,
            f"{what}: the workload's own listener answered its child", detail)
    c.check(rec is not None and rec.get("complete") is True, f"{what}: the recording is complete", detail)
    c.check(rec is not None and rec.get("backend") == backend, f"{what}: the recording says backend {backend}",
            f"{detail}\nrecording backend: {(rec or {}).get('backend')}")
    names = e2e.recorded_names(rec)
    c.check({"seccomp", "ioctl"} <= names, f"{what}: the recording has seccomp and ioctl",
            f"{detail}\nrecorded: {sorted(names)}")


with e2e.tempdir("own-listener") as tmp:
    res, rec = record(tmp, "ptrace", "ptrace")
    check_works("--backend ptrace", res, rec, "ptrace")
    c.check(NOTE not in res.stderr, "--backend ptrace: no own-listener note", res.describe())

    res, rec = record(tmp, "notify", "notify")
    detail = res.describe()
    c.check("own_listener: seccomp: Device or resource busy" in res.stdout,
            "--backend notify: the workload's seccomp() got EBUSY", detail)
    c.check(any(NOTE in l and "(pid " in l and l.endswith("; record it with --backend ptrace")
                for l in res.stderr_lines()),
            "--backend notify: sctrace says the workload asked for its own listener", detail)
    c.check(res.returncode not in (0, None), "--backend notify: non-zero exit", detail)
    c.check(rec is not None and rec.get("complete") is False, "--backend notify: the recording is incomplete",
            detail)
    c.check("seccomp" in e2e.recorded_names(rec), "--backend notify: the recording has the seccomp call", detail)

    res, rec = record(tmp, "auto", "auto")
    detail = res.describe()
    c.check(any(NOTE in l and "recording it again with --backend ptrace" in l for l in res.stderr_lines()),
            "--backend auto: sctrace says it records the workload again with ptrace", detail)
    check_works("--backend auto", res, rec, "ptrace")
    c.check(e2e.sctrace_lines_ok(res), "--backend auto: every stderr line is sctrace's", detail)

    if shutil.which("podman") is not None:
        img = containers.build_scratch_image({"/own_listener": SAMPLE}, name="own-listener", cmd=["/own_listener"],
                                             docker="podman")
        cidfile = os.path.join(tmp, "cid")
        try:
            rec_path = os.path.join(tmp, "podman.recording.json")
            res = e2e.sctrace("run", "-o", os.path.join(tmp, "podman.json"), "--recording", rec_path, "--", "podman",
                              "run", "--rm", "--cidfile", cidfile, img.id, "/own_listener", timeout=180)
            detail = res.describe()
            rec = e2e.load_json(rec_path)
            c.check(any(NOTE in l and l.endswith("(the recording is marked incomplete)") for l in res.stderr_lines()),
                    "podman line: sctrace says the workload asked for its own listener", detail)
            c.check(rec is not None and rec.get("complete") is False, "podman line: the recording is incomplete",
                    detail)
        finally:
            cid = (e2e.read_bytes(cidfile) or b"").decode().strip()
            if cid:
                containers.run_docker("rm", "-f", cid, docker="podman", check=False)
            img.remove()

c.finish()
