"""The headline: a real dynamically linked program (sqlite3) traced, then run
under its own profile, which allows at most 40% of what Docker's default
profile allows a container with the default capabilities on amd64."""
import json
import os
import re
import shutil

import sctrace_e2e as e2e

SQL = "create table t(a); insert into t values (1); select * from t;"
MAX_SHARE = 0.40

c = e2e.Checks("sqlite")
sqlite = shutil.which("sqlite3")
if not sqlite:
    c.fatal("sqlite3 is installed (apt-get install sqlite3)")
cmd = [sqlite, ":memory:", SQL]

template = e2e.load_json(e2e.template_path())
# The template's names in force for a default container on amd64: rules with
# no includes.caps or only default caps, and no includes.arches or one of
# amd64/x86/x32 (moby's semantics are in sctrace_e2e.rule_applies).
tmpl_names = set()
for arch in e2e.AMD64_ARCHES:
    tmpl_names |= e2e.allowed_names(template, arch=arch)
print(f"template: {len(tmpl_names)} names allowed under the default caps on amd64/x86/x32")

with e2e.tempdir("sqlite") as tmp:
    prof = os.path.join(tmp, "sqlite.json")
    rec_path = os.path.join(tmp, "sqlite.rec.json")
    r = e2e.sctrace("run", "-o", prof, "--recording", rec_path, "--", *cmd)
    c.check(r.returncode == 0, "sctrace run sqlite3 exits 0", r.describe())
    c.check(r.stdout == "1\n", "sctrace run: sqlite3 prints 1", r.describe())
    profile = e2e.load_json(prof)
    if not isinstance(profile, dict):
        c.fatal("the profile is JSON", r.describe())

    names = set()
    for arch in e2e.AMD64_ARCHES:
        names |= e2e.allowed_names(profile, arch=arch)
    share = len(names) / len(tmpl_names)
    print(f"profile: {len(names)} names allowed = {share:.1%} of the template's {len(tmpl_names)}")
    c.check(share <= MAX_SHARE, f"profile allows {len(names)} names <= {MAX_SHARE:.0%} of "
                                f"{len(tmpl_names)} ({share:.1%})", " ".join(sorted(names)))
    c.check(not (names - tmpl_names - {"exit", "exit_group", "rt_sigreturn", "restart_syscall"}),
            "profile allows nothing the template does not", " ".join(sorted(names - tmpl_names)))

    r = e2e.sctrace("verify", "--profile", prof, "--", *cmd)
    c.check(r.returncode == 0 and r.stdout == "1\n", "sctrace verify passes (exit 0, prints 1)",
            r.describe())
    c.check("sctrace: denied:" not in r.stderr, "verify reports no denial", r.describe())

    r = e2e.sctrace("enforce", "--profile", prof, "--", *cmd)
    c.check(r.returncode == 0 and r.stdout == "1\n", "sctrace enforce runs it (exit 0, prints 1)",
            r.describe())

    # Negative control: without openat the loader cannot open libsqlite3, so
    # verify must fail and name it; else a passing verify proves nothing.
    broken = json.loads(json.dumps(profile))
    for rule in broken.get("syscalls") or []:
        if rule.get("action") == "SCMP_ACT_ALLOW":
            rule["names"] = [n for n in rule.get("names") or [] if n != "openat"]
    broken["syscalls"] = [rule for rule in broken["syscalls"] if rule.get("names")]
    bp = os.path.join(tmp, "no-openat.json")
    with open(bp, "w") as f:
        json.dump(broken, f)
    r = e2e.sctrace("verify", "--profile", bp, "--", *cmd)
    c.check(r.returncode == 1 and re.search(r"^sctrace: denied: \S+ openat\b", r.stderr, re.M),
            "control: verify with openat removed exits 1 and names openat", r.describe())

c.finish()
