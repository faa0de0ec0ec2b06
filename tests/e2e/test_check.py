"""`sctrace check`: the CI drift guard.

For each local sample and each backend that works here:
  - record its profile with `run`, then `check` the same command against it:
    exit 0, "check passed";
  - `check` the sample in a mode that makes one extra syscall (uname through
    --extra-syscall, or a --danger=NAME call when the profile has uname):
    exit 1, the syscall named on stderr, the workload's behaviour unchanged
    (the extra call succeeds);
  - with --enforce the extra call fails with the profile's errno (EPERM) and
    is still reported;
  - --sarif, --junit and --report-json files parse and say the same thing.
Also: a workload's own non-zero exit comes back as check's status when there
is no violation (the documented exit rule), and a profile libseccomp rejects
is refused before anything runs. A `docker run` line is checked through the
in-container sensor (skipped loudly when docker is not usable and CI is not
"true").
"""
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET

import containers as ct
import sctrace_e2e as e2e

SAMPLES = ["static_basic", "dynamic_basic", "threads", "forkexec", "int80"]

c = e2e.Checks("check")


def backends_here(tmp):
    out = ["ptrace"]
    prof = os.path.join(tmp, "probe.json")
    r = e2e.sctrace("run", "--backend", "notify", "-o", prof, "--", e2e.sample("static_basic"))
    if r.returncode == 0:
        out.append("notify")
    else:
        print(f"note: backend notify does not work here, skipped:\n{r.describe()}")
    return out


def extra_mode(profile):
    """Arguments that make one syscall the profile does not allow, and its name."""
    allowed = e2e.allowed_names(profile)
    if "uname" not in allowed:
        return ["--extra-syscall"], "uname"
    for name in ("keyctl", "ptrace", "setns", "bpf"):
        if name not in allowed:
            return [f"--danger={name}"], name
    return None, None


def check_sarif(path, syscall, label):
    s = e2e.load_json(path)
    ok = s is not None and s.get("version") == "2.1.0" and isinstance(s.get("runs"), list) and len(s["runs"]) == 1
    c.check(ok, f"{label}: SARIF 2.1.0 parses", path)
    if not ok:
        return
    run = s["runs"][0]
    results = run.get("results", [])
    rules = {r["id"] for r in run.get("tool", {}).get("driver", {}).get("rules", [])}
    hit = [r for r in results if syscall in r.get("ruleId", "")]
    c.check(len(hit) == 1 and hit[0]["ruleId"] in rules and hit[0].get("level") == "error"
            and syscall in hit[0]["message"]["text"]
            and hit[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            f"{label}: SARIF has one error result for {syscall}, its rule, and a location", json.dumps(results)[:2000])
    inv = (run.get("invocations") or [{}])[0]
    c.check(" -- " in inv.get("commandLine", ""), f"{label}: SARIF's commandLine includes the workload",
            inv.get("commandLine"))
    uri = hit[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] if hit else ""
    c.check(re.fullmatch(r"[A-Za-z0-9._~/%-]+", uri) is not None, f"{label}: SARIF's uri is a URI reference ({uri})")


def check_junit(path, syscall, label):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        c.check(False, f"{label}: JUnit XML parses", str(e))
        return
    suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
    cases = [tc for s in suites for tc in s.findall("testcase")]
    failing = {tc.get("name") for tc in cases if tc.find("failure") is not None}
    total_failures = sum(int(s.get("failures", "0")) for s in suites)
    c.check(root.tag == "testsuites" and len(cases) >= 2, f"{label}: JUnit XML parses, has test cases",
            ET.tostring(root, encoding="unicode")[:2000])
    if syscall:
        c.check(syscall in failing and total_failures == len(failing) >= 2,
                f"{label}: JUnit has a failing test case '{syscall}' and the summary case", sorted(failing))
    else:
        c.check(not failing and total_failures == 0, f"{label}: JUnit: no failures on a clean run", sorted(failing))


with e2e.tempdir("check") as tmp:
    backends = backends_here(tmp)
    for name in SAMPLES:
        if name == "int80" and e2e.skip_without_int80("check", "the int80 sample, every backend"):
            continue
        exe = e2e.sample(name)
        for backend in backends:
            label = f"{name}/{backend}"
            print(f"--- {label}")
            prof = os.path.join(tmp, f"{name}.{backend}.json")
            r = e2e.sctrace("run", "--backend", backend, "-o", prof, "--", exe)
            if not c.check(r.returncode == 0 and e2e.load_json(prof), f"{label}: run records a profile", r.describe()):
                continue
            profile = e2e.load_json(prof)
            junit = os.path.join(tmp, f"{name}.{backend}.clean.xml")

            r = e2e.sctrace("check", "--profile", prof, "--backend", backend, "--junit", junit, "--", exe)
            c.check(r.returncode == 0 and "check passed" in r.stderr and "violation" not in r.stderr,
                    f"{label}: check against its own profile passes (exit 0)", r.describe())
            check_junit(junit, None, label)

            args, extra = extra_mode(profile)
            if not args:
                c.check(False, f"{label}: found a syscall outside the profile to make", prof)
                continue
            sarif = os.path.join(tmp, f"{name}.{backend}.sarif")
            junit = os.path.join(tmp, f"{name}.{backend}.xml")
            report = os.path.join(tmp, f"{name}.{backend}.report.json")
            plain = e2e.run([exe, *args])
            r = e2e.sctrace("check", "--profile", prof, "--backend", backend, "--sarif", sarif, "--junit", junit,
                            "--report-json", report, "--", exe, *args)
            c.check(r.returncode == 1 and f"violation: x86_64 {extra}: 1 call" in r.stderr
                    and "check FAILED" in r.stderr and extra in r.stderr.split("check FAILED")[1],
                    f"{label}: {' '.join(args)} -> exit 1 naming {extra}", r.describe())
            c.check(r.stdout == plain.stdout, f"{label}: the violation ran as without sctrace (same output)",
                    f"untraced:\n{plain.describe()}\nchecked:\n{r.describe()}")
            rep = e2e.load_json(report) or {}
            v = [x for x in rep.get("violations", []) if x.get("syscall") == extra]
            c.check(rep.get("passed") is False and len(v) == 1 and v[0]["count"] == 1 and v[0]["action"] == "allowed"
                    and v[0]["arch"] == "SCMP_ARCH_X86_64" and v[0]["examples"][0].get("pid", 0) > 0
                    and len(v[0]["examples"][0].get("args", [])) == 6
                    and os.path.basename(v[0]["examples"][0].get("executable", "")) in (name, "static_basic"),
                    f"{label}: report JSON has the violation with pid, executable and arguments", json.dumps(rep)[:2000])
            c.check(len(rep.get("violations", [])) == 1, f"{label}: exactly one distinct violating syscall",
                    json.dumps(rep.get("violations"))[:2000])
            check_sarif(sarif, extra, label)
            check_junit(junit, extra, label)

            if name == "static_basic":
                # --enforce: the call fails with the profile's errno and is still reported.
                r = e2e.sctrace("check", "--profile", prof, "--backend", backend, "--enforce", "--", exe, *args)
                denied = "sample: uname: EPERM" in r.stderr if extra == "uname" else f"danger {extra}: EPERM" in r.stdout
                c.check(r.returncode == 1 and denied and f"violation: x86_64 {extra}: 1 call, denied with EPERM"
                        in r.stderr, f"{label}: --enforce denies {extra} with EPERM and reports it", r.describe())

    # The workload's own status when nothing violates the profile.
    prof = os.path.join(tmp, "exit7.json")
    r = e2e.sctrace("run", "-o", prof, "--", "sh", "-c", "exit 7")
    c.check(r.returncode == 7, "run: sh -c 'exit 7' -> 7", r.describe())
    r = e2e.sctrace("check", "--profile", prof, "--", "sh", "-c", "exit 7")
    c.check(r.returncode == 7 and "check passed" in r.stderr,
            "check: no violation, the workload's exit 7 is check's status", r.describe())
    r = e2e.sctrace("check", "--profile", prof, "--", "sh", "-c", "uname -a >/dev/null; exit 7")
    c.check(r.returncode == 1 and "check FAILED" in r.stderr and "uname" in r.stderr,
            "check: a violation wins over the workload's status", r.describe())

    # A docker line: the in-container sensor watches with the compiled program.
    if shutil.which("docker") and ct.docker_available():
        exe = e2e.sample("static_basic")
        with ct.build_scratch_image({"/static_basic": exe}, name="check", entrypoint=["/static_basic"]) as img:
            prof = os.path.join(tmp, "docker.json")
            r = e2e.sctrace("run", "-o", prof, "--", "docker", "run", "--rm", img.ref, timeout=300)
            c.check(r.returncode == 0, "docker: run records the container's profile", r.describe())
            r = e2e.sctrace("check", "--profile", prof, "--", "docker", "run", "--rm", img.ref, timeout=300)
            c.check(r.returncode == 0 and "check passed" in r.stderr and "backend ptrace-sensor" in r.stderr,
                    "docker: check against its own profile passes", r.describe())
            junit = os.path.join(tmp, "docker.xml")
            r = e2e.sctrace("check", "--profile", prof, "--junit", junit, "--", "docker", "run", "--rm", img.ref,
                            "--extra-syscall", timeout=300)
            c.check(r.returncode == 1 and "violation: x86_64 uname: 1 call, allowed to run" in r.stderr
                    and "static_basic: ok" in r.stdout, "docker: --extra-syscall -> exit 1 naming uname", r.describe())
            check_junit(junit, "uname", "docker")
            r = e2e.sctrace("check", "--profile", prof, "--enforce", "--", "docker", "run", "--rm", img.ref,
                            "--extra-syscall", timeout=300)
            c.check(r.returncode == 1 and "sample: uname: EPERM" in r.stderr and "denied with EPERM" in r.stderr,
                    "docker: --enforce denies uname inside the container and reports it", r.describe())
            # A syscall Docker's own default profile refuses is still a violation of the profile checked:
            # the engine's filter must not answer it before the sensor sees it.
            for danger in ("keyctl", "unshare"):
                r = e2e.sctrace("check", "--profile", prof, "--", "docker", "run", "--rm", img.ref,
                                f"--danger={danger}", timeout=300)
                c.check(r.returncode == 1 and f"x86_64 {danger}:" in r.stderr,
                        f"docker: {danger} (refused by Docker's default profile) is reported as a violation",
                        r.describe())
                r = e2e.sctrace("check", "--profile", prof, "--enforce", "--", "docker", "run", "--rm", img.ref,
                                f"--danger={danger}", timeout=300)
                c.check(r.returncode == 1 and f"danger {danger}: EPERM" in r.stdout,
                        f"docker: --enforce answers {danger} with the profile's EPERM", r.describe())
    elif os.environ.get("CI") == "true":
        c.check(False, "docker is usable (CI=true: cannot skip)")
    else:
        print("#" * 72 + "\nSKIP docker check: docker is not usable here\n" + "#" * 72)

    # Refused before anything runs.
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ERRNO",
                   "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}, f)
    marker = os.path.join(tmp, "ran")
    r = e2e.sctrace("check", "--profile", bad, "--", "sh", "-c", f"touch {marker}")
    c.check(r.returncode not in (0, 1) and not os.path.exists(marker) and "sctrace: error:" in r.stderr,
            "check: a profile libseccomp rejects is an error before the workload starts", r.describe())
    r = e2e.sctrace("check", "--profile", os.path.join(tmp, "missing.json"), "--", "true")
    c.check(r.returncode not in (0, 1) and "sctrace: error:" in r.stderr, "check: a missing profile is an error",
            r.describe())

c.finish()
