"""pytest for the end-to-end tests (CTest runs `python3 -m pytest FILE` per file).

Two kinds of test file live here:
  - plain scripts (most of them): they print their checks through
    sctrace_e2e.Checks and exit 0 when all passed. Each is collected as ONE
    item that runs the script as before (its own process, its output passed
    through unchanged); a script that only printed a SKIP banner is skipped.
  - fixture-style modules (they import pytest): a container test written once
    takes `engine` and `backend` and runs over every pair that applies:
        engine   docker (the system's engine), docker26 (the Docker 26 engine
                 at SCTRACE_DOCKER26_HOST, e.g. unix:///run/docker26.sock,
                 when set), podman
        backend  ptrace (the in-container sensor for docker), notify (the OCI
                 seccomp agent: podman, and Docker >= 23, which hands
                 listenerPath on to runc; Docker 20.10 drops it)
    Items are named test_x[ENGINE-BACKEND] and marked with both names, so
    `pytest -k docker26` and `pytest -m ptrace` select them. An engine that
    is not up skips its items, except the system's docker under CI=true,
    where that is a failure (as sctrace_e2e.docker_usable has it).
    `checks` is sctrace_e2e.Checks for a pytest item: every check is printed
    and made, and the item fails at the end naming the checks that failed.
    `tmp` is a private temp dir, removed after the item.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

ENGINES = ("docker", "docker26", "podman")
BACKENDS = ("ptrace", "notify")


# ---- plain scripts ------------------------------------------------------------------

def _is_script(path):
    """A test file that does not use pytest itself is a plain script."""
    with open(path, encoding="utf-8") as f:
        return re.search(r"^\s*(import pytest|from pytest)", f.read(), re.M) is None


class ScriptFile(pytest.File):
    def collect(self):
        yield ScriptItem.from_parent(self, name=self.path.stem)


class ScriptFailed(Exception):
    pass


class ScriptItem(pytest.Item):
    def runtest(self):
        # Output goes to this process's stdout line by line (ctest shows it
        # live with -V and on failure), and is kept to tell a skip. A line of
        # its own: pytest -v has just written the item's name.
        sys.stdout.write("\n")
        proc = subprocess.Popen([sys.executable, str(self.path)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        lines = []
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        rc = proc.wait()
        text = "".join(lines)
        if rc != 0:
            failed = [l.strip() for l in lines if l.startswith("FAIL:") or l.lstrip().startswith("failed: ")]
            raise ScriptFailed(f"{self.path.name} exited {rc}" + ("\n" + "\n".join(failed) if failed else ""))
        skipped = re.search(r"^SKIP [^:\n]+: (.*)$", text, re.M)
        if skipped and not re.search(r"^=== .*checks ok", text, re.M):
            pytest.skip(skipped.group(1))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScriptFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"script {self.path.name}"


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    # Importing a plain script would run it inside pytest: run it as a process instead.
    if module_path.name.startswith("test_") and _is_script(module_path):
        return ScriptFile.from_parent(parent, path=module_path)
    return None


# ---- engines and backends -------------------------------------------------------------

class Engine:
    """A container engine the tests can use: `client` (the CLI for
    containers.py's docker=: "docker", "podman" or ["docker", "-H", HOST]),
    `env` (None, or the environment with DOCKER_HOST for sctrace on docker26)
    and the backends that apply to it."""

    def __init__(self, name, client, env, backends):
        self.name, self.client, self.env, self.backends = name, client, env, backends

    def run(self, *args, timeout=120, check=False, input_bytes=None):
        """`CLIENT ARGS...` through containers.run_docker."""
        import containers
        return containers.run_docker(*args, docker=self.client, timeout=timeout, check=check,
                                     input_bytes=input_bytes)

    @property
    def line(self):
        """The client as a workload line starts: ["docker"] or ["podman"];
        sctrace finds a second engine through DOCKER_HOST (env)."""
        return [self.client[0] if isinstance(self.client, list) else self.client]

    def __repr__(self):
        return f"Engine({self.name})"


def _answers(argv, env=None):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=60, env=env).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_engine_cache = {}


def _engine(name):
    """The Engine, or the reason it cannot be used (a str)."""
    if name in _engine_cache:
        return _engine_cache[name]
    import containers
    docker = containers.DOCKER
    if name == "docker":
        ok = shutil.which(docker) and _answers([docker, "info"])
        # The system's engine: the sensor always; the agent from Docker 23 on.
        result = Engine(name, docker, None, _docker_backends(docker, None)) if ok else \
            "docker info failed (is dockerd up? scripts/ensure-docker.sh)"
    elif name == "docker26":
        host = os.environ.get("SCTRACE_DOCKER26_HOST")
        env = dict(os.environ, DOCKER_HOST=host) if host else None
        if not host:
            result = "SCTRACE_DOCKER26_HOST is not set (no Docker 26 engine beside the system's)"
        elif not _answers([docker, "info"], env):
            result = f"the Docker 26 engine at {host} does not answer"
        else:
            result = Engine(name, [docker, "-H", host], env, _docker_backends(docker, env))
    else:
        result = Engine(name, "podman", None, ("notify",)) if shutil.which("podman") else "podman is not installed"
    _engine_cache[name] = result
    return result


def _docker_backends(docker, env):
    p = subprocess.run([docker, "version", "--format", "{{.Server.APIVersion}}"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=60, env=env)
    try:
        major, minor = (int(x) for x in p.stdout.decode().strip().split(".")[:2])
    except ValueError:
        return ("ptrace",)
    return ("ptrace", "notify") if (major, minor) >= (1, 42) else ("ptrace",)


def pytest_configure(config):
    for n in ENGINES:
        config.addinivalue_line("markers", f"{n}: runs on the {n} engine")
    for n in BACKENDS:
        config.addinivalue_line("markers", f"{n}: records with the {n} backend")


def pytest_generate_tests(metafunc):
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def pytest_collection_modifyitems(items):
    for item in items:
        spec = getattr(item, "callspec", None)
        if spec is None:
            continue
        for key in ("engine", "backend"):
            if key in spec.params:
                item.add_marker(getattr(pytest.mark, spec.params[key]))


@pytest.fixture
def engine(request):
    got = _engine(request.param)
    if isinstance(got, str):
        if request.param == "docker" and os.environ.get("CI") == "true":
            pytest.fail(f"docker is not usable and CI=true, so this cannot be skipped: {got}")
        pytest.skip(f"{request.param}: {got}")
    return got


@pytest.fixture
def backend(request):
    """The backend name; skips where it does not apply to the test's engine."""
    name = request.param
    if "engine" in request.fixturenames:
        eng = request.getfixturevalue("engine")
        if name not in eng.backends:
            why = {"docker": "this engine drops listenerPath (Docker < 23): no seccomp agent",
                   "podman": "podman records through the seccomp agent only"}
            pytest.skip(f"{eng.name}/{name}: {why.get(eng.name, 'does not apply')}")
    return name


class _Checks:
    """sctrace_e2e.Checks for one pytest item: prints each check as it is made,
    never stops at a failed one; done() fails the item naming the failures."""

    def __init__(self, name):
        import sctrace_e2e
        print()  # pytest -v has just written the item's name
        self._checks = sctrace_e2e.Checks(name)
        self.finished = False

    def check(self, cond, what, detail=None):
        return self._checks.check(cond, what, detail)

    @property
    def failed(self):
        return self._checks.failed

    def done(self):
        c = self._checks
        self.finished = True
        print(f"=== {c.name}: {c.passed} of {c.passed + len(c.failed)} checks ok, {len(c.failed)} failed")
        assert not c.failed, "failed checks:\n" + "\n".join(f"  {f}" for f in c.failed)


@pytest.fixture
def tmp(request):
    """A private temp dir (sctrace-e2e-*), removed after the item; not
    pytest's tmp_path, which keeps the last runs' dirs."""
    import sctrace_e2e
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    with sctrace_e2e.tempdir(name) as path:
        yield path


@pytest.fixture
def checks(request):
    c = _Checks(request.node.name)
    yield c
    if c.failed and not c.finished:
        pytest.fail("failed checks:\n" + "\n".join(f"  {f}" for f in c.failed))
