"""Container helpers for the end-to-end tests (python3 standard library only).

No registry is reachable from the test machines, so images are built FROM
scratch with `docker import`: a tar made here from a few host files (static
samples), with ENTRYPOINT/CMD/ENV/EXPOSE/USER/WORKDIR/LABEL/HEALTHCHECK set
through `-c` changes. Everything created gets a unique tag/name and is removed
by ID.

    with build_scratch_image({"/http_server": sample("http_server")},
                             entrypoint=["/http_server"], expose=[8080]) as img:
        cid = run_detached(img, options=["-p", "127.0.0.1::8080"])
        try:
            port = published_port(cid, 8080)
            assert wait_port(port)
            status, body = http_request(f"http://127.0.0.1:{port}/")
        finally:
            remove_container(cid)

The client is `docker` from PATH unless SCTRACE_DOCKER says otherwise; pass
docker=... to use another (docker_clients() lists every one installed).
"""
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request

DOCKER = os.environ.get("SCTRACE_DOCKER", "docker")


class DockerError(RuntimeError):
    pass


def run_docker(*args, docker=None, input_bytes=None, timeout=120, check=True):
    """Runs `docker ARGS...`; returns the CompletedProcess (text stdout/stderr).
    docker: the client, a path or a list with its global options
    (["docker", "-H", "unix:///run/docker26.sock"])."""
    client = docker or DOCKER
    argv = [*(client if isinstance(client, (list, tuple)) else [client]), *[str(a) for a in args]]
    p = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=None if input_bytes is not None else subprocess.DEVNULL, timeout=timeout)
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise DockerError(f"{' '.join(argv[:4])}... failed ({p.returncode}): {p.stderr.strip()}")
    return p


def docker_clients():
    """Every distinct `docker` executable on PATH (e.g. a 28.x client first and
    Debian's 20.10 in /usr/bin), in PATH order."""
    seen, out = set(), []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d or ".", "docker")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            real = os.path.realpath(p)
            if real not in seen:
                seen.add(real)
                out.append(p)
    return out


def docker_available(docker=None):
    try:
        return run_docker("version", "--format", "{{.Server.Version}}", docker=docker,
                                   timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def unique_name(prefix="sctrace-e2e"):
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(4)}"


class Image:
    """An imported image; remove() (or leaving a `with`) deletes it by ID."""

    def __init__(self, image_id, tag, docker=None):
        self.id = image_id
        self.tag = tag
        self.docker = docker

    @property
    def ref(self):
        return self.tag

    def remove(self):
        if self.id:
            run_docker("image", "rm", "-f", self.id, docker=self.docker, check=False)
            self.id = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __str__(self):
        return self.tag


def _add_dir(tar, path, mode=0o755, known=None):
    path = path.strip("/")
    if not path or (known is not None and path in known):
        return
    parent = os.path.dirname(path)
    if parent:
        _add_dir(tar, parent, 0o755, known)
    info = tarfile.TarInfo(path)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(info)
    if known is not None:
        known.add(path)


def make_rootfs_tar(files, dirs=(("tmp", 0o1777),)):
    """A tar (bytes) of a root filesystem.

    files: {dest: src} or an iterable of host paths (each placed at
    /basename) or (dest, src) / (dest, bytes, mode) tuples. A str src is a
    host file (its mode is kept, owner becomes root); bytes are the content.
    dirs: (path, mode) pairs created empty; /tmp (1777) by default, because a
    FROM-scratch image has no directories at all.
    """
    if isinstance(files, dict):
        entries = list(files.items())
    else:
        entries = [(f"/{os.path.basename(f)}", f) if isinstance(f, str) else tuple(f) for f in files]
    buf = io.BytesIO()
    known = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d, mode in dirs:
            _add_dir(tar, d, mode, known)
        for entry in entries:
            dest, src = entry[0], entry[1]
            name = dest.strip("/")
            _add_dir(tar, os.path.dirname(name), 0o755, known)
            info = tarfile.TarInfo(name)
            info.mtime = int(time.time())
            if isinstance(src, (bytes, bytearray)):
                data = bytes(src)
                info.mode = entry[2] if len(entry) > 2 else 0o644
            else:
                with open(src, "rb") as f:
                    data = f.read()
                info.mode = entry[2] if len(entry) > 2 else (os.stat(src).st_mode & 0o7777)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_scratch_image(files, *, name="scratch", entrypoint=None, cmd=None, env=None, expose=(), user=None,
                        workdir=None, labels=None, healthcheck=None, dirs=(("tmp", 0o1777),), docker=None):
    """Imports a FROM-scratch image and returns an Image (tag sctrace-e2e-NAME:<unique>).

    entrypoint/cmd: lists (exec form); env: dict; expose: ports ("8080" or
    8080 means tcp, "53/udp" as is); healthcheck: the text after HEALTHCHECK,
    e.g. '--interval=1s CMD ["/probe"]' (docker import accepts it on engine
    20.10), or a list for `CMD [...]` with default timings.
    """
    changes = []
    if entrypoint is not None:
        changes.append("ENTRYPOINT " + json.dumps(list(entrypoint)))
    if cmd is not None:
        changes.append("CMD " + json.dumps(list(cmd)))
    for k, v in (env or {}).items():
        changes.append(f"ENV {k}={json.dumps(str(v))}")
    for p in expose:
        p = str(p)
        changes.append(f"EXPOSE {p if '/' in p else p + '/tcp'}")
    if user is not None:
        changes.append(f"USER {user}")
    if workdir is not None:
        changes.append(f"WORKDIR {workdir}")
    for k, v in (labels or {}).items():
        changes.append(f"LABEL {k}={json.dumps(str(v))}")
    if healthcheck is not None:
        changes.append("HEALTHCHECK " + (healthcheck if isinstance(healthcheck, str)
                                         else "CMD " + json.dumps(list(healthcheck))))
    tag = f"{unique_name('sctrace-e2e-' + name)}:latest".replace("_", "-").lower()
    args = ["import"]
    for c in changes:
        args += ["-c", c]
    args += ["-", tag]
    p = run_docker(*args, docker=docker, input_bytes=make_rootfs_tar(files, dirs), timeout=300)
    image_id = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if not image_id.startswith("sha256:"):
        raise DockerError(f"docker import printed no image ID: {p.stdout!r}")
    return Image(image_id, tag, docker)


# ---- containers -----------------------------------------------------------------

def run_detached(image, args=(), options=(), docker=None):
    """`docker run -d [options] IMAGE [args]`; returns the container ID. The
    container gets a unique --name unless options has one."""
    opts = list(options)
    if not any(o == "--name" or str(o).startswith("--name=") for o in opts):
        opts += ["--name", unique_name()]
    p = run_docker("run", "-d", *opts, str(image), *args, docker=docker)
    return p.stdout.strip().splitlines()[-1]


def remove_container(cid, docker=None):
    if cid:
        run_docker("rm", "-f", "-v", cid, docker=docker, check=False)


def inspect(obj, docker=None):
    p = run_docker("inspect", obj, docker=docker)
    return json.loads(p.stdout)[0]


def logs(cid, docker=None):
    p = run_docker("logs", cid, docker=docker, check=False)
    return p.stdout + p.stderr


def wait_exit(cid, timeout=60, docker=None):
    """`docker wait`: the exit code."""
    p = run_docker("wait", cid, docker=docker, timeout=timeout)
    return int(p.stdout.strip())


def published_port(cid, container_port, docker=None):
    """Host port a container TCP port is published on, or None."""
    ports = inspect(cid, docker)["NetworkSettings"]["Ports"] or {}
    for b in ports.get(f"{container_port}/tcp") or []:
        if b.get("HostPort"):
            return int(b["HostPort"])
    return None


def container_ip(cid, docker=None):
    ns = inspect(cid, docker)["NetworkSettings"]
    if ns.get("IPAddress"):
        return ns["IPAddress"]
    for net in (ns.get("Networks") or {}).values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    return ""


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=30.0):
    """True once a TCP connection to host:port is accepted AND stays open for
    0.2 s (or the server speaks first): docker-proxy accepts on a published
    port before anything listens in the container, then drops the connection."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0) as s:
                s.settimeout(0.2)
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        return True
                except socket.timeout:
                    return True
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    return False


def http_request(url, data=None, method=None, timeout=10.0):
    """(status, body bytes); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def containers_with_label(key, value, docker=None):
    """IDs of every container (running or not) labelled key=value."""
    p = run_docker("ps", "-a", "-q", "--no-trunc", "--filter", f"label={key}={value}", docker=docker,
                   check=False, timeout=60)
    return [l.strip() for l in p.stdout.splitlines() if l.strip()]


def remove_containers_with_label(key, value, docker=None):
    """Removes (by ID) every container labelled key=value; returns their IDs.
    Only for labels a test made unique to itself."""
    ids = containers_with_label(key, value, docker)
    for cid in ids:
        remove_container(cid, docker)
    return ids


def image_exists(ref, docker=None):
    return run_docker("image", "inspect", ref, docker=docker, check=False, timeout=60).returncode == 0


def _self_check():
    """Builds a tiny image with every client found, checks its config, runs the
    http_server sample from it if SCTRACE_SAMPLES has one, removes everything."""
    clients = docker_clients()
    assert clients, "no docker client on PATH"
    assert docker_available(), "the Docker daemon is not reachable"
    tar = make_rootfs_tar([("/etc/greeting", b"hi\n", 0o600)])
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        names = {m.name: m for m in t.getmembers()}
    assert names["tmp"].mode == 0o1777 and names["etc"].isdir() and names["etc/greeting"].mode == 0o600, names
    for client in clients:
        with build_scratch_image([("/etc/greeting", b"hi\n")], name="selfcheck", cmd=["/nothing"],
                                 env={"A": "1 2"}, expose=[8080], labels={"k": "v"},
                                 healthcheck='--interval=5s CMD ["/nothing"]', docker=client) as img:
            cfg = inspect(img.id, client)["Config"]
            assert cfg["Cmd"] == ["/nothing"], cfg
            assert "A=1 2" in cfg["Env"], cfg
            assert "8080/tcp" in cfg["ExposedPorts"], cfg
            assert cfg["Labels"] == {"k": "v"}, cfg
            assert cfg["Healthcheck"]["Test"] == ["CMD", "/nothing"], cfg
            image_id = img.id
        gone = run_docker("image", "inspect", image_id, docker=client, check=False)
        assert gone.returncode != 0, "image not removed"
        print(f"ok: {client}: import with changes, inspect, remove by ID")
    samples = os.environ.get("SCTRACE_SAMPLES", "")
    server = os.path.join(samples, "http_server")
    if samples and os.path.exists(server):
        with build_scratch_image({"/http_server": server}, name="http", entrypoint=["/http_server"],
                                 expose=[8080]) as img:
            cid = run_detached(img, options=["-p", "127.0.0.1::8080"])
            try:
                port = published_port(cid, 8080)
                assert port and wait_port(port), logs(cid)
                assert http_request(f"http://127.0.0.1:{port}/") == (200, b"hello")
                assert http_request(f"http://127.0.0.1:{port}/echo", data=b"xyz") == (200, b"xyz")
                assert http_request(f"http://127.0.0.1:{port}/nope")[0] == 404
                run_docker("stop", "-t", "10", cid)
                assert wait_exit(cid) == 0, logs(cid)
            finally:
                remove_container(cid)
        print("ok: http_server from a scratch image answers and exits 0 on docker stop")
    else:
        print("skip: http_server (set SCTRACE_SAMPLES to <build>/samples)")


if __name__ == "__main__":
    _self_check()
