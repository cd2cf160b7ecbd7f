#!/usr/bin/env bash
# Builds what the GPU machine needs (it has no .NET) into the git-ignored .gpu/ folder of the checkout:
#   .gpu/bin/ld       NativeAOT linux-x64 build of the CLI (kernels' PTX embedded)
#   .gpu/golden/      the golden files (manifest + safetensors) for `ld verify`
#   .gpu/vocab/       the CLIP vocab the golden tokenizer cases use (golden/../vocab)
# Then run on the GPU machine: scripts/gpu-check.sh OUT_DIR   (carry: .gpu)
#
# usage: scripts/publish-aot.sh [GOLDEN_DIR]    (default: $LD_GOLDEN_DIR, else ../shared/golden)
# NativeAOT links with clang; if the publish asks for a linker: apt-get install -y clang-14 lld-14 (or clang lld).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
golden=${1:-${LD_GOLDEN_DIR:-$root/../shared/golden}}
out=$root/.gpu

echo "== NativeAOT publish -> $out/bin"
rm -rf "$out/bin"
dotnet publish "$root/src/Cli/ld.csproj" -c Release -r linux-x64 \
  -p:PublishAot=true -p:StripSymbols=true -p:InvariantGlobalization=true -p:OptimizationPreference=Speed -p:IlcInstructionSet=x86-64-v3 \
  -o "$out/bin"
rm -f "$out/bin"/*.dbg "$out/bin"/*.pdb
ls -l "$out/bin"
"$out/bin/ld" --help > /dev/null

if [ -d "$golden" ]; then
  echo "== golden files $golden -> $out/golden"
  rm -rf "$out/golden" "$out/vocab"
  mkdir -p "$out/golden"
  cp -r "$golden"/. "$out/golden/"
  if [ -d "$golden/../vocab" ]; then
    mkdir -p "$out/vocab"
    cp -r "$golden/../vocab"/. "$out/vocab/"
  fi
else
  echo "warning: no golden folder at $golden: verify stages will be skipped on the GPU machine" >&2
fi

if [ -d "$out/golden" ]; then
  # The device tool carries at most 64 MiB; the golden weights are random fp16 and xz still saves ~15%.
  echo "== packing $out/golden into golden.tar.xz (gpu-check.sh unpacks it)"
  tar -C "$out" -cf - golden | xz -T0 -6 > "$out/golden.tar.xz"
  rm -rf "$out/golden"
fi
total=$(du -sm "$out" | cut -f1)
echo "== .gpu is ${total} MiB"
if [ "$total" -gt 60 ]; then
  echo "warning: more than 60 MiB: the device tool carries at most 64 MiB of ignored paths; drop golden files the check does not need" >&2
fi
