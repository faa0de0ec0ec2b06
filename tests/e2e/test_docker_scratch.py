"""A profile from a local trace works in a real container.

An image holding only the static sample (built with `docker import`, no
registry) runs 20 times in a row under `--security-opt seccomp=PROFILE`;
with --danger=unshare the container gets EPERM. As a control, ptrace, which
Docker's default profile allows, is refused by ours.

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import os
import re
import shutil
import tarfile
import uuid

import sctrace_e2e as e2e

RUNS = 20
c = e2e.Checks("docker_scratch")

e2e.docker_usable(c, "docker_scratch")

image_id = None
tag = f"sctrace-e2e-scratch:{uuid.uuid4().hex[:12]}"
try:
    with e2e.tempdir("docker") as tmp:
        root = os.path.join(tmp, "root")
        os.mkdir(root)
        shutil.copy2(e2e.sample("static_basic"), os.path.join(root, "static_basic"))
        tar_path = os.path.join(tmp, "rootfs.tar")
        with tarfile.open(tar_path, "w") as tar:
            tar.add(os.path.join(root, "static_basic"), arcname="static_basic")

        r = e2e.run(["docker", "import", "-c", 'ENTRYPOINT ["/static_basic"]', tar_path, tag], timeout=120)
        if r.returncode != 0:
            c.fatal("docker import builds the scratch image", r.describe())
        image_id = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else None
        if not image_id:
            r2 = e2e.run(["docker", "image", "inspect", "--format", "{{.Id}}", tag])
            image_id = r2.stdout.strip() or None
        c.check(bool(image_id), f"docker import gives an image id ({image_id})", r.describe())

        prof = os.path.join(tmp, "static_basic.json")
        r = e2e.sctrace("run", "-o", prof, "--", e2e.sample("static_basic"))
        c.check(r.returncode == 0 and e2e.load_json(prof) is not None,
                "profile from a local `sctrace run` of static_basic", r.describe())

        # The image itself works without our profile (else failures below
        # would say nothing about the profile).
        r = e2e.run(["docker", "run", "--rm", image_id], timeout=120)
        c.check(r.returncode == 0 and "static_basic: ok" in r.stdout,
                "control: the container runs under Docker's default profile", r.describe())

        failures = []
        for i in range(RUNS):
            r = e2e.run(["docker", "run", "--rm", "--security-opt", f"seccomp={prof}", image_id],
                        timeout=120)
            if r.returncode != 0 or "static_basic: ok" not in r.stdout:
                failures.append(f"run {i + 1}:\n{r.describe()}")
        c.check(not failures, f"{RUNS} runs in a row under the profile all exit 0 and print ok",
                "\n".join(failures[:3]) + (f"\n... {len(failures)} failed" if failures else ""))

        r = e2e.run(["docker", "run", "--rm", "--security-opt", f"seccomp={prof}", image_id,
                     "--danger=unshare"], timeout=120)
        c.check(r.returncode == 0 and re.search(r"^danger unshare: EPERM$", r.stdout, re.M),
                "--danger=unshare in the container gets EPERM", r.describe())

        r = e2e.run(["docker", "run", "--rm", image_id, "--danger=ptrace"], timeout=120)
        c.check(re.search(r"^danger ptrace: (?!EPERM)\S+$", r.stdout, re.M),
                "control: Docker's default profile lets ptrace through", r.describe())
        r = e2e.run(["docker", "run", "--rm", "--security-opt", f"seccomp={prof}", image_id,
                     "--danger=ptrace"], timeout=120)
        c.check(r.returncode == 0 and re.search(r"^danger ptrace: EPERM$", r.stdout, re.M),
                "our profile refuses ptrace with EPERM", r.describe())
finally:
    if image_id:
        r = e2e.run(["docker", "rmi", "-f", image_id], timeout=120)
        c.check(r.returncode == 0, f"removed image {image_id}", r.describe())

c.finish()
