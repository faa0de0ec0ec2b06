"""sctrace makes itself non-dumpable: a workload running as the same non-root
user cannot read its environment or memory through /proc (ptrace alike), and
both local backends still trace it (their children make themselves dumpable
again before they are traced, and execve decides afresh).

Needs root, to run sctrace as nobody with setpriv. A root workload (with
CAP_SYS_PTRACE) is not kept out by this; README, Security of sctrace itself.
"""
import os
import shutil

import sctrace_e2e as e2e

c = e2e.Checks("sctrace_dumpable")
if os.geteuid() != 0 or not shutil.which("setpriv"):
    e2e.skip("sctrace_dumpable", "needs root and setpriv to run sctrace as an unprivileged user")

PROBE = ('for f in environ mem; do if head -c 1 /proc/$PPID/$f >/dev/null 2>&1; then echo "$f readable"; '
         'else echo "$f unreadable"; fi; done')

with e2e.tempdir("dumpable") as tmp:
    os.chmod(tmp, 0o777)
    prof = os.path.join(tmp, "p.json")
    for backend in ("ptrace", "notify"):
        if os.path.exists(prof):
            os.unlink(prof)
        r = e2e.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", e2e.SCTRACE, "run",
                     "--backend", backend, "-o", prof, "--", "/bin/sh", "-c", PROBE], cwd=tmp)
        print(r.stdout)
        c.check(r.returncode == 0 and os.path.exists(prof),
                f"{backend}: sctrace as nobody traces its workload and writes the profile", r.describe())
        c.check("environ unreadable" in r.stdout and "mem unreadable" in r.stdout,
                f"{backend}: the same-user workload reads neither sctrace's /proc/PID/environ nor its memory",
                r.describe())

c.finish()
