#!/usr/bin/env python3
"""First generation against warm ones, in process CPU time, for builds of `ld` side by side (perf/RESULTS.md, "JIT tax").

For each build (NAME=COMMAND, the command that runs `ld`), in interleaved rounds (the builds' order rotates each
round, so load drifts hit all of them alike):
  T0 = CPU time (user + sys of the child process) of `ld --help`              (runtime start-up alone)
  T1 = CPU time of `ld generate --demo ... --batch-count 1`                    (start-up, load, the first generation)
  TN = CPU time of the same with --batch-count N                               (... and N - 1 warm generations)
  warm = (TN - T1) / (N - 1); first = T1 - T0; ratio = first / warm.
CPU time, not wall time: on a shared machine the wall clock mostly measures the other processes. The demo's files
are written once before the first round (not measured). Prints a table and writes the samples as JSON.

usage: perf/first_run.py [--rounds 4] [--count 4] [--steps 8] [--json OUT] NAME=COMMAND [NAME=COMMAND ...]
  e.g. perf/first_run.py jit="dotnet src/Cli/bin/Release/net10.0/ld.dll" r2r=build/ld/ld aot=.gpu/bin/ld
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import tempfile
import time


def cpu_seconds(argv):
    """Runs argv to completion; returns (user + sys CPU seconds of that process and its children, wall seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{err}")
    return usage.ru_utime + usage.ru_stime, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--count", type=int, default=4, help="generations in the warm process (N)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--json")
    ap.add_argument("builds", nargs="+", help="NAME=COMMAND")
    a = ap.parse_args()
    builds = [(b.split("=", 1)[0], shlex.split(b.split("=", 1)[1])) for b in a.builds]
    out = tempfile.mkdtemp(prefix="ld-first-run-")
    gen = ["generate", "--demo", "--steps", str(a.steps), "--seed", "1", "--quiet", "--out", os.path.join(out, "x.png")]
    for _, cmd in builds:  # writes the demo's files into the cache once; not measured
        cpu_seconds(cmd + gen)
    samples = {name: [] for name, _ in builds}
    for r in range(a.rounds):
        order = builds[r % len(builds):] + builds[: r % len(builds)]
        for name, cmd in order:
            load = os.getloadavg()[0]
            t0, _ = cpu_seconds(cmd + ["--help"])
            t1, w1 = cpu_seconds(cmd + gen + ["--batch-count", "1"])
            tn, wn = cpu_seconds(cmd + gen + ["--batch-count", str(a.count)])
            warm = (tn - t1) / (a.count - 1)
            s = {"round": r, "load": load, "t0": t0, "t1": t1, "tn": tn, "wall1": w1, "walln": wn, "warm": warm,
                 "first": t1 - t0, "ratio": (t1 - t0) / warm if warm > 0 else None}
            samples[name].append(s)
            print(f"round {r} {name:>6}: start-up {t0 * 1e3:7.0f} ms, first {s['first'] * 1e3:7.0f} ms, warm {warm * 1e3:7.0f} ms, "
                  f"ratio {s['ratio']:.2f}  (load {load:.1f})", flush=True)
    print()
    print("| build | start-up CPU ms | first generation CPU ms (min / median) | warm generation CPU ms (min / median) | first / warm (min / median / max) |")
    print("|---|---:|---:|---:|---:|")
    for name, _ in builds:
        ss = samples[name]
        med = lambda k: statistics.median(x[k] for x in ss)
        mn = lambda k: min(x[k] for x in ss)
        ratios = [x["ratio"] for x in ss if x["ratio"] is not None]
        print(f"| {name} | {med('t0') * 1e3:.0f} | {mn('first') * 1e3:.0f} / {med('first') * 1e3:.0f} | {mn('warm') * 1e3:.0f} / {med('warm') * 1e3:.0f} | "
              f"{min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"count": a.count, "steps": a.steps, "builds": {n: c for n, c in builds}, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
