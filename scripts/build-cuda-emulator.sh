#!/usr/bin/env bash
# Builds tests/Cuda/emu into OUT_DIR/libldemu.so: a fake libcuda + libcublasLt + libcudnn that run kernels/*.cu
# compiled for the host (LD_HOST_EMU) and convolve on the host. Then, without a GPU:
#   LD_CUDA_PATH=OUT_DIR/libldemu.so LD_CUBLASLT_PATH=OUT_DIR/libldemu.so LD_CUDNN_PATH=OUT_DIR/libldemu.so \
#   ld selftest --device cuda
# The tensor-core kernels (attention_mma.cu) run with mma.sync emulated from the PTX ISA's fragment layout, which
# checks everything around the instruction but not the layout itself (only the GPU can). Needs clang++-14, libffi-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/build-cuda-emulator.sh OUT_DIR}
mkdir -p "$out"
cxx=${CXX_EMU:-clang++-14}
flags="-std=c++20 -O2 -fPIC -mf16c -Wall -Werror -DLD_HOST_EMU -I$root/kernels"
objs=()
pids=()
for f in $(cd "$root/kernels" && ls *.cu | sed 's/\.cu$//'); do
  $cxx -x c++ $flags -c "$root/kernels/$f.cu" -o "$out/$f.o" & pids+=($!)
  objs+=("$out/$f.o")
done
$cxx $flags -c "$root/tests/Cuda/emu/fake_cuda.cpp" -o "$out/fake_cuda.o" & pids+=($!)
$cxx $flags -c "$root/tests/Cuda/emu/fake_cublaslt.cpp" -o "$out/fake_cublaslt.o" & pids+=($!)
$cxx $flags -c "$root/tests/Cuda/emu/fake_cudnn.cpp" -o "$out/fake_cudnn.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
$cxx -shared -o "$out/libldemu.so" "${objs[@]}" "$out/fake_cuda.o" "$out/fake_cublaslt.o" "$out/fake_cudnn.o" -lffi -lpthread -ldl
echo "$out/libldemu.so"
