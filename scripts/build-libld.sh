#!/usr/bin/env bash
# Builds the C ABI: libld.so (NativeAOT, -p:NativeLib=Shared) from src/Abi, then compiles examples/c/demo.c against
# include/ld.h with clang and runs it on the demo model. CI runs this after the tests (.ci/run).
# usage: scripts/build-libld.sh [OUT_DIR]   (default: artifacts/libld)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/artifacts/libld}
cc=$(command -v clang || command -v clang-14)
mkdir -p "$out"
echo "== NativeAOT shared library -> $out/libld.so"
# NativeAOT links with clang; name it when only clang-14 is installed.
dotnet publish "$root/src/Abi/LayerDiffusion.Native.Abi.csproj" -c Release -r linux-x64 \
  -p:PublishAot=true -p:NativeLib=Shared -p:StripSymbols=true -p:InvariantGlobalization=true \
  -p:CppCompilerAndLinker="$cc" -o "$out" -v q --nologo
rm -f "$out"/*.dbg "$out"/*.pdb
echo "== exported symbols"
nm -D --defined-only "$out/libld.so" | grep ' T ld_' | tee "$out/exports.txt"
for fn in $(grep -o 'ld_[a-z0-9_]*(' "$root/include/ld.h" | tr -d '(' | sort -u); do
  grep -Eq " $fn(@|\$)" "$out/exports.txt" || { echo "include/ld.h declares $fn but libld.so does not export it" >&2; exit 1; }
done
echo "== examples/c/demo.c"
"$cc" -std=c11 -Wall -Wextra -Werror -I "$root/include" "$root/examples/c/demo.c" -L "$out" -lld -Wl,-rpath,"$out" -o "$out/demo"
"$out/demo"
