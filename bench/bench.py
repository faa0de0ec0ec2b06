#!/usr/bin/env python3
"""sctrace overhead benchmark (python3 standard library only).

For each workload: the median wall time of N runs untraced, under
`sctrace run --backend ptrace --ptrace-stops one` (one seccomp stop per
syscall), `--ptrace-stops two` (syscall-entry and -exit stops), `--backend
notify`, and under `strace -f -c -o /dev/null`, side by side, with ratios
against the untraced time and each backend's overhead as a share of strace's;
plus sctrace's own peak RSS (see timed() for why not ru_maxrss).

The ptrace columns record only (`--stack-depth 0`), like strace -c and like
notify, which cannot unwind; "one-stop + stacks" is `run`'s default, with
call-site attribution (a remote unwind per new syscall/executable pair).

The variants take turns (run 1 of each, then run 2 of each, ...) so that a
change in machine load shifts them all alike instead of one column.

    bench/bench.py --sctrace BUILD/cli/sctrace --samples BUILD/samples [--runs 5] [--quick]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def _vm_hwm_kib(pid, exe_name):
    """VmHWM of pid once it runs a program named exe_name (before its execve
    the child still shares or copies this Python process's memory), else None."""
    try:
        if os.path.basename(os.readlink(f"/proc/{pid}/exe")) != exe_name:
            return None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def timed(argv, watch_rss=False):
    """(wall seconds, peak RSS KiB or None) of one run, output discarded.

    Peak RSS is sampled from /proc/PID/status VmHWM every 10 ms rather than
    taken from wait4's ru_maxrss: the kernel carries the high-water mark of
    the memory a process had before execve into ru_maxrss, and a child of
    Python starts out sharing Python's ~15 MiB, which would swamp sctrace's
    own figure. VmHWM belongs to the current mm, so it is sctrace's alone;
    the workload's processes are not counted."""
    exe_name = os.path.basename(os.path.realpath(argv[0]))
    if watch_rss:
        exe_name = "sctrace"  # also through a wrapper script that execs it
    peak = [None]
    done = threading.Event()
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def watch():
        while not done.wait(0.01):
            v = _vm_hwm_kib(p.pid, exe_name)
            if v is not None:
                peak[0] = max(peak[0] or 0, v)

    watcher = threading.Thread(target=watch, daemon=True) if watch_rss else None
    if watcher:
        watcher.start()
    err = p.stderr.read()  # drained while waiting so a chatty child cannot block
    # wait4 from the main thread while the watcher may still read /proc: the
    # pid cannot be reused before it is reaped here.
    _, status, _ = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    done.set()
    if watcher:
        watcher.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {p.returncode}:\n{err.decode(errors='replace')[-2000:]}")
    return wall, peak[0]


def medians_interleaved(variants, runs):
    """{name: (median wall, max peak RSS or None, all walls)} for variants
    [(name, argv, watch_rss)], run round-robin."""
    walls = {name: [] for name, _, _ in variants}
    rss = {name: [] for name, _, _ in variants}
    for _ in range(runs):
        for name, argv, watch in variants:
            w, m = timed(argv, watch)
            walls[name].append(w)
            if m is not None:
                rss[name].append(m)
    return {name: (statistics.median(walls[name]), max(rss[name]) if rss[name] else None, walls[name])
            for name, _, _ in variants}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sctrace", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller workloads, 3 runs (a smoke test)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)
    strace = shutil.which("strace")
    if not strace:
        sys.exit("bench: strace is not installed (apt-get install strace)")

    scale = 10 if args.quick else 1
    workloads = [
        ("loop (syscall-heavy)", [os.path.join(args.samples, "loop"), str(200000 // scale)]),
        ("spawn 300 x /bin/true",
         ["sh", "-c", f"for i in $(seq {300 // scale}); do /bin/true; done"]),
        ("mt_loop (8 threads)", [os.path.join(args.samples, "mt_loop"), str(20000 // scale)]),
    ]
    # run also writes its recording beside the profile: a private directory
    # holds both and goes away whole.
    out_dir = tempfile.mkdtemp(prefix="sctrace-bench-")
    out_profile = os.path.join(out_dir, "profile.json")
    run = [args.sctrace, "run", "-o", out_profile]
    results = []
    try:
        for label, cmd in workloads:
            print(f"bench: {label}: {' '.join(cmd)} ({args.runs} runs each)", file=sys.stderr, flush=True)
            m = medians_interleaved([
                ("untraced", cmd, False),
                ("one", [*run, "--backend", "ptrace", "--ptrace-stops", "one", "--stack-depth", "0", "--", *cmd],
                 True),
                ("two", [*run, "--backend", "ptrace", "--ptrace-stops", "two", "--stack-depth", "0", "--", *cmd],
                 False),
                ("stacks", [*run, "--backend", "ptrace", "--ptrace-stops", "one", "--", *cmd], False),
                ("notify", [*run, "--backend", "notify", "--", *cmd], False),
                ("strace", [strace, "-f", "-c", "-o", "/dev/null", "--", *cmd], False),
            ], args.runs)
            plain, st = m["untraced"][0], m["strace"][0]
            r = {"workload": label, "command": cmd, "runs": args.runs, "untraced_s": plain, "strace_s": st,
                 "strace_x": st / plain, "sctrace_peak_rss_kib": m["one"][1],
                 "all_runs_s": {k: v[2] for k, v in m.items()}}
            for k in ("one", "two", "stacks", "notify"):
                r[f"{k}_s"] = m[k][0]
                r[f"{k}_x"] = m[k][0] / plain
                r[f"{k}_overhead_share"] = (m[k][0] - plain) / (st - plain) if st > plain else None
            results.append(r)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)

    head = ["workload", "untraced", "ptrace one-stop", "ptrace two-stop", "one-stop + stacks", "notify",
            "strace -f -c", "one x", "two x", "notify x", "strace x", "one/strace overhead", "two/strace overhead",
            "stacks/strace overhead", "notify/strace overhead", "sctrace peak RSS"]
    share = lambda v: f"{v:.0%}" if v is not None else "n/a"
    secs = lambda v: f"{v:.3f} s"
    rows = [[r["workload"], secs(r["untraced_s"]), secs(r["one_s"]), secs(r["two_s"]), secs(r["stacks_s"]),
             secs(r["notify_s"]), secs(r["strace_s"]), f"{r['one_x']:.2f}", f"{r['two_x']:.2f}",
             f"{r['notify_x']:.2f}", f"{r['strace_x']:.2f}", share(r["one_overhead_share"]),
             share(r["two_overhead_share"]), share(r["stacks_overhead_share"]), share(r["notify_overhead_share"]),
             f"{r['sctrace_peak_rss_kib'] / 1024:.1f} MiB" if r["sctrace_peak_rss_kib"] else "n/a"]
            for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    met = sum(1 for r in results if r["one_overhead_share"] is not None and r["one_overhead_share"] <= 0.5)
    print(f"\nmedian of {args.runs} interleaved runs; 'x' = traced / untraced; overhead share = "
          "(traced - untraced) / (strace - untraced); peak RSS = largest VmHWM of the sctrace process itself "
          "in the one-stop runs without stacks (workload not included), sampled every 10 ms.")
    print(f"target (ptrace one-stop overhead at most half of strace's): met on {met} of {len(results)} workloads")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "uname": " ".join(os.uname()), "nproc": os.cpu_count()}, f, indent=2)


if __name__ == "__main__":
    main()
