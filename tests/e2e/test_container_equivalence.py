"""The in-container sensor sees what local tracing sees.

The batch sample is traced twice: on the host (`sctrace run --recording`)
and in a FROM-scratch container through the sensor (`sctrace run --recording
-- docker run ...`). The sets of syscall names must be equal up to names the
runtime baseline (templates/runtime-baseline.json) lists: the sensor adds
nothing of its own and misses nothing the workload does. Every difference is
printed, allowed or not.

Skips (loudly) only when `docker info` fails and CI is not "true".
"""
import os
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("container_equivalence")

e2e.docker_usable(c, "container_equivalence")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"equivalence-{uuid.uuid4().hex}"

baseline_doc = e2e.load_json(os.path.join(e2e.SOURCE, "templates", "runtime-baseline.json"))
baseline = set()
for key in ("with_new_privs", "with_no_new_privs", "go_runtime"):
    baseline.update(baseline_doc.get(key) or [])
c.check(bool(baseline), f"the runtime baseline lists {len(baseline)} names")

image = None
try:
    image = ct.build_scratch_image({"/batch": e2e.sample("batch")}, name="equivalence", entrypoint=["/batch"])
    with e2e.tempdir("container-equivalence") as tmp:
        local_rec = os.path.join(tmp, "local.rec.json")
        r = e2e.sctrace("run", "-o", os.path.join(tmp, "local.json"), "--recording", local_rec, "--",
                        e2e.sample("batch"), timeout=120)
        local = e2e.load_json(local_rec)
        c.check(r.returncode == 0 and local is not None and "batch: checksum" in r.stdout,
                "local trace of batch", r.describe())

        cont_rec = os.path.join(tmp, "container.rec.json")
        r = e2e.sctrace("run", "-o", os.path.join(tmp, "container.json"), "--recording", cont_rec, "--",
                        "docker", "run", "--rm", "--label", f"{LABEL_KEY}={LABEL_VALUE}", image.tag, timeout=300)
        cont = e2e.load_json(cont_rec)
        c.check(r.returncode == 0 and cont is not None and "batch: checksum" in r.stdout,
                "trace of batch in a container through the sensor", r.describe())

        if local is not None and cont is not None:
            ln, cn = e2e.recorded_names(local), e2e.recorded_names(cont)
            print(f"local ({len(ln)}): {' '.join(sorted(ln))}")
            print(f"container ({len(cn)}): {' '.join(sorted(cn))}")
            only_c, only_l = cn - ln, ln - cn
            print(f"only in the container: {' '.join(sorted(only_c)) or '-'}"
                  f"  (of which not in the baseline: {' '.join(sorted(only_c - baseline)) or '-'})")
            print(f"only local: {' '.join(sorted(only_l)) or '-'}"
                  f"  (of which not in the baseline: {' '.join(sorted(only_l - baseline)) or '-'})")
            c.check({"mkdirat", "openat", "write", "fsync", "read", "unlinkat"} <= cn & ln,
                    "both have the batch's file operations", sorted(cn & ln))
            c.check(not (only_c - baseline), "the container adds nothing outside the runtime baseline",
                    sorted(only_c - baseline))
            c.check(not (only_l - baseline), "the container misses nothing outside the runtime baseline",
                    sorted(only_l - baseline))
            other_arches = set((cont.get("syscalls") or {}).keys()) - {"SCMP_ARCH_X86_64"}
            c.check(set((local.get("syscalls") or {}).keys()) - {"SCMP_ARCH_X86_64"} == other_arches,
                    "both record the same architectures", f"container: {sorted(other_arches)}")
finally:
    left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    c.check(not left, "no container of this test is left", "\n".join(left))
    ct.remove_containers_with_label(LABEL_KEY, LABEL_VALUE)
    if image:
        image.remove()

c.finish()
