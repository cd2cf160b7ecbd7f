#!/usr/bin/env bash
# The project's one test command (README, .ci/run): builds everything (kernels to PTX with clang-14 included) and
# runs the xunit suite, then the C ABI example (scripts/build-libld.sh); the golden tests read LD_GOLDEN_DIR (default ../shared/golden beside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
status=0
dotnet test LayerDiffusion.Native.sln -c Release --nologo -v q 2>&1 | tee "$log" || status=$?
# One plain closing line for any CI reader: "N passed, N failed, N skipped".
line=$(grep -E '^(Passed|Failed)!' "$log" | tail -1 || true)
p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")
s=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$line")
rm -f "$log"
if [ -z "$line" ]; then echo "no test summary found"; exit 1; fi
echo "tests: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
# The C ABI: the NativeAOT libld.so, examples/c/demo.c compiled with clang and run on the demo model (after xunit: the
# NativeAOT publish alone takes 2-3 minutes on 2 cores). LD_SKIP_CABI=1 skips it for quick local runs.
if [ "${LD_SKIP_CABI:-0}" != 1 ]; then
  if bash scripts/build-libld.sh > /tmp/ld-cabi.log 2>&1; then echo "C ABI: libld.so built, examples/c/demo.c ran"
  else tail -n 30 /tmp/ld-cabi.log; echo "C ABI: FAILED (scripts/build-libld.sh)"; status=1; fi
fi
exit $status
