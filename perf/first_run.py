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

Inside the N-generation process, per generation, from its phase events (--progress jsonl on stderr, read as they
arrive): wall = the sum of its phases' ms; main = the main thread's CPU time (/proc/PID/task/PID/stat, 10 ms ticks)
and proc = the process's, both from the previous generation's last phase (for the first: the first line on stderr,
the device note, after start-up) to its own last phase. The first generation against the median of the others;
phases a later generation skips (the cached text encoding, the patch merge) count as 0 there; a third table compares
the phases every generation repeats (--same-work). With a background JIT
warm-up, main excludes it and proc includes it: report both. Run with DOTNET_PROCESSOR_COUNT=1 in the command to keep
the compute on the main thread (the CPU backend's parallel loops then run inline).

usage: perf/first_run.py [--rounds 4] [--count 4] [--steps 8] [--json OUT] NAME=COMMAND [NAME=COMMAND ...]
  e.g. perf/first_run.py r2r="dotnet src/Cli/bin/Release/net10.0/ld.dll" il="dotnet /tmp/il/ld.dll" aot=.gpu/bin/ld
  (the Release build is ReadyToRun on linux-x64; /tmp/il: a copy of that folder after a build with -p:LdReadyToRun=false)
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
    cpu, wall, _ = run(argv)
    return cpu, wall


def thread_cpu_ms(pid, tid):
    """utime + stime of one thread (or, with tid None, the whole process) so far, in ms (clock-tick resolution)."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def generations(events):
    """Per generation: wall ms (the sum of its phase events; a generation starts again at the first phase's name),
    and the main thread's and the process's CPU ms between the end of the previous generation and its last phase;
    per phase ("phases"), its wall ms and the CPU ms between the previous event and its own."""
    gens, first, main0, proc0 = [], None, events[0]["main"] if events else 0, events[0]["proc"] if events else 0
    prev = events[0] if events else None
    for e in events[1:]:
        if first is None or e["phase"] == first:
            first = first or e["phase"]
            if gens:
                main0, proc0 = gens[-1]["main_end"], gens[-1]["proc_end"]
            gens.append({"wall": 0.0, "main_start": main0, "proc_start": proc0, "phases": {}})
        g = gens[-1]
        g["wall"] += e["ms"]
        g["main_end"], g["proc_end"] = e["main"], e["proc"]
        g["phases"][e["phase"]] = {"wall": e["ms"], "main": e["main"] - prev["main"], "proc": e["proc"] - prev["proc"]}
        prev = e
    for g in gens:
        g["main"] = g["main_end"] - g["main_start"]
        g["proc"] = g["proc_end"] - g["proc_start"]
    return gens


def run(argv):
    """Runs argv to completion; returns (CPU seconds as cpu_seconds, wall seconds, phase events). Each phase event
    (--progress jsonl on stderr) is stamped, as it arrives, with the main thread's and the process's CPU ms so far
    (the managed Main runs on the process's first thread, whose id is the process id); the first entry is the
    stamp at the first phase's start, taken when the "device" note arrives... or at the first event."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    events, err = [], []
    for raw in proc.stderr:
        line = raw.decode(errors="replace")
        err.append(line)
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        stamp = {"main": thread_cpu_ms(proc.pid, proc.pid), "proc": thread_cpu_ms(proc.pid, None)}
        if not events:
            events.append(dict(stamp, phase=None, ms=0.0))   # the start of the first phase (the first note)
        if e.get("event") == "phase":
            events.append(dict(stamp, phase=e["phase"], ms=e["ms"]))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{''.join(err)}")
    return usage.ru_utime + usage.ru_stime, wall, events


def print_generation_table(builds, samples, first, warm, ratio):
    """One row per build: the first generation's and the warm ones' wall, main-thread and process CPU ms (min over
    rounds) and their ratio (min / median / max), from the samples' keys FIRST+k, WARM+k and RATIO+k."""
    print("| build | wall ms first / warm (min) | wall ratio (min / median / max) | main-thread CPU ms first / warm (min) "
          "| main ratio (min / median / max) | process CPU ms first / warm (min) | process ratio (min / median / max) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _ in builds:
        ss = samples[name]
        cells = []
        for k in ("wall", "main", "proc"):
            r = sorted(x[ratio + k] for x in ss)
            cells.append(f"{min(x[first + k] for x in ss):.0f} / {min(x[warm + k] for x in ss):.0f}")
            cells.append(f"{r[0]:.2f} / {statistics.median(r):.2f} / {r[-1]:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--count", type=int, default=4, help="generations in the warm process (N)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--json")
    ap.add_argument("--same-work", default="sample,vae_decode,transparent_decode",
                    help="the phases every generation repeats (the first generation's others: loading, text, patch)")
    ap.add_argument("builds", nargs="+", help="NAME=COMMAND")
    a = ap.parse_args()
    if a.count < 2 or a.rounds < 1:
        ap.error("--count must be at least 2 (a first and a warm generation) and --rounds at least 1")
    builds = [(b.split("=", 1)[0], shlex.split(b.split("=", 1)[1])) for b in a.builds]
    out = tempfile.mkdtemp(prefix="ld-first-run-")
    gen = ["generate", "--demo", "--steps", str(a.steps), "--seed", "1", "--progress", "jsonl", "--out", os.path.join(out, "x.png")]
    for _, cmd in builds:  # writes the demo's files into the cache once; not measured
        cpu_seconds(cmd + gen)
    samples = {name: [] for name, _ in builds}
    for r in range(a.rounds):
        order = builds[r % len(builds):] + builds[: r % len(builds)]
        for name, cmd in order:
            load = os.getloadavg()[0]
            t0, _ = cpu_seconds(cmd + ["--help"])
            t1, w1 = cpu_seconds(cmd + gen + ["--batch-count", "1"])
            tn, wn, events = run(cmd + gen + ["--batch-count", str(a.count)])
            gens = generations(events)
            warm = (tn - t1) / (a.count - 1)
            s = {"round": r, "load": load, "t0": t0, "t1": t1, "tn": tn, "wall1": w1, "walln": wn, "warm": warm,
                 "first": t1 - t0, "ratio": (t1 - t0) / warm if warm > 0 else None, "generations": gens}
            same = a.same_work.split(",")
            for k in ("wall", "main", "proc"):
                s["same1_" + k] = sum(gens[0]["phases"].get(p, {}).get(k, 0.0) for p in same)
                s["same_warm_" + k] = statistics.median(sum(g["phases"].get(p, {}).get(k, 0.0) for p in same) for g in gens[1:])
                s["same_ratio_" + k] = s["same1_" + k] / s["same_warm_" + k] if s["same_warm_" + k] > 0 else float("nan")
            for k in ("wall", "main", "proc"):
                s["gen1_" + k] = gens[0][k]
                s["warm_" + k] = statistics.median(g[k] for g in gens[1:])
                s["ratio_" + k] = s["gen1_" + k] / s["warm_" + k] if s["warm_" + k] > 0 else float("nan")
            samples[name].append(s)
            print(f"round {r} {name:>6}: start-up {t0 * 1e3:7.0f} ms, first {s['first'] * 1e3:7.0f} ms, warm {warm * 1e3:7.0f} ms, "
                  f"ratio {s['ratio']:.2f}  (load {load:.1f})", flush=True)
            print("          per generation, first / warm: " + ", ".join(
                f"{k} {s['gen1_' + k]:.0f} / {s['warm_' + k]:.0f} ms = {s['ratio_' + k]:.2f}" for k in ("wall", "main", "proc")), flush=True)
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
    print()
    print("Inside the N-generation process, per generation (phase events): the first against the median of the others.")
    print()
    print_generation_table(builds, samples, "gen1_", "warm_", "ratio_")
    print()
    print(f"The same work only ({a.same_work}: the phases every generation repeats), first generation against the others.")
    print()
    print_generation_table(builds, samples, "same1_", "same_warm_", "same_ratio_")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"count": a.count, "steps": a.steps, "builds": {n: c for n, c in builds}, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
