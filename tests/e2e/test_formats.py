"""`run --format docker|podman|oci|k8s`: each output loads in its consumer.

The profile of the static sample static_basic is written in every format and
handed to the program that reads that format here:
  docker  docker run --security-opt seccomp=FILE (FROM-scratch image)
  podman  podman run --security-opt seccomp=FILE (same rootfs, podman import)
  oci     runc run on a bundle whose config.json has it as linux.seccomp
  k8s     the CRD's shape is a unit test (tests/unit/profile/test_formats.cc); the
          plain JSON beside it (kubelet's localhostProfile) goes to docker.
Each consumer must run the sample to "static_basic: ok" under the profile,
and --danger=ptrace must get EPERM (proof the profile was loaded, not
ignored). A consumer that is missing here is skipped loudly, unless CI=true.
"""
import json
import os
import shutil
import subprocess
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("formats")
CI = os.environ.get("CI") == "true"
PODMAN_ULIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"]
EXE = e2e.sample("static_basic")


def unavailable(what, detail):
    if CI:
        c.check(False, f"{what} is usable (CI=true: cannot skip)", detail)
    else:
        print("#" * 72 + f"\nSKIP {what}: {detail}\n" + "#" * 72)


def check_runs(label, argv, timeout=120):
    r = e2e.run(argv, timeout=timeout)
    c.check(r.returncode == 0 and "static_basic: ok" in r.stdout, f"{label}: the sample runs under the profile",
            r.describe())
    r = e2e.run(argv + ["--danger=ptrace"], timeout=timeout)
    c.check("danger ptrace: EPERM" in r.stdout, f"{label}: ptrace gets EPERM (the runtimes' default profiles allow it: ours is in force)",
            r.describe())


with e2e.tempdir("formats") as tmp:
    out = {}
    for fmt, name in (("docker", "p.docker.json"), ("podman", "p.podman.json"), ("oci", "p.oci.json"),
                      ("k8s", "p.k8s.yaml")):
        path = os.path.join(tmp, name)
        r = e2e.sctrace("run", "--format", fmt, "-o", path, "--", EXE)
        c.check(r.returncode == 0 and os.path.exists(path), f"run --format {fmt} writes {name}", r.describe())
        out[fmt] = path
    docker_json = e2e.load_json(out["docker"])
    c.check(docker_json is not None and "archMap" in docker_json, "docker: the Docker schema (archMap)")
    c.check(e2e.load_json(out["podman"]) == docker_json, "podman: the same Docker/containers-common schema")
    oci = e2e.load_json(out["oci"])
    c.check(oci is not None and "archMap" not in oci and oci.get("architectures", [None])[0] == "SCMP_ARCH_X86_64"
            and all(set(r) <= {"names", "action", "errnoRet", "args"} for r in oci.get("syscalls", [])),
            "oci: runtime-spec linux.seccomp (architectures, no archMap/includes/comment)", json.dumps(oci)[:1500])
    k8s_plain = os.path.join(tmp, "p.k8s.json")
    with open(out["k8s"]) as f:
        yaml_text = f.read()
    c.check("kind: SeccompProfile" in yaml_text and "apiVersion: security-profiles-operator.x-k8s.io/v1beta1"
            in yaml_text, "k8s: a SeccompProfile resource", yaml_text[:800])
    c.check(e2e.load_json(k8s_plain) == docker_json, "k8s: the plain JSON beside it (p.k8s.json) is the profile",
            k8s_plain)

    # --- docker -------------------------------------------------------------------
    if shutil.which("docker") and ct.docker_available():
        with ct.build_scratch_image({"/static_basic": EXE}, name="formats", entrypoint=["/static_basic"]) as img:
            for label, path in (("docker", out["docker"]), ("k8s plain JSON via docker", k8s_plain)):
                check_runs(label, ["docker", "run", "--rm", "--security-opt", f"seccomp={path}", img.ref])
            # A container recording in k8s format: the report's hardened docker
            # command must name the plain JSON beside the YAML (docker cannot
            # read the YAML), and that command must run.
            yaml_out, report = os.path.join(tmp, "c.yaml"), os.path.join(tmp, "c.report.json")
            r = e2e.sctrace("run", "--format", "k8s", "-o", yaml_out, "--report-json", report, "--",
                            "docker", "run", "--rm", img.ref, timeout=300)
            rep = e2e.load_json(report) if r.returncode == 0 else None
            hardened = (rep or {}).get("hardened_command") or []
            want = f"--security-opt=seccomp={os.path.join(tmp, 'c.json')}"
            if c.check(want in hardened, "container --format k8s: the hardened command names the plain JSON",
                       f"{r.describe()}\nhardened: {hardened}"):
                check_runs("hardened command from a k8s recording", hardened)
            # verify reads the YAML and hands Docker its own schema.
            r = e2e.sctrace("verify", "--profile", yaml_out, "--", "docker", "run", "--rm", img.ref, timeout=300)
            c.check(r.returncode == 0 and "verify passed" in r.stderr,
                    "container verify --profile k8s.yaml: Docker enforces the same profile", r.describe())
    else:
        unavailable("docker", "docker is missing or its daemon does not answer")

    # --- podman -------------------------------------------------------------------
    if shutil.which("podman"):
        tag = f"localhost/sctrace-e2e-formats-{uuid.uuid4().hex[:12]}:latest"
        tar = os.path.join(tmp, "rootfs.tar")
        with open(tar, "wb") as f:
            f.write(ct.make_rootfs_tar({"/static_basic": EXE}))
        r = e2e.run(["podman", "import", "--change", 'ENTRYPOINT ["/static_basic"]', tar, tag], timeout=300)
        if r.returncode != 0:
            unavailable("podman import", r.describe())
        else:
            image_id = r.stdout.strip().splitlines()[-1]
            try:
                check_runs("podman", ["podman", "run", "--rm", *PODMAN_ULIMITS, "--security-opt",
                                      f"seccomp={out['podman']}", tag])
            finally:
                e2e.run(["podman", "rmi", "-f", image_id], timeout=120)
    else:
        unavailable("podman", "podman is not installed")

    # --- runc (oci) -----------------------------------------------------------------
    if shutil.which("runc") and os.geteuid() == 0:
        bundle = os.path.join(tmp, "bundle")
        rootfs = os.path.join(bundle, "rootfs")
        os.makedirs(os.path.join(rootfs, "proc"))
        os.makedirs(os.path.join(rootfs, "dev"))
        shutil.copy2(EXE, os.path.join(rootfs, "static_basic"))
        r = e2e.run(["runc", "spec", "--bundle", bundle])
        if not c.check(r.returncode == 0, "runc spec writes a config.json", r.describe()):
            c.finish()
        cfg_path = os.path.join(bundle, "config.json")
        cfg = e2e.load_json(cfg_path)
        cfg["process"]["terminal"] = False
        cfg["linux"]["seccomp"] = oci

        def runc_argv(args):
            cfg["process"]["args"] = ["/static_basic", *args]
            with open(cfg_path, "w") as f:
                json.dump(cfg, f)
            return ["runc", "run", "--bundle", bundle, f"sctrace-e2e-{uuid.uuid4().hex[:12]}"]

        for label, args in (("runc", []), ("runc --danger", ["--danger=ptrace"])):
            argv = runc_argv(args)
            try:
                r = e2e.run(argv, timeout=120)
            finally:
                e2e.run(["runc", "delete", "--force", argv[-1]], timeout=60)
            if not args:
                c.check(r.returncode == 0 and "static_basic: ok" in r.stdout,
                        "runc (oci): the sample runs with linux.seccomp from --format oci", r.describe())
            else:
                c.check("danger ptrace: EPERM" in r.stdout, "runc (oci): ptrace gets EPERM (the runtimes' default profiles allow it: ours is in force)",
                        r.describe())
        # Control: without the syscalls the sample needs, runc's start fails or the sample does.
        broken = dict(oci)
        broken["syscalls"] = [dict(r, names=[n for n in r["names"] if n != "openat"]) for r in oci["syscalls"]]
        cfg["linux"]["seccomp"] = broken
        argv = runc_argv([])
        try:
            r = e2e.run(argv, timeout=120)
        finally:
            e2e.run(["runc", "delete", "--force", argv[-1]], timeout=60)
        c.check(r.returncode != 0, "runc (oci) control: a profile without openat fails the sample", r.describe())
    else:
        unavailable("runc", "runc is missing or we are not root")

c.finish()
