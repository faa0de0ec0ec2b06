"""Issue 16, defects 1-3: the in-container sensor's recording channel, tried
from inside the container by a hostile workload (samples/torture/plant).

- forgery: a recording listing ptrace and process_vm_writev, written to every
  place the workload can find (the out dir's old recording names, the same
  through /proc/1/root, the channel itself, plain and dressed as a frame),
  from the entrypoint and from an exec probe: none of it reaches the
  recording or the profile, the refused peers are named, and the genuine
  recordings (the entrypoint's and the exec probe's) are still used;
- disk fill: a --read-only container writing 100 MiB wherever the channel
  lives: refused, and sctrace's $TMPDIR never grows past a few KiB;
- planted files: a symlink, a FIFO, a directory and garbage planted at the
  old recording names and at the channel's path do not cancel the run: the
  workload's own recording and profile are written.
"""
import json
import os
import threading
import uuid

import sctrace_e2e as e2e

c = e2e.Checks("recording_channel")
e2e.docker_usable(c, "recording_channel")
import containers as ct  # noqa: E402

PLANT = os.path.join(e2e.SAMPLES, "torture", "plant")
SERVER = e2e.sample("http_server")
FORGED = {"ptrace", "process_vm_writev"}
OUT = "/.sctrace-out"
LABEL_VALUE = f"channel-{uuid.uuid4().hex}"
LABEL = f"sctrace-test={LABEL_VALUE}"


def tree_bytes(root):
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


with e2e.tempdir("channel") as tmp:
    private_tmp = os.path.join(tmp, "ctmp")
    os.mkdir(private_tmp)
    env = dict(os.environ, TMPDIR=private_tmp)
    prof, rec = os.path.join(tmp, "p.json"), os.path.join(tmp, "r.json")
    img = ct.build_scratch_image({"/plant": PLANT, "/http_server": SERVER}, name="channel",
                                 entrypoint=["/plant"])
    server = ct.build_scratch_image({"/plant": PLANT, "/http_server": SERVER}, name="channel-server",
                                    entrypoint=["/http_server"], expose=[8080])

    def fresh():
        for p in (prof, rec):
            if os.path.lexists(p):
                os.unlink(p)

    def run(docker_opts, args, *extra, image=None, timeout=180):
        fresh()
        return e2e.sctrace("run", "-o", prof, "--recording", rec, *extra, "--", "docker", "run", "--rm",
                           "--label", LABEL, *docker_opts, (image or img).tag, *args, timeout=timeout, env=env)

    def no_leftovers(what):
        left = ct.containers_with_label("sctrace-test", LABEL_VALUE)
        c.check(not left, f"{what}: no container left", "\n".join(left))
        c.check(not os.listdir(private_tmp), f"{what}: nothing left in TMPDIR", str(os.listdir(private_tmp)))

    def not_forged(what, r):
        recording = e2e.load_json(rec)
        names = e2e.recorded_names(recording) if isinstance(recording, dict) else set()
        c.check(isinstance(recording, dict) and not (FORGED & names),
                f"{what}: the forged {sorted(FORGED)} are not in the recording", r.describe())
        profile = e2e.load_json(prof)
        allowed = e2e.allowed_names(profile) if isinstance(profile, dict) else set()
        c.check(isinstance(profile, dict) and not (FORGED & allowed),
                f"{what}: the forged {sorted(FORGED)} are not allowed by the profile",
                r.describe() + f"\nallowed: {sorted(FORGED & allowed)}")
        return names

    try:
        # --- 1. forgery from the entrypoint
        targets = [f"{OUT}/main.json", f"{OUT}/zz.json", f"/proc/1/root{OUT}/zz2.json", f"{OUT}/channel",
                   f"/proc/1/root{OUT}/channel"]
        r = run([], ["forge", *targets])
        print(r.stderr)
        names = not_forged("forged recording", r)
        c.check({"execve", "exit_group"} <= names and "openat" in names,
                "forged recording: the sensor's genuine recording is used (the plant's own openat is in it)",
                json.dumps(sorted(names)))
        refused = "refused" in r.stderr or "tampered" in r.stderr
        c.check((r.returncode == 0 and refused) or (r.returncode not in (0, None) and "tamper" in r.stderr),
                "forged recording: the run says what it refused (exit 0) or that it detected tampering (exit != 0)",
                r.describe())
        no_leftovers("forged recording")

        # --- 1b. forgery from an exec probe of a service; the probe's own recording still arrives
        r = run(["-p", "127.0.0.1::8080"], [], "--http-probe", "8080/", "--exec-probe",
                "/plant forge " + " ".join(targets), image=server, timeout=300)
        print(r.stderr)
        names = not_forged("forged from an exec probe", r)
        c.check("connect" in names and "accept4" in names,
                "forged from an exec probe: both the server's and the exec probe's recordings are used",
                json.dumps(sorted(names)))
        c.check(r.returncode == 0 and "refused" in r.stderr,
                "forged from an exec probe: exit 0, the refused peers named", r.describe())
        no_leftovers("forged from an exec probe")

        # --- 2. disk fill from a --read-only container
        peak = [0]
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], tree_bytes(private_tmp))
                done.wait(0.05)

        t = threading.Thread(target=watch)
        t.start()
        try:
            r = run(["--read-only"], ["fill", f"{OUT}/fill", "100"])
            r2 = run(["--read-only", "--entrypoint", "/plant"], ["fill", f"/proc/1/root{OUT}/fill", "100"])
        finally:
            done.set()
            t.join()
        print(r.stderr + r2.stderr)
        c.check(peak[0] < 1 << 20, f"--read-only container writing 100 MiB: TMPDIR never grew past 1 MiB "
                f"(peak {peak[0]} bytes)", r.describe() + "\n" + r2.describe())
        c.check("filled 100 MiB" not in r.stderr + r2.stderr,
                "--read-only container writing 100 MiB: the writes fail", r.describe() + "\n" + r2.describe())
        c.check(r.returncode == 0 and isinstance(e2e.load_json(prof), dict),
                "--read-only container writing 100 MiB: the run completes, profile written", r.describe())
        no_leftovers("disk fill")

        # --- 3. planted files where recordings were and where the channel is
        plants = [("symlink", ["symlink", "/etc/passwd", f"{OUT}/zz.json"], "symlinkat"),
                  ("FIFO", ["fifo", f"{OUT}/zz.json"], "mknodat"),
                  ("directory", ["dir", f"{OUT}/main.json"], "mkdirat"),
                  ("garbage", ["garbage", f"{OUT}/zz.json"], "openat"),
                  ("symlink over the channel", ["symlink", "/etc/passwd", f"{OUT}/channel"], "symlinkat"),
                  ("directory over the channel", ["dir", f"{OUT}/channel"], "mkdirat")]
        for what, args, call in plants:
            r = run([], args)
            recording = e2e.load_json(rec)
            c.check(r.returncode != 2 and isinstance(recording, dict) and isinstance(e2e.load_json(prof), dict)
                    and call in e2e.recorded_names(recording),
                    f"planted {what}: the run is not cancelled; the workload's {call} is recorded", r.describe())
            no_leftovers(f"planted {what}")
    finally:
        ct.remove_containers_with_label("sctrace-test", LABEL_VALUE)
        img.remove()
        server.remove()

c.finish()
