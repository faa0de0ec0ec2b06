"""`sctrace run -- runc run -b BUNDLE ID`: an OCI bundle recorded through listenerPath.

The bundle (rootfs with the static sample, config.json from `runc spec`) is
not changed: sctrace runs runc on a private copy of config.json whose
linux.seccomp is the recording profile. Checks:
  - default backend (auto) picks notify for runc, the sample runs and its
    output passes through, the container is gone afterwards;
  - the recording holds the sample's syscalls and runc's own post-filter
    syscalls (capset, setgroups, ... with noNewPrivileges false);
  - the bundle's config.json is byte-for-byte unchanged;
  - the profile works: the same binary in podman under it runs, and the
    profile without `openat` (which static_basic needs) fails it;
  - with "noNewPrivileges": true in the bundle, runc's credential calls are
    not in the recording (they happen before the filter).
"""
import hashlib
import json
import os
import shutil
import subprocess
import uuid

import containers as ct
import sctrace_e2e as e2e

NAME = "runc"
RUNC_POST_FILTER = {"capset", "capget", "setgroups", "setuid", "setgid", "prctl"}
WORKLOAD = {"getpid", "openat", "read", "close", "exit_group"}
ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]

if shutil.which("runc") is None:
    e2e.skip(NAME, "runc is not installed")

c = e2e.Checks(NAME)
exe = e2e.sample("static_basic")


def make_bundle(path, nnp=False):
    os.makedirs(os.path.join(path, "rootfs"))
    shutil.copy(exe, os.path.join(path, "rootfs", "static_basic"))
    subprocess.run(["runc", "spec", "--bundle", path], check=True)
    cfg_path = os.path.join(path, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["process"]["args"] = ["/static_basic"]
    cfg["process"]["terminal"] = False
    cfg["process"]["noNewPrivileges"] = nnp
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


with e2e.tempdir(NAME) as tmp:
    bundle = os.path.join(tmp, "bundle")
    make_bundle(bundle)
    before = digest(os.path.join(bundle, "config.json"))
    prof = os.path.join(tmp, "profile.json")
    rec_path = os.path.join(tmp, "rec.json")
    cid = f"sctrace-e2e-{uuid.uuid4().hex[:12]}"
    r = e2e.sctrace("run", "-o", prof, "--recording", rec_path, "--", "runc", "run", "-b", bundle, cid, timeout=120)
    c.check(r.returncode == 0 and "static_basic: ok" in r.stdout, "sctrace run -- runc run -b BUNDLE ID: exit 0, "
            "output passes through", r.describe())
    c.check("sctrace: backend notify (" in r.stderr, "runc is recorded with the notify backend", r.describe())
    c.check(digest(os.path.join(bundle, "config.json")) == before, "the bundle's config.json is unchanged")
    state = e2e.run(["runc", "state", cid])
    c.check(state.returncode != 0, "the container is gone afterwards", state.describe())
    rec = e2e.load_json(rec_path)
    names = e2e.recorded_names(rec)
    c.check(isinstance(rec, dict) and rec.get("backend") == "notify" and rec.get("complete") is True,
            "recording: backend notify, complete", json.dumps({k: (rec or {}).get(k) for k in ("backend", "complete")}))
    c.check(WORKLOAD <= names, f"recording has the sample's syscalls {sorted(WORKLOAD)}",
            f"missing {sorted(WORKLOAD - names)}")
    c.check(RUNC_POST_FILTER <= names, "recording has runc's post-filter syscalls",
            f"missing {sorted(RUNC_POST_FILTER - names)}")

    # The profile enforced (podman runs runc with it).
    profile = e2e.load_json(prof)
    if shutil.which("podman") and isinstance(profile, dict):
        img = ct.build_scratch_image({"/static_basic": exe}, name="runc", cmd=["/static_basic"], docker="podman")
        try:
            r = e2e.run(["podman", "run", "--rm", "--security-opt", f"seccomp={prof}", *ULIMITS, img.id,
                         "/static_basic"], timeout=120)
            c.check(r.returncode == 0 and "static_basic: ok" in r.stdout, "the runc-recorded profile runs the "
                    "sample in podman", r.describe())
            crippled = dict(profile)
            crippled["syscalls"] = [dict(rule, names=[n for n in rule["names"] if n != "openat"])
                                    for rule in profile["syscalls"]]
            crippled["syscalls"] = [rule for rule in crippled["syscalls"] if rule["names"]]
            bad = os.path.join(tmp, "no-openat.json")
            with open(bad, "w") as f:
                json.dump(crippled, f)
            r = e2e.run(["podman", "run", "--rm", "--security-opt", f"seccomp={bad}", *ULIMITS, img.id,
                         "/static_basic"], timeout=120)
            c.check(r.returncode != 0 and "static_basic: ok" not in r.stdout,
                    "control: the profile without openat fails the sample", r.describe())
        finally:
            img.remove()

    # noNewPrivileges true: runc sets credentials before the filter.
    nnp_bundle = os.path.join(tmp, "bundle-nnp")
    make_bundle(nnp_bundle, nnp=True)
    rec2 = os.path.join(tmp, "rec2.json")
    r = e2e.sctrace("run", "--backend", "notify", "-o", os.path.join(tmp, "p2.json"), "--recording", rec2, "--",
                    "runc", "run", "--bundle", nnp_bundle, cid + "-nnp", timeout=120)
    c.check(r.returncode == 0 and "static_basic: ok" in r.stdout, "noNewPrivileges bundle: exit 0", r.describe())
    names2 = e2e.recorded_names(e2e.load_json(rec2))
    c.check(WORKLOAD <= names2 and not ({"capset", "setgroups", "setuid"} & names2),
            "noNewPrivileges bundle: the sample's syscalls, no credential calls after the filter", sorted(names2))

c.finish()
