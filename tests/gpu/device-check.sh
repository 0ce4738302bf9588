#!/usr/bin/env bash
# device-check.sh: the one script to run on a machine with an NVIDIA GPU (a lent H200, a
# workstation). It builds the engine with CUDA in a fresh folder, runs the CUDA tests (the
# backend against the CPU reference, flash attention against a double-precision one,
# LoRA training on CUDA against the CPU: the LLaMA step, whole text runs with mixed
# precision no/bf16/fp16, resume, loss scaling, the SD UNet step; whole SD 1.5 LoRA runs
# with f32/bf16/fp16, gradient checkpointing, samples and resume) and the core tests, runs
# the GPU benchmarks (flash attention; LoRA training tokens/s of a ~1B LLaMA against
# transformers + PEFT when PyTorch is there), and prints a Markdown summary, also written
# to $OUT/device-check.md when OUT is set. It never stops at a failure and never hangs:
# every step runs under `timeout`; the whole run stays under ~9 minutes on 16 cores
# (SKIP_LLAMA_BENCH=1 leaves the LLaMA benchmark out, ~3 minutes less).
#
# Two ways to build:
#   - full:   `meson setup -Dcuda=enabled` + ninja, where the app's dependencies (GTK 4,
#             libadwaita, ...) are installed;
#   - engine: where they are not (the lent machines have nvcc, gcc, meson and ninja but no
#             GTK), gcc and nvcc build just the engine core, the CUDA kernels, the tests and
#             the benchmark by hand. The core needs OpenBLAS: fetch it beforehand, on a
#             Debian machine with network, with
#                 bash tests/gpu/device-check.sh --prepare
#             which puts the .deb files into .device/debs (git-ignored through
#             .git/info/exclude) and carry `.device` along; they are unpacked under /tmp,
#             never into /.
#
# Usage: bash tests/gpu/device-check.sh [--prepare] [--engine-only]
# Environment: BUILD (build folder, default /tmp/lora-device-build), JOBS (default 16).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here" || exit 1

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .device/debs
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
  (cd .device/debs && apt-get download libopenblas0-pthread libopenblas-pthread-dev \
     libgfortran5 libquadmath0 zlib1g-dev) || { echo "apt-get download failed"; exit 1; }
  ls -l .device/debs
  exit 0
fi

mode=auto
[ "${1:-}" = "--engine-only" ] && mode=engine
build="${BUILD:-/tmp/lora-device-build}"
jobs="${JOBS:-16}"
report="$(mktemp)"
start=$(date +%s)
rm -rf "$build"
mkdir -p "$build"

log () { echo "== $*" >&2; }
row () { echo "| $1 | $2 | $3 |" >> "$report"; }

# Summarises a TAP log: "N ok, M failed, K skipped" (or the skip reason).
tap_summary () {
  local f="$1" ok bad skipped plan
  ok=$(grep -c '^ok ' "$f")
  bad=$(grep -c '^not ok ' "$f")
  skipped=$(grep -ci '^ok .*# skip' "$f")
  plan=$(grep -m1 -E '^1\.\.[0-9]+' "$f")
  if grep -qi '^1\.\.0 # skip' "$f"; then
    echo "skipped: $(grep -i -m1 '^1\.\.0 # skip' "$f" | sed 's/^1\.\.0 # [Ss][Kk][Ii][Pp] *//')"
  else
    echo "$ok ok, $bad failed, $skipped skipped (plan ${plan:-missing})"
  fi
}

# run_test NAME SECONDS COMMAND...: runs a TAP program, adds a row to the report.
run_test () {
  local name="$1" secs="$2"; shift 2
  local out="$build/logs/$name.log" t0 rc status
  mkdir -p "$build/logs"
  t0=$(date +%s)
  timeout --kill-after=10 "$secs" "$@" > "$out" 2>&1
  rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="TIMEOUT (${secs} s)"
  elif [ $rc -ne 0 ]; then status="FAIL (exit $rc)"
  elif grep -qi '^1\.\.0 # skip' "$out"; then status="SKIP"
  else status="PASS"; fi
  row "$name" "$status" "$(tap_summary "$out"); $(( $(date +%s) - t0 )) s"
  grep '^not ok' "$out" | head -20 >> "$build/failures.txt"
  log "$name: $status"
}

# ---------------------------------------------------------------- full meson build
full_build () {
  log "meson setup (full, -Dcuda=enabled)"
  timeout 180 meson setup "$build/meson" -Dcuda=enabled > "$build/setup.log" 2>&1 || return 1
  log "ninja -j$jobs"
  if ! timeout 420 ninja -C "$build/meson" -j"$jobs" > "$build/ninja.log" 2>&1; then
    row "build (meson + ninja)" "FAIL" "see ninja.log: $(grep -m1 -E 'error|FAILED' "$build/ninja.log")"
    return 2
  fi
  row "build (meson + ninja)" "PASS" "$(( $(date +%s) - start )) s"
  local b="$build/meson"
  run_test cuda-ops 240 "$b/tests/gpu/test-cuda-ops"
  run_test flash-attn 240 "$b/tests/gpu/test-flash-attn"
  run_test cuda-train 300 "$b/tests/gpu/test-cuda-train" "$b/gpu/cli/lora-engine"
  run_test cuda-sd-run 240 "$b/tests/gpu/test-cuda-sd-run"
  log "meson test --suite core"
  timeout 300 meson test -C "$b" --suite core --no-rebuild --print-errorlogs \
    > "$build/core-suite.log" 2>&1
  local rc=$?
  row "meson test --suite core" "$([ $rc -eq 0 ] && echo PASS || echo "FAIL (exit $rc)")" \
    "$(grep -E '^(Ok|Fail|Skipped|Timeout):' "$build/core-suite.log" | tr -s ' ' | paste -sd ' ')"
  bench_bin="$b/bench/gpu-attention"
  llama_bench="$b/bench/llama-gpu-bench"
  return 0
}

# ---------------------------------------------------------------- engine-only build
engine_build () {
  local sysroot=/tmp/lora-device-sysroot blas_inc blas_lib
  rm -rf "$sysroot"; mkdir -p "$sysroot"
  for deb in .device/debs/*.deb; do
    [ -e "$deb" ] || continue
    local member
    member=$(ar t "$deb" | grep '^data\.tar')
    ar p "$deb" "$member" > "$build/$member"
    tar -xf "$build/$member" -C "$sysroot" || log "could not unpack $deb"
    rm -f "$build/$member"
  done
  blas_inc=$(dirname "$(find "$sysroot" /usr/include -name cblas.h 2>/dev/null | head -1)")
  blas_lib=$(dirname "$(find "$sysroot" /usr/lib /usr/lib64 -name 'libopenblas.so*' 2>/dev/null | head -1)")
  if [ ! -f "$blas_inc/cblas.h" ] || [ -z "$blas_lib" ] || [ "$blas_lib" = "." ]; then
    row "build (engine only)" "FAIL" "no OpenBLAS: run \`bash tests/gpu/device-check.sh --prepare\` where apt works and carry .device"
    return 1
  fi
  export LD_LIBRARY_PATH="$blas_lib:$sysroot/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  local cuda_root="${CUDA_HOME:-/usr/local/cuda}" nvcc
  nvcc="$cuda_root/bin/nvcc"
  if [ ! -x "$nvcc" ]; then
    nvcc=$(command -v nvcc) || { row "build (engine only)" "FAIL" "nvcc not found"; return 1; }
    cuda_root=$(dirname "$(dirname "$nvcc")")
  fi
  local o="$build/obj" inc
  mkdir -p "$o"
  printf '#pragma once\n#define HAVE_CUDA 1\n#define PACKAGE_VERSION "device-check"\n' > "$build/config.h"
  inc="-I$build -Igpu -Igpu/core -Igpu/io -Igpu/train -Igpu/text -Igpu/models -Igpu/cuda -Igpu/cuda/kernels -I$blas_inc -I$cuda_root/include -I$sysroot/usr/include"
  log "engine-only build: gcc + nvcc (-j$jobs)"
  local cflags="-std=c11 -O2 -g -D_GNU_SOURCE -DHAVE_CUDA=1 -fopenmp -Wall -Wno-unused-parameter"
  {
    # core, kernels, and the model/training code (plain C) that the training test needs
    for f in gpu/core/*.c gpu/io/*.c gpu/train/*.c gpu/text/*.c gpu/models/*.c gpu/cuda/device-probe.c; do
      echo "gcc $cflags $inc -c $f -o $o/$(basename "$f").o"
    done
    for f in gpu/cuda/kernels/*.cu; do
      echo "$nvcc -gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_90,code=sm_90 -O3 -std=c++17 -DHAVE_CUDA=1 $inc -c $f -o $o/$(basename "$f").o"
    done
  } > "$build/compile.cmds"
  local built="PASS"
  if ! timeout 400 xargs -P "$jobs" -I{} sh -c '{}' < "$build/compile.cmds" > "$build/compile.log" 2>&1; then
    # keep going: a file that does not build only costs the programs that need it
    built="PARTIAL: $(grep -m1 -E 'error' "$build/compile.log" | cut -c1-160)"
  fi
  ls "$o"/*.o > /dev/null 2>&1 || { row "build (engine only)" "FAIL" "$built"; return 2; }
  ar rcs "$build/libengine.a" "$o"/*.o
  local zlib_dir
  zlib_dir=$(dirname "$(find "$sysroot" /usr/lib /usr/lib64 -name 'libz.so*' 2>/dev/null | head -1)")
  local libs="$build/libengine.a -L$blas_lib -lopenblas -L$zlib_dir -lz -L$cuda_root/lib64 -lcublas -lcublasLt -lcudart -lstdc++ -lgomp -lm -lpthread -Wl,-rpath,$cuda_root/lib64"
  local bin="$build/bin"; mkdir -p "$bin"
  build_one () { # NAME SOURCES...
    local name="$1"; shift
    gcc $cflags $inc -Itests/core -Itests/gpu "$@" $libs -o "$bin/$name" >> "$build/link.log" 2>&1 \
      || row "$name" "NOT BUILT" "$(grep -m1 error "$build/link.log")"
  }
  build_one test-cuda-ops tests/gpu/test-cuda-ops.c
  build_one test-flash-attn tests/gpu/test-flash-attn.c
  build_one gpu-attention bench/gpu-attention.c
  build_one test-cuda-train tests/gpu/test-cuda-train.c
  build_one test-cuda-sd-run tests/gpu/test-cuda-sd-run.c
  build_one llama-gpu-bench bench/llama-gpu-bench.c
  for t in tests/core/test-core-*.c; do
    case "$t" in *test-core-torch.c) continue ;; esac   # needs the PyTorch venv
    build_one "$(basename "$t" .c)" "$t" tests/core/core-cases.c -Wno-missing-field-initializers
  done
  row "build (engine only)" "$built" "$(( $(date +%s) - start )) s"
  run_test cuda-ops 240 "$bin/test-cuda-ops"
  run_test flash-attn 240 "$bin/test-flash-attn"
  # no lora-engine here (it needs GLib): the CLI --device check inside is left out
  run_test cuda-train 300 "$bin/test-cuda-train"
  run_test cuda-sd-run 240 "$bin/test-cuda-sd-run"
  for t in "$bin"/test-core-*; do
    [ -x "$t" ] && run_test "$(basename "$t" | sed 's/^test-//')" 200 "$t"
  done
  bench_bin="$bin/gpu-attention"
  llama_bench="$bin/llama-gpu-bench"
  return 0
}

echo "# Device check" > "$report.head"
{
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  if command -v nvidia-smi > /dev/null; then
    echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
  else
    echo "- GPU: nvidia-smi not found"
  fi
  echo "- nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'not in PATH')"
  echo
  echo "| step | status | numbers |"
  echo "| --- | --- | --- |"
} >> "$report.head"

bench_bin=""
llama_bench=""
if [ "$mode" = auto ]; then
  full_build
  case $? in
    0) ;;
    1) log "full build not possible here (see setup.log); building the engine only"
       row "meson setup (full)" "SKIP" "$(grep -m1 -E 'ERROR' "$build/setup.log" | cut -c1-150)"
       engine_build ;;
    *) ;;
  esac
else
  engine_build
fi

bench_out="$build/bench.md"
if [ -n "$bench_bin" ] && [ -x "$bench_bin" ]; then
  log "benchmarks"
  timeout --kill-after=10 150 "$bench_bin" > "$bench_out" 2>&1
  rc=$?
  row "bench/gpu-attention" "$([ $rc -eq 0 ] && echo PASS || echo "FAIL (exit $rc)")" "table below"
else
  echo "benchmark not built" > "$bench_out"
fi

# LoRA training of a ~1B LLaMA: ours against transformers + PEFT (when PyTorch is here)
llama_out="$build/llama-bench.md"
if [ "${SKIP_LLAMA_BENCH:-0}" = 1 ]; then
  echo "left out (SKIP_LLAMA_BENCH=1)" > "$llama_out"
elif [ -n "$llama_bench" ] && [ -x "$llama_bench" ] && command -v python3 > /dev/null; then
  log "LLaMA LoRA benchmark (~1B)"
  timeout --kill-after=10 330 python3 bench/llama-gpu-bench.py --bench "$llama_bench" \
    --timeout 150 --out "$llama_out" > "$build/llama-bench.log" 2>&1
  rc=$?
  row "bench/llama-gpu-bench" "$([ $rc -eq 0 ] && echo PASS || echo "FAIL (exit $rc)")" \
    "$(grep -m1 'speed-up' "$llama_out" 2>/dev/null || grep -m1 'peer not' "$llama_out" 2>/dev/null | cut -c1-120)"
  [ -s "$llama_out" ] || tail -5 "$build/llama-bench.log" > "$llama_out"
else
  echo "benchmark not built (or no python3)" > "$llama_out"
fi

{
  cat "$report.head" "$report"
  echo
  echo "Total: $(( $(date +%s) - start )) s."
  if [ -s "$build/failures.txt" ]; then
    echo
    echo "## Failures (first lines)"
    echo
    echo '```'
    cat "$build/failures.txt"
    echo '```'
  fi
  echo
  echo "## Benchmarks (bench/gpu-attention)"
  echo
  cat "$bench_out"
  echo
  echo "## LoRA training, ~1B LLaMA (bench/llama-gpu-bench.py)"
  echo
  cat "$llama_out"
} > "$build/device-check.md"

cat "$build/device-check.md"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  cp "$build/device-check.md" "$OUT/device-check.md"
  tar -czf "$OUT/device-logs.tar.gz" -C "$build" logs $(cd "$build" && ls *.log 2>/dev/null) 2>/dev/null
fi
rm -f "$report" "$report.head"
exit 0
