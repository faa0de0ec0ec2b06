"""Recording a podman container through runc's seccomp agent (listenerPath).

`sctrace run --backend notify -- podman run ...` runs the container under a
profile whose allowed syscalls are SCMP_ACT_NOTIFY with listenerPath set to
sctrace's socket; every notification is recorded and let through. Checks:
  - the workload runs (exit 0, its output passes through), the recording says
    backend "notify" and holds runc's own syscalls after its filter
    (capset, setgroups, prctl, setuid, setgid, capget: no sensor could see
    them) as well as the workload's, and `write` (which runc cannot notify);
  - the profile has no listenerPath and no SCMP_ACT_NOTIFY left;
  - the profile works with `podman run --security-opt seccomp=...` 10 times
    and with `docker run --security-opt seccomp=...`;
  - control: the same profile without `capset` makes podman fail, so the
    recorded runc syscalls are needed (the checks above can fail).
Images come from `podman import` / `docker import` of the static sample and
are removed by ID; containers run with --rm and a --cidfile so that one left
behind by a timeout is removed by ID too.
"""
import json
import os
import shutil

import containers
import sctrace_e2e as e2e

NAME = "podman_notify"
ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
RUNC_POST_FILTER = {"capset", "capget", "setgroups", "prctl", "setuid", "setgid"}
WORKLOAD = {"getpid", "openat", "read", "close", "exit_group", "execve"}

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)
exe = e2e.sample("static_basic")


class Cids:
    """--cidfile paths handed out; every container they name is removed at the end."""

    def __init__(self, tmp):
        self.tmp, self.n, self.files = tmp, 0, []

    def new(self):
        self.n += 1
        path = os.path.join(self.tmp, f"cid{self.n}")
        self.files.append(path)
        return path

    def cleanup(self, cli):
        for f in self.files:
            cid = (e2e.read_bytes(f) or b"").decode().strip()
            if cid:
                containers.run_docker("rm", "-f", cid, docker=cli, check=False)


with e2e.tempdir(NAME) as tmp:
    cids = Cids(tmp)
    img = containers.build_scratch_image({"/static_basic": exe}, name="podman-notify", cmd=["/static_basic"],
                                         docker="podman")
    try:
        prof = os.path.join(tmp, "profile.json")
        rec_path = os.path.join(tmp, "rec.json")
        r = e2e.sctrace("run", "--backend", "notify", "-o", prof, "--recording", rec_path, "--",
                        "podman", "run", "--rm", "--cidfile", cids.new(), img.id, "/static_basic", timeout=180)
        c.check(r.returncode == 0, "sctrace run --backend notify -- podman run exits 0", r.describe())
        c.check("static_basic: ok" in r.stdout, "the container's stdout passes through", r.describe())
        c.check("sctrace: backend notify (" in r.stderr, "says 'sctrace: backend notify (...)'", r.describe())
        rec = e2e.load_json(rec_path)
        profile = e2e.load_json(prof)
        if not c.check(isinstance(rec, dict) and isinstance(profile, dict), "recording and profile are JSON",
                       r.describe()):
            c.finish()
        names = e2e.recorded_names(rec)
        c.check(rec.get("backend") == "notify" and rec.get("complete") is True,
                "recording: backend notify, complete", json.dumps({k: rec.get(k) for k in ("backend", "complete")}))
        c.check(RUNC_POST_FILTER <= names, f"recording has runc's post-filter syscalls {sorted(RUNC_POST_FILTER)}",
                f"missing {sorted(RUNC_POST_FILTER - names)}; recorded {sorted(names)}")
        c.check(WORKLOAD <= names, f"recording has the workload's syscalls {sorted(WORKLOAD)}",
                f"missing {sorted(WORKLOAD - names)}")
        c.check("write" in names, "recording has write (added: runc cannot notify it)")
        text = json.dumps(profile)
        c.check("listenerPath" not in profile and "SCMP_ACT_NOTIFY" not in text,
                "profile has no listenerPath and no SCMP_ACT_NOTIFY")
        allowed = e2e.allowed_names(profile)
        c.check(RUNC_POST_FILTER <= allowed, "profile allows runc's post-filter syscalls",
                f"missing {sorted(RUNC_POST_FILTER - allowed)}")
        c.check(not {"ptrace", "unshare", "bpf", "keyctl", "mount"} & allowed,
                "profile allows none of ptrace/unshare/bpf/keyctl/mount")
        agent_dir = None
        for line in r.stderr.splitlines():
            if "seccomp agent at " in line:
                agent_dir = os.path.dirname(line.split("seccomp agent at ", 1)[1].split(";")[0])
        c.check(agent_dir is not None and not os.path.exists(agent_dir),
                "the agent's private directory is gone after the run", str(agent_dir))

        ok = 0
        last = None
        for i in range(10):
            last = e2e.run(["podman", "run", "--rm", "--cidfile", cids.new(), "--security-opt", f"seccomp={prof}",
                            *ULIMITS, img.id, "/static_basic"], timeout=120)
            if last.returncode == 0 and "static_basic: ok" in last.stdout:
                ok += 1
        c.check(ok == 10, f"podman run with the profile: {ok} of 10 runs ok", last.describe() if last else None)

        # Control: without capset runc cannot set the container's capabilities.
        crippled = dict(profile)
        crippled["syscalls"] = [dict(rule, names=[n for n in rule["names"] if n != "capset"])
                                for rule in profile["syscalls"]]
        crippled["syscalls"] = [rule for rule in crippled["syscalls"] if rule["names"]]
        bad = os.path.join(tmp, "no-capset.json")
        with open(bad, "w") as f:
            json.dump(crippled, f)
        r = e2e.run(["podman", "run", "--rm", "--cidfile", cids.new(), "--security-opt", f"seccomp={bad}",
                     *ULIMITS, img.id, "/static_basic"], timeout=120)
        c.check(r.returncode not in (0, None) and "static_basic: ok" not in r.stdout,
                "control: the profile without capset fails in podman", r.describe())
    finally:
        cids.cleanup("podman")
        img.remove()

    if containers.docker_available():
        dimg = containers.build_scratch_image({"/static_basic": exe}, name="podman-notify", cmd=["/static_basic"])
        try:
            r = e2e.run([containers.DOCKER, "run", "--rm", "--cidfile", cids.new(), "--security-opt",
                         f"seccomp={prof}", dimg.id, "/static_basic"], timeout=120)
            c.check(r.returncode == 0 and "static_basic: ok" in r.stdout,
                    "docker run with the podman-recorded profile works", r.describe())
        finally:
            cids.cleanup(containers.DOCKER)
            dimg.remove()
    else:
        c.check(False, "docker is available for the docker run check")

c.finish()
