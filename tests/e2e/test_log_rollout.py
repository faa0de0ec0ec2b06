"""The log-mode rollout (issue 17, part 2): `run --unlisted log` writes a
profile whose default is SCMP_ACT_LOG; a path the recording never took runs
under it for real, the kernel logs what was unlisted, `sctrace harvest` reads
those records back into a recording, `sctrace merge` adds it, and `sctrace
verify` passes the new path under the merged profile, where it failed under
the profile of the first recording alone.

The canary still refuses what the template refuses (mount under Docker's
default), enforced.

Path A is a sample as recorded; path B is the same sample with
--extra-syscall (one uname(2) more, samples/common.h).

- locally: static_basic, path B enforced by `sctrace enforce` (libseccomp in
  the exec'ing process, as a runtime loads a profile), harvested by --exe.
- in a container (the system's Docker): idle, recorded with `run --duration`,
  path B in `docker run -d --security-opt seccomp=PROFILE`, harvested by
  --container while it runs (the records name host pids only), verified with
  `sctrace verify -- docker run ...`.

The kernel prints these records through printk's rate limit (a burst of 10
per 5 s by default, for the whole machine): when harvest says the kernel
reported losses and uname is missing, path B is run again after the limit's
interval, as harvest itself advises; a harvest that misses it without losses
fails.
"""
import json
import os
import re
import time
import uuid

import pytest

import containers as ct
import sctrace_e2e as e2e

RATELIMIT_INTERVAL = 5.5  # kernel.printk_ratelimit (5 s) and a margin
ATTEMPTS = 4


def names_in(rec_path):
    rec = e2e.load_json(rec_path) or {}
    return set(rec.get("syscalls", {}).get("SCMP_ARCH_X86_64", {}))


def harvest_path_b(checks, run_path_b, harvest_args, out):
    """Runs path B and harvests until uname shows up (or the kernel reported
    no losses, which leaves nothing to wait for). harvest_args() gives the
    selection, asked after path B ran. Returns the last harvest."""
    r = None
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RATELIMIT_INTERVAL)
        run_path_b()
        r = e2e.sctrace("harvest", "--since", "10m", *harvest_args(), "-o", out)
        if r.returncode != 0 or "uname" in names_in(out):
            break
        if "the kernel reported losses" not in r.stderr:
            break
        print(f"harvest attempt {attempt + 1}: the kernel dropped records, path B again")
    checks.check(r.returncode == 0, "harvest exits 0", r.describe())
    checks.check(re.search(r"^sctrace: read \d+ seccomp records? from /dev/kmsg", r.stderr, re.M),
                 "harvest says how many records it read, and from where", r.describe())
    checks.check(re.search(r"^sctrace: the kernel reported (no )?losses", r.stderr, re.M),
                 "harvest says whether the kernel reported losses", r.describe())
    checks.check("uname" in names_in(out), "the harvested recording has path B's uname", r.describe())
    return r


def check_log_default(checks, path, what):
    doc = e2e.load_json(path) or {}
    checks.check(doc.get("defaultAction") == "SCMP_ACT_LOG" and "defaultErrnoRet" not in doc,
                 f"{what}: defaultAction SCMP_ACT_LOG, no defaultErrnoRet", json.dumps(doc)[:300])


def test_unlisted_option(checks, tmp):
    sample = e2e.sample("static_basic")
    for fmt in ("docker", "oci", "podman", "k8s"):
        out = os.path.join(tmp, f"p-{fmt}.{'yaml' if fmt == 'k8s' else 'json'}")
        r = e2e.sctrace("run", "--unlisted", "log", "--format", fmt, "-o", out, "--", sample)
        checks.check(r.returncode == 0, f"--format {fmt}: run --unlisted log exits 0", r.describe())
        if fmt == "k8s":
            with open(out) as f:
                checks.check('defaultAction: "SCMP_ACT_LOG"' in f.read(), "k8s: the resource logs by default")
            out = out[:-len(".yaml")] + ".json"
        check_log_default(checks, out, f"--format {fmt}")
    plain = os.path.join(tmp, "plain.json")
    r = e2e.sctrace("run", "-o", plain, "--", sample)
    doc = e2e.load_json(plain) or {}
    checks.check(r.returncode == 0 and doc.get("defaultAction") == "SCMP_ACT_ERRNO",
                 "without --unlisted the default stays the errno", r.describe())
    for bad in (["--unlisted", "allow"], ["--unlisted"]):
        r = e2e.sctrace("run", *bad, "-o", os.path.join(tmp, "bad.json"), "--", sample)
        lines = r.stderr.strip().splitlines()
        checks.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: "),
                     f"run {' '.join(bad)}: one error line, exit 2", r.describe())
    r = e2e.sctrace("harvest", "--since", "soon", "-o", os.path.join(tmp, "h.json"))
    lines = r.stderr.strip().splitlines()
    checks.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: --since"),
                 "harvest --since soon: one error line, exit 2", r.describe())
    checks.done()


def test_local_rollout(checks, tmp):
    sample = e2e.sample("static_basic")
    canary = os.path.join(tmp, "canary.json")
    rec_a = os.path.join(tmp, "a.recording.json")
    r = e2e.sctrace("run", "--unlisted", "log", "-o", canary, "--recording", rec_a, "--", sample)
    checks.check(r.returncode == 0, "path A recorded", r.describe())
    check_log_default(checks, canary, "the canary profile")
    checks.check("uname" not in names_in(rec_a), "path A makes no uname", sorted(names_in(rec_a)))
    # The canary logs only what the template would let run: Docker's default
    # refuses mount, and so does the canary, enforced (samples/common.h
    # --danger: exit 0 on EPERM, 3 when the call went through).
    r = e2e.sctrace("enforce", "--profile", canary, "--", sample, "--danger=mount")
    checks.check(r.returncode == 0 and "danger mount: EPERM" in r.stdout,
                 "the canary refuses what the template refuses (mount: EPERM), it does not log it through",
                 r.describe())

    # The profile of path A alone, as `run` writes it without --unlisted.
    only_a = os.path.join(tmp, "only-a.json")
    r = e2e.sctrace("merge", "-o", os.path.join(tmp, "only-a.rec.json"), "--profile", only_a, rec_a)
    checks.check(r.returncode == 0, "the errno profile of path A", r.describe())
    r = e2e.sctrace("enforce", "--profile", only_a, "--", sample, "--extra-syscall")
    checks.check(r.returncode == 1 and "uname" in r.stderr,
                 "control: path B fails under path A's errno profile (its uname is refused)", r.describe())

    path_b = []

    def run_path_b():
        res = e2e.sctrace("enforce", "--profile", canary, "--", sample, "--extra-syscall")
        path_b.append(res)

    harvested = os.path.join(tmp, "harvested.json")
    harvest_path_b(checks, run_path_b, lambda: ["--exe", os.path.realpath(sample)], harvested)
    checks.check(all(res.returncode == 0 for res in path_b),
                 "path B runs under the canary profile (enforced, uname logged, not refused)",
                 "\n".join(res.describe() for res in path_b))

    merged = os.path.join(tmp, "merged.json")
    r = e2e.sctrace("merge", "-o", os.path.join(tmp, "merged.rec.json"), "--profile", merged, rec_a, harvested)
    checks.check(r.returncode == 0, "merge takes the harvested recording", r.describe())
    r = e2e.sctrace("verify", "--profile", merged, "--", sample, "--extra-syscall")
    checks.check(r.returncode == 0 and "verify passed" in r.stderr, "verify passes path B under the merged profile",
                 r.describe())
    r = e2e.sctrace("verify", "--profile", only_a, "--", sample, "--extra-syscall")
    checks.check(r.returncode != 0 and "uname" in r.stderr, "control: verify fails path B under path A's profile",
                 r.describe())
    checks.done()


def test_container_rollout(checks, tmp):
    if not ct.docker_available():
        if os.environ.get("CI") == "true":
            pytest.fail("docker is not usable and CI=true")
        pytest.skip("docker is not usable")
    label = f"sctrace-test=log-rollout-{uuid.uuid4().hex}"
    img = ct.build_scratch_image({"/idle": e2e.sample("idle")}, name="idle", entrypoint=["/idle"])
    started = []
    try:
        canary = os.path.join(tmp, "canary.json")
        rec_a = os.path.join(tmp, "a.recording.json")
        r = e2e.sctrace("run", "--unlisted", "log", "-o", canary, "--recording", rec_a, "--duration", "1", "--",
                        "docker", "run", "--rm", "--label", label, img.tag, timeout=180)
        checks.check(r.returncode == 0, "path A recorded in the container", r.describe())
        check_log_default(checks, canary, "the container's canary profile")

        def run_path_b():
            cid = ct.run_detached(img.tag, ["--extra-syscall"],
                                  ["--label", label, "--security-opt", f"seccomp={canary}"])
            started.append(cid)
            for _ in range(100):  # polled: the marker is written after path B's uname
                if "idle: waiting" in ct.logs(cid) or not ct.inspect(cid)["State"]["Running"]:
                    break
                time.sleep(0.1)
            checks.check(ct.inspect(cid)["State"]["Running"], "path B runs in the container under the canary profile",
                         ct.logs(cid))

        harvested = os.path.join(tmp, "harvested.json")
        harvest_path_b(checks, run_path_b, lambda: ["--container", started[-1]], harvested)
        r = e2e.sctrace("harvest", "--container", started[-1], "--exe", "/not-the-sample",
                        "-o", os.path.join(tmp, "none.json"))
        checks.check(r.returncode == 0 and not names_in(os.path.join(tmp, "none.json")),
                     "harvest --exe of another executable takes none of the container's records", r.describe())
        for cid in started:
            ct.remove_container(cid)
        r = e2e.sctrace("harvest", "--container", started[-1], "-o", os.path.join(tmp, "gone.json"))
        lines = r.stderr.strip().splitlines()
        checks.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: "),
                     "harvest of a container that is gone: one error line, exit 2", r.describe())

        merged = os.path.join(tmp, "merged.json")
        only_a = os.path.join(tmp, "only-a.json")
        r = e2e.sctrace("merge", "-o", os.path.join(tmp, "merged.rec.json"), "--profile", merged, rec_a, harvested)
        checks.check(r.returncode == 0, "merge takes the harvested recording", r.describe())
        r = e2e.sctrace("merge", "-o", os.path.join(tmp, "only-a.rec.json"), "--profile", only_a, rec_a)
        checks.check(r.returncode == 0, "the errno profile of path A", r.describe())
        line = ["docker", "run", "--rm", "--label", label, img.tag, "--extra-syscall"]
        r = e2e.sctrace("verify", "--profile", merged, "--duration", "1", "--", *line, timeout=180)
        checks.check(r.returncode == 0 and "verify passed" in r.stderr,
                     "verify passes path B in the container under the merged profile", r.describe())
        r = e2e.sctrace("verify", "--profile", only_a, "--duration", "1", "--", *line, timeout=180)
        checks.check(r.returncode != 0 and "uname" in r.stderr,
                     "control: verify fails path B in the container under path A's profile", r.describe())
    finally:
        for cid in started:
            ct.remove_container(cid)
        img.remove()
    checks.check(not ct.containers_with_label(*label.split("=", 1)), "no container of this test is left")
    checks.done()


def test_kernel_losses(checks, tmp):
    """A path that makes an unlisted call hundreds of times overruns printk's
    burst; the kernel says so with the next record it prints after the
    interval, and harvest reports it."""
    sample, loop = e2e.sample("static_basic"), e2e.sample("loop")
    canary = os.path.join(tmp, "canary.json")
    r = e2e.sctrace("run", "--unlisted", "log", "-o", canary, "--", sample)
    checks.check(r.returncode == 0, "canary of static_basic recorded", r.describe())
    # The runtime baseline lists getppid (runtimes call it after loading the
    # filter); this canary does not, so each of loop's getppid calls is logged.
    doc = e2e.load_json(canary) or {"syscalls": []}
    for rule in doc["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n != "getppid"]
    doc["syscalls"] = [rule for rule in doc["syscalls"] if rule["names"]]
    with open(canary, "w") as f:
        json.dump(doc, f)
    r = e2e.sctrace("enforce", "--profile", canary, "--", loop, "200")
    checks.check(r.returncode == 0, "loop's 200 unlisted getppid calls run under the canary", r.describe())
    time.sleep(RATELIMIT_INTERVAL)  # the kernel reports the drops with its next record after the interval
    r = e2e.sctrace("enforce", "--profile", canary, "--", sample, "--extra-syscall")
    checks.check(r.returncode == 0, "one more logged call, after the interval", r.describe())
    out = os.path.join(tmp, "h.json")
    r = e2e.sctrace("harvest", "--since", "10m", "--exe", os.path.realpath(loop), "-o", out)
    m = re.search(r"^sctrace: the kernel reported losses: (\d+) records? dropped by its printk rate limit", r.stderr,
                  re.M)
    checks.check(r.returncode == 0 and m and int(m.group(1)) > 0, "harvest reports the kernel's losses", r.describe())
    checks.check("getppid" in names_in(out), "what got through is in the recording", r.describe())
    # The next canary: the recordings merged, still logging what is unlisted.
    nxt = os.path.join(tmp, "next.json")
    r = e2e.sctrace("merge", "-o", os.path.join(tmp, "next.rec.json"), "--profile", nxt, "--unlisted", "log", out)
    check_log_default(checks, nxt, "merge --unlisted log --profile")
    rec = e2e.load_json(out) or {}
    checks.check(rec.get("complete") is False, "a recording with losses is marked incomplete", json.dumps(rec)[:200])
    checks.done()
