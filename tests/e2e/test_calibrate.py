"""`sctrace calibrate`: the runtime's own post-filter syscalls, measured.

  - `calibrate --runtime podman --starts 2 -o FILE` writes a baseline in the
    format of templates/runtime-baseline.json that sctrace loads back
    (`run --runtime-baseline FILE`); with noNewPrivileges false runc's
    credential calls (capset, setgroups, setuid, ...) are after the filter,
    with it true they are not (runc drops privileges first);
  - compared with a notify recording of a podman container (static_basic):
    every name calibrate saw in every start, but the Go scheduler's
    timing-dependent ones (go_runtime), is in that recording (the
    recording = runtime's post-filter syscalls + the workload's);
  - `--runtime runc` (an OCI bundle) measures the same runc;
  - an existing FILE is updated: unknown keys and go_runtime are kept;
  - `--runtime docker` on an engine that drops listenerPath fails and says so;
  - `run --runtime-baseline FILE` uses the file instead of the bundled
    baseline: a name only the file lists (uname) is allowed, and not without it.
"""
import json
import os
import shutil

import containers as ct
import sctrace_e2e as e2e

NAME = "calibrate"
CREDENTIALS = {"capset", "capget", "setgroups", "setuid", "setgid", "prctl"}

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)


def check_baseline(doc, what, starts):
    if not c.check(isinstance(doc, dict), f"{what}: JSON object"):
        return False
    ok = all(isinstance(doc.get(k), list) and doc[k] for k in ("with_new_privs", "with_no_new_privs"))
    c.check(ok and isinstance(doc.get("runtime"), str) and "runc" in doc["runtime"],
            f"{what}: runtime names runc, both lists present", json.dumps({k: doc.get(k) for k in ("runtime",)}))
    new, nnp = set(doc.get("with_new_privs", [])), set(doc.get("with_no_new_privs", []))
    c.check(CREDENTIALS | {"execve", "write"} <= new, f"{what}: noNewPrivileges false has runc's credential calls",
            f"missing {sorted(CREDENTIALS - new)}")
    c.check(not ({"capset", "setgroups", "setuid"} & nnp) and {"execve", "write"} <= nnp,
            f"{what}: noNewPrivileges true has no credential calls after the filter", sorted(nnp))
    c.check("exit_group" not in new, f"{what}: the entrypoint's exit_group is not the runtime's")
    seen = (doc.get("calibration") or {}).get("seen", {})
    counts = [v for case in seen.values() for v in case.values()]
    c.check(counts and all(1 <= v <= starts for v in counts), f"{what}: calibration.seen counts within 1..{starts}",
            json.dumps(seen))
    return True


with e2e.tempdir(NAME) as tmp:
    base = os.path.join(tmp, "podman-baseline.json")
    r = e2e.sctrace("calibrate", "--runtime", "podman", "--starts", "2", "-o", base, timeout=300)
    c.check(r.returncode == 0 and "wrote " in r.stderr, "calibrate --runtime podman --starts 2 exits 0", r.describe())
    doc = e2e.load_json(base)
    check_baseline(doc, "podman", 2)

    # A notify recording of a podman container holds the runtime's part.
    exe = e2e.sample("static_basic")
    img = ct.build_scratch_image({"/static_basic": exe}, name="calibrate", cmd=["/static_basic"], docker="podman")
    try:
        rec_path = os.path.join(tmp, "rec.json")
        r = e2e.sctrace("run", "--backend", "notify", "-o", os.path.join(tmp, "p.json"), "--recording", rec_path,
                        "--", "podman", "run", "--rm", img.id, "/static_basic", timeout=180)
        c.check(r.returncode == 0, "notify recording of static_basic in podman exits 0", r.describe())
        names = e2e.recorded_names(e2e.load_json(rec_path))
        seen = ((doc or {}).get("calibration") or {}).get("seen", {}).get("with_new_privs", {})
        # The Go scheduler's names (go_runtime: futex, nanosleep, ...) come and go with timing from one start
        # to the next (a recording without futex after two starts with it happened in CI); the baseline adds
        # them whatever a start showed. The rest is the same in every start.
        timing = set((doc or {}).get("go_runtime") or [])
        always = {n for n, k in seen.items() if k == 2} - timing
        c.check(always and always <= names,
                f"the {len(always)} names calibrate saw in every start (not the Go scheduler's) are in the notify "
                f"recording", f"not recorded: {sorted(always - names)}")
    finally:
        img.remove()

    # runc on an OCI bundle: the same runtime.
    if shutil.which("runc"):
        rbase = os.path.join(tmp, "runc-baseline.json")
        with open(rbase, "w") as f:
            json.dump({"runtime": "old", "with_new_privs": ["read"], "with_no_new_privs": ["read"],
                       "go_runtime": ["nanosleep"], "keep_me": 42}, f)
        r = e2e.sctrace("calibrate", "--runtime", "runc", "--starts", "1", "-o", rbase, timeout=120)
        c.check(r.returncode == 0, "calibrate --runtime runc --starts 1 exits 0", r.describe())
        rdoc = e2e.load_json(rbase)
        check_baseline(rdoc, "runc", 1)
        c.check(isinstance(rdoc, dict) and rdoc.get("keep_me") == 42 and rdoc.get("go_runtime") == ["nanosleep"],
                "an existing file is updated: other keys and go_runtime kept", json.dumps(rdoc)[:400])
        if isinstance(doc, dict) and isinstance(rdoc, dict):
            # Go's scheduler calls (the bundled baseline's go_runtime list:
            # sched_yield, nanosleep, futex, ...) depend on timing, so one
            # start may make one the other's two starts did not.
            go = set(e2e.load_json(os.path.join(e2e.SOURCE, "templates", "runtime-baseline.json"))["go_runtime"])
            c.check(set(rdoc["with_no_new_privs"]) - go <= set(doc["with_no_new_privs"]),
                    "runc and podman (which runs runc) agree on the noNewPrivileges true set",
                    f"runc {rdoc['with_no_new_privs']} podman {doc['with_no_new_privs']}")

    # Docker 20.10 drops listenerPath.
    if ct.docker_available():
        ver = ct.run_docker("version", "--format", "{{.Server.APIVersion}}", check=False).stdout.strip()
        major, minor = (ver.split(".") + ["0", "0"])[:2] if ver else ("0", "0")
        if (int(major), int(minor)) < (1, 42):
            r = e2e.sctrace("calibrate", "--runtime", "docker", "-o", os.path.join(tmp, "d.json"), timeout=60)
            c.check(r.returncode not in (0, None) and "listenerPath" in r.stderr and "--runtime runc" in r.stderr,
                    "calibrate --runtime docker fails and says why (listenerPath dropped; use runc)", r.describe())
            c.check(not os.path.exists(os.path.join(tmp, "d.json")), "and writes nothing")

    # run --runtime-baseline FILE.
    if isinstance(doc, dict):
        custom = dict(doc)
        custom["with_new_privs"] = sorted(set(doc["with_new_privs"]) | {"uname"})
        cpath = os.path.join(tmp, "custom.json")
        with open(cpath, "w") as f:
            json.dump(custom, f)
        with_b, without_b = os.path.join(tmp, "with.json"), os.path.join(tmp, "without.json")
        r1 = e2e.sctrace("run", "--runtime-baseline", cpath, "-o", with_b, "--", exe)
        r2 = e2e.sctrace("run", "-o", without_b, "--", exe)
        c.check(r1.returncode == 0 and r2.returncode == 0, "run with and without --runtime-baseline exit 0",
                r1.describe() + "\n" + r2.describe())
        a1, a2 = e2e.allowed_names(e2e.load_json(with_b) or {}), e2e.allowed_names(e2e.load_json(without_b) or {})
        c.check("uname" in a1 and "uname" not in a2, "--runtime-baseline: uname (only in the file) is allowed with "
                "it and not without", f"with: {'uname' in a1} without: {'uname' in a2}")
        r = e2e.sctrace("run", "--runtime-baseline", os.path.join(tmp, "missing.json"), "-o", with_b, "--", exe)
        c.check(r.returncode not in (0, None) and "missing.json" in r.stderr and e2e.sctrace_lines_ok(r),
                "a missing --runtime-baseline file is one error line naming it", r.describe())

c.finish()
