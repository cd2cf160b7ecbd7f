#!/usr/bin/env bash
# The GPU check, run once on the GPU machine (CUDA toolkit, PyTorch, no .NET) from the repository root:
#   scripts/gpu-check.sh OUT_DIR
# Needs .gpu/ from scripts/publish-aot.sh (NativeAOT `ld`, golden files); carry `.gpu`. The whole run keeps to
# LD_CHECK_BUDGET seconds (default 440: with the machine's start-up, inside 9 minutes of device time). Every stage
# has its own timeout (cut to what the budget has left), writes its log (and JSON where the tool has one) into
# OUT_DIR as it goes, and appends a line to OUT_DIR/summary.txt, so a run cut short still says how far it got and
# returns what it measured. OUT_DIR.tar.gz packs everything at the end.
#
# What has never run on a GPU (as of this script's commit) and which stage checks it:
#   kernels/attention_mma2.cu   pipelined d64 tensor-core attention (LD_ATTENTION=mma2)   selftest: attention_mma2, attention_qkv_mma2; time_attention_mma2; bench_mma2
#   kernels/attention_cross.cu  single-tile attention for <= 80 keys (LD_ATTENTION=mma2)     same cases (the 77- and 80-key and causal 77x77 ones)
#   kernels/attention_d8.cu     head width 8 on mma.m16n8k8 (LD_ATTENTION=mma2)               same cases (the d8 ones)
#   kernels/attention_fewkeys.cu  <= 16 keys, any head width (SD1.5 temporal attention)       selftest: the "few keys" attention and attention_qkv cases
#   ld_flash_small (attention.cu)  head widths < 8 on the d8 SIMT kernel (tiny models)      selftest: the "small width" attention and attention_qkv cases
#   attention row strides       AttentionQkv on a packed q|k|v, every kernel family            selftest: attention_qkv*
#   kernels/elementwise.cu      16-byte slots: casts, unary, GEGLU, binary (FastDivmod), bias selftest: silu gelu quick_gelu affine clamp geglu add sub mul conv2d load_weight import
#   kernels/norm.cu             GroupNorm(+add) from merged (mean, M2); LayerNorm in registers selftest: group_norm, group_norm_add, layer_norm (launch and scratch counts too)
#   kernels/layout.cu           copy2d, tiled transpose, FastDivmod permute, upsample, im2col selftest: concat slice permute upsample2x conv2d
#   LinearAdd                   cuBLASLt epilogue with C != D, beta = 1                        selftest: linear_add, gemm_fallback linear_add
#   GEMM candidate timing       CublasLt.Tuning (first product of each shape)                  every GEMM of every stage; LD_GEMM_TUNE=0 turns it off
#   launcher parameter layouts  kernel params at the PTX's offsets (Backends/Cuda/Kernels)     every stage
#   cuDNN 9 convolutions        Interop/Cudnn*.cs, CudaBackend.Conv.cs (the cudnn helper's)   default path in every stage; cudnn_selftest_* (forced), cudnn_timing_*
#   cost ledger (ld profile)    per-op CUDA events, launch counts, the peak table (Backends/Ledger) stage_ledger
#   CUDA graphs                 Interop/CudaGraphs.cs, Backends/Cuda/CudaForwardGraph.cs, DevicePool arenas    stage_graphs (graphs_demo, graphs_bench)
#   cross-attention K/V cache   Backends/ConstantProducts.cs on the CUDA backend                               stage_graphs (graphs_demo, graphs_bench)
#   earlier, still unchecked    Philox noise (randn_philox), device LoRA/diff merge (merge_*), TF32 sibling (gemm_tf32, verify fp16),
#                               batched 8-way decode + fused unaugment/median (unaugment_median8, verify), per-phase peaks, tiled VAE
# Stages, in order:
#   env          nvidia-smi, the card's compute capability; the nvcc build (CMake, this card's SM only, ptxas -v)
#                starts in the background and only feeds the ptxas report: every check runs the embedded clang
#                PTX (the default run-time path, JIT-compiled by the driver)
#   correctness  in parallel, each with its own timeout: selftest fp16 / bf16 / fp32, verify fp16 / fp32, and the
#                conv2d cases with LD_CONV=cudnn at each precision
#   timing       ld selftest --time at SDXL sizes, fp16: new kernels beside the ones they replace (JSON), cuDNN plans logged
#   torch        perf/torch_reference.py at 1024x1024 (the components bench runs)
#   bench_mma2   ld bench --synthetic with LD_ATTENTION=mma2 (attention, UNet step b2)
#   bench        ld bench --synthetic (attention, UNet step b2, VAE decode, 8-way decode, encoder) with ratios
#   graphs       the demo generation with CUDA graphs + K/V cache vs neither (same PNG), then the UNet call b2 eager,
#                with the K/V cache, and as graph replays (ld bench unet_call)
#   ledger       ld profile --synthetic: the cost ledger of a UNet step b2, VAE decode, 8-way decode, encoder
#   cudnn        cuDNN's timed search (fp16) and the TF32 sibling's convolution shapes, as the budget allows
set -u
out=${1:?usage: scripts/gpu-check.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
ld=${LD_BIN:-$root/.gpu/bin/ld}
golden=${LD_GOLDEN:-$root/.gpu/golden}
budget=${LD_CHECK_BUDGET:-440}
work=${LD_BENCH_WORK:-/tmp/ld-bench}
t0=$(date +%s)
summary=$out/summary.txt
: > "$summary"
cd "$root"

note() { echo "$*" | tee -a "$summary"; }
left() { echo $(( budget - ($(date +%s) - t0) - 10 )); }

# stage NAME LIMIT COMMAND...: runs with min(LIMIT, budget left), logs to OUT/NAME.log, one summary line.
stage() {
  local name=$1 limit=$2; shift 2
  local l; l=$(left)
  if [ "$l" -lt 10 ]; then note "$name: SKIPPED (budget spent)"; return 124; fi
  [ "$limit" -gt "$l" ] && limit=$l
  local s; s=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  local verdict=ok
  [ $rc -ne 0 ] && verdict="FAILED rc=$rc"
  { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && verdict="TIMED OUT after ${limit}s"
  note "$name: $verdict ($(( $(date +%s) - s ))s) log=$name.log"
  grep -E "^(selftest:|device memory:|[0-9]+ passed)" "$out/$name.log" | tail -n 2 | sed 's/^/    /' | tee -a "$summary"
  return $rc
}

# ==== stage_cudnn: convolutions on cuDNN 9 (issue 14 item 2) ========================================================
# Nothing of Interop/Cudnn*.cs or Backends/Cuda/CudaBackend.Conv.cs has run against a real cuDNN before this stage
# (CI runs them on tests/Cuda/emu/fake_cudnn.cpp). LD_CONV=cudnn makes a missing or unusable libcudnn.so.9 an error
# instead of the silent im2col fallback; LD_CUDNN_LOG=1 writes each plan (algorithms, times, fused or not) to the log.
# The timings compare, per SDXL shape: cuDNN fused (time_conv2d), cuDNN unfused, im2col, NHWC data (time_conv2d_nhwc:
# what NHWC throughout would run), the fused residual add, with the heuristic and with the timed search (find).
# The selftests join the parallel correctness stages; the heuristic's timings are timing_fp16's time_conv2d* cases
# (LD_CUDNN_LOG=1 there); these add the timed search and the TF32 sibling's shapes, last, as the budget allows.
stage_cudnn_selftests() {
  for p in fp16 bf16 fp32; do
    stage "cudnn_selftest_$p" 130 env LD_CONV=cudnn LD_CUDNN_LOG=1 LD_CUDA_SYNC=1 "$ld" selftest --device cuda --precision "$p" --filter conv2d --json "$out/cudnn_selftest_$p.json" & pids+=($!)
  done
}
stage_cudnn() {
  stage cudnn_timing_fp16_find 60 env LD_CUDNN_LOG=1 LD_CUDNN_SEARCH=find "$ld" selftest --device cuda --precision fp16 --time --filter time_conv2d --json "$out/cudnn_timing_fp16_find.json"
  stage cudnn_timing_fp32 45 env LD_CUDNN_LOG=1 "$ld" selftest --device cuda --precision fp32 --time --filter "time_conv2d_tf32|time_conv2d [1, 256|time_conv2d_im2col [1, 256" --json "$out/cudnn_timing_fp32.json"
}
# ==== end of stage_cudnn =============================================================================================

# ==== stage_graphs: CUDA graphs of the UNet call and the cross-attention K/V cache (issue 14 items 1 and 4) ========
# Nothing of Interop/CudaGraphs.cs (stream capture, instantiate, launch), Backends/Cuda/CudaForwardGraph.cs (the
# pool arena, pinned upload staging) or the K/V cache on CUDA has run on a GPU before this stage. graphs_demo: a
# 6-step demo generation with Stop At 0.5 (two graph keys: capture, replay, re-capture), with graphs and the cache
# and with neither, LD_GEMM_TUNE=0 so both processes use the heuristic's GEMM algorithms: the PNGs must be the same
# bytes and no capture may fall back to eager. graphs_bench: ld bench unet_call at 1024x1024 b2, the UNet call
# (upload x, UNet, read eps back) eager (unet_call_eager), with the K/V cache (unet_call_kv) and as graph replays
# with the cache (unet_call): the step time with graphs off and on, and what the cache saves.
stage_graphs() {
  stage graphs_demo 30 bash -c 'd=$(mktemp -d) && export LD_GEMM_TUNE=0 &&
    "$0" generate --demo --device cuda --steps 6 --stop-at 0.5 --quiet --out "$d/on.png" 2>&1 | tee "$d/on.log" &&
    LD_CUDA_GRAPHS=0 LD_KV_CACHE=0 "$0" generate --demo --device cuda --steps 6 --stop-at 0.5 --quiet --out "$d/off.png" &&
    ! grep -q "CUDA graphs off" "$d/on.log" && cmp "$d/on.png" "$d/off.png" && echo "graphs + K/V cache: the same PNG as neither"' "$ld"
  stage graphs_bench 45 "$ld" bench --device cuda --synthetic --components unet_call --batch 2 --size "$size" --warmup 1 --runs 10 \
    --work-dir "$work" --json "$out/graphs_bench.json" --markdown "$out/graphs_bench.md"
  [ -f "$out/graphs_bench.md" ] && grep -E "^\| unet_call" "$out/graphs_bench.md" | sed 's/^/    /' | tee -a "$summary"
}
# ==== end of stage_graphs ============================================================================================

# ==== stage_ledger: the cost ledger on the card (issue 16 item 1) ===================================================
# `ld profile` at 1024x1024 on the synthetic released-shape weights (written once under $work, shared with the bench
# stages): per op class of a UNet step (b2), the VAE decode, the 8-way transparent decode and the encoder: launches,
# FLOPs, bytes, CUDA-event time, achieved TFLOP/s and GB/s against the card's peak (perf/README.md, "Reading the cost
# ledger"). First GPU run of the per-op event clock and of DevicePeaks' entry for this card. Ops, FLOPs and bytes must
# equal the emulated GPU's at the same shapes; launches may differ where this card takes other kernels (cuDNN's
# fused call or not, the attention kernel for its architecture).
stage_ledger() {
  stage ledger 70 "$ld" profile --device cuda --synthetic --width 1024 --height 1024 --batch 2 --warmup 1 --runs 3 \
    --work-dir "$work" --json "$out/ledger.json" --markdown "$out/ledger.md"
  [ -f "$out/ledger.md" ] && grep -E "^(### Cost ledger|Peak|\| \*\*all)" "$out/ledger.md" | sed 's/^/    /' | tee -a "$summary"
}
# ==== end of stage_ledger ============================================================================================

if [ ! -d "$golden" ] && [ -f "$root/.gpu/golden.tar.xz" ]; then tar -C "$root/.gpu" -xJf "$root/.gpu/golden.tar.xz"; fi
if [ ! -x "$ld" ]; then note "no ld at $ld: run scripts/publish-aot.sh first and carry .gpu"; exit 2; fi

# ---- env, and the nvcc build in the background (ptxas register / spill report for the card's SM)
stage env 20 bash -c 'nvidia-smi; nvidia-smi --query-gpu=name,compute_cap,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv; nvcc --version; "$0" selftest --kernels' "$ld"
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
note "card: $(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>/dev/null | head -n1)"
nvcc_pid=""
if command -v nvcc > /dev/null && [ -n "$cc" ]; then
  gen=""; command -v ninja > /dev/null && gen="-G Ninja"
  ( timeout 240 nice -n 10 bash -c "cmake -S . -B '$out/build' $gen -DCMAKE_BUILD_TYPE=Release -DLD_ARCHS=$cc && cmake --build '$out/build' -j 8" \
      > "$out/nvcc_build.log" 2>&1; echo "rc=$?" >> "$out/nvcc_build.log" ) &
  nvcc_pid=$!
fi

# ---- correctness, in parallel (each its own process, timeout and log; the GPU and 16 cores are shared)
export LD_CUDA_SYNC=1   # name the kernel if one faults
pids=()
for p in fp16 bf16 fp32; do
  stage "selftest_$p" 150 "$ld" selftest --device cuda --precision "$p" --json "$out/selftest_$p.json" & pids+=($!)
done
if [ -f "$golden/manifest.json" ]; then
  for p in fp16 fp32; do
    stage "verify_$p" 170 "$ld" verify --device cuda --golden "$golden" --precision "$p" & pids+=($!)
  done
else
  note "verify: SKIPPED (no $golden/manifest.json)"
fi
stage_cudnn_selftests
for p in "${pids[@]}"; do wait "$p"; done
unset LD_CUDA_SYNC
note "never-run paths (cases that failed; none listed = all passed):"
grep -h "^FAIL" "$out"/*selftest_*.log "$out"/verify_*.log 2>/dev/null | cut -c1-160 | head -n 30 | sed 's/^/    /' | tee -a "$summary"

# ---- timing at SDXL sizes (new kernels beside the ones they replace: time_attention vs time_attention_mma2 for
# self 4096², cross 77 and d8; time_group_norm_add vs time_group_norm + time_add; time_linear_add vs time_linear
# then add; time_qkv_fused vs time_qkv_separate; time_layer_norm, time_geglu, time_permute)
stage timing_fp16 70 env LD_CUDNN_LOG=1 "$ld" selftest --device cuda --precision fp16 --time --filter time_ --json "$out/timing_fp16.json"

# ---- PyTorch reference (same shapes and record names as ld bench), then our bench with ratios to it
size=1024x1024
if command -v python3 > /dev/null && [ -f perf/torch_reference.py ]; then
  stage torch_reference 70 python3 perf/torch_reference.py --size "$size" --batch 2 --warmup 2 --runs 5 \
    --components attention,unet_step,vae_decode,tdec_8way_batched,tenc --out "$out/torch_reference.json"
fi
ref() { [ -s "$out/torch_reference.json" ] && echo "--reference $out/torch_reference.json --ratios $out/ratios_$1.json"; }
stage bench_mma2 50 env LD_ATTENTION=mma2 "$ld" bench --device cuda --synthetic --components attention,unet_step --batch 2 \
  --size "$size" --warmup 2 --runs 5 --work-dir "$work" --json "$out/bench_mma2.json" --markdown "$out/bench_mma2.md" $(ref mma2)
stage bench 100 "$ld" bench --device cuda --synthetic --components attention,unet_step,vae_decode,tdec_8way,tenc --batch 2 \
  --size "$size" --warmup 1 --runs 3 --work-dir "$work" --json "$out/bench.json" --markdown "$out/bench.md" $(ref default)

# ---- graphs on and off, and the K/V cache, right after the bench they are compared with
stage_graphs

# ---- the cost ledger, after the bench: the ratios to PyTorch come first when the budget runs short
stage_ledger

# ---- convolutions forced onto cuDNN's timed search and the TF32 shapes (the default path already ran cuDNN
# wherever libcudnn.so.9 loaded)
stage_cudnn

# ---- the ptxas report, if the background build finished in time
if [ -n "$nvcc_pid" ]; then
  kill "$nvcc_pid" 2> /dev/null
  grep -E "Compiling entry|registers|spill|bytes stack" "$out/nvcc_build.log" > "$out/ptxas_report.txt" 2> /dev/null
  note "nvcc build: $(tail -n 1 "$out/nvcc_build.log" 2> /dev/null) ($(grep -c 'Compiling entry' "$out/ptxas_report.txt" 2> /dev/null) entries in ptxas_report.txt, $(grep -cE '[1-9][0-9]* bytes spill' "$out/ptxas_report.txt" 2> /dev/null) with spills)"
fi

note "total $(( $(date +%s) - t0 ))s"
echo
echo "==== summary ($out/summary.txt)"
cat "$summary"
[ -f "$out/bench.md" ] && tail -n 25 "$out/bench.md"
# Only a few files come back from the device tool: pack the whole folder into one.
tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")" 2> /dev/null || true
