"""Static completion (issue 17): a path the probe never takes, covered anyway.

samples/lazy_sleep sleeps (usleep -> clock_nanosleep) only when run as
`lazy_sleep sleep`. It is recorded without that argument, so the recording
never sees clock_nanosleep. With `--static benign` (the default) the profile
allows it, with its provenance in the recording, and `sctrace verify` of the
sleeping path passes under the profile; with `--static off` the same verify
is denied clock_nanosleep (so the test shows what static completion buys).
"""
import json
import os
import re

import sctrace_e2e as e2e

ARCH = "SCMP_ARCH_X86_64"
c = e2e.Checks("static_completion")
if os.uname().machine != "x86_64":
    e2e.skip("static_completion", "static completion decodes x86-64 only for now")

exe = e2e.sample("lazy_sleep")
with e2e.tempdir("static") as tmp:
    env = dict(os.environ, SCTRACE_CACHE_DIR=os.path.join(tmp, "cache"))

    def record(mode, name):
        prof, rec = os.path.join(tmp, f"{name}.json"), os.path.join(tmp, f"{name}.rec.json")
        args = ["run", "-o", prof, "--recording", rec] + (["--static", mode] if mode else []) + ["--", exe]
        r = e2e.sctrace(*args, env=env)
        c.check(r.returncode == 0 and "lazy_sleep: ok (quick)" in r.stdout, f"run --static {mode or '(default)'}: the quick path is recorded", r.describe())
        c.check(e2e.sctrace_lines_ok(r), f"run --static {mode or '(default)'}: every stderr line starts with 'sctrace: '", r.describe())
        return r, e2e.load_json(prof) or {}, e2e.load_json(rec) or {}

    # Cold: the cache is empty, the libc is disassembled.
    r, prof, rec = record(None, "benign")
    recorded = set(rec.get("syscalls", {}).get(ARCH, {}))
    c.check("clock_nanosleep" not in recorded, "the quick path does not make clock_nanosleep", sorted(recorded))
    reach = rec.get("static", {}).get(ARCH, {})
    cn = reach.get("clock_nanosleep", {})
    c.check(cn.get("tier") == "benign" and cn.get("added") is True,
            "the recording says clock_nanosleep is reachable, benign and added", reach)
    c.check("lazy_sleep imports usleep -> clock_nanosleep" in cn.get("via", []),
            "its provenance names the module and the libc function", cn)
    c.check("lazy_sleep makes it with its own syscall instruction" in reach.get("getppid", {}).get("via", []),
            "the sample's own `mov eax, 110; syscall` is found (getppid)", reach.get("getppid"))
    c.check("clock_nanosleep" in e2e.allowed_names(prof), "the default (--static benign) profile allows clock_nanosleep")
    c.check(re.search(r"^sctrace: static completion: .*added: .*clock_nanosleep", r.stderr, re.M),
            "run says what static completion added", r.describe())
    c.check(re.search(r"^sctrace:   clock_nanosleep \(lazy_sleep imports usleep -> clock_nanosleep\)", r.stderr, re.M),
            "run says where an added name comes from", r.describe())
    # Coverage hints: the quick path never sleeps, and run says so, with what static completion did about it.
    c.check(re.search(r"^sctrace: coverage: no sleep or timed wait was recorded \(nanosleep, clock_nanosleep\); "
                      r"static completion added clock_nanosleep$", r.stderr, re.M),
            "run says the workload never slept, and that static completion added clock_nanosleep", r.describe())
    slept = e2e.sctrace("run", "-o", os.path.join(tmp, "slept.json"), "--", exe, "sleep", env=env)
    c.check(slept.returncode == 0 and "lazy_sleep: ok (sleep)" in slept.stdout
            and "sctrace: coverage: " in slept.stderr and "no sleep or timed wait" not in slept.stderr,
            "a workload that sleeps gets coverage hints, but not the sleep one", slept.describe())
    # Sensitive names are listed, never added by benign.
    sensitive = {n for n, s in reach.items() if s.get("tier") == "sensitive"}
    c.check(all(reach[n].get("added") is False for n in sensitive), "no sensitive name is marked added", sensitive)
    if sensitive:
        c.check("NOT added" in r.stderr and all(n in r.stderr for n in sensitive),
                "the sensitive names are listed in the run's report", r.describe())

    # explain shows the provenance of a name the recording never saw.
    rec_path = os.path.join(tmp, "benign.rec.json")
    x = e2e.sctrace("explain", "clock_nanosleep", "--recording", rec_path)
    c.check(x.returncode == 0 and "but reachable (benign): added to the profile by static completion" in x.stdout
            and "lazy_sleep imports usleep -> clock_nanosleep" in x.stdout,
            "explain clock_nanosleep: reachable, added, and through what", x.describe())
    x = e2e.sctrace("explain", "clock_nanosleep", "--recording", rec_path, "--json")
    try:
        xs = json.loads(x.stdout).get("static") or [{}]
    except ValueError:
        xs = [{}]
    c.check(x.returncode == 0 and xs[0].get("added") is True and "lazy_sleep imports usleep -> clock_nanosleep" in xs[0].get("via", []),
            "explain --json: the same, as data", x.describe())
    for n in sorted(sensitive)[:1]:
        x = e2e.sctrace("explain", n, "--recording", rec_path)
        c.check(x.returncode == 0 and "NOT added" in x.stdout, f"explain {n}: listed, not added", x.describe())

    # Cached: a second run reads the analysis back.
    r2, prof2, rec2 = record(None, "benign2")
    c.check(rec2.get("static") == rec.get("static"), "a cached run finds the same reachable set")
    c.check(prof2 == prof, "a cached run writes the same profile")
    took = [re.search(r"static completion took ([0-9.]+) s \((\d+) analyses read from the cache\)", x.stderr)
            for x in (r, r2)]
    if c.check(all(took), "run says how long static completion took", r2.describe()):
        c.check(took[0].group(2) == "0" and int(took[1].group(2)) >= 2,
                "the first run analysed, the second read its analyses from the cache",
                f"cold: {took[0].group(0)}; cached: {took[1].group(0)}")
        print(f"    time added: cold {took[0].group(1)} s, cached {took[1].group(1)} s")

    r_off, prof_off, rec_off = record("off", "off")
    c.check("static" not in rec_off, "--static off: the recording has no static section", rec_off.get("static"))
    c.check("clock_nanosleep" not in e2e.allowed_names(prof_off), "--static off: the profile does not allow clock_nanosleep")
    c.check("static completion" not in r_off.stderr, "--static off: nothing is said about it", r_off.describe())
    c.check("sctrace: coverage: no sleep or timed wait was recorded (nanosleep, clock_nanosleep); not covered (no "
            "--static analysis in this recording)" in r_off.stderr.splitlines(),
            "--static off: the sleep hint says nothing covered it", r_off.describe())

    # Enforced: the path the probe never took.
    v = e2e.sctrace("verify", "--profile", os.path.join(tmp, "benign.json"), "--", exe, "sleep")
    c.check(v.returncode == 0 and "lazy_sleep: ok (sleep)" in v.stdout and "sctrace: denied:" not in v.stderr,
            "verify of the sleeping path passes under the --static benign profile", v.describe())
    v = e2e.sctrace("verify", "--profile", os.path.join(tmp, "off.json"), "--", exe, "sleep")
    c.check(v.returncode != 0 and re.search(r"^sctrace: denied: \S+ clock_nanosleep\b", v.stderr, re.M),
            "verify of the sleeping path is denied clock_nanosleep under the --static off profile", v.describe())

    r = e2e.sctrace("run", "--static", "sometimes", "--", exe)
    c.check(r.returncode == 2 and "--static" in r.stderr, "--static refuses a value it does not know", r.describe())
c.finish()
