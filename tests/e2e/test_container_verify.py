"""Container-mode verify must be able to fail, and healthchecks are traced.

  - a profile recorded from http_server with its probes, then with `accept4`
    taken out: `sctrace verify` with the same probes exits 1 and names
    accept4 as denied (pass 2), and the probes fail under it (pass 1);
  - the unmodified profile verifies (exit 0);
  - an image whose HEALTHCHECK runs /batch: the batch's file operations
    (which http_server never makes) are in the recording, because the
    healthcheck runs through the sensor.

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import json
import os
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("container_verify")

e2e.docker_usable(c, "container_verify")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"verify-{uuid.uuid4().hex}"
PROBES = ["--http-probe", "8080/", "--http-probe", "POST:8080/echo", "--ready-timeout", "10"]

images = []
try:
    img = ct.build_scratch_image({"/http_server": e2e.sample("http_server")}, name="verify",
                                 entrypoint=["/http_server"], expose=[8080])
    images.append(img)
    line = ["docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", "-p", "127.0.0.1::8080", img.tag]
    with e2e.tempdir("container-verify") as tmp:
        prof = os.path.join(tmp, "p.json")
        res = e2e.sctrace("run", "-o", prof, *PROBES, "--", *line, timeout=180)
        c.check(res.returncode == 0, "recording http_server with probes exits 0", res.describe())

        res = e2e.sctrace("verify", "--profile", prof, *PROBES, "--", *line, timeout=300)
        c.check(res.returncode == 0, "the recorded profile verifies", res.describe())

        profile = e2e.load_json(prof)
        for rule in profile["syscalls"]:
            if rule.get("action") == "SCMP_ACT_ALLOW" and "accept4" in rule["names"]:
                rule["names"].remove("accept4")
        broken = os.path.join(tmp, "broken.json")
        with open(broken, "w") as f:
            json.dump(profile, f)
        res = e2e.sctrace("verify", "--profile", broken, *PROBES, "--", *line, timeout=300)
        c.check(res.returncode == 1, f"verify with accept4 removed exits 1 (got {res.returncode})", res.describe())
        c.check(any(l.startswith("sctrace: denied: x86_64 accept4") for l in res.stderr_lines()),
                "verify names accept4 as denied", res.describe())
        c.check(any("FAILED" in l and "probe" in l for l in res.stderr_lines()),
                "a probe fails with the broken profile enforced", res.describe())

    hc = ct.build_scratch_image({"/http_server": e2e.sample("http_server"), "/batch": e2e.sample("batch")},
                                name="health", entrypoint=["/http_server"], expose=[8080],
                                healthcheck='--interval=1s --timeout=5s CMD ["/batch"]')
    images.append(hc)
    with e2e.tempdir("container-health") as tmp:
        prof = os.path.join(tmp, "p.json")
        rec = os.path.join(tmp, "r.json")
        res = e2e.sctrace("run", "-o", prof, "--recording", rec, "--http-probe", "8080/", "--duration", "3", "--",
                          "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", "-p", "127.0.0.1::8080",
                          hc.tag, timeout=180)
        c.check(res.returncode == 0, "recording the image with a HEALTHCHECK exits 0", res.describe())
        names = e2e.recorded_names(e2e.load_json(rec))
        c.check({"unlinkat", "fsync"} <= names, "the healthcheck's syscalls (batch: unlinkat, fsync) are recorded",
                sorted(names))
finally:
    left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    c.check(not left, "no container of this test is left", "\n".join(left))
    ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
    for i in images:
        i.remove()

c.finish()
