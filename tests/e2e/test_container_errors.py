"""Container mode when things go wrong, and exec probes.

  - a missing image (`--pull never`, no registry needed): fails fast, one
    line `sctrace: error: ...`, exit 2, no profile written;
  - the daemon unreachable (DOCKER_HOST to a socket that does not exist):
    the same;
  - an invalid docker flag: the same;
  - a container that exits before its probed port is ready (batch with an
    http probe), and a server that never listens on the probed port
    (http_server told to use another one): the probe failure is reported,
    exit 1, the container is gone;
  - `--exec-probe /batch` inside the http_server image: the batch's file
    operations (mkdirat, fsync, unlinkat), which the server never makes,
    are in the recording (and are not without the exec probe); an exec probe
    that exits non-zero fails the run.
After each case no container with this test's label is left.

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import os
import re
import sys
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("container_errors")

e2e.docker_usable(c, "container_errors")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"errors-{uuid.uuid4().hex}"
LABEL = f"{LABEL_KEY}={LABEL_VALUE}"
FAST = 30  # seconds an error must take at most


def no_leftovers(case):
    left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    c.check(not left, f"{case}: no container with this test's label is left", "\n".join(left))
    ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)


def check_one_line_error(case, r, prof, pattern=None):
    lines = r.stderr_lines()
    c.check(r.returncode == 2, f"{case}: exit code 2", r.describe())
    c.check(len(lines) == 1 and lines[0].startswith("sctrace: error: "),
            f"{case}: exactly one stderr line, 'sctrace: error: ...'", r.describe())
    if pattern:
        c.check(bool(lines) and re.search(pattern, lines[-1], re.I), f"{case}: the error says /{pattern}/",
                r.describe())
    c.check(r.elapsed <= FAST, f"{case}: fails within {FAST}s ({r.elapsed:.1f}s)")
    c.check(not os.path.exists(prof), f"{case}: no profile written")


images = []
try:
    server = ct.build_scratch_image({"/http_server": e2e.sample("http_server"), "/batch": e2e.sample("batch")},
                                    name="errors-http", entrypoint=["/http_server"], expose=[8080])
    images.append(server)
    batch = ct.build_scratch_image({"/batch": e2e.sample("batch")}, name="errors-batch", entrypoint=["/batch"])
    images.append(batch)

    with e2e.tempdir("container-errors") as tmp:
        prof = os.path.join(tmp, "p.json")
        rec = os.path.join(tmp, "r.json")

        def fresh():
            for p in (prof, rec):
                if os.path.exists(p):
                    os.unlink(p)

        # --- a missing image
        missing = f"sctrace-missing-{uuid.uuid4().hex[:8]}/x:1"
        fresh()
        r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--pull", "never", "--label", LABEL,
                        missing, timeout=120)
        check_one_line_error("missing image", r, prof, r"no such image|not found|missing|" + re.escape(missing))
        no_leftovers("missing image")
        fresh()
        r = e2e.sctrace("verify", "--profile", os.path.join(e2e.SOURCE, "templates", "docker-default.json"),
                        "--", "docker", "run", "--rm", "--pull", "never", "--label", LABEL, missing, timeout=120)
        c.check(r.returncode == 2 and len(r.stderr_lines()) >= 1
                and any(l.startswith("sctrace: error: ") for l in r.stderr_lines()),
                "missing image: verify fails with exit 2 and an error line", r.describe())
        no_leftovers("missing image (verify)")

        # --- the daemon unreachable
        fresh()
        env = dict(os.environ, DOCKER_HOST=f"unix:///tmp/sctrace-nonexistent-{uuid.uuid4().hex[:8]}.sock")
        r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--label", LABEL, batch.tag,
                        timeout=120, env=env)
        check_one_line_error("daemon down", r, prof, r"daemon|docker|socket|connect")
        no_leftovers("daemon down")

        # --- an invalid docker flag
        fresh()
        r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--no-such-flag", "--label", LABEL,
                        batch.tag, timeout=120)
        check_one_line_error("invalid docker flag", r, prof, r"no-such-flag|unknown flag|flag")
        no_leftovers("invalid docker flag")

        # --- the container exits before the probed port is ready
        fresh()
        r = e2e.sctrace("run", "-o", prof, "--ready-timeout", "60", "--http-probe", "8080/", "--",
                        "docker", "run", "--rm", "--label", LABEL, "-p", "127.0.0.1::8080", batch.tag, timeout=180)
        c.check(r.returncode == 1, "container exits during probing: exit code 1", r.describe())
        c.check(re.search(r"^sctrace: .*exited", r.stderr, re.M) and not re.search(r"^sctrace: error", r.stderr,
                                                                                  re.M),
                "container exits during probing: the failure says the container exited", r.describe())
        c.check(r.elapsed < 50, f"container exits during probing: noticed before the ready timeout "
                                f"({r.elapsed:.1f}s < 50s)", r.describe())
        no_leftovers("container exits during probing")

        # --- the server never listens on the probed port
        fresh()
        r = e2e.sctrace("run", "-o", prof, "--recording", rec, "--ready-timeout", "3", "--http-probe", "8080/",
                        "--", "docker", "run", "--rm", "--label", LABEL, "-p", "127.0.0.1::8080", server.tag,
                        "9999", timeout=180)
        c.check(r.returncode == 1, "server on the wrong port: exit code 1", r.describe())
        c.check(re.search(r"^sctrace: .*8080.*not ready", r.stderr, re.M), "server on the wrong port: "
                "the failure names the port that was not ready", r.describe())
        c.check("listening on 9999" in r.stdout, "server on the wrong port: its output passed through",
                r.describe())
        rj = e2e.load_json(rec)
        c.check(rj is not None and rj.get("complete") is False,
                "server on the wrong port: the recording is marked incomplete",
                f"complete={(rj or {}).get('complete')!r}")
        no_leftovers("server on the wrong port")

        # --- exec probes: the exec'd program is traced too
        def exec_run(*probe_args):
            fresh()
            return e2e.sctrace("run", "-o", prof, "--recording", rec, "--http-probe", "8080/", *probe_args, "--",
                               "docker", "run", "--rm", "--label", LABEL, "-p", "127.0.0.1::8080", server.tag,
                               timeout=300)

        batch_only = {"mkdirat", "fsync", "unlinkat"}
        r = exec_run()
        base = e2e.recorded_names(e2e.load_json(rec))
        c.check(r.returncode == 0 and base and not (batch_only & base),
                f"control: without the exec probe the recording has none of {sorted(batch_only)}",
                r.describe() + f"\nrecorded: {sorted(base)}")
        no_leftovers("no exec probe")

        r = exec_run("--exec-probe", "/batch")
        recording = e2e.load_json(rec)
        names = e2e.recorded_names(recording)
        c.check(r.returncode == 0 and re.search(r"^sctrace: probe /batch: ok", r.stderr, re.M),
                "--exec-probe /batch runs and passes", r.describe())
        c.check(batch_only <= names, f"the exec'd batch's {sorted(batch_only)} are in the recording",
                f"missing: {sorted(batch_only - names)}")
        profile = e2e.load_json(prof)
        c.check(profile is not None and batch_only <= e2e.allowed_names(profile),
                "and the profile allows them", sorted(batch_only - e2e.allowed_names(profile or {})))
        c.check(recording is not None and recording.get("complete") is True, "the recording is complete",
                f"complete={(recording or {}).get('complete')!r}")
        no_leftovers("exec probe")

        r = exec_run("--exec-probe", "/batch --danger=no-such-danger")
        c.check(r.returncode == 1 and re.search(r"^sctrace: probe /batch --danger=no-such-danger: FAILED",
                                                r.stderr, re.M),
                "an exec probe that exits non-zero fails the run (exit 1)", r.describe())
        no_leftovers("failing exec probe")

        # --init: the engine's init (tini) runs as PID 1 above the sensor; its own calls must be in the profile
        # (they used to be missed: "[FATAL tini (1)] Failed to ignore SIGTTIN" under the profile), and the init's
        # mount point is no reason for --tmpfs /sbin.
        report = os.path.join(tmp, "init-report.json")
        fresh()
        init_line = ["docker", "run", "--rm", "--init", "--label", LABEL, "-p", "127.0.0.1::8080", server.tag]
        r = e2e.sctrace("run", "-o", prof, "--report-json", report, "--http-probe", "8080/", "--", *init_line,
                        timeout=300)
        c.check(r.returncode == 0, "--init: run records the service", r.describe())
        rep = e2e.load_json(report) or {}
        hardened = " ".join(rep.get("hardened_command") or [])
        c.check(hardened and "/sbin" not in hardened and "--read-only" in hardened,
                "--init: the hardened command is --read-only with no tmpfs for the init's mount point", hardened)
        r = e2e.sctrace("verify", "--profile", prof, "--http-probe", "8080/", "--", *init_line, timeout=300)
        c.check(r.returncode == 0 and "verify passed" in r.stderr,
                "--init: verify passes (tini under the profile starts the service, forwards docker stop's SIGTERM)",
                r.describe())
        no_leftovers("--init")

        # A container command that does not exist: 127 like docker run, one error line, for run and check.
        fresh()
        r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--entrypoint", "/no-such-command",
                        "--label", LABEL, server.tag, timeout=300)
        errs = [l for l in r.stderr_lines() if l.startswith("sctrace: error")]
        c.check(r.returncode == 127 and len(errs) == 1 and "not found" in errs[0],
                "a missing container command: exit 127 and one error line", r.describe())
        no_leftovers("missing container command")

        # --entrypoint "": every pass runs the given command, not the image's entrypoint again (verify's
        # enforced pass used to run http_server with /batch as its argument).
        fresh()
        ep_line = ["docker", "run", "--rm", "--entrypoint", "", "--label", LABEL, server.tag, "/batch"]
        r = e2e.sctrace("run", "-o", prof, "--", *ep_line, timeout=300)
        c.check(r.returncode == 0, "--entrypoint '': run records the given command", r.describe())
        r = e2e.sctrace("verify", "--profile", prof, "--", *ep_line, timeout=300)
        c.check(r.returncode == 0 and "verify passed" in r.stderr, "--entrypoint '': verify passes", r.describe())
        no_leftovers("--entrypoint ''")

        # --ip and --network-alias on a user network (endpoint settings, outside Config/HostConfig) reach the
        # traced container: a probe by that address works.
        net = f"sctrace-e2e-net-{uuid.uuid4().hex[:8]}"
        sub = 100 + uuid.uuid4().int % 100
        made = ct.run_docker("network", "create", "--subnet", f"172.29.{sub}.0/24", net, check=False)
        if c.check(made.returncode == 0, "a user network for --ip", made.stderr):
            try:
                probe = (f"{sys.executable} -c \"import urllib.request as u; "
                         f"assert u.urlopen('http://172.29.{sub}.50:8080/', timeout=5).status == 200\"")
                fresh()
                ip_line = ["docker", "run", "--rm", "--network", net, "--ip", f"172.29.{sub}.50",
                           "--network-alias", "sctrace-alias", "--label", LABEL, server.tag]
                r = e2e.sctrace("run", "-o", prof, "--wait-port", "8080", "--probe-cmd", probe, "--", *ip_line,
                                timeout=300)
                c.check(r.returncode == 0, "--ip: the traced container has the address it was given", r.describe())
                r = e2e.sctrace("verify", "--profile", prof, "--wait-port", "8080", "--probe-cmd", probe, "--",
                                *ip_line, timeout=300)
                c.check(r.returncode == 0 and "verify passed" in r.stderr, "--ip: verify passes", r.describe())
            finally:
                ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
                ct.run_docker("network", "rm", net, check=False)
        no_leftovers("--ip")

        # --cidfile names the container that ran (sctrace creates two: the user's line is created only to be
        # read back, then removed), as the started event says.
        cid = os.path.join(tmp, "cid.txt")
        since = int(time.time()) - 1
        fresh()
        only_this = f"sctrace-test-cid={uuid.uuid4().hex}"
        r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", "--cidfile", cid, "--label", LABEL,
                        "--label", only_this, batch.tag, timeout=300)
        ev = ct.run_docker("events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter",
                           "type=container", "--filter", "event=start", "--filter", f"label={only_this}",
                           "--format", "{{.Actor.ID}}", check=False)
        started = ev.stdout.split()
        written = open(cid).read().strip() if os.path.exists(cid) else None
        c.check(r.returncode == 0 and len(started) == 1 and written == started[0],
                f"--cidfile holds the ID of the container that ran ({written!r}, started {started})", r.describe())
        no_leftovers("cidfile")
finally:
    no_leftovers("at the end")
    for img in images:
        img.remove()

c.finish()
