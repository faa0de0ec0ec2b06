"""Two traces of the same deterministic workload give byte-identical profiles
(stable ordering, no pids, paths or timestamps in the output)."""
import os

import sctrace_e2e as e2e

c = e2e.Checks("determinism")
with e2e.tempdir("determinism") as tmp:
    for name in ["static_basic", "threads"]:
        outs = []
        for i in range(2):
            d = os.path.join(tmp, f"{name}-{i}")  # different output dirs on purpose
            os.mkdir(d)
            p = os.path.join(d, "profile.json")
            r = e2e.sctrace("run", "-o", p, "--", e2e.sample(name))
            c.check(r.returncode == 0, f"{name}: run {i + 1} exits 0", r.describe())
            outs.append(e2e.read_bytes(p))
        c.check(outs[0] is not None and len(outs[0]) > 0, f"{name}: profile written")
        detail = None
        if outs[0] != outs[1] and outs[0] and outs[1]:
            import difflib
            detail = "".join(difflib.unified_diff(outs[0].decode().splitlines(True),
                                                  outs[1].decode().splitlines(True), "run1", "run2"))
        c.check(outs[0] == outs[1], f"{name}: the two profiles are byte-identical", detail)
c.finish()
