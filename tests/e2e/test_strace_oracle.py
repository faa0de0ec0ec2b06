"""Differential oracle: the syscall names sctrace records for a sample, per
arch, equal what `strace -f -c` counts for the same sample.

Normalization (the only differences allowed, each for a reason):
- strace -c tallies a syscall when it returns; exit_group and the exit of a
  thread never return, so strace never lists them. sctrace records them at
  entry. So each sample's known non-returning calls are added to strace's set
  (exit_group for every sample, exit for the threaded one) -- and they must be
  in sctrace's set, so this is not a blanket exclusion.
- strace prints the 64-bit table first and then "System call usage summary
  for 32 bit mode:" (and "for x32 mode:") tables; those map to
  SCMP_ARCH_X86_64, SCMP_ARCH_X86 and SCMP_ARCH_X32.
strace and libseccomp spell every syscall these samples make the same way, so
there is no renaming. For the two samples whose calls do not depend on timing
(static_basic, int80) the per-name counts must match too.
"""
import json
import os
import re

import sctrace_e2e as e2e

SAMPLES = ["static_basic", "dynamic_basic", "threads", "forkexec", "int80"]
NON_RETURNING = {
    "static_basic": {"exit_group"},
    "dynamic_basic": {"exit_group"},
    "threads": {"exit_group", "exit"},
    "forkexec": {"exit_group"},
    "int80": {"exit_group"},
}
COUNTS_MATCH = {"static_basic", "int80"}

SECTION_ARCH = {
    None: "SCMP_ARCH_X86_64",
    "32 bit mode": "SCMP_ARCH_X86",
    "x32 mode": "SCMP_ARCH_X32",
}


def parse_strace_c(text):
    """{arch: {name: calls}} from `strace -c` output."""
    out = {}
    arch = SECTION_ARCH[None]
    for line in text.splitlines():
        m = re.match(r"^System call usage summary for (.+):$", line.strip())
        if m:
            arch = SECTION_ARCH.get(m.group(1), "unknown:" + m.group(1))
            continue
        f = line.split()
        # "% time seconds usecs/call calls [errors] syscall"
        if len(f) < 5 or f[-1] in ("total", "syscall") or not re.match(r"^[\d.]+$", f[0]):
            continue
        out.setdefault(arch, {})[f[-1]] = int(f[3])
    return out


c = e2e.Checks("strace_oracle")
if e2e.run(["strace", "-V"]).returncode != 0:
    c.fatal("strace is installed (apt-get install strace)")

with e2e.tempdir("oracle") as tmp:
    for name in SAMPLES:
        if name == "int80" and e2e.skip_without_int80("strace_oracle", "the int80 sample"):
            continue
        exe = e2e.sample(name)
        print(f"--- {name}")
        st_out = os.path.join(tmp, f"{name}.strace")
        r = e2e.run(["strace", "-f", "-c", "-o", st_out, "--", exe])
        if not c.check(r.returncode == 0, f"{name}: strace -f -c runs it", r.describe()):
            continue
        with open(st_out) as f:
            strace_text = f.read()
        st = parse_strace_c(strace_text)
        c.check(st.get("SCMP_ARCH_X86_64"), f"{name}: strace table parsed", strace_text)

        rec_path = os.path.join(tmp, f"{name}.rec.json")
        r = e2e.sctrace("run", "-o", os.path.join(tmp, f"{name}.json"), "--recording", rec_path, "--", exe)
        if not c.check(r.returncode == 0, f"{name}: sctrace run exits 0", r.describe()):
            continue
        rec = e2e.load_json(rec_path) or {}
        rec_arches = {a for a, names in rec.get("syscalls", {}).items() if names}
        c.check(rec_arches == set(st), f"{name}: same arches ({sorted(set(st))})",
                f"sctrace: {sorted(rec_arches)}; strace: {sorted(st)}")
        for arch in sorted(set(st) | rec_arches):
            got = e2e.recorded_names(rec, arch)
            want = set(st.get(arch, {}))
            extra = NON_RETURNING[name] if arch == "SCMP_ARCH_X86_64" else set()
            c.check(got == want | extra,
                    f"{name}: {arch}: sctrace's names == strace's names + {sorted(extra)}",
                    f"only sctrace: {sorted(got - want - extra)}\n"
                    f"only strace:  {sorted((want | extra) - got)}")
            if name in COUNTS_MATCH:
                recs = rec.get("syscalls", {}).get(arch, {})
                diff = {n: (recs.get(n, {}).get("count"), k) for n, k in st.get(arch, {}).items()
                        if recs.get(n, {}).get("count") != k}
                c.check(not diff, f"{name}: {arch}: per-name counts equal strace's",
                        "name: (sctrace, strace) " + json.dumps(diff))

c.finish()
