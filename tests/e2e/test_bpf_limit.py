"""A profile the kernel cannot load is never written (issue 16, defect 10).
Every profile sctrace writes is compiled first, as runc loads it (libseccomp,
with its binary-tree optimisation): over the kernel's BPF_MAXINSNS (4096
instructions) is one "sctrace: error:" line naming the instruction count and
the limit, exit 2, and no profile file (nor the temporary file beside it).
The recording is still written: it is what ran, and `sctrace merge --profile`
with a smaller template turns it into a profile without running the workload
again. Before, `run --template` with a 10,000-rule template exited 0 and wrote
a profile that `verify` refused later.

Covered: run (ptrace and notify), run --format k8s (both files), merge
--profile; and a normal run still writes its profile."""
import json
import os
import re

import sctrace_e2e as e2e

c = e2e.Checks("bpf_limit")
STATIC = e2e.sample("static_basic")
N = 10000


def too_big(res, what):
    lines = res.stderr_lines()
    errors = [l for l in lines if l.startswith("sctrace: error: ")]
    c.check(res.returncode == 2 and len(errors) == 1 and lines[-1] == errors[0],
            f"{what}: exit 2, one 'sctrace: error:' line, last", res.describe())
    m = re.search(r"(\d+) BPF instructions.*limit of 4096", errors[0] if errors else "")
    c.check(m is not None and int(m.group(1)) > 4096, f"{what}: the error names the instruction count and the limit",
            res.describe())


with e2e.tempdir("bpf-limit") as tmp:
    # A deny-list template: everything allowed but 10,000 argument values of
    # one syscall. Every rule of a non-allowing action stays in the profile
    # when the default allows, so the profile compiles to far more than 4096
    # instructions.
    big = os.path.join(tmp, "big-template.json")
    with open(big, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                   "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                                 "args": [{"index": 0, "value": 0x10000 + i, "op": "SCMP_CMP_EQ"}]}
                                for i in range(N)]}, f)
    out = os.path.join(tmp, "out")
    os.mkdir(out)

    for backend in ("ptrace", "notify"):
        prof = os.path.join(out, f"{backend}.json")
        rec = os.path.join(out, f"{backend}.recording.json")
        r = e2e.sctrace("run", "--backend", backend, "-o", prof, "--template", big, "--", STATIC, timeout=300)
        too_big(r, f"run --backend {backend} with a {N}-rule template")
        c.check(not os.path.exists(prof), f"{backend}: no profile written")
        c.check((e2e.load_json(rec) or {}).get("sctrace_recording") == 1,
                f"{backend}: the recording (what ran) is written", r.describe())

    k8s = os.path.join(out, "k8s.yaml")
    r = e2e.sctrace("run", "--format", "k8s", "-o", k8s, "--template", big, "--", STATIC, timeout=300)
    too_big(r, "run --format k8s")
    c.check(not os.path.exists(k8s) and not os.path.exists(os.path.join(out, "k8s.json")),
            "k8s: neither the resource nor the plain profile written", str(sorted(os.listdir(out))))

    merged_rec = os.path.join(out, "merged.recording.json")
    merged_prof = os.path.join(out, "merged.json")
    r = e2e.sctrace("merge", "-o", merged_rec, "--profile", merged_prof, "--template", big,
                    os.path.join(out, "ptrace.recording.json"), timeout=300)
    too_big(r, "merge --profile")
    c.check(not os.path.exists(merged_prof), "merge --profile: no profile written")
    c.check(not any(".sctrace-" in n for n in os.listdir(out)), "no temporary file left",
            str(sorted(os.listdir(out))))

    # The same recording with the default template: a loadable profile.
    r = e2e.sctrace("merge", "-o", merged_rec, "--profile", merged_prof, os.path.join(out, "ptrace.recording.json"))
    c.check(r.returncode == 0 and e2e.load_json(merged_prof) is not None,
            "control: merge --profile of that recording with the default template writes it", r.describe())
    prof = os.path.join(out, "normal.json")
    r = e2e.sctrace("run", "-o", prof, "--", STATIC)
    c.check(r.returncode == 0 and e2e.load_json(prof) is not None, "control: a normal run still writes its profile",
            r.describe())
    r = e2e.sctrace("verify", "--profile", prof, "--", STATIC)
    c.check(r.returncode == 0, "control: and it verifies", r.describe())

c.finish()
