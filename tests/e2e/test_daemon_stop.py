"""The Docker daemon stops in the middle of a container-mode run.

The machine's own dockerd is never touched: this test starts a PRIVATE
dockerd (its own socket, --data-root, --exec-root and pidfile under one temp
dir, vfs storage, no bridge, no iptables, its own network namespace: a
dockerd with --bridge=none deletes the host's docker0), which starts its own
containerd as its child; sctrace runs entered into that network namespace. Every process it started is stopped by PID at the end; processes
are recognised by the private temp dir in their command line (dockerd,
containerd, the shims) and by descending from those.

Cases:
  1. dockerd gets SIGTERM while `sctrace run --http-probe ... --duration 120
     -- docker run ... http_server` is in its --duration wait;
  2. dockerd gets SIGKILL at the same point (its containerd dies with it, the
     shim and the container keep running until dockerd starts again);
  3. the socket path exists but nobody listens on it (a daemon that died
     without removing it). A socket path that does not exist at all is
     test_container_errors.py's "daemon down" case.
Each time sctrace must exit non-zero (2) within a bounded time, its last
stderr line must be its one error line naming the Docker daemon, no profile
or recording may be written (the run ended at a point sctrace did not
control: it could neither stop the container nor collect the sensor's final
recording, so a profile would silently lack the rest of the run), and no temp
file may be left (sctrace runs with a private TMPDIR, which must be empty
afterwards).
After cases 1 and 2 the daemon is started again on the same data root: the
container sctrace created is there (it is stopped; no daemon removes a
container that is not --rm), the error line named it, and the next sctrace
run against that daemon removes it, after which the private daemon holds no
container at all.

Skips only when dockerd or a docker client is not installed.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import containers as ct
import sctrace_e2e as e2e

c = e2e.Checks("daemon_stop")

if not shutil.which("dockerd") or not shutil.which(ct.DOCKER):
    e2e.skip("daemon_stop", "dockerd or a docker client is not installed")
for tool in ("unshare", "nsenter", "ip"):
    if not shutil.which(tool):
        c.fatal(f"{tool} is installed (the private daemon runs in its own network namespace)")

LABEL_KEY = "sctrace-test"
LABEL_VALUE = f"daemon-stop-{uuid.uuid4().hex}"
LABEL = f"{LABEL_KEY}={LABEL_VALUE}"
EXIT_BOUND = 30      # seconds sctrace may take to notice the daemon is gone
READY_BOUND = 90     # seconds until the probe passed


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def proc_ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return int(stat[stat.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


# Processes this test waits for itself through subprocess.Popen: never reaped here.
POPEN_PIDS = set()


def alive(pid):
    """True while pid has a /proc entry. An orphan that was reparented to this
    test (a child subreaper) and is a zombie now is reaped here: a zombie
    containerd still passes kill(pid, 0), and a dockerd started again would
    take it for a running one and wait for it in vain."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 2]
    except (OSError, ValueError, IndexError):
        return False
    if state == "Z" and proc_ppid(pid) == os.getpid() and pid not in POPEN_PIDS:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        return os.path.exists(f"/proc/{pid}")
    return True


def become_subreaper():
    """Orphans of the private daemon (its containerd when dockerd is killed,
    the shims, which daemonize) become children of this test, not of PID 1,
    so they can be reaped and waited for by PID."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"note: PR_SET_CHILD_SUBREAPER failed: {os.strerror(ctypes.get_errno())}")


class PrivateDaemon:
    """A dockerd of our own under root (a temp dir)."""

    def __init__(self, root):
        self.root = root
        self.sock = os.path.join(root, "docker.sock")
        self.host = f"unix://{self.sock}"
        self.proc = None
        self.log = os.path.join(root, "dockerd.log")

    def argv(self):
        # Its own network namespace too: a dockerd with --bridge=none deletes
        # the host's docker0 at start (the shared daemon's bridge), and its
        # --network host containers then listen only where sctrace, entered
        # into that namespace (in_netns), probes them. unshare and sh exec, so
        # the PID is dockerd's.
        return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                "dockerd", "-H", self.host, "--data-root", os.path.join(self.root, "data"),
                "--exec-root", os.path.join(self.root, "exec"), "--pidfile", os.path.join(self.root, "docker.pid"),
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
                "--storage-driver=vfs"]

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        POPEN_PIDS.add(self.proc.pid)
        self.netns = f"/proc/{self.proc.pid}/ns/net"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if ct.docker_available():
                return True
            time.sleep(0.3)
        return False

    def containerd_pid(self):
        for pid in self.ours():
            if proc_ppid(pid) == self.proc.pid and "containerd" in (proc_cmdline(pid) or ""):
                return pid
        return None

    def ours(self):
        """PIDs of every live process naming our temp dir, and their descendants."""
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        mine = {p for p in pids if self.root in (proc_cmdline(p) or "") and alive(p)}
        mine.discard(os.getpid())
        grew = True
        while grew:
            grew = False
            for p in pids:
                if p not in mine and proc_ppid(p) in mine and alive(p):
                    mine.add(p)
                    grew = True
        return mine

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=60):
        """SIGTERM to dockerd, then SIGKILL (by PID) to anything of ours still there."""
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.signal(signal.SIGKILL)
                self.wait(10)
        for pid in self.ours():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def unmount_under(root):
    """Lazily unmounts whatever is still mounted under root (deepest first)."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == root or mp.startswith(root + "/"):
                points.append(mp)
    for mp in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return points


def check_error_exit(case, rc, took, err_lines, sock):
    lines = [l.rstrip("\n") for l in err_lines if l.strip()]
    detail = f"exit code {rc} after {took:.1f}s\nstderr:\n" + "\n".join("    " + l for l in lines[-30:])
    c.check(rc is not None and took <= EXIT_BOUND,
            f"{case}: sctrace exits within {EXIT_BOUND}s ({took:.1f}s)", detail)
    c.check(rc == 2, f"{case}: exit code 2 (an error; not 0, not a signal) (got {rc})", detail)
    last = lines[-1] if lines else ""
    c.check(last.startswith("sctrace: error: ") and re.search(r"Docker daemon", last) and sock in last,
            f"{case}: the last stderr line is sctrace's error naming the Docker daemon at {sock}", detail)
    errors = [l for l in lines if l.startswith("sctrace: error")]
    c.check(len(errors) == 1, f"{case}: exactly one 'sctrace: error' line", detail)
    crash = [l for l in lines if re.search(r"terminate called|Sanitizer|Segmentation|core dumped|Aborted|what\(\)", l)]
    c.check(not crash, f"{case}: no crash or abort message", detail)
    # The attached `docker start -a` client may print its own complaint about
    # the lost daemon (it carries the container's stderr too); sctrace's lines
    # must be nothing but probe results and its error.
    own = [l for l in lines if l.startswith("sctrace:")]
    c.check(all(re.match(r"sctrace: (probe |error: )", l) for l in own),
            f"{case}: sctrace prints no other errors or warnings", detail)
    return last


def check_nothing_written(case, out, rec, tmpdir):
    c.check(not os.path.exists(out), f"{case}: no profile written", repr(e2e.read_bytes(out))[:300])
    c.check(not os.path.exists(rec), f"{case}: no recording written", repr(e2e.read_bytes(rec))[:300])
    left = sorted(os.listdir(tmpdir)) if os.path.isdir(tmpdir) else []
    c.check(not left, f"{case}: nothing left in sctrace's TMPDIR", "\n".join(left))


def traced_run_then_stop(case, daemon, image, sig, work):
    """Starts a traced service, stops dockerd with sig once the probe passed;
    returns the ID prefix the error line names (or None) and the PIDs of the
    daemon's processes at that moment."""
    tmpdir = os.path.join(work, f"tmp-{case}")
    os.makedirs(tmpdir)
    out = os.path.join(work, f"{case}.json")
    rec = os.path.join(work, f"{case}.rec.json")
    port = ct.free_port()
    argv = ["nsenter", f"--net={daemon.netns}", e2e.SCTRACE, "run", "-o", out, "--recording", rec, "--http-probe", f"{port}/", "--duration", "120",
            "--", "docker", "run", "--rm", "--network", "host", "--label", LABEL, image.tag, str(port)]
    env = dict(os.environ, TMPDIR=tmpdir)
    print("$ " + " ".join(argv))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    POPEN_PIDS.add(proc.pid)
    watch = e2e.StreamWatch(proc)
    err_lines, out_lines = watch.err, watch.out
    try:
        probed = watch.wait_for(re.escape(f"sctrace: probe {port}/: ok"), READY_BOUND)
        if not c.check(probed, f"{case}: the service is up and its probe passed",
                       "".join(err_lines[-30:]) + "".join(out_lines[-10:])):
            return None, set()
        running = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
        c.check(len(running) == 1, f"{case}: one traced container runs (found by its label)", "\n".join(running))
        shims = [p for p in daemon.ours() if "containerd-shim" in (proc_cmdline(p) or "")]
        containerd = daemon.containerd_pid()
        time.sleep(1)
        at_stop = daemon.ours()
        sent = time.monotonic()
        daemon.signal(sig)
        try:
            rc = proc.wait(timeout=EXIT_BOUND + 30)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - sent
        watch.drain()
        last = check_error_exit(case, rc, took, err_lines, daemon.sock)
        check_nothing_written(case, out, rec, tmpdir)
        m = re.search(r"container ([0-9a-f]{12}) is left behind", last)
        c.check(m and running and running[0].startswith(m.group(1)),
                f"{case}: the error line names the container left behind", last)
        c.check(daemon.wait(60) is not None, f"{case}: the private dockerd exited")
        if containerd:
            c.check(not wait_gone([containerd], 30), f"{case}: its containerd (pid {containerd}) exited with it")
        if sig == signal.SIGKILL:
            c.check(shims and all(alive(p) for p in shims),
                    f"{case}: (as expected) the shims {shims} outlive a killed dockerd until it starts again")
        return (m.group(1) if m else None), at_stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def restart_and_collect(case, daemon, batch, left_id, work):
    if not c.check(daemon.start(), f"{case}: the private dockerd starts again on the same data root",
                   open(daemon.log, errors="replace").read()[-3000:]):
        return
    there = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    c.check(left_id and any(i.startswith(left_id) for i in there),
            f"{case}: after the restart the stopped container {left_id} is still there (no daemon removes it)",
            "\n".join(there))
    tmpdir = os.path.join(work, f"tmp-{case}-next")
    os.makedirs(tmpdir)
    out = os.path.join(work, f"{case}-next.json")
    since = int(time.time()) - 1
    r = e2e.run(["nsenter", f"--net={daemon.netns}", e2e.SCTRACE, "run", "-o", out, "--", "docker", "run", "--rm", "--network", "none", batch.tag],
                timeout=180, env=dict(os.environ, TMPDIR=tmpdir))
    c.check(r.returncode == 0 and e2e.load_json(out), f"{case}: the next sctrace run against this daemon works",
            r.describe())
    # Both containers of that run (the user's line, created and removed at
    # once, and the traced one) carried the owner label from their creation:
    # a daemon lost in between leaves nothing the next run cannot find.
    ev = ct.run_docker("events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter",
                       "type=container", "--filter", "event=create", "--format", "{{json .Actor.Attributes}}",
                       check=False)
    created = [json.loads(line) for line in ev.stdout.splitlines() if line.strip()]
    c.check(len(created) == 2 and all("sctrace.owner" in a for a in created),
            f"{case}: both containers the next run created carried the sctrace.owner label from the start",
            ev.stdout + ev.stderr)
    c.check(left_id and re.search(rf"^sctrace: removed container {left_id}\b", r.stderr, re.M),
            f"{case}: it says it removed the container the lost run left behind", r.describe())
    left = ct.containers_with_label(LABEL_KEY, LABEL_VALUE)
    c.check(not left, f"{case}: no container sctrace created is left", "\n".join(left))
    every = ct.run_docker("ps", "-a", "-q", "--no-trunc", check=False).stdout.split()
    c.check(not every, f"{case}: the private daemon holds no container at all", "\n".join(every))
    c.check(not os.listdir(tmpdir), f"{case}: nothing left in the next run's TMPDIR", "\n".join(os.listdir(tmpdir)))


become_subreaper()
work = tempfile.mkdtemp(prefix="sctrace-e2e-daemon-stop-")
daemon = PrivateDaemon(work)
# Every docker client call from here on (the helpers, and the docker CLI and
# Engine client inside sctrace) goes to the private daemon.
os.environ["DOCKER_HOST"] = daemon.host
try:
    if not daemon.start():
        c.fatal("the private dockerd starts", open(daemon.log, errors="replace").read()[-3000:])
    c.check(True, f"private dockerd (pid {daemon.proc.pid}) answers on {daemon.sock}")
    server = ct.build_scratch_image({"/http_server": e2e.sample("http_server")}, name="daemon-stop-http",
                                    entrypoint=["/http_server"])
    batch = ct.build_scratch_image({"/batch": e2e.sample("batch")}, name="daemon-stop-batch", entrypoint=["/batch"])

    for case, sig in (("sigterm", signal.SIGTERM), ("sigkill", signal.SIGKILL)):
        left_id, at_stop = traced_run_then_stop(case, daemon, server, sig, work)
        restart_and_collect(case, daemon, batch, left_id, work)
        gone = wait_gone(at_stop, 30)
        c.check(not gone, f"{case}: every process of the stopped daemon (containerd, shims, the container) is gone "
                          f"after the restart", "\n".join(f"{p}: {proc_cmdline(p)}" for p in gone))

    # --- the socket exists but nobody listens on it
    daemon.stop()
    dead = os.path.join(work, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(dead)  # bound, never listening: connect() is refused
    try:
        tmpdir = os.path.join(work, "tmp-dead")
        os.makedirs(tmpdir)
        out, rec = os.path.join(work, "dead.json"), os.path.join(work, "dead.rec.json")
        start = time.monotonic()
        r = e2e.run([e2e.SCTRACE, "run", "-o", out, "--recording", rec, "--", "docker", "run", "--rm",
                     "--network", "none", batch.tag], timeout=EXIT_BOUND + 30,
                    env=dict(os.environ, TMPDIR=tmpdir, DOCKER_HOST=f"unix://{dead}"))
        lines = r.stderr_lines()
        check_error_exit("socket without a listener", r.returncode, time.monotonic() - start, lines, dead)
        c.check(len(lines) == 1, "socket without a listener: stderr is that one line", r.describe())
        c.check(bool(lines) and "refused" in lines[-1].lower(), "socket without a listener: it says refused",
                r.describe())
        check_nothing_written("socket without a listener", out, rec, tmpdir)
    finally:
        s.close()
finally:
    daemon.stop()
    left = wait_gone(daemon.ours(), 30)
    c.check(not left, "every process of the private daemon is gone at the end",
            "\n".join(f"{p}: {proc_cmdline(p)}" for p in left))
    # dockerd's own mounts (its data root, the default netns) outlive it.
    for mp in unmount_under(work):
        print(f"note: unmounted {mp} (left by dockerd)")
    shutil.rmtree(work, ignore_errors=True)
    c.check(not os.path.exists(work), f"the private daemon's temp dir {work} is removed")

c.finish()
