#!/usr/bin/env bash
# The GPU check, run once on the GPU machine (CUDA toolkit, no .NET) from the repository root:
#   scripts/gpu-check.sh OUT_DIR
# Needs .gpu/ from scripts/publish-aot.sh (NativeAOT `ld`, golden files). Every stage has its own timeout and the
# whole run a budget (LD_CHECK_BUDGET seconds, default 540, under the 600 s a device command may run); each stage
# writes its log into OUT_DIR as it goes and appends a line to OUT_DIR/summary.txt, so a run cut short still says
# how far it got. Stages:
# in order of importance:
#   env        nvidia-smi, nvcc and driver versions, the embedded kernel modules
#   kernels    nvcc fatbins via CMake (sm_80..sm_90 + PTX) -> LD_KERNELS_DIR
#   selftest   every op vs the CPU reference: fp16 and fp32 with the nvcc kernels, fp32 with the embedded clang PTX
#              (the default run-time path, JIT by the driver)
#   timing     ld selftest --time at SDXL sizes in fp16 (JSON with milliseconds)
#   verify     ld verify --device cuda on the golden set, fp32 then fp16
#   cudnn      stage_cudnn below: convolutions on cuDNN 9 (forced), fp16/bf16/fp32 cases, timings of every path
#   then       bf16 selftest (PTX), fp32 timings, ptxas resource report (registers, spills), ld bench if present
set -u
out=${1:?usage: scripts/gpu-check.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
ld=${LD_BIN:-$root/.gpu/bin/ld}
golden=${LD_GOLDEN:-$root/.gpu/golden}
budget=${LD_CHECK_BUDGET:-540}
t0=$(date +%s)
summary=$out/summary.txt
: > "$summary"
cd "$root"

note() { echo "$*" | tee -a "$summary"; }

# stage NAME LIMIT_SECONDS COMMAND...: runs with min(LIMIT, budget left - 15 s), logs to OUT/NAME.log.
stage() {
  local name=$1 limit=$2; shift 2
  local left=$(( budget - ($(date +%s) - t0) - 15 ))
  if [ "$left" -lt 10 ]; then note "$name: SKIPPED (budget spent)"; return 124; fi
  [ "$limit" -gt "$left" ] && limit=$left
  local s=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  local d=$(( $(date +%s) - s ))
  local verdict=ok
  [ $rc -ne 0 ] && verdict="FAILED rc=$rc"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && verdict="TIMED OUT after ${limit}s"
  note "$name: $verdict (${d}s) log=$name.log"
  grep -E "^(selftest:|device memory:|[0-9]+ passed)" "$out/$name.log" | tail -n 3 | sed 's/^/    /' | tee -a "$summary"
  [ $rc -ne 0 ] && tail -n 2 "$out/$name.log" | sed 's/^/    | /' | tee -a "$summary"
  return $rc
}

# ==== stage_cudnn: convolutions on cuDNN 9 (issue 14 item 2) ========================================================
# Nothing of Interop/Cudnn*.cs or Backends/Cuda/CudaBackend.Conv.cs has run against a real cuDNN before this stage
# (CI runs them on tests/Cuda/emu/fake_cudnn.cpp). LD_CONV=cudnn makes a missing or unusable libcudnn.so.9 an error
# instead of the silent im2col fallback; LD_CUDNN_LOG=1 writes each plan (algorithms, times, fused or not) to the log.
# The timings compare, per SDXL shape: cuDNN fused (time_conv2d), cuDNN unfused, im2col, NHWC data (time_conv2d_nhwc:
# what NHWC throughout would run), the fused residual add, with the heuristic and with the timed search (find).
stage_cudnn() {
  stage cudnn_selftest_fp16 90 env LD_CONV=cudnn LD_CUDNN_LOG=1 LD_CUDA_SYNC=1 "$ld" selftest --device cuda --precision fp16 --filter conv2d --json "$out/cudnn_selftest_fp16.json"
  stage cudnn_selftest_bf16 90 env LD_CONV=cudnn LD_CUDNN_LOG=1 LD_CUDA_SYNC=1 "$ld" selftest --device cuda --precision bf16 --filter conv2d --json "$out/cudnn_selftest_bf16.json"
  stage cudnn_selftest_fp32 90 env LD_CONV=cudnn LD_CUDNN_LOG=1 LD_CUDA_SYNC=1 "$ld" selftest --device cuda --precision fp32 --filter conv2d --json "$out/cudnn_selftest_fp32.json"
  stage cudnn_timing_fp16 120 env LD_CUDNN_LOG=1 "$ld" selftest --device cuda --precision fp16 --time --filter time_conv2d --json "$out/cudnn_timing_fp16.json"
  stage cudnn_timing_fp16_find 120 env LD_CUDNN_LOG=1 LD_CUDNN_SEARCH=find "$ld" selftest --device cuda --precision fp16 --time --filter time_conv2d --json "$out/cudnn_timing_fp16_find.json"
  stage cudnn_timing_fp32 90 env LD_CUDNN_LOG=1 "$ld" selftest --device cuda --precision fp32 --time --filter "time_conv2d_tf32|time_conv2d [1, 256|time_conv2d_im2col [1, 256" --json "$out/cudnn_timing_fp32.json"
}
# ==== end of stage_cudnn =============================================================================================

if [ ! -d "$golden" ] && [ -f "$root/.gpu/golden.tar.xz" ]; then tar -C "$root/.gpu" -xJf "$root/.gpu/golden.tar.xz"; fi
if [ ! -x "$ld" ]; then note "no ld at $ld: run scripts/publish-aot.sh first and carry .gpu"; exit 2; fi

# ---- env
stage env 30 bash -c 'nvidia-smi; echo; nvcc --version; echo; "$0" --help; "$0" selftest --kernels' "$ld"

# ---- kernels (nvcc); on failure the embedded PTX still serves every later stage
kernels=""
gen=""
command -v ninja > /dev/null && gen="-G Ninja"
if command -v nvcc > /dev/null; then
  if stage kernels 240 bash -c "cmake -S . -B '$out/build' $gen -DCMAKE_BUILD_TYPE=Release && cmake --build '$out/build' -j 16"; then
    kernels=$out/build/kernels
    ls -l "$kernels" >> "$out/kernels.log"
  fi
else
  note "kernels: nvcc not found, using the embedded PTX only"
fi

# ---- selftest (most important first: fp16 takes the tensor-core attention by default)
export LD_CUDA_SYNC=1   # name the kernel if one faults
if [ -n "$kernels" ]; then
  stage selftest_fp16_nvcc 120 env LD_KERNELS_DIR="$kernels" "$ld" selftest --device cuda --precision fp16 --json "$out/selftest_fp16_nvcc.json"
  stage selftest_fp32_nvcc 120 env LD_KERNELS_DIR="$kernels" "$ld" selftest --device cuda --precision fp32 --json "$out/selftest_fp32_nvcc.json"
fi
stage selftest_fp32_ptx 150 env -u LD_KERNELS_DIR "$ld" selftest --device cuda --precision fp32 --json "$out/selftest_fp32_ptx.json"
unset LD_CUDA_SYNC

[ -n "$kernels" ] && export LD_KERNELS_DIR=$kernels

stage_cudnn

# ---- timings at SDXL sizes (attention: default vs SIMT vs general GEMM path; GEMM, conv, GroupNorm)
stage timing_fp16 120 "$ld" selftest --device cuda --precision fp16 --time --filter time_ --json "$out/timing_fp16.json"

# ---- verify against the golden set
if [ -f "$golden/manifest.json" ]; then
  stage verify_fp32 150 "$ld" verify --device cuda --golden "$golden" --precision fp32
  stage verify_fp16 150 "$ld" verify --device cuda --golden "$golden" --precision fp16
else
  note "verify: SKIPPED (no $golden/manifest.json)"
fi

# ---- the rest, as the budget allows
stage selftest_bf16_ptx 120 env -u LD_KERNELS_DIR LD_CUDA_SYNC=1 "$ld" selftest --device cuda --precision bf16 --json "$out/selftest_bf16_ptx.json"
stage timing_fp32 120 "$ld" selftest --device cuda --precision fp32 --time --filter time_ --json "$out/timing_fp32.json"
if command -v nvcc > /dev/null; then
  stage ptxas_report 90 bash -c 'for f in kernels/*.cu; do echo "== $f"; nvcc -cubin -arch=sm_90 -O3 -std=c++17 -Xptxas -v -o /dev/null "$f" 2>&1 | grep -E "Compiling entry|registers|spill|stack"; done'
fi
# ---- PyTorch reference timings at the same shapes (the machine has PyTorch), then our bench with ratios to them
if command -v python3 > /dev/null && [ -f perf/torch_reference.py ]; then
  stage torch_reference 150 python3 perf/torch_reference.py --warmup 2 --runs 5 --out "$out/torch_reference.json"
fi
if "$ld" --help 2>/dev/null | grep -qE '^\s+bench\b'; then
  ref=""
  [ -s "$out/torch_reference.json" ] && ref="--reference $out/torch_reference.json"
  # The pipelined tensor-core attention (kernels/attention_mma2.cu) first, on its own: it is not the default until
  # this comparison and its selftest cases (attention_mma2, time_attention_mma2 above) have run on a GPU.
  stage bench_mma2 120 env LD_ATTENTION=mma2 "$ld" bench --device cuda --synthetic --components attention,unet_step --batch 2 \
    --size 1024x1024 --warmup 2 --runs 5 --work-dir /tmp/ld-bench --json "$out/bench_mma2.json" --markdown "$out/bench_mma2.md"
  stage bench 240 "$ld" bench --device cuda --synthetic --warmup 2 --runs 5 --work-dir /tmp/ld-bench --json "$out/bench.json" --markdown "$out/bench.md" $ref
else
  note "bench: SKIPPED (this ld has no bench command)"
fi

note "total $(( $(date +%s) - t0 ))s"
echo
echo "==== summary ($out/summary.txt)"
cat "$summary"
# Failing cases, so the reply's tail shows them.
grep -h "FAIL" "$out"/selftest_*.log "$out"/verify_*.log 2>/dev/null | head -n 40
# Only a few files come back from the device tool: pack the whole folder into one.
tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")" 2>/dev/null || true
