"""`sctrace check` on podman containers: the check goes through runc's seccomp agent (listenerPath).

The profile is recorded with `sctrace run -- podman run ...` (notify backend),
then `sctrace check --profile P -- podman run ...` runs the container under
the check profile (what P allows whatever the arguments is SCMP_ACT_ALLOW,
every other syscall SCMP_ACT_NOTIFY, listenerPath = sctrace's agent) and the
agent judges each notification with P's watch program. Checks:
  - the same line passes (exit 0, "check passed", backend notify-agent, the
    "listenerPath" backend line), the container's output passes through;
  - the sample with --extra-syscall (uname, not in P) -> exit 1 naming
    uname, the call ran (the sample's output is unchanged), the report JSON
    has pid, executable and all six arguments (the agent sees registers),
    SARIF and JUnit name it;
  - --enforce -> the extra call fails with EPERM inside the container
    ("sample: uname: EPERM") and is reported as denied;
  - a service: `check --http-probe 8080/ -- podman run -d ... http_server`
    passes with the probe ok, and with --danger=keyctl (made at SIGTERM, when
    sctrace stops the container after the probes) fails naming keyctl: the
    shutdown path is watched too;
  - control: the same profile with `uname` added passes the --extra-syscall
    run (so exit 1 above came from the profile, not from the agent path);
  - a rule allowing uname only for a non-NULL buffer passes (the kernel
    notifies, the agent's watch program allows), a rule answering uname
    ENOSYS makes the sample see ENOSYS (and exit 1) without a violation;
  - `runc run -b BUNDLE ID` (when runc is installed): passes against its own
    recorded profile, --enforce denies the extra uname.
Containers carry a unique label and are removed by ID; images by ID.
"""
import json
import os
import shutil
import uuid
import xml.etree.ElementTree as ET

import containers as ct
import sctrace_e2e as e2e

NAME = "check_podman"
LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"{NAME}-{uuid.uuid4().hex}"
LABEL = f"{LABEL_KEY}={LABEL_VALUE}"
TIMEOUT = 300

if shutil.which("podman") is None:
    e2e.skip(NAME, "podman is not installed")

c = e2e.Checks(NAME)


def podman_line(image, *args, detach=False, extra=()):
    # No --ulimit: sctrace adds what podman needs in this VM when the line has none.
    return ["podman", "run", *(["-d"] if detach else ["--rm"]), "--label", LABEL, *extra, image, *args]


def check_reports(rep_path, sarif_path, junit_path, syscall, label):
    rep = e2e.load_json(rep_path) or {}
    v = [x for x in rep.get("violations", []) if x.get("syscall") == syscall]
    ex = v[0]["examples"][0] if v and v[0].get("examples") else {}
    c.check(rep.get("passed") is False and rep.get("backend") == "notify-agent" and len(v) == 1
            and v[0].get("count") == 1 and v[0].get("action") == "allowed" and v[0].get("arch") == "SCMP_ARCH_X86_64"
            and ex.get("pid", 0) > 0 and len(ex.get("args", [])) == 6
            and os.path.basename(ex.get("executable", "")) == "static_basic",
            f"{label}: report JSON has the {syscall} violation with pid, executable and six arguments",
            json.dumps(rep)[:2000])
    c.check(len(rep.get("violations", [])) == 1, f"{label}: exactly one distinct violating syscall",
            json.dumps(rep.get("violations"))[:2000])
    s = e2e.load_json(sarif_path) or {}
    results = (s.get("runs") or [{}])[0].get("results", [])
    c.check(s.get("version") == "2.1.0" and [r.get("ruleId") for r in results] == [f"seccomp-violation/{syscall}"]
            and results[0].get("level") == "error" and syscall in results[0]["message"]["text"],
            f"{label}: SARIF has one error result for {syscall}", json.dumps(s)[:2000])
    try:
        root = ET.parse(junit_path).getroot()
        failing = {tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None}
    except (OSError, ET.ParseError) as e:
        root, failing = None, {f"unparsable: {e}"}
    c.check(root is not None and syscall in failing and len(failing) == 2,
            f"{label}: JUnit has a failing test case {syscall} and the summary case", sorted(failing))


def leftovers():
    return ct.containers_with_label(LABEL_KEY, LABEL_VALUE, docker="podman")


with e2e.tempdir(NAME) as tmp:
    exe = e2e.sample("static_basic")
    server = e2e.sample("http_server")
    img = ct.build_scratch_image({"/static_basic": exe}, name="check-podman", entrypoint=["/static_basic"],
                                 docker="podman")
    simg = ct.build_scratch_image({"/http_server": server}, name="check-podman-svc", entrypoint=["/http_server"],
                                  expose=[8080], docker="podman")
    try:
        prof = os.path.join(tmp, "profile.json")
        r = e2e.sctrace("run", "-o", prof, "--", *podman_line(img.id), timeout=TIMEOUT)
        profile = e2e.load_json(prof)
        if not c.check(r.returncode == 0 and isinstance(profile, dict) and "backend notify (" in r.stderr,
                       "run records the podman container's profile through the agent", r.describe()):
            c.finish()
        c.check("uname" not in e2e.allowed_names(profile), "the recorded profile does not allow uname",
                sorted(e2e.allowed_names(profile)))

        # The same line passes.
        junit = os.path.join(tmp, "clean.xml")
        r = e2e.sctrace("check", "--profile", prof, "--junit", junit, "--", *podman_line(img.id), timeout=TIMEOUT)
        c.check(r.returncode == 0 and "check passed" in r.stderr and "(backend notify-agent)" in r.stderr
                and "violation" not in r.stderr, "check against its own profile passes (exit 0)", r.describe())
        c.check("backend notify (" in r.stderr and "listenerPath" in r.stderr,
                "the backend line names the agent (listenerPath)", r.describe())
        c.check("static_basic: ok" in r.stdout, "the container's output passes through", r.describe())
        try:
            clean = ET.parse(junit).getroot()
            clean_failures = sum(int(s.get("failures", "0")) for s in clean.iter("testsuite"))
        except (OSError, ET.ParseError):
            clean, clean_failures = None, -1
        c.check(clean is not None and clean_failures == 0, "JUnit: no failures on the clean run", junit)

        # One extra syscall: a violation, let through.
        sarif = os.path.join(tmp, "extra.sarif")
        junit = os.path.join(tmp, "extra.xml")
        report = os.path.join(tmp, "extra.json")
        r = e2e.sctrace("check", "--profile", prof, "--sarif", sarif, "--junit", junit, "--report-json", report,
                        "--", *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        c.check(r.returncode == 1 and "violation: x86_64 uname: 1 call, allowed to run" in r.stderr
                and "check FAILED" in r.stderr and "uname" in r.stderr.split("check FAILED")[1],
                "--extra-syscall -> exit 1 naming uname", r.describe())
        c.check("static_basic: ok" in r.stdout and "uname: EPERM" not in r.stderr,
                "the violating call ran (the sample's output is unchanged)", r.describe())
        check_reports(report, sarif, junit, "uname", "extra")

        # --enforce: denied with the profile's errno inside the container.
        r = e2e.sctrace("check", "--profile", prof, "--enforce", "--",
                        *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        c.check(r.returncode == 1 and "sample: uname: EPERM" in r.stderr
                and "violation: x86_64 uname: 1 call, denied with EPERM" in r.stderr,
                "--enforce denies uname inside the container with EPERM and reports it", r.describe())

        # verify on a podman line: the same enforcement, verify's verdict and exit code.
        r = e2e.sctrace("verify", "--profile", prof, "--", *podman_line(img.id), timeout=TIMEOUT)
        c.check(r.returncode == 0 and "verify passed" in r.stderr, "verify: the profile passes its own podman run",
                r.describe())
        r = e2e.sctrace("verify", "--profile", prof, "--", *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        c.check(r.returncode == 1 and "verify FAILED" in r.stderr and "uname" in r.stderr
                and "sample: uname: EPERM" in r.stderr,
                "verify: the extra uname is denied inside the container and named; exit 1", r.describe())
        # -d --rm: the container's own failure (an unknown --danger exits 3) still reaches the verdict; the
        # engine's --rm used to remove it, exit code and all, before sctrace could read it.
        r = e2e.sctrace("verify", "--profile", prof, "--", *podman_line(img.id, "--danger=no-such", detach=True,
                                                                          extra=("--rm",)), timeout=TIMEOUT)
        c.check(r.returncode == 1 and "verify FAILED" in r.stderr, "verify: -d --rm with a failing container fails",
                r.describe())
        c.check(not leftovers(), "verify: -d --rm leaves no container", "\n".join(leftovers()))

        # The sensor needs the Docker Engine API: refused in one line, before any container exists.
        r = e2e.sctrace("run", "--backend", "ptrace", "-o", os.path.join(tmp, "never.json"), "--",
                        *podman_line(img.id), timeout=TIMEOUT)
        c.check(r.returncode == 2 and len(r.stderr_lines()) == 1 and "podman" in r.stderr
                and not os.path.exists(os.path.join(tmp, "never.json")),
                "run --backend ptrace on a podman line: one error line, exit 2, nothing written", r.describe())

        # Control: with uname added the same run passes.
        widened = dict(profile)
        widened["syscalls"] = list(profile["syscalls"]) + [{"names": ["uname"], "action": "SCMP_ACT_ALLOW"}]
        wide = os.path.join(tmp, "with-uname.json")
        with open(wide, "w") as f:
            json.dump(widened, f)
        r = e2e.sctrace("check", "--profile", wide, "--", *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        c.check(r.returncode == 0 and "check passed" in r.stderr,
                "control: the profile with uname added passes the --extra-syscall run", r.describe())

        # Conditional rules reach the agent, whose watch program decides: uname
        # allowed only for a non-NULL buffer passes; uname answered ENOSYS by the
        # profile is P's designed answer (the sample sees ENOSYS, no violation).
        def with_rule(rule, path):
            p = dict(profile)
            p["syscalls"] = list(profile["syscalls"]) + [rule]
            with open(path, "w") as f:
                json.dump(p, f)
            return path
        cond = with_rule({"names": ["uname"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]}, os.path.join(tmp, "cond.json"))
        r = e2e.sctrace("check", "--profile", cond, "--", *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        c.check(r.returncode == 0 and "check passed" in r.stderr and "static_basic: ok" in r.stdout,
                "a conditionally allowed uname (arg0 != 0) passes: the agent's watch program allowed it", r.describe())
        enosys = with_rule({"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                           os.path.join(tmp, "enosys.json"))
        r = e2e.sctrace("check", "--profile", enosys, "--", *podman_line(img.id, "--extra-syscall"), timeout=TIMEOUT)
        # (the sample exits 1 when uname fails: check's status is the workload's)
        c.check(r.returncode == 1 and "check passed" in r.stderr and "sample: uname: ENOSYS" in r.stderr
                and "violation" not in r.stderr,
                "uname answered ENOSYS by the profile: answered ENOSYS in the container, not a violation",
                r.describe())

        # A service with a probe.
        sprof = os.path.join(tmp, "service.json")
        probe = ["--http-probe", "8080/"]
        svc = podman_line(simg.id, detach=True, extra=["-p", "127.0.0.1::8080"])
        r = e2e.sctrace("run", "-o", sprof, *probe, "--", *svc, timeout=TIMEOUT)
        if c.check(r.returncode == 0 and e2e.load_json(sprof), "run records the service's profile", r.describe()):
            r = e2e.sctrace("check", "--profile", sprof, *probe, "--", *svc, timeout=TIMEOUT)
            c.check(r.returncode == 0 and "probe 8080/: ok" in r.stderr and "check passed" in r.stderr
                    and "(backend notify-agent)" in r.stderr,
                    "service: check with --http-probe passes through the agent", r.describe())
            danger = "keyctl"
            c.check(danger not in e2e.allowed_names(e2e.load_json(sprof)), f"the service profile lacks {danger}")
            r = e2e.sctrace("check", "--profile", sprof, *probe, "--",
                            *podman_line(simg.id, f"--danger={danger}", detach=True, extra=["-p", "127.0.0.1::8080"]),
                            timeout=TIMEOUT)
            c.check(r.returncode == 1 and "probe 8080/: ok" in r.stderr
                    and f"violation: x86_64 {danger}: 1 call" in r.stderr,
                    f"service: --danger={danger} at shutdown -> exit 1 naming {danger}", r.describe())
        c.check(leftovers() == [], "sctrace removed every container it ran", str(leftovers()))
    finally:
        for cid in leftovers():
            ct.remove_container(cid, docker="podman")
        img.remove()
        simg.remove()

    # runc run on a bundle: the same agent path.
    if shutil.which("runc"):
        bundle = os.path.join(tmp, "bundle")
        os.makedirs(os.path.join(bundle, "rootfs"))
        shutil.copy(exe, os.path.join(bundle, "rootfs", "static_basic"))
        e2e.run(["runc", "spec", "--bundle", bundle])
        cfg_path = os.path.join(bundle, "config.json")

        def set_args(*args):
            with open(cfg_path) as f:
                cfg = json.load(f)
            cfg["process"]["args"] = ["/static_basic", *args]
            cfg["process"]["terminal"] = False
            with open(cfg_path, "w") as f:
                json.dump(cfg, f, indent=2)

        def runc_id():
            return f"sctrace-e2e-{uuid.uuid4().hex[:12]}"

        set_args()
        rprof = os.path.join(tmp, "runc.json")
        r = e2e.sctrace("run", "-o", rprof, "--", "runc", "run", "-b", bundle, runc_id(), timeout=TIMEOUT)
        if c.check(r.returncode == 0 and e2e.load_json(rprof), "runc: run records the bundle's profile",
                   r.describe()):
            r = e2e.sctrace("check", "--profile", rprof, "--", "runc", "run", "-b", bundle, runc_id(),
                            timeout=TIMEOUT)
            c.check(r.returncode == 0 and "check passed" in r.stderr and "(backend notify-agent)" in r.stderr
                    and "static_basic: ok" in r.stdout, "runc: check against its own profile passes", r.describe())
            set_args("--extra-syscall")
            cid = runc_id()
            r = e2e.sctrace("check", "--profile", rprof, "--enforce", "--", "runc", "run", "-b", bundle, cid,
                            timeout=TIMEOUT)
            c.check(r.returncode == 1 and "sample: uname: EPERM" in r.stderr
                    and "violation: x86_64 uname: 1 call, denied with EPERM" in r.stderr,
                    "runc: --enforce denies uname and reports it", r.describe())
            c.check(e2e.run(["runc", "state", cid]).returncode != 0, "runc: the container is gone afterwards")
    else:
        print("note: runc is not installed; the runc bundle part is skipped")

c.finish()
