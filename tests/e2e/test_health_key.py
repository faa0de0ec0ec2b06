"""Issue 16, defect 1: the healthcheck sensor's key and `docker run --init`.

With --init the engine's docker-init is PID 1: untraced, dumpable, with the
container's whole environment, so the workload reads both sensor keys from
/proc/1/environ. The main key is one-shot; the healthcheck's serves every
healthcheck run, so a workload holding it could send a correctly
authenticated "health" recording listing ptrace and process_vm_writev.

The workload here (samples/torture/plant steal) copies /proc/1/environ to a
shared directory; the test forges a health recording with the key it finds
there, and the workload, from inside the container, sends it to the channel.

- --init, forged health recording: the run fails and says the channel was
  tampered with; the forged calls are in no profile;
- --init, nothing forged: the genuine healthcheck's recording (its mkdirat)
  still arrives and the run exits 0;
- without --init: PID 1 is the sensor, whose environment holds no key and is
  unreadable; the genuine healthcheck's recording arrives.
"""
import hashlib
import hmac
import json
import os
import struct
import threading
import time
import uuid

import sctrace_e2e as e2e

c = e2e.Checks("health_key")
e2e.docker_usable(c, "health_key")
import containers as ct  # noqa: E402

PLANT = os.path.join(e2e.SAMPLES, "torture", "plant")
FORGED = {"ptrace", "process_vm_writev"}
CHANNEL = "/.sctrace-out/channel"
LABEL_VALUE = f"health-key-{uuid.uuid4().hex}"
LABEL = f"sctrace-test={LABEL_VALUE}"
FORGED_RECORDING = json.dumps({"sctrace_recording": 1, "complete": True, "syscalls": {"SCMP_ARCH_X86_64": {
    "ptrace": {"nr": 101, "count": 1}, "process_vm_writev": {"nr": 311, "count": 1}}}}).encode()


def frame(key, seq, final, body):
    """One frame as core/record_frame.h lays it out."""
    head = b"SCTRFRM1" + struct.pack("<QII", seq, 1 if final else 0, len(body))
    head += hmac.new(key, head, hashlib.sha256).digest()
    return head + body + hmac.new(key, head + body, hashlib.sha256).digest()


def keys_in(environ):
    out = {}
    for entry in environ.split(b"\0"):
        name, _, value = entry.partition(b"=")
        if name.startswith(b"SCTRACE_SENSOR_KEY") and len(value) == 64:
            out[name.decode()] = bytes.fromhex(value.decode())
    return out


def health_ran():
    """True once the traced container has a finished healthcheck run."""
    for cid in ct.containers_with_label("sctrace-test", LABEL_VALUE):
        try:
            st = ct.inspect(cid).get("State", {})
        except ct.DockerError:
            continue
        if st.get("Running") and (st.get("Health") or {}).get("Log"):
            return True
    return False


with e2e.tempdir("health-key") as tmp:
    prof, rec = os.path.join(tmp, "p.json"), os.path.join(tmp, "r.json")
    img = ct.build_scratch_image({"/plant": PLANT}, name="health-key", entrypoint=["/plant"],
                                 healthcheck='--interval=1s --timeout=30s CMD ["/plant", "dir", "/x/hc"]',
                                 dirs=(("tmp", 0o1777), ("x", 0o777)))

    def run(what, docker_opts, forge):
        """One traced run; the helper thread answers the workload. Returns
        (result, keys the workload found in /proc/1/environ or None)."""
        shared = os.path.join(tmp, what.replace(" ", "-"))
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        for p in (prof, rec):
            if os.path.lexists(p):
                os.unlink(p)
        found = {}

        def helper():
            deadline = time.monotonic() + 120
            env_file, err_file = os.path.join(shared, "environ"), os.path.join(shared, "environ.err")
            while time.monotonic() < deadline and not (os.path.exists(env_file) or os.path.exists(err_file)):
                time.sleep(0.05)
            if os.path.exists(env_file):
                with open(env_file, "rb") as f:
                    found["keys"] = keys_in(f.read())
            # The healthcheck's own recording must have been sent before the
            # workload ends the run.
            while time.monotonic() < deadline and not health_ran():
                time.sleep(0.2)
            key = found.get("keys", {}).get("SCTRACE_SENSOR_KEY_HEALTH")
            data = frame(key, 0, False, b"") + frame(key, 1, True, FORGED_RECORDING) if forge and key else b""
            with open(os.path.join(shared, ".frame"), "wb") as f:
                f.write(data)
            os.rename(os.path.join(shared, ".frame"), os.path.join(shared, "frame"))

        t = threading.Thread(target=helper)
        t.start()
        r = e2e.sctrace("run", "-o", prof, "--recording", rec, "--", "docker", "run", "--rm", "--label", LABEL,
                        "-v", f"{shared}:/x", *docker_opts, img.tag, "steal", "/proc/1/environ", "/x", CHANNEL,
                        timeout=240)
        t.join()
        print(r.stderr)
        return r, found.get("keys")

    def names(path, pick):
        data = e2e.load_json(path)
        return pick(data) if isinstance(data, dict) else set()

    try:
        # --- 1. --init: the workload holds the health key and sends a forged health recording
        r, keys = run("init forged", ["--init"], True)
        c.check(keys is not None and "SCTRACE_SENSOR_KEY_HEALTH" in keys,
                "--init: the workload reads the health key from docker-init's /proc/1/environ (the premise)",
                r.describe())
        c.check(not (FORGED & names(prof, e2e.allowed_names)) and not (FORGED & names(rec, e2e.recorded_names)),
                f"--init, forged health recording: the forged {sorted(FORGED)} reach neither profile nor recording",
                r.describe() + f"\nallowed: {sorted(names(prof, e2e.allowed_names))}")
        c.check(r.returncode not in (0, None) and "tampered" in r.stderr and "health" in r.stderr,
                "--init, forged health recording: the run fails and says the health stream was tampered with",
                r.describe())

        # --- 2. --init, nothing forged: the genuine healthcheck is still recorded
        r, keys = run("init genuine", ["--init"], False)
        c.check(r.returncode == 0 and "mkdirat" in names(rec, e2e.recorded_names),
                "--init, genuine healthcheck: exit 0, its mkdirat is in the recording", r.describe())

        # --- 3. no --init: PID 1 is the sensor, its environment gives nothing away
        r, keys = run("no init", [], True)
        c.check(not keys, "no --init: /proc/1/environ holds no sensor key for the workload",
                r.describe() + f"\nkeys: {sorted(keys or {})}")
        c.check(r.returncode == 0 and "mkdirat" in names(rec, e2e.recorded_names)
                and not (FORGED & names(prof, e2e.allowed_names)),
                "no --init: exit 0, the genuine healthcheck's mkdirat is recorded, nothing forged", r.describe())
        left = ct.containers_with_label("sctrace-test", LABEL_VALUE)
        c.check(not left, "no container left", "\n".join(left))
    finally:
        ct.remove_containers_with_label("sctrace-test", LABEL_VALUE)
        img.remove()

c.finish()
