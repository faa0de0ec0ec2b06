"""The uid/gid-setting calls are allowed only with the ids the workload used (issue 17, item 6).

samples/setuid_to makes one raw setuid(UID). Recorded with setuid(33), its
profile allows setuid only with argument 0 == 33: `sctrace verify` of the
same command passes, and setuid(0) under that profile is refused with EPERM,
both by `sctrace enforce` and by `sctrace verify`. Without a filter (we are
root) setuid(0) succeeds, so the refusal comes from the profile.

Recorded without --no-new-privileges, setuid keeps the template's plain allow:
runc itself calls setuid(<the container's uid>) after it loads the filter, and
that target is not in a local recording.
"""
import json
import os
import re

import sctrace_e2e as e2e

c = e2e.Checks("uid_rules")
if os.geteuid() != 0:
    e2e.skip("uid_rules", "setuid(0) and setuid(33) need root")
exe = e2e.sample("setuid_to")


def setuid_rules(profile):
    return [r for r in profile.get("syscalls") or [] if "setuid" in (r.get("names") or [])]


for uid in ("0", "33"):
    ctl = e2e.run([exe, uid])
    c.check(ctl.returncode == 0 and f"setuid_to: setuid({uid}) OK" in ctl.stdout,
            f"control: setuid({uid}) succeeds without a filter", ctl.describe())

with e2e.tempdir("uid_rules") as tmp:
    prof = os.path.join(tmp, "setuid33.json")
    rec_path = os.path.join(tmp, "setuid33.rec.json")
    r = e2e.sctrace("run", "--no-new-privileges", "-o", prof, "--recording", rec_path, "--", exe, "33")
    c.check(r.returncode == 0 and "setuid_to: setuid(33) OK" in r.stdout,
            "sctrace run --no-new-privileges records setuid(33)", r.describe())
    profile = e2e.load_json(prof)
    if not isinstance(profile, dict):
        c.fatal(f"profile {prof} is JSON")
    rules = setuid_rules(profile)
    c.check([r.get("args") for r in rules] == [[{"index": 0, "value": 33, "op": "SCMP_CMP_EQ"}]],
            "the profile allows setuid only with arg0 == 33", json.dumps(rules, indent=1))

    r = e2e.sctrace("verify", "--profile", prof, "--", exe, "33")
    c.check(r.returncode == 0 and "sctrace: denied:" not in r.stderr
            and "setuid_to: setuid(33) OK" in r.stdout,
            "verify of the recorded command passes", r.describe())

    r = e2e.sctrace("enforce", "--profile", prof, "--", exe, "0")
    c.check(r.returncode == 1 and "setuid_to: setuid(0) EPERM" in r.stdout,
            "enforce: setuid(0) is refused with EPERM", r.describe())

    r = e2e.sctrace("verify", "--profile", prof, "--", exe, "0")
    c.check(r.returncode == 1 and re.search(r"^sctrace: denied: \S+ setuid\b", r.stderr, re.M),
            "verify of setuid(0) exits 1 naming setuid in a 'sctrace: denied:' line", r.describe())

    # Without --no-new-privileges the runtime baseline has runc's own setuid.
    prof_nnp_off = os.path.join(tmp, "setuid33-runc.json")
    r = e2e.sctrace("run", "-o", prof_nnp_off, "--", exe, "33")
    c.check(r.returncode == 0, "sctrace run (runtime baseline with runc's setuid) exits 0", r.describe())
    rules = setuid_rules(e2e.load_json(prof_nnp_off) or {})
    c.check(len(rules) == 1 and not rules[0].get("args"),
            "with runc's setuid in the baseline, setuid keeps the plain allow", json.dumps(rules, indent=1))

c.finish()
