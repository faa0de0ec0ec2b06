"""What the test suite leaves behind, checked by the suite itself.

    leftovers.py snapshot STATE   (the CTest fixture's setup, before any test)
    leftovers.py check STATE      (its cleanup, after every test that ran)

A leftover is something of sctrace's tests that exists now and did not at the
snapshot:
  - a container or image, on every engine that answers (docker, the Docker 26
    engine at SCTRACE_DOCKER26_HOST when set, podman), that is sctrace's or a
    test's: named or tagged sctrace-* (containers.py's unique names), made
    from such an image, or labelled sctrace.owner (every container sctrace
    creates) or sctrace-test;
  - a directory sctrace-* (sctrace-agent-*, sctrace-e2e-*, sctrace-unit-*) in
    $TMPDIR or /tmp; a sctrace-e2e-* one only when a test of this run made
    it (sctrace_e2e logs them to $SCTRACE_TEMP_LOG);
  - a process whose executable is this build's sctrace or sctrace-sensor
    (a sensor inside a container lives and dies with a container above).
Other users of the same engine and /tmp (another checkout's suite, a
developer's own run) are not blamed for what is still in use: a container
or image whose creator (the test's pid in its sctrace-e2e-*-PID-HEX name
or tag, or its sctrace.owner process) still runs, a temp dir a running
process has open, as its cwd or in its mounts. Everything the tests of this run made is gone by the time
this runs, so nothing of theirs is excused that way.
Prints each leftover with what to remove it by; exits 1 when there is one.
"""
import json
import os
import re
import subprocess
import sys

TEMP_PREFIX = "sctrace-"
OWNER_LABEL = "sctrace.owner"
TEST_LABEL = "sctrace-test"


def _run(argv, env=None, timeout=60):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.decode("utf-8", "replace") if p.returncode == 0 else None


def engines():
    """(name, argv prefix, environment) of every engine that answers."""
    out = []
    docker = os.environ.get("SCTRACE_DOCKER", "docker")
    if _run([docker, "version", "--format", "{{.Server.Version}}"]) is not None:
        out.append(("docker", [docker], None))
    host26 = os.environ.get("SCTRACE_DOCKER26_HOST")
    if host26:
        env = dict(os.environ, DOCKER_HOST=host26)
        if _run([docker, "version", "--format", "{{.Server.Version}}"], env=env) is not None:
            out.append(("docker26", [docker], env))
    if _run(["podman", "version", "--format", "{{.Version}}"]) is not None:
        out.append(("podman", ["podman"], None))
    return out


def _containers(argv, env):
    text = _run([*argv, "ps", "-a", "--no-trunc", "--format", "{{json .}}"], env=env) or ""
    try:
        entries = json.loads(text)  # podman: one array
        if not isinstance(entries, list):
            entries = [entries]
    except ValueError:
        entries = []  # docker: an object a line
        for line in text.splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
    out = {}
    for c in entries:
        if not isinstance(c, dict):
            continue
        cid = c.get("ID") or c.get("Id") or ""
        names = c.get("Names") or ""
        if isinstance(names, list):
            names = ",".join(names)
        labels = c.get("Labels") or {}
        if isinstance(labels, str):  # docker: "k=v,k2=v2"
            labels = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in labels.split(",") if kv)
        out[cid] = {"names": names, "image": c.get("Image", ""), "labels": labels}
    return out


def _images(argv, env):
    text = _run([*argv, "images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"], env=env) or ""
    out = {}
    for line in text.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2:
            out.setdefault(parts[0], []).append(parts[1])
    return out


def _temp_roots():
    roots = []
    for d in (os.environ.get("TMPDIR"), "/tmp"):
        if d and os.path.isdir(d) and os.path.realpath(d) not in roots:
            roots.append(os.path.realpath(d))
    return roots


def _temp_dirs():
    out = []
    for root in _temp_roots():
        try:
            names = os.listdir(root)
        except OSError:
            continue
        out += [os.path.join(root, n) for n in names if n.startswith(TEMP_PREFIX)]
    return out


def _own_executables():
    paths = []
    sctrace = os.environ.get("SCTRACE")
    if sctrace:
        paths.append(os.path.realpath(sctrace))
        paths.append(os.path.join(os.path.dirname(os.path.realpath(sctrace)), "sctrace-sensor"))
    return paths


def _processes(executables):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{d}/exe")
        except OSError:
            continue
        if exe in executables:
            out[d] = exe
    return out


def take():
    state = {"engines": {}, "temp_dirs": _temp_dirs(), "processes": _processes(_own_executables())}
    for name, argv, env in engines():
        state["engines"][name] = {"containers": _containers(argv, env), "images": _images(argv, env)}
    return state


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


# containers.py's unique names and tags: PREFIX-PID-HEX8, PID the test's.
_UNIQUE = re.compile(r"sctrace-[^/:,]*-(\d+)-[0-9a-f]{8}(?::[^,]*)?$")


def _test_alive(names):
    """Whether the test process named in one of these unique names still runs."""
    for n in names:
        m = _UNIQUE.search(n.strip().strip("/"))
        if m and _pid_alive(m.group(1)):
            return True
    return False


def _creator_alive(info):
    """Whether the process that made this container (as far as it says) still runs."""
    if _test_alive(info["names"].split(",") + [info["image"]]):
        return True
    owner = info["labels"].get(OWNER_LABEL, "").split("/")
    if len(owner) == 4 and _pid_alive(owner[2]):
        try:
            with open(f"/proc/{owner[2]}/stat") as f:
                start = f.read().rsplit(")", 1)[1].split()[19]
            return start == owner[3]
        except (OSError, IndexError):
            return False
    return False


def _ours(info, new_images):
    """sctrace's or a test's: by label, by a sctrace-* name, or made from an
    image of the tests (podman's agent-path containers carry no label)."""
    labels = info["labels"]
    image = info["image"]
    return (OWNER_LABEL in labels or TEST_LABEL in labels
            or any(n.strip("/").startswith(TEMP_PREFIX) for n in info["names"].split(","))
            or "/" + TEMP_PREFIX in "/" + image.split("/")[-1] or image in new_images
            or image.replace("sha256:", "") in new_images)


def _dirs_in_use(candidates):
    """The candidate dirs a running process has open, as its cwd or in its mounts."""
    used = set()
    if not candidates:
        return used
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        paths = []
        try:
            paths.append(os.readlink(f"/proc/{d}/cwd"))
        except OSError:
            pass
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                try:
                    paths.append(os.readlink(f"/proc/{d}/fd/{fd}"))
                except OSError:
                    pass
        except OSError:
            pass
        try:
            with open(f"/proc/{d}/mountinfo") as f:
                paths += [line.split()[3] for line in f if len(line.split()) > 3]
        except OSError:
            pass
        for c in candidates:
            if any(p == c or p.startswith(c + "/") for p in paths):
                used.add(c)
    return used


def compare(before, now):
    """The leftovers: lines "KIND ID (what)" to print."""
    found = []
    for engine, state in now["engines"].items():
        old = before["engines"].get(engine)
        if old is None:
            continue  # an engine that was not up at the snapshot: nothing to compare with
        new_images = set()
        for iid, tags in state["images"].items():
            if iid not in old["images"]:
                new_images |= {iid, iid.replace("sha256:", "")}
        for cid, info in state["containers"].items():
            if cid in old["containers"] or not _ours(info, new_images) or _creator_alive(info):
                continue
            found.append(f"{engine} container {cid} (name {info['names']}, image {info['image']}, "
                         f"labels {json.dumps(info['labels'], sort_keys=True)})")
        for iid, tags in state["images"].items():
            if iid in old["images"] or not any(t.split("/")[-1].startswith(TEMP_PREFIX) for t in tags) \
                    or _test_alive(tags):
                continue
            found.append(f"{engine} image {iid} ({', '.join(sorted(tags))})")
    made = set()
    log = os.environ.get("SCTRACE_TEMP_LOG")
    if log:
        try:
            with open(log) as f:
                made = {line.strip() for line in f if line.strip()}
        except OSError:
            pass
    new_dirs = [d for d in now["temp_dirs"] if d not in before["temp_dirs"]
                and (not os.path.basename(d).startswith("sctrace-e2e-") or d in made)]
    used = _dirs_in_use(new_dirs)
    found += [f"temp dir {d}" for d in sorted(new_dirs) if d not in used]
    for pid, exe in sorted(now["processes"].items()):
        if pid not in before["processes"]:
            found.append(f"process {pid} ({exe})")
    return found


def main(argv):
    if len(argv) != 3 or argv[1] not in ("snapshot", "check"):
        print(__doc__)
        return 2
    path = argv[2]
    if argv[1] == "snapshot":
        # Never fails: every test requires this one, and a failed setup would
        # fail them all. A snapshot that could not be taken is said by check.
        for stale in (path, os.environ.get("SCTRACE_TEMP_LOG")):
            try:
                if stale:
                    os.remove(stale)
            except OSError:
                pass
        try:
            state = take()
        except Exception as e:  # noqa: BLE001 (anything: the check names it)
            print(f"leftovers: no snapshot: {e!r}")
            return 0
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(state, f)
        counts = ", ".join(f"{e}: {len(s['containers'])} containers, {len(s['images'])} images"
                           for e, s in state["engines"].items())
        print(f"leftovers: snapshot of {counts or 'no engine'}; {len(state['temp_dirs'])} sctrace-* temp dirs; "
              f"{len(state['processes'])} sctrace processes")
        return 0
    try:
        with open(path) as f:
            before = json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: no snapshot to compare with ({e}); the setup test e2e.leftovers_snapshot did not run")
        return 1
    found = compare(before, take())
    for line in found:
        print(f"FAIL: left behind: {line}")
    engines_seen = ", ".join(before["engines"]) or "no engine"
    if not found:
        print(f"ok:   nothing left behind (containers and images on {engines_seen}, sctrace-* temp dirs in "
              f"{' and '.join(_temp_roots())}, processes of {' and '.join(_own_executables()) or 'sctrace'})")
    print(f"=== leftovers: {'0' if found else '1'} of 1 checks ok, {len(found) and 1} failed")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
