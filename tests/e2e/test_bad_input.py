"""Bad input fails cleanly: one "sctrace: error: ..." line on stderr, a
non-zero exit (2 for usage/input/io, 127 command not found, 126 not
executable), no output file created, an existing output file untouched."""
import json
import os
import re
import stat
import subprocess

import sctrace_e2e as e2e

c = e2e.Checks("bad_input")
STATIC = e2e.sample("static_basic")
ORIGINAL = b'{"original": "must stay untouched"}\n'


def one_line_error(res, what, code=2, mentions=None):
    lines = res.stderr_lines()
    ok = res.returncode == code and len(lines) == 1 and lines[0].startswith("sctrace: error: ")
    c.check(ok, f"{what}: exit {code} with one 'sctrace: error:' line", res.describe())
    if mentions is not None:
        c.check(any(m in res.stderr for m in ([mentions] if isinstance(mentions, str) else mentions)),
                f"{what}: the error names {mentions}", res.describe())


def dir_entries(d):
    return sorted(os.listdir(d))


with e2e.tempdir("badinput") as tmp:
    out_dir = os.path.join(tmp, "out")
    os.mkdir(out_dir)
    prof = os.path.join(out_dir, "p.json")
    rec = os.path.join(out_dir, "r.json")

    # --- malformed template
    bad_tmpl = os.path.join(tmp, "bad.json")
    with open(bad_tmpl, "w") as f:
        f.write('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ {"names": ["read"], ')
    r = e2e.sctrace("run", "-o", prof, "--recording", rec, "--template", bad_tmpl, "--", STATIC)
    one_line_error(r, "malformed --template", mentions="bad.json")
    c.check(dir_entries(out_dir) == [], "malformed --template: nothing written (no profile, "
            "recording or temporary file)", str(dir_entries(out_dir)))
    c.check("static_basic: ok" not in r.stdout,
            "malformed --template: rejected before the workload is launched", r.describe())

    # --- an existing profile stays untouched when the run fails
    with open(prof, "wb") as f:
        f.write(ORIGINAL)
    r = e2e.sctrace("run", "-o", prof, "--template", bad_tmpl, "--", STATIC)
    c.check(r.returncode == 2 and e2e.read_bytes(prof) == ORIGINAL,
            "failed run (bad template) leaves an existing profile untouched", r.describe())
    r = e2e.sctrace("run", "-o", prof, "--", "/nonexistent/command")
    c.check(r.returncode == 127 and e2e.read_bytes(prof) == ORIGINAL,
            "failed run (command not found) leaves an existing profile untouched", r.describe())
    c.check(dir_entries(out_dir) == ["p.json"], "no stray files next to the profile",
            str(dir_entries(out_dir)))
    os.unlink(prof)

    # --- unknown syscall name in a template
    tmpl = e2e.load_json(e2e.template_path())
    tmpl["syscalls"][0]["names"].append("no_such_syscall_xyzzy")
    unk = os.path.join(tmp, "unknown-name.json")
    with open(unk, "w") as f:
        json.dump(tmpl, f)
    r = e2e.sctrace("run", "-o", prof, "--template", unk, "--", STATIC)
    one_line_error(r, "template with an unknown syscall name", mentions="no_such_syscall_xyzzy")
    c.check(not os.path.exists(prof), "unknown syscall name: no profile written")

    # --- a template that is JSON but not a profile
    notprof = os.path.join(tmp, "not-a-profile.json")
    with open(notprof, "w") as f:
        f.write('{"syscalls": "read"}')
    r = e2e.sctrace("run", "-o", prof, "--template", notprof, "--", STATIC)
    one_line_error(r, "template of the wrong shape", mentions="not-a-profile.json")
    c.check(not os.path.exists(prof), "template of the wrong shape: no profile written")

    # --- malformed recordings for merge
    good_rec = os.path.join(tmp, "good.rec.json")
    r = e2e.sctrace("run", "-o", os.path.join(tmp, "good.json"), "--recording", good_rec, "--", STATIC)
    c.check(r.returncode == 0 and e2e.load_json(good_rec) is not None, "a good recording for merge",
            r.describe())
    bad_rec = os.path.join(tmp, "bad.rec.json")
    with open(bad_rec, "w") as f:
        f.write('{"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"count": ')
    merged = os.path.join(out_dir, "merged.json")
    r = e2e.sctrace("merge", "-o", merged, good_rec, bad_rec)
    one_line_error(r, "merge with a malformed recording", mentions="bad.rec.json")
    c.check(not os.path.exists(merged), "merge with a malformed recording: no output written")
    wrong = os.path.join(tmp, "wrong.rec.json")
    with open(wrong, "w") as f:
        f.write('{"sctrace_recording": 1, "syscalls": {"SCMP_ARCH_X86_64": {"read": {"count": "many"}}}}')
    r = e2e.sctrace("merge", "-o", merged, "--profile", prof, wrong)
    one_line_error(r, "merge with a recording of the wrong shape", mentions="wrong.rec.json")
    c.check(not os.path.exists(merged) and not os.path.exists(prof),
            "merge with a recording of the wrong shape: neither output written")
    r = e2e.sctrace("merge", "-o", merged, os.path.join(tmp, "missing.rec.json"))
    one_line_error(r, "merge with a missing recording", mentions="missing.rec.json")
    r = e2e.sctrace("merge", "-o", merged, good_rec)
    c.check(r.returncode == 0 and (e2e.load_json(merged) or {}).get("sctrace_recording") == 1,
            "control: merge of the good recording alone works", r.describe())
    os.unlink(merged)

    # --- command not found / not executable
    r = e2e.sctrace("run", "-o", prof, "--", "no-such-command-sctrace-e2e")
    one_line_error(r, "command not found in PATH", code=127, mentions="no-such-command-sctrace-e2e")
    c.check(not os.path.exists(prof), "command not found: no profile written")
    noexec = os.path.join(tmp, "noexec.sh")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(noexec, 0o644)
    r = e2e.sctrace("run", "-o", prof, "--", noexec)
    one_line_error(r, "command not executable", code=126, mentions="noexec.sh")
    c.check(not os.path.exists(prof), "command not executable: no profile written")

    # --- unwritable output paths
    r = e2e.sctrace("run", "-o", "/nonexistent-dir-sctrace/p.json", "--", STATIC)
    one_line_error(r, "-o in a directory that does not exist", mentions="/nonexistent-dir-sctrace")
    c.check(not os.path.exists("/nonexistent-dir-sctrace"), "nothing created for the missing dir")

    ro = os.path.join(tmp, "ro")
    os.mkdir(ro)
    if os.geteuid() == 0:
        # root ignores directory permissions: use a read-only tmpfs in a private
        # mount namespace (gone when the shell exits).
        script = (f'mount -t tmpfs -o ro none "$1" || exit 99; '
                  f'"$2" run -o "$1/p.json" -- "$3"; rc=$?; '
                  f'echo "rc=$rc entries=$(ls -A "$1" | wc -l)" >&2; exit $rc')
        r = e2e.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ro,
                     e2e.SCTRACE, STATIC])
        m = re.search(r"rc=(\d+) entries=(\d+)", r.stderr)
        if r.returncode == 99 or not m:
            c.check(False, "read-only directory could be set up (unshare -m + ro tmpfs)", r.describe())
        else:
            sct = [l for l in r.stderr_lines() if not l.startswith("rc=")]
            c.check(m.group(1) == "2" and len(sct) == 1 and sct[0].startswith("sctrace: error: "),
                    "-o in a read-only directory: exit 2 with one 'sctrace: error:' line", r.describe())
            c.check(m.group(2) == "0", "-o in a read-only directory: nothing created there", r.describe())
    else:
        os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
        r = e2e.sctrace("run", "-o", os.path.join(ro, "p.json"), "--", STATIC)
        one_line_error(r, "-o in a read-only directory")
        c.check(dir_entries(ro) == [], "-o in a read-only directory: nothing created there")
        os.chmod(ro, stat.S_IRWXU)

    # --- usage errors
    r = e2e.sctrace("run", "--no-such-flag", "-o", prof, "--", STATIC)
    one_line_error(r, "unknown flag to run", mentions="--no-such-flag")
    r = e2e.sctrace("--no-such-flag")
    c.check(r.returncode == 2, "unknown top-level flag: exit 2", r.describe())
    r = e2e.sctrace("no-such-subcommand")
    c.check(r.returncode == 2, "unknown subcommand: exit 2", r.describe())
    r = e2e.sctrace("run", "-o", prof)
    c.check(r.returncode == 2, "run without a COMMAND: exit 2", r.describe())
    r = e2e.sctrace("verify", "--", STATIC)
    c.check(r.returncode == 2, "verify without --profile: exit 2", r.describe())
    r = e2e.sctrace("run", "--timeout", "soon", "-o", prof, "--", STATIC)
    c.check(r.returncode == 2, "--timeout with a non-number: exit 2", r.describe())
    r = e2e.sctrace("verify", "--profile", bad_tmpl, "--", STATIC)
    one_line_error(r, "verify with a malformed profile", mentions="bad.json")
    r = e2e.sctrace("enforce", "--profile", bad_tmpl, "--", STATIC)
    one_line_error(r, "enforce with a malformed profile", mentions="bad.json")
    c.check("static_basic: ok" not in r.stdout, "enforce with a malformed profile does not run it")
    # Options that would have no effect are refused, not ignored.
    r = e2e.sctrace("verify", "--backend", "ptrace", "--profile", bad_tmpl, "--", STATIC)
    one_line_error(r, "verify --backend ptrace on a local command", mentions="--backend ptrace")
    r = e2e.sctrace("run", "--backend", "notify", "--ptrace-stops", "two", "-o", prof, "--", STATIC)
    one_line_error(r, "run --backend notify --ptrace-stops two", mentions="--ptrace-stops")
    r = e2e.sctrace("run", "-o", prof, "--recording", prof, "--", STATIC)
    one_line_error(r, "-o and --recording naming one file", mentions="--recording")
    r = e2e.sctrace("run", "-o", os.path.join(tmp, "c" * 245), "--", STATIC)
    one_line_error(r, "-o with a name too long for the temp file beside it", mentions="too long")
    c.check("static_basic: ok" not in r.stdout, "... refused before the workload ran")
    c.check(not os.path.exists(prof), "no profile appeared from any of the failures")

    r = e2e.sctrace("--version")
    c.check(r.returncode == 0 and re.fullmatch(r"sctrace \S+\n", r.stdout), "--version prints "
            "'sctrace <version>'", r.describe())

c.finish()
