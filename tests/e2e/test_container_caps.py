"""A `--cap-add ALL` line gets every capability on the container paths.

The profile is cut from Docker's default template evaluated for the
container's capability set: a syscall the template allows only with a
capability (kcmp: CAP_SYS_PTRACE) is in the profile when the container had
that capability and made the call. samples/capgated makes kcmp on itself.
  - sensor path (backend ptrace, `sctrace run -- docker run --cap-add ALL
    ...`): the capability set comes from the engine's inspect answer;
  - agent path (backend notify: podman, Docker >= 23): from the line.
On every engine and backend that applies (conftest.py), the profile must
allow kcmp; sctrace once took "ALL" for a capability named CAP_ALL, so the
template refused kcmp for the profile. Control on docker: the same line
without --cap-add ALL gives a profile without kcmp.

Docker 20.10 grants --cap-add ALL as its whole capability list, and runc
cannot raise a capability the daemon lacks: where root has no
CAP_SYS_RESOURCE (this kind of VM) such a container does not start, so the
line becomes `--cap-add ALL --cap-drop SYS_RESOURCE` (every capability but
that one, still nothing the literal-"CAP_ALL" reading got right). podman
grants only what it has. `--privileged` containers cannot start here for the
same reason: tests/unit/advice/test_container_config.cc covers --privileged
from an inspect answer and from a parsed line.

Images are FROM-scratch imports of the static sample, removed by ID;
containers run with --rm and a unique label (docker) or a --cidfile (podman),
and what is left is removed by that label or ID.
"""
import os
import uuid

import pytest

import containers as ct
import sctrace_e2e as e2e

ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
GATED = "kcmp"
LABEL_KEY = "sctrace-test"


def profile_allows(profile, name):
    """Any SCMP_ACT_ALLOW rule names it (whatever its includes: the check is
    that sctrace kept the rule at all)."""
    return any(rule.get("action") == "SCMP_ACT_ALLOW" and name in (rule.get("names") or [])
               for rule in (profile or {}).get("syscalls") or [])


def record(engine, backend, tmp, tag, line):
    prof = os.path.join(tmp, f"{tag}.json")
    rec = os.path.join(tmp, f"{tag}.rec.json")
    r = e2e.run([e2e.SCTRACE, "run", "--backend", backend, "-o", prof, "--recording", rec, "--", *line],
                timeout=240, env=None if engine.env is None else engine.env)
    return r, e2e.load_json(prof), e2e.load_json(rec)


def check_path(c, what, r, profile, rec, want_allowed):
    c.check(r.returncode == 0, f"{what}: sctrace run exits 0", r.describe())
    c.check("capgated: kcmp" in r.stdout, f"{what}: the workload ran (its output passes through)", r.describe())
    if want_allowed:
        c.check(GATED in e2e.recorded_names(rec), f"{what}: {GATED} is in the recording",
                sorted(e2e.recorded_names(rec)))
        c.check(profile_allows(profile, GATED),
                f"{what}: the profile allows {GATED} (the template gates it on CAP_SYS_PTRACE, which the container had)",
                r.describe())
    else:
        c.check(isinstance(profile, dict) and not profile_allows(profile, GATED),
                f"{what}: control: without the capability the profile does not allow {GATED}", r.describe())


def test_cap_add_all(engine, backend, checks, tmp):
    c, exe = checks, e2e.sample("capgated")
    img = ct.build_scratch_image({"/capgated": exe}, name="caps", cmd=["/capgated"], docker=engine.client)
    try:
        if engine.name == "podman":
            cidfile = os.path.join(tmp, "cid")
            try:
                r, profile, rec = record(engine, backend, tmp, "podman-all",
                                         [*engine.line, "run", "--rm", "--cidfile", cidfile, *ULIMITS,
                                          "--cap-add", "ALL", img.id])
                check_path(c, "podman --cap-add ALL", r, profile, rec, True)
                c.check("sctrace: backend notify (" in r.stderr, "podman: recorded through the seccomp agent",
                        r.describe())
            finally:
                cid = (e2e.read_bytes(cidfile) or b"").decode().strip()
                if cid:
                    engine.run("rm", "-f", cid)
        else:
            label = ["--label", f"{LABEL_KEY}=caps-{uuid.uuid4().hex}"]
            try:
                cap_all = ["--cap-add", "ALL"]
                plain = engine.run("run", "--rm", *label, *cap_all, img.id)
                if plain.returncode != 0 and "apply caps" in plain.stderr:
                    print(f"note: docker run --cap-add ALL does not start here ({plain.stderr.strip()}); "
                          "using --cap-add ALL --cap-drop SYS_RESOURCE")
                    cap_all += ["--cap-drop", "SYS_RESOURCE"]
                r, profile, rec = record(engine, backend, tmp, "docker-all",
                                         [*engine.line, "run", "--rm", *label, *cap_all, img.id])
                check_path(c, f"docker {' '.join(cap_all)}", r, profile, rec, True)
                c.check("capgated: kcmp OK" in r.stdout,
                        "docker: kcmp worked in the container (it had CAP_SYS_PTRACE)", r.stdout)
                if backend == "notify":
                    c.check("sctrace: backend notify (" in r.stderr, "docker: recorded through the seccomp agent",
                            r.describe())
                r, profile, rec = record(engine, backend, tmp, "docker-default",
                                         [*engine.line, "run", "--rm", *label, img.id])
                check_path(c, "docker, default capabilities", r, profile, rec, False)
            finally:
                key, value = label[1].split("=", 1)
                ct.remove_containers_with_label(key, value, docker=engine.client)
    finally:
        img.remove()
    c.done()
