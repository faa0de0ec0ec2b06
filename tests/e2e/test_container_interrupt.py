"""Ctrl-C during a container-mode run.

`sctrace run --http-probe 8080/ --duration 30 -- docker run ... http_server`
gets SIGINT about 2 s after its probes ran. It must stop within 15 s (not
wait out the 30 s), write a valid JSON profile and a recording marked
"complete": false, and leave no container behind (found by the unique label
and --name this test gives it).

Interrupts early in the run (while docker creates the container, while
sctrace re-creates it, while it starts) end it the same way: exit 130, no
container, no session directory left, and a profile that was already at the
-o path is left as it was (the incomplete result goes beside it).

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import os
import signal
import subprocess
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("container_interrupt")

e2e.docker_usable(c, "container_interrupt")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"interrupt-{uuid.uuid4().hex}"
NAME = ct.unique_name("sctrace-e2e-interrupt")


image = None
proc = None
try:
    image = ct.build_scratch_image({"/http_server": e2e.sample("http_server")}, name="interrupt",
                                   entrypoint=["/http_server"], expose=[8080])
    with e2e.tempdir("container-interrupt") as tmp:
        # Early interrupts, at several points of the set-up.
        session_tmp = os.path.join(tmp, "sessions")
        os.mkdir(session_tmp)
        kept = os.path.join(tmp, "kept.json")
        for delay in (0.02, 0.05, 0.08, 0.12, 0.2, 0.35, 0.6):
            with open(kept, "w") as f:
                f.write('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}\n')
            before = open(kept).read()
            argv = [e2e.SCTRACE, "run", "-o", kept, "--recording", os.path.join(tmp, "kept.rec.json"),
                    "--http-probe", "8080/", "--duration", "30", "--",
                    "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", "-p", "127.0.0.1::8080",
                    image.tag]
            early = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, "TMPDIR": session_tmp})
            time.sleep(delay)
            res = e2e.signal_and_wait(early, signal.SIGINT, 60)
            # Killed by the signal itself is fine too while nothing exists yet (a shell says 130 for both).
            c.check(res.returncode in (128 + signal.SIGINT, -signal.SIGINT),
                    f"SIGINT {delay:.2f}s after the start: exit code 130 (got {res.returncode})", res.describe())
            c.check("sctrace: error" not in res.stderr, f"SIGINT after {delay:.2f}s: no error line", res.describe())
            left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
            c.check(not left, f"SIGINT after {delay:.2f}s: no container left", "\n".join(left))
            ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
            c.check(not os.listdir(session_tmp), f"SIGINT after {delay:.2f}s: no session directory left",
                    str(os.listdir(session_tmp)))
            c.check(open(kept).read() == before, f"SIGINT after {delay:.2f}s: the existing profile is left as it was",
                    res.describe())

        prof = os.path.join(tmp, "p.json")
        rec = os.path.join(tmp, "r.json")
        argv = [e2e.SCTRACE, "run", "-o", prof, "--recording", rec, "--http-probe", "8080/",
                "--http-probe", "POST:8080/echo", "--duration", "30", "--",
                "docker", "run", "--rm", "--name", NAME, "--label", f"{LABEL_KEY}={LABEL_VALUE}",
                "-p", "127.0.0.1::8080", image.tag]
        print("$ " + " ".join(argv))
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watch = e2e.StreamWatch(proc)
        err_lines, out_lines = watch.err, watch.out

        # Wait until the probes ran (the POST one is the last).
        probed = watch.wait_for(r"sctrace: probe POST:8080/echo: ok", 90)
        if not c.check(probed, "the probes ran and passed before the interrupt", watch.tail()):
            raise RuntimeError("no probe")
        c.check(bool(ct.containers_with_label(LABEL_KEY, LABEL_VALUE)),
                "the traced container is running (found by its label)")
        time.sleep(2)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - sent
        watch.drain()
        detail = f"exit code {rc}, {took:.1f}s after SIGINT, {time.monotonic() - start:.1f}s in all\nstderr:\n" \
                 + "".join(err_lines[-40:]) + "stdout:\n" + "".join(out_lines[-20:])
        c.check(rc is not None and took <= 15, f"sctrace exits within 15 s of SIGINT ({took:.1f}s, exit {rc})",
                detail)
        c.check(rc is not None and rc != 2 and not any(l.startswith("sctrace: error") for l in err_lines),
                "no sctrace error on the way out (exit code not 2)", detail)
        profile = e2e.load_json(prof)
        c.check(isinstance(profile, dict) and profile.get("defaultAction") and profile.get("syscalls"),
                "the profile file is valid JSON with rules", repr(e2e.read_bytes(prof))[:500])
        recording = e2e.load_json(rec)
        c.check(isinstance(recording, dict) and recording.get("complete") is False,
                'the recording says "complete": false',
                f"complete={(recording or {}).get('complete')!r}" if recording else repr(e2e.read_bytes(rec))[:500])
        names = e2e.recorded_names(recording)
        c.check({"accept4", "bind", "listen"} <= names, "the recording has what the server did before the stop",
                sorted(names))
        c.check(any("interrupt" in l for l in err_lines), "sctrace says it was interrupted", detail)
        c.check(rc == 128 + signal.SIGINT, f"exit code 130 like a shell after SIGINT (got {rc})", detail)

        # verify stops at a Ctrl-C too: no second pass, no verdict.
        vargv = [e2e.SCTRACE, "verify", "--profile", prof, "--http-probe", "8080/", "--duration", "30", "--",
                 "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", "-p", "127.0.0.1::8080", image.tag]
        vproc = subprocess.Popen(vargv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        vwatch = e2e.StreamWatch(vproc)
        vwatch.wait_for(r"sctrace: probe 8080/: ok", 90)
        vproc.send_signal(signal.SIGINT)
        try:
            vrc = vproc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            vproc.kill()
            vrc = vproc.wait()
        vwatch.drain()
        vdetail = "".join(vwatch.err[-30:])
        c.check(vrc == 128 + signal.SIGINT, f"verify: exit code 130 after SIGINT in pass 1 (got {vrc})", vdetail)
        c.check(not any("verify pass 2" in l or "verify FAILED" in l or "verify passed" in l for l in vwatch.err),
                "verify: no second pass and no verdict after the interrupt", vdetail)
        c.check(not ct.containers_with_label(LABEL_KEY, LABEL_VALUE), "verify: no container left after SIGINT")

        # --timeout stops a service that would otherwise run for its --duration.
        tprof = os.path.join(tmp, "t.json")
        trec = os.path.join(tmp, "t.rec.json")
        targv = [e2e.SCTRACE, "run", "-o", tprof, "--recording", trec, "--http-probe", "8080/", "--duration", "30",
                 "--timeout", "3", "--", "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}",
                 "-p", "127.0.0.1::8080", image.tag]
        res = e2e.run(targv, timeout=60)
        c.check(res.returncode == 124 and res.elapsed < 20,
                f"--timeout 3 stops the service: exit 124 in {res.elapsed:.1f}s (got {res.returncode})",
                res.describe())
        trecording = e2e.load_json(trec)
        c.check(isinstance(trecording, dict) and trecording.get("complete") is False,
                'the timed-out recording says "complete": false', res.describe())
except RuntimeError:
    pass
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    named = ct.run_docker("ps", "-a", "-q", "--filter", f"name=^/{NAME}$", check=False).stdout.split()
    c.check(not left and not named, f"no container of this run is left (label {LABEL_VALUE}, name {NAME})",
            "\n".join(left + named))
    ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
    if image:
        image.remove()

c.finish()
