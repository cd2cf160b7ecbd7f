#!/usr/bin/env bash
# Images per minute: N demo jobs in one `ld batch` against N separate `ld generate` processes (the demo's defaults:
# 128x128, 8 steps, CPU). Uses the built ld (dotnet build -c Release first). Usage: perf/batch-throughput.sh [N]
set -euo pipefail
N=${1:-16}
LD=${LD:-$(dirname "$0")/../src/Cli/bin/Release/net10.0/ld}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for i in $(seq 1 "$N"); do echo "{\"seed\": $i}"; done > "$DIR/jobs.jsonl"
mkdir "$DIR/batch" "$DIR/single"
"$LD" generate --demo --out "$DIR/warm.png" --quiet > /dev/null 2>&1   # the demo model files, made once

t0=$(date +%s.%N)
"$LD" batch "$DIR/jobs.jsonl" --demo --quiet --out-dir "$DIR/batch" > /dev/null 2>&1
t1=$(date +%s.%N)
for i in $(seq 1 "$N"); do "$LD" generate --demo --quiet --seed "$i" --out "$DIR/single/$i.png" > /dev/null 2>&1; done
t2=$(date +%s.%N)

cmp -s "$DIR/batch/line-00003.png" "$DIR/single/3.png" || { echo "batch and generate images differ" >&2; exit 1; }
awk -v n="$N" -v b="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$t2 - $t1" | bc)" 'BEGIN {
  printf "| %d demo jobs | one ld batch | %d separate ld generate |\n|---|---:|---:|\n", n, n
  printf "| wall time | %.1f s | %.1f s |\n| images/minute | %.1f | %.1f |\n", b, s, n * 60 / b, n * 60 / s }'
