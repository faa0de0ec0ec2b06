"""Call-site attribution, `sctrace explain` and `sctrace diff` on the affinity
sample (samples/affinity.c + samples/affinity_lib.c): sched_getaffinity is made
by sample_probe_affinity() in libsctrace_affinity.so, which the program links.

- ptrace backend, locally: `run` writes the recording beside the profile by
  default; `explain sched_getaffinity` names sample_probe_affinity and the
  library, in text and JSON, and what Docker's default does with it.
- two runs give the same top frames for every syscall (no addresses that move
  with ASLR: module offsets, not pcs).
- `diff` of a run and a run with --extra reports exactly sched_getscheduler and
  getpriority, each with sample_probe_extra in its stack, and exits 1; the
  reverse diff exits 0.
- stripped copies, JIT code, tasks exiting while unwound: no crash, frames as
  `module+0x...` or `??`.
- notify backend: at least the ip's frame (module libc).
- `explain clone3` after `run -- /bin/true`: the profile answers it ENOSYS
  (errnoRet 38) on purpose, by the template's rule, and libc falls back to
  clone; exit 0, not "not in the recording".
- in a FROM-scratch container (sctrace run -- docker run ...): the stack is
  captured by the sensor, with the container's paths.

Skips only the container part (loudly) when docker is unusable and CI is not "true".
"""
import json
import os
import re
import shutil
import subprocess
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("explain")
AFFINITY = e2e.sample("affinity")
LIB = e2e.sample("libsctrace_affinity.so")
if not (os.access(AFFINITY, os.X_OK) and os.path.exists(LIB)):
    c.fatal("the affinity sample and its library are built", f"{AFFINITY}, {LIB}")


def record(tmp, name, *args, backend="ptrace", exe=AFFINITY):
    prof = os.path.join(tmp, f"{name}.json")
    # --static off: the diffs below compare what each run made; static
    # completion would allow some of it (sched_getscheduler) in both.
    r = e2e.sctrace("run", "--backend", backend, "--static", "off", "-o", prof, "--", exe, *args)
    rec_path = os.path.join(tmp, f"{name}.recording.json")
    return r, prof, rec_path, e2e.load_json(rec_path)


def explain_json(syscall, rec_path):
    r = e2e.sctrace("explain", syscall, "--recording", rec_path, "--json")
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def first_stack(rec, syscall, arch="SCMP_ARCH_X86_64"):
    s = (rec or {}).get("syscalls", {}).get(arch, {}).get(syscall, {})
    for cl in s.get("classes", []):
        for st in cl.get("stacks", []):
            return st
    return None


def functions(stack):
    return [f.get("function") for f in (stack or {}).get("frames", [])]


def top_frames(rec, n=3):
    """syscall -> its first stack's top n frames, without anything ASLR moves."""
    out = {}
    for name in e2e.recorded_names(rec):
        st = first_stack(rec, name)
        if st is None:
            continue
        out[name] = [(f["module"], f["function"], f["module_offset"] if f["module"] else None)
                     for f in st["frames"][:n]]
    return out


with e2e.tempdir("explain") as tmp:
    # --- local, ptrace
    r, prof, rec_path, rec = record(tmp, "base")
    c.check(r.returncode == 0 and "affinity: " in r.stdout, "run --backend ptrace of affinity exits 0", r.describe())
    c.check(rec is not None, "run wrote the recording beside the profile by default (base.recording.json)",
            r.describe())
    c.check(e2e.sctrace_lines_ok(r), "every stderr line of run is sctrace's", r.describe())
    c.check(re.search(r"^sctrace:   the runtime:\n(sctrace:     .*\n)*sctrace:     sched_getaffinity +"
                      r"libsctrace_affinity\.so +sample_probe_affinity$", r.stderr, re.M) is not None,
            "run's report lists sched_getaffinity under the runtime with its library and function", r.describe())
    c.check(re.search(r"^sctrace:   libc/loader startup:$", r.stderr, re.M) is not None,
            "run's report has a libc/loader startup group", r.describe())

    st = first_stack(rec, "sched_getaffinity")
    fns = functions(st)
    c.check(st is not None and "sample_probe_affinity" in fns, "the recorded stack of sched_getaffinity names "
            "sample_probe_affinity", json.dumps(st, indent=1))
    if st:
        mods = [f["module"] for f in st["frames"]]
        i = fns.index("sample_probe_affinity") if "sample_probe_affinity" in fns else -1
        c.check(i >= 0 and os.path.realpath(mods[i]) == os.path.realpath(LIB),
                "that frame's module is the library", json.dumps(st, indent=1))
        c.check(i >= 0 and re.fullmatch(r"[0-9a-f]{40}", st["frames"][i]["build_id"] or "") is not None,
                "that frame has the library's build-id", json.dumps(st, indent=1))
        c.check(fns[0] == "sched_getaffinity" and "main" in fns and len(fns) <= 16,
                "innermost frame is libc's wrapper, main is further out, at most 16 frames", str(fns))

    r = e2e.sctrace("explain", "sched_getaffinity", "--recording", rec_path)
    c.check(r.returncode == 0 and "sample_probe_affinity" in r.stdout and "libsctrace_affinity.so" in r.stdout,
            "explain sched_getaffinity (text) shows the function and the library", r.describe())
    c.check("Docker default profile: allowed" in r.stdout and "gated by capability: none" in r.stdout
            and "CPUs" in r.stdout, "explain says Docker's default allows it, no capability, and what it does",
            r.describe())
    r, j = explain_json("sched_getaffinity", rec_path)
    c.check(r.returncode == 0 and j is not None and j["recorded"] and j["docker_default"]["allowed"]
            and any("sample_probe_affinity" in functions(s) for cl in j["classes"] for s in cl["stacks"])
            and any(s["caller"]["function"] == "sample_probe_affinity" for cl in j["classes"] for s in cl["stacks"]),
            "explain --json: recorded, allowed by Docker's default, caller sample_probe_affinity", r.describe())
    r = e2e.sctrace("explain", "mount", "--recording", rec_path)
    c.check(r.returncode == 1 and "CAP_SYS_ADMIN" in r.stdout and "not in the recording" in r.stdout,
            "explain of an unrecorded syscall: its gating capability, exit 1", r.describe())
    # --- a call the profile answers ENOSYS on purpose: Docker's default
    # answers clone3 ENOSYS (without CAP_SYS_ADMIN), so glibc falls back to clone.
    true_prof = os.path.join(tmp, "true.json")
    r = e2e.sctrace("run", "-o", true_prof, "--", "/bin/true")
    true_rec = os.path.join(tmp, "true.recording.json")
    rules = [x for x in (e2e.load_json(true_prof) or {}).get("syscalls", []) if "clone3" in x["names"]]
    c.check(r.returncode == 0 and any(x["action"] == "SCMP_ACT_ERRNO" and x.get("errnoRet") == 38 for x in rules),
            "run -- /bin/true: the profile answers clone3 with errnoRet 38", r.describe() + json.dumps(rules))
    r = e2e.sctrace("explain", "clone3", "--recording", true_rec)
    c.check(r.returncode == 0 and "the profile answers it ENOSYS (errnoRet 38) on purpose" in r.stdout
            and "clone3 -> clone" in r.stdout and "not in the recording" not in r.stdout,
            "explain clone3 (text): answered ENOSYS on purpose, libc falls back to clone, exit 0", r.describe())
    r, j = explain_json("clone3", true_rec)
    a = (j or {}).get("profile_answer") or {}
    c.check(r.returncode == 0 and a.get("errno_ret") == 38 and a.get("on_purpose") is True
            and a.get("source") == "template" and a.get("falls_back_to") == ["clone"]
            and "CAP_SYS_ADMIN" in a.get("reason", ""),
            "explain clone3 --json: profile_answer ENOSYS (38) on purpose, the template's rule, falls back to clone",
            r.describe())
    r = e2e.sctrace("explain", "no_such_syscall", "--recording", rec_path)
    c.check(r.returncode == 2 and r.stderr.startswith("sctrace: error: "), "explain of an unknown name: exit 2",
            r.describe())
    r = e2e.sctrace("explain", "read", "--recording", os.path.join(tmp, "missing.json"))
    c.check(r.returncode == 2 and "missing.json" in r.stderr, "explain without a recording: one error line, exit 2",
            r.describe())

    # --- stable across runs
    r2, _, _, rec2 = record(tmp, "again")
    a, b = top_frames(rec), top_frames(rec2)
    common = sorted(set(a) & set(b))
    diffs = {n: (a[n], b[n]) for n in common if a[n] != b[n]}
    c.check(r2.returncode == 0 and len(common) >= 10 and not diffs,
            f"two runs: same top frames for all {len(common)} syscalls with stacks",
            json.dumps(diffs, indent=1, default=str))

    # --- diff: the --extra feature adds exactly two syscalls, with call sites
    r, _, extra_path, extra = record(tmp, "extra", "--extra")
    c.check(r.returncode == 0 and extra is not None, "run with --extra", r.describe())
    r = e2e.sctrace("diff", rec_path, extra_path, "--json")
    try:
        d = json.loads(r.stdout)
    except ValueError:
        d = None
    c.check(r.returncode == 1 and d is not None, "diff OLD NEW --json exits 1 (NEW allows more)", r.describe())
    if d:
        added = sorted(e["syscall"] for e in d["added"])
        c.check(added == ["getpriority", "sched_getscheduler"] and not d["widened"] and not d["arches_added"],
                "diff reports exactly the extra syscalls (getpriority, sched_getscheduler), nothing widened",
                json.dumps(d, indent=1)[:3000])
        c.check(all(any("sample_probe_extra" in functions(s) for s in e["stacks"]) for e in d["added"]),
                "each addition comes with a stack through sample_probe_extra", json.dumps(d["added"], indent=1))
    r = e2e.sctrace("diff", rec_path, extra_path)
    c.check(r.returncode == 1 and "+ x86_64 sched_getscheduler" in r.stdout and "sample_probe_extra" in r.stdout,
            "diff (text) lists the additions and their call sites", r.describe())
    r = e2e.sctrace("diff", extra_path, rec_path)
    c.check(r.returncode == 0 and "- x86_64 getpriority" in r.stdout, "the reverse diff only removes: exit 0",
            r.describe())
    r = e2e.sctrace("diff", prof, os.path.join(tmp, "extra.json"))
    c.check(r.returncode == 1 and "+ sched_getscheduler" in r.stdout, "diff of the two profiles exits 1 too",
            r.describe())

    # --- stripped copies: names from .dynsym where they exist, module+offset otherwise
    sdir = os.path.join(tmp, "stripped")
    os.mkdir(sdir)
    s_exe = os.path.join(sdir, "affinity")
    shutil.copy2(AFFINITY, s_exe)
    shutil.copy2(LIB, os.path.join(sdir, "libsctrace_affinity.so"))
    strip = subprocess.run(["strip", "--strip-all", s_exe, os.path.join(sdir, "libsctrace_affinity.so")],
                           capture_output=True, text=True)
    c.check(strip.returncode == 0, "strip --strip-all the copies", strip.stderr)
    r, _, _, srec = record(tmp, "stripped", exe=s_exe)
    c.check(r.returncode == 0 and srec is not None, "stripped affinity traced, no crash", r.describe())
    st = first_stack(srec, "sched_getaffinity")
    texts = []
    for f in (st or {}).get("frames", []):
        texts.append(f["function"] or (f"{os.path.basename(f['module'])}+{f['module_offset']:#x}" if f["module"]
                                       else "??"))
    c.check(st is not None and "sample_probe_affinity" in texts
            and any(re.fullmatch(r"affinity\+0x[0-9a-f]+", t) for t in texts),
            "stripped: the exported function keeps its name (.dynsym), main becomes affinity+0x...", str(texts))
    r = e2e.sctrace("explain", "sched_getaffinity", "--recording", os.path.join(tmp, "stripped.recording.json"))
    c.check(r.returncode == 0 and re.search(r"#\d+ +\S*/affinity\+0x[0-9a-f]+$", r.stdout, re.M) is not None,
            "explain shows the stripped frame as module+0xoffset", r.describe())

    # --- JIT code: the syscall instruction is in anonymous memory
    r, _, _, jrec = record(tmp, "jit", "--jit")
    c.check(r.returncode == 0 and "jit getppid ok" in r.stdout, "affinity --jit traced, no crash", r.describe())
    st = first_stack(jrec, "getppid")
    c.check(st is not None and st["frames"] and st["frames"][0]["module"] == "" and st["frames"][0]["function"] == "",
            "the JIT frame has no module and no function (shown as ??)", json.dumps(st, indent=1))
    r = e2e.sctrace("explain", "getppid", "--recording", os.path.join(tmp, "jit.recording.json"))
    c.check(r.returncode == 0 and re.search(r"#0 +\?\?$", r.stdout, re.M) is not None, "explain prints it as ??",
            r.describe())

    # --- tasks exiting while being unwound
    ok_runs = 0
    for i in range(5):
        r, _, _, xrec = record(tmp, f"race{i}", "--exit-race")
        ok_runs += r.returncode == 0 and xrec is not None and e2e.sctrace_lines_ok(r)
        if r.returncode != 0:
            print(r.describe())
    c.check(ok_runs == 5, f"--exit-race: 5 of 5 runs exit 0 with a recording ({ok_runs})")

    # --- notify backend: the ip mapped to its module
    r, _, _, nrec = record(tmp, "notify", backend="notify")
    if r.returncode == 0:
        st = first_stack(nrec, "sched_getaffinity")
        c.check(st is not None and len(st["frames"]) == 1 and "libc.so" in st["frames"][0]["module"]
                and st["frames"][0]["function"] == "sched_getaffinity",
                "notify backend: the ip's frame (libc's sched_getaffinity)", json.dumps(st, indent=1))
    else:
        c.check("notify" in r.stderr, "notify backend refused with a reason", r.describe())

# --- in a container, through the sensor
if not e2e.docker_usable(c, "explain", part="the container part"):
    c.finish()


def interp_and_libc():
    out = subprocess.run(["ldd", AFFINITY], capture_output=True, text=True).stdout
    files = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m and m.group(1).startswith("libc.so"):
            files[m.group(2)] = m.group(2)
        m = re.match(r"\s*(/\S*ld-linux\S*)", line)
        if m:
            files[m.group(1)] = m.group(1)
    return files


label = f"sctrace-test=explain-{uuid.uuid4().hex}"
image = None
try:
    files = {"/app/affinity": AFFINITY, "/app/libsctrace_affinity.so": LIB}
    files.update(interp_and_libc())
    image = ct.build_scratch_image(files, name="explain", entrypoint=["/app/affinity"])
    with e2e.tempdir("explain-container") as tmp:
        prof = os.path.join(tmp, "c.json")
        r = e2e.sctrace("run", "--backend", "ptrace", "-o", prof, "--", "docker", "run", "--rm", "--label", label,
                        image.tag, timeout=300)
        rec_path = os.path.join(tmp, "c.recording.json")
        rec = e2e.load_json(rec_path)
        c.check(r.returncode == 0 and "affinity: " in r.stdout and rec is not None,
                "container run: exit 0, recording written beside the profile", r.describe())
        st = first_stack(rec, "sched_getaffinity")
        fns = functions(st)
        c.check(st is not None and "sample_probe_affinity" in fns
                and any(f["module"] == "/app/libsctrace_affinity.so" for f in st["frames"]),
                "container: the stack names sample_probe_affinity in /app/libsctrace_affinity.so (container path)",
                json.dumps(st, indent=1))
        r = e2e.sctrace("explain", "sched_getaffinity", "--recording", rec_path)
        c.check(r.returncode == 0 and "sample_probe_affinity" in r.stdout
                and "/app/libsctrace_affinity.so" in r.stdout and "/app/affinity" in r.stdout,
                "container: explain shows the function, the library and the executable", r.describe())
        # --stack-depth reaches the sensor: as deep as asked, or no stacks at all.
        for depth in (2, 0):
            rec_path = os.path.join(tmp, f"d{depth}.recording.json")
            r = e2e.sctrace("run", "--backend", "ptrace", "--stack-depth", str(depth), "-o",
                            os.path.join(tmp, f"d{depth}.json"), "--", "docker", "run", "--rm", "--label", label,
                            image.tag, timeout=300)
            rec = e2e.load_json(rec_path)
            stacks = [st for arch in (rec or {}).get("syscalls", {}).values() for call in arch.values()
                      for cl in call.get("classes", []) for st in cl.get("stacks", [])]
            depths = sorted({len(st.get("frames", [])) for st in stacks})
            want_ok = (lambda ds: ds == []) if depth == 0 else (lambda ds: ds != [] and max(ds) <= depth)
            c.check(r.returncode == 0 and rec is not None and want_ok(depths),
                    f"container --stack-depth {depth}: the sensor's stacks have at most {depth} frames",
                    f"frames per stack: {depths}\n{r.describe()}")
except ct.DockerError as e:
    c.check(False, "container part: docker commands work", str(e))
finally:
    ct.remove_containers_with_label("sctrace-test", label.split("=", 1)[1])
    if image is not None:
        image.remove()

c.finish()
