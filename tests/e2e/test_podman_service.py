"""A podman service recorded through the seccomp agent, with probes.

`sctrace run --http-probe 8080/ --http-probe POST:8080/echo -- podman run -d -p ... <http_server image>`
with the default backend (auto), which must pick notify for podman and say so. Checks:
  - the probes pass, the container is stopped (SIGTERM: the shutdown path is
    recorded) and removed by sctrace, the recording is complete and holds the
    server's syscalls (accept4, bind, listen, signalfd4) and runc's own
    post-filter syscalls (capset, setgroups, prctl, ...);
  - the profile also carries the bundled runtime baseline (Go scheduler
    calls like nanosleep, sched_yield, tgkill depend on timing);
  - `podman run --security-opt seccomp=profile.json` with a real client
    (GET /, POST /echo, then stop -> exit 0) passes 10 times in a row;
  - the same profile works with `docker run --security-opt seccomp=`;
  - control: the profile without accept4 fails the client;
  - a service with no SIGTERM handler (idle, PID 1) stopped by sctrace after
    --duration: run exits 0 and reports the container's own status;
  - a SIGTERM while podman starts the container: 143, no error, nothing
    written before the container ran.
Containers are labelled with a unique label and removed by ID; images by ID.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

NAME = "podman_service"
ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
RUNC_POST_FILTER = {"capset", "capget", "setgroups", "prctl", "setuid", "setgid"}
SERVER = {"accept4", "bind", "listen", "signalfd4", "socket", "exit_group"}
LABEL_VALUE = f"{NAME}-{uuid.uuid4().hex}"
LABEL = f"sctrace-test={LABEL_VALUE}"

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)


def serve_once(cli, image, prof, extra=()):
    """Server under the profile, a client, a stop: (ok, problem)."""
    cid = None
    try:
        opts = ["--label", LABEL, "--security-opt", f"seccomp={prof}", "-p", "127.0.0.1::8080", *extra]
        cid = ct.run_detached(image, options=opts, docker=cli)
        hport = ct.published_port(cid, 8080, docker=cli)
        if not hport or not ct.wait_port(hport, timeout=20):
            return False, f"port 8080 (host {hport}) never answered; logs: {ct.logs(cid, docker=cli)}"
        problem = ""
        base = f"http://127.0.0.1:{hport}"
        got = ct.http_request(base + "/")
        if got != (200, b"hello"):
            problem += f"GET / -> {got!r}; "
        body = f"post-{uuid.uuid4().hex}".encode()
        got = ct.http_request(base + "/echo", data=body)
        if got != (200, body):
            problem += f"POST /echo -> {got!r}; "
        ct.run_docker("stop", "-t", "10", cid, docker=cli, timeout=60)
        code = ct.wait_exit(cid, timeout=60, docker=cli)
        if code != 0:
            problem += f"exit code {code}; logs: {ct.logs(cid, docker=cli)}"
        return not problem, problem
    except (ct.DockerError, OSError) as e:
        return False, f"{type(e).__name__}: {e}"
    finally:
        if cid:
            ct.remove_container(cid, docker=cli)


with e2e.tempdir(NAME) as tmp:
    server = e2e.sample("http_server")
    img = ct.build_scratch_image({"/http_server": server}, name="podman-service", entrypoint=["/http_server"],
                                 expose=[8080], docker="podman")
    prof = os.path.join(tmp, "profile.json")
    rec_path = os.path.join(tmp, "rec.json")
    try:
        r = e2e.sctrace("run", "-o", prof, "--recording", rec_path, "--http-probe", "8080/",
                        "--http-probe", "POST:8080/echo", "--", "podman", "run", "-d", "--label", LABEL,
                        "-p", "127.0.0.1::8080", img.id, timeout=240)
        c.check(r.returncode == 0, "sctrace run (auto) -- podman run -d <service> exits 0", r.describe())
        c.check("sctrace: backend notify (auto: podman passes listenerPath" in r.stderr,
                "auto picks notify for podman and says why", r.describe())
        c.check("probe 8080/: ok" in r.stderr and "probe POST:8080/echo: ok" in r.stderr, "both probes passed",
                r.describe())
        left = ct.containers_with_label("sctrace-test", LABEL_VALUE, docker="podman")
        c.check(left == [], "sctrace removed the container it recorded", str(left))
        rec = e2e.load_json(rec_path)
        profile = e2e.load_json(prof)
        if not c.check(isinstance(rec, dict) and isinstance(profile, dict), "recording and profile are JSON"):
            c.finish()
        names = e2e.recorded_names(rec)
        c.check(rec.get("backend") == "notify" and rec.get("complete") is True, "recording: backend notify, complete",
                json.dumps({k: rec.get(k) for k in ("backend", "complete")}))
        c.check(SERVER <= names, f"recording has the server's syscalls {sorted(SERVER)}",
                f"missing {sorted(SERVER - names)}; recorded {sorted(names)}")
        c.check(RUNC_POST_FILTER <= names, "recording has runc's post-filter syscalls",
                f"missing {sorted(RUNC_POST_FILTER - names)}")
        text = json.dumps(profile)
        c.check("listenerPath" not in profile and "SCMP_ACT_NOTIFY" not in text,
                "profile has no listenerPath and no SCMP_ACT_NOTIFY")
        allowed = e2e.allowed_names(profile)
        ok, last = 0, ""
        for i in range(10):
            passed, problem = serve_once("podman", img.id, prof, ULIMITS)
            ok += passed
            last = problem or last
        c.check(ok == 10, f"podman run with the profile and a client: {ok} of 10 runs ok", last)

        crippled = dict(profile)
        crippled["syscalls"] = [dict(rule, names=[n for n in rule["names"] if n != "accept4"])
                                for rule in profile["syscalls"]]
        crippled["syscalls"] = [rule for rule in crippled["syscalls"] if rule["names"]]
        bad = os.path.join(tmp, "no-accept4.json")
        with open(bad, "w") as f:
            json.dump(crippled, f)
        passed, problem = serve_once("podman", img.id, bad, ULIMITS)
        c.check(not passed, "control: the profile without accept4 fails the client", problem)
    finally:
        ct.remove_containers_with_label("sctrace-test", LABEL_VALUE, docker="podman")
        img.remove()

    if ct.docker_available():
        dimg = ct.build_scratch_image({"/http_server": server}, name="podman-service", entrypoint=["/http_server"],
                                      expose=[8080])
        try:
            passed, problem = serve_once(ct.DOCKER, dimg.id, prof)
            c.check(passed, "docker run with the podman-recorded profile and a client works", problem)
        finally:
            ct.remove_containers_with_label("sctrace-test", LABEL_VALUE, docker=ct.DOCKER)
            dimg.remove()
    else:
        c.check(False, "docker is available for the docker run check")

    # A service with no SIGTERM handler as PID 1 (idle ignores the stop's
    # SIGTERM and is SIGKILLed, 137), stopped by sctrace after --duration:
    # its own status, reported; run exits 0 (issue 16, defect 15).
    iimg = ct.build_scratch_image({"/idle": e2e.sample("idle")}, name="podman-idle", entrypoint=["/idle"],
                                  docker="podman")
    try:
        iprof = os.path.join(tmp, "idle.json")
        irec = os.path.join(tmp, "idle.rec.json")
        r = e2e.sctrace("run", "-o", iprof, "--recording", irec, "--duration", "1", "--", "podman", "run", "--rm",
                        "--label", LABEL, iimg.id, timeout=120)
        c.check(r.returncode == 0, f"planned stop: run exits 0 though the service died of sctrace's stop "
                f"(got {r.returncode})", r.describe())
        c.check(re.search(r"the container exited 1[34][37]\b.* when sctrace stopped it", r.stderr),
                "planned stop: the container's own status is reported", r.describe())
        irecording = e2e.load_json(irec)
        c.check(isinstance(irecording, dict) and irecording.get("complete") is True,
                "planned stop: the recording is complete", r.describe())

        # A SIGTERM while podman is still starting the container is an
        # interrupted run: 143, nothing written before it ran (issue 16,
        # defect 12: it was exit 2, "podman exited with 143 without starting
        # a container").
        bad = []
        for delay in [0.02 + i * 0.025 for i in range(14)]:
            eprof = os.path.join(tmp, f"early-{delay:.3f}.json")
            proc = subprocess.Popen([e2e.SCTRACE, "run", "-o", eprof, "--", "podman", "run", "--rm", "--label",
                                     LABEL, iimg.id], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            text = err.decode(errors="replace")
            # Nothing written unless the container ran (then marked incomplete).
            written_ok = not os.path.exists(eprof) or "(incomplete recording)" in text
            if proc.returncode not in (143, -signal.SIGTERM) or not written_ok or "error" in text:
                bad.append(f"SIGTERM after {delay:.3f}s: exit {proc.returncode}, profile written "
                           f"{os.path.exists(eprof)}: {text.strip()[-400:]}")
        c.check(not bad, "a SIGTERM while the container starts: exit 143, no error, nothing written before it ran", "\n".join(bad))
        # Not checked yet: a container podman created before it wrote the
        # cidfile is left (no owner label on the agent path until issue 16's
        # defect 6 lands); removed by label below.
    finally:
        ct.remove_containers_with_label("sctrace-test", LABEL_VALUE, docker="podman")
        iimg.remove()

c.finish()
