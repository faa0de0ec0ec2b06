"""Shared helpers for the end-to-end tests (python3 standard library only).

Every test_*.py is one CTest test run with:
  SCTRACE         path of the built sctrace binary
  SCTRACE_SAMPLES <build>/samples (the programs from samples/)
  SCTRACE_SOURCE  the repository root
A test prints every check it makes and exits 0 only when all of them passed.
"""
import errno
import json
import os
import queue
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

DEFAULT_TIMEOUT = 120


def _env_path(name):
    value = os.environ.get(name)
    if not value:
        print(f"FAIL: environment variable {name} is not set (run through ctest)")
        sys.exit(1)
    return value


SCTRACE = _env_path("SCTRACE")


def _log_temp_dirs(log):
    """Every temp dir a test makes (tempfile.mkdtemp, and TemporaryDirectory
    through it) is appended to the file log: leftovers.py blames a
    sctrace-e2e-* dir on this run only when it is listed there, never on
    another checkout's suite sharing /tmp."""
    made = tempfile.mkdtemp

    def mkdtemp(*args, **kw):
        path = made(*args, **kw)
        try:
            with open(log, "a") as f:
                f.write(os.path.realpath(path) + "\n")
        except OSError:
            pass
        return path

    tempfile.mkdtemp = mkdtemp


if os.environ.get("SCTRACE_TEMP_LOG"):
    _log_temp_dirs(os.environ["SCTRACE_TEMP_LOG"])
SAMPLES = _env_path("SCTRACE_SAMPLES")
SOURCE = _env_path("SCTRACE_SOURCE")


def sample(name):
    return os.path.join(SAMPLES, name)


def template_path():
    return os.path.join(SOURCE, "templates", "docker-default.json")


class Result:
    """A finished command: returncode, stdout/stderr as text, elapsed seconds."""

    def __init__(self, argv, returncode, stdout, stderr, elapsed, stdout_bytes=b""):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.stdout_bytes = stdout_bytes

    def describe(self):
        out = [f"$ {shlex.join(self.argv)}", f"exit code: {self.returncode} ({self.elapsed:.2f}s)"]
        if self.stdout:
            out.append("stdout:\n" + _indent(self.stdout[-3000:]))
        if self.stderr:
            out.append("stderr:\n" + _indent(self.stderr[-3000:]))
        return "\n".join(out)

    def stderr_lines(self):
        return [l for l in self.stderr.splitlines() if l.strip()]


def _indent(text):
    return "\n".join("    " + l for l in text.rstrip("\n").splitlines())


def run(argv, timeout=DEFAULT_TIMEOUT, input_bytes=None, cwd=None, env=None):
    """Runs argv to completion; a timeout is reported as returncode None."""
    start = time.monotonic()
    try:
        p = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=None if input_bytes is not None else subprocess.DEVNULL,
                           timeout=timeout, cwd=cwd, env=env)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = None, e.stdout or b"", (e.stderr or b"") + f"\n[timed out after {timeout}s]".encode()
    return Result(list(argv), rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  time.monotonic() - start, out)


def sctrace(*args, **kw):
    return run([SCTRACE, *args], **kw)


def signal_and_wait(proc, sig, timeout):
    """Sends sig to a Popen started with stdout/stderr pipes and waits up to timeout s for it to end
    (SIGKILL after that); returns its Result (returncode as it ended, elapsed since the signal)."""
    start = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return Result(list(proc.args), proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  time.monotonic() - start, out)


class Checks:
    """Collects named checks; prints each as it is made."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []
        print(f"=== {name}")
        sys.stdout.flush()

    def check(self, cond, what, detail=None):
        if cond:
            self.passed += 1
            print(f"ok:   {what}")
        else:
            self.failed.append(what)
            print(f"FAIL: {what}")
            if detail:
                print(_indent(detail if isinstance(detail, str) else str(detail)))
        sys.stdout.flush()
        return bool(cond)

    def fatal(self, what, detail=None):
        """A failure after which the rest of the test makes no sense."""
        self.check(False, what, detail)
        self.finish()

    def finish(self):
        total = self.passed + len(self.failed)
        print(f"=== {self.name}: {self.passed} of {total} checks ok, {len(self.failed)} failed")
        for f in self.failed:
            print(f"    failed: {f}")
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def skip(name, reason):
    print("#" * 72)
    print(f"SKIP {name}: {reason}")
    print("#" * 72)
    sys.exit(0)


_INT80 = None


def kernel_runs_int80():
    """Whether this kernel runs `int $0x80` from a 64-bit process (samples/int80
    --probe: i386 getpid through the gate, compared with getpid). With 32-bit
    emulation off at run time (ia32_emulation=0, confidential guests) the
    instruction faults before any syscall or seccomp filter sees it and the
    probe dies of SIGSEGV. Anything else from the probe is an error, not a
    reason to skip."""
    global _INT80
    if _INT80 is None:
        r = run([sample("int80"), "--probe"], timeout=30)
        if r.returncode == 0:
            _INT80 = True
        elif r.returncode in (1, -11, -4):  # mismatch, SIGSEGV, SIGILL
            _INT80 = False
        else:
            raise RuntimeError("samples/int80 --probe failed:\n" + r.describe())
    return _INT80


def skip_without_int80(name, part):
    """True, after a loud SKIPPED line, when this kernel refuses `int $0x80`:
    the caller leaves out only `part`, the checks that need it."""
    if kernel_runs_int80():
        return False
    print(f"SKIPPED {name}: {part} (this kernel refuses int $0x80: 32-bit emulation is off)")
    sys.stdout.flush()
    return True


def docker_usable(c, name, part=None):
    """True when `docker info` works. Otherwise containers are skipped loudly,
    never silently, and never under CI=true, where that is a failed check:
    part=None skips (or, under CI, fails) the whole test `name`; a part name
    skips only that part and returns False."""
    info = run(["docker", "info"], timeout=60) if shutil.which("docker") else None
    if info is not None and info.returncode == 0:
        return True
    detail = info.describe() if info else "docker is not in PATH"
    what = "docker is usable (docker info); CI=true so this cannot be skipped"
    if os.environ.get("CI") == "true":
        if part is None:
            c.fatal(what, detail)
        c.check(False, what, detail)
        return False
    if part is None:
        skip(name, "docker info failed and CI is not 'true':\n" + detail)
    print("#" * 72 + f"\nSKIP {name}: {part}: docker info failed and CI is not 'true':\n{detail}\n" + "#" * 72)
    return False


def pids_with_marker(marker):
    """Pids of the processes whose command line contains marker."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


class StreamWatch:
    """Reads a running Popen's stdout and stderr (binary pipes) in threads:
    every line is kept in .out / .err, and wait_for() looks at stderr lines as
    they arrive."""

    def __init__(self, proc):
        self.proc, self.out, self.err = proc, [], []
        self._lines = queue.Queue()
        self._threads = [threading.Thread(target=self._read, args=(stream, sink, q), daemon=True)
                         for stream, sink, q in ((proc.stderr, self.err, self._lines), (proc.stdout, self.out, None))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, sink, q):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            sink.append(line)
            if q is not None:
                q.put(line)
        if q is not None:
            q.put(None)

    def wait_for(self, pattern, timeout):
        """True once a stderr line matches the regex pattern (re.match);
        False when stderr closed, the process ended or timeout passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return False
                continue
            if line is None:
                return False
            if re.match(pattern, line):
                return True
        return False

    def drain(self, timeout=5):
        """Waits (bounded) until both pipes reached end of file."""
        for t in self._threads:
            t.join(timeout=timeout)

    def tail(self, err=40, out=20):
        return "".join(self.err[-err:]) + "".join(self.out[-out:])


def tempdir(prefix):
    return tempfile.TemporaryDirectory(prefix=f"sctrace-e2e-{prefix}-")


def load_json(path):
    """The parsed file, or None when it is missing or not JSON."""
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def recorded_names(recording, arch="SCMP_ARCH_X86_64"):
    return set((recording or {}).get("syscalls", {}).get(arch, {}).keys())


def sctrace_lines_ok(res):
    """True when every stderr line is sctrace's own ("sctrace: ...")."""
    return all(l.startswith("sctrace: ") for l in res.stderr_lines())


# --- reading Docker seccomp profiles -------------------------------------------------

DOCKER_DEFAULT_CAPS = None

AMD64_ARCHES = {"amd64", "x86", "x32"}
NATIVE = "amd64"


def default_caps():
    global DOCKER_DEFAULT_CAPS
    if DOCKER_DEFAULT_CAPS is None:
        data = load_json(os.path.join(SOURCE, "templates", "docker-capabilities.json"))
        DOCKER_DEFAULT_CAPS = set(data["default"])
    return DOCKER_DEFAULT_CAPS


def rule_applies(rule, caps=None, arch=NATIVE):
    """Whether a rule of a Docker profile is in force for a container with the
    given capabilities on the given Docker arch name (moby's semantics:
    every 'includes' condition must hold, no 'excludes' condition may)."""
    caps = default_caps() if caps is None else caps
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    if inc.get("caps") and not all(c in caps for c in inc["caps"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if exc.get("caps") and any(c in caps for c in exc["caps"]):
        return False
    if exc.get("arches") and arch in exc["arches"]:
        return False
    return True


def allowed_names(profile, caps=None, arch=NATIVE, unconditional_only=False):
    """Names an SCMP_ACT_ALLOW rule in force allows (with or without argument
    conditions unless unconditional_only)."""
    names = set()
    for rule in profile.get("syscalls") or []:
        if rule.get("action") != "SCMP_ACT_ALLOW" or not rule_applies(rule, caps, arch):
            continue
        if unconditional_only and rule.get("args"):
            continue
        names.update(rule.get("names") or [])
    return names


def expected_errno(profile, name, arch=NATIVE):
    """The errno name a syscall that no ALLOW rule admits gets from the profile."""
    for rule in profile.get("syscalls") or []:
        if name in (rule.get("names") or []) and rule.get("action") == "SCMP_ACT_ERRNO" \
                and rule_applies(rule, arch=arch) and not rule.get("args"):
            return errno.errorcode.get(rule.get("errnoRet", errno.EPERM), "?")
    if profile.get("defaultAction") == "SCMP_ACT_ERRNO":
        return errno.errorcode.get(profile.get("defaultErrnoRet", errno.EPERM), "?")
    return None


def arch_map_arches(profile):
    out = set()
    for entry in profile.get("archMap") or []:
        out.add(entry.get("architecture"))
        out.update(entry.get("subArchitectures") or [])
    return out
