#!/usr/bin/env bash
# One GPU benchmark session (bench only; scripts/gpu-check.sh is the full check with correctness stages first), run on
# the GPU machine from the repository root (no .NET there: carry the NativeAOT `ld` of scripts/publish-aot.sh, .gpu/):
#   perf/gpu-bench.sh OUT_DIR
# 1. env: nvidia-smi, and whether libnvToolsExt (NVTX ranges) is there
# 2. PyTorch reference: perf/torch_reference.py -> OUT/torch.json (TORCH_ARGS adds options)
# 3. ours: ld bench --device cuda --synthetic -> OUT/ld.json, OUT/ld.md, OUT/ratios.json (LD_ARGS adds options)
# Both write their JSON after every measurement, so a run cut short still returns what it measured. The whole run
# keeps to LD_BENCH_BUDGET seconds (default 540, under the 600 s a device command may run).
# Env: LD_BIN (default .gpu/bin/ld), LD_BENCH_WORK (synthetic weights, default /tmp/ld-bench-work), LD_COMMIT.
set -u
out=${1:?usage: perf/gpu-bench.sh OUT_DIR}
mkdir -p "$out"
ld=${LD_BIN:-.gpu/bin/ld}
budget=${LD_BENCH_BUDGET:-540}
work=${LD_BENCH_WORK:-/tmp/ld-bench-work}
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) - 10 )); }
note() { echo "$*" | tee -a "$out/summary.txt"; }

{ nvidia-smi; echo; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv; } > "$out/env.txt" 2>&1
{ echo "== libnvToolsExt:"; ldconfig -p 2>/dev/null | grep -i nvtoolsext; ls /usr/local/cuda/lib64 2>/dev/null | grep -i -E "nvtoolsext|nvtx"; ls -d /usr/local/cuda/include/nvtx3 2>/dev/null; } >> "$out/env.txt" 2>&1
note "env: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"

s=$(date +%s)
limit=${TORCH_LIMIT:-180}
timeout --kill-after=10 "$limit" python3 perf/torch_reference.py --out "$out/torch.json" ${TORCH_ARGS:-} > "$out/torch.log" 2>&1
note "torch_reference: rc=$? ($(( $(date +%s) - s ))s)"

if [ -x "$ld" ]; then
  s=$(date +%s)
  l=$(left)
  ref=()
  [ -f "$out/torch.json" ] && ref=(--reference "$out/torch.json" --ratios "$out/ratios.json")
  timeout --kill-after=10 "$l" "$ld" bench --device cuda --synthetic --work-dir "$work" --json "$out/ld.json" \
    --markdown "$out/ld.md" "${ref[@]}" ${LD_ARGS:-} > "$out/ld.log" 2>&1
  note "ld bench: rc=$? ($(( $(date +%s) - s ))s, limit ${l}s)"
else
  note "ld bench: SKIPPED (no $ld)"
fi
note "total $(( $(date +%s) - t0 ))s"
tail -n 60 "$out/torch.log" "$out/ld.log" 2>/dev/null
