"""The workload's exit status and output pass through sctrace unchanged."""
import json
import os
import signal
import subprocess

import sctrace_e2e as e2e

c = e2e.Checks("exit_status")

with e2e.tempdir("exit") as tmp:
    prof = os.path.join(tmp, "p.json")

    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "exit 7")
    c.check(r.returncode == 7, "run: sh -c 'exit 7' -> 7", r.describe())
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "kill -TERM $$")
    c.check(r.returncode == 143, "run: sh -c 'kill -TERM $$' -> 143", r.describe())
    c.check(e2e.load_json(prof) is not None, "run: profile written even when the workload was killed")
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "kill -SEGV $$")
    c.check(r.returncode == 139, "run: sh -c 'kill -SEGV $$' -> 139", r.describe())
    r = e2e.sctrace("run", "-o", prof, "--", "false")
    c.check(r.returncode == 1, "run: false -> 1", r.describe())

    # Output: bytes, NULs, no trailing newline, a lot of it, and stderr.
    script = "printf 'a\\nb\\0c'; seq 1 200000; printf 'to-stderr\\n' >&2; printf tail"
    plain = e2e.run(["sh", "-c", script])
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", script)
    c.check(r.returncode == 0 and r.stdout_bytes == plain.stdout_bytes,
            f"run: stdout byte-identical to the untraced run ({len(plain.stdout_bytes)} bytes)",
            f"traced {len(r.stdout_bytes)} bytes, untraced {len(plain.stdout_bytes)} bytes")
    c.check("to-stderr" in r.stderr, "run: the workload's stderr passes through", r.describe())
    c.check(all(l.startswith("sctrace: ") or l == "to-stderr" for l in r.stderr_lines()),
            "run: sctrace's own stderr lines start with 'sctrace: '", r.describe())

    r = e2e.sctrace("run", "-o", prof, "--", "cat", input_bytes=b"from stdin\n\x00\xff")
    c.check(r.returncode == 0 and r.stdout_bytes == b"from stdin\n\x00\xff", "run: stdin passes through",
            r.describe())

    # verify and enforce under a profile made from the same workload.
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "exit 7")
    r = e2e.sctrace("enforce", "--profile", prof, "--", "sh", "-c", "exit 7")
    c.check(r.returncode == 7, "enforce: sh -c 'exit 7' -> 7", r.describe())
    r = e2e.sctrace("verify", "--profile", prof, "--", "sh", "-c", "exit 7")
    c.check(r.returncode == 1, "verify: a workload exiting 7 -> 1", r.describe())
    r = e2e.sctrace("run", "-o", prof, "--", e2e.sample("static_basic"))
    r = e2e.sctrace("enforce", "--profile", prof, "--", e2e.sample("static_basic"), "--danger=setns")
    c.check(r.returncode == 0 and "danger setns: EPERM" in r.stdout,
            "enforce: a denied syscall returns EPERM and the exit code is the workload's", r.describe())
    r = e2e.sctrace("enforce", "--profile", prof, "--", e2e.sample("static_basic"), "--extra-syscall")
    c.check(r.returncode == 1 and "sample: uname" in r.stderr,
            "enforce: an unrecorded syscall (uname) fails the workload, exit code passed on", r.describe())

    # stderr a pipe whose reader is gone: sctrace lives on (no SIGPIPE death, exit 141), writes its reports and
    # gives its own status; the workload still has SIGPIPE's default disposition.
    junit = os.path.join(tmp, "closed.xml")
    argv = [e2e.SCTRACE, "check", "--profile", prof, "--junit", junit, "--", e2e.sample("static_basic"),
            "--extra-syscall"]
    rd, wr = os.pipe()
    os.close(rd)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=wr, timeout=60)
    os.close(wr)
    c.check(p.returncode == 1 and os.path.exists(junit),
            f"check with stderr a closed pipe: exit 1 for the violation and the JUnit file written "
            f"(exit {p.returncode}, junit {'written' if os.path.exists(junit) else 'missing'})")
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "grep SigIgn /proc/self/status")
    ign = int(r.stdout.split()[1], 16) if r.stdout.startswith("SigIgn:") else None
    c.check(ign is not None and not ign & (1 << (signal.SIGPIPE - 1)),
            "the workload does not inherit an ignored SIGPIPE", r.describe())

    # A profile that refuses execve: nothing can start under it. enforce says so in one line (it used to crash
    # when exit_group and write were refused too), verify and check --enforce give it as their verdict.
    r = e2e.sctrace("run", "-o", prof, "--", e2e.sample("static_basic"))
    profile = e2e.load_json(prof)
    for drop, name in ((("execve",), "noexec"), (("execve", "exit", "exit_group", "write"), "nothing")):
        q = dict(profile)
        q["syscalls"] = [dict(rule, names=[n for n in rule["names"] if n not in drop]) for rule in profile["syscalls"]]
        q["syscalls"] = [rule for rule in q["syscalls"] if rule["names"]]
        path = os.path.join(tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump(q, f)
        r = e2e.sctrace("enforce", "--profile", path, "--", e2e.sample("static_basic"))
        c.check(r.returncode == 126 and len(r.stderr_lines()) == 1 and "refuses execve" in r.stderr,
                f"enforce, {name}: exit 126 and one line saying execve is refused", r.describe())
        r = e2e.sctrace("verify", "--profile", path, "--", e2e.sample("static_basic"))
        c.check(r.returncode == 1 and "denied: x86_64 execve" in r.stderr and "verify FAILED" in r.stderr,
                f"verify, {name}: FAILED naming execve", r.describe())
        junit = os.path.join(tmp, f"{name}.xml")
        r = e2e.sctrace("check", "--enforce", "--profile", path, "--junit", junit, "--", e2e.sample("static_basic"))
        c.check(r.returncode == 1 and "check FAILED" in r.stderr and "execve" in r.stderr and os.path.exists(junit),
                f"check --enforce, {name}: exit 1 naming execve, JUnit written", r.describe())

c.finish()
