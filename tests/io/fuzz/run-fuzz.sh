#!/bin/bash
# run-fuzz.sh SRC_ROOT BUILD_DIR SECONDS: builds the safetensors libFuzzer target with clang
# (ASan + UBSan) and runs it for SECONDS over a seed corpus of valid and broken files.
# Exit 77 (meson: skipped) when clang or its fuzzer runtime is missing.
set -u
src=$1 build=$2 seconds=$3
clang=$(command -v clang || command -v clang-14 || true)
if [ -z "$clang" ]; then
  echo "clang not found: install clang and libclang-rt-14-dev (test packages) to fuzz"
  exit 77
fi
mkdir -p "$build"
# A toolchain without the fuzzer runtime cannot fuzz at all: skip, do not fail.
probe=$build/fuzz-probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void) d; (void) n; return 0; }\n' > "$probe.c"
if ! "$clang" -fsanitize=fuzzer,address "$probe.c" -o "$probe" > "$probe.log" 2>&1; then
  cat "$probe.log"
  echo "clang cannot link a fuzzer here: install libclang-rt-14-dev (test packages) to fuzz"
  exit 77
fi
bin=$build/fuzz-safetensors
"$clang" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined \
  -I"$src/gpu/core" -I"$src/gpu/io" \
  "$src/gpu/core/error.c" "$src/gpu/io/json.c" "$src/gpu/io/safetensors.c" \
  "$src/tests/io/fuzz/fuzz-safetensors.c" -lm -o "$bin" || exit 1

seeds=$build/fuzz-seeds corpus=$build/fuzz-corpus
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus"
# seed NAME HEADER [DATA_BYTES]: u64 LE header length, header, DATA_BYTES zero bytes.
seed() {
  local n=${#2}
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' \
    $((n & 255)) $(((n >> 8) & 255)) $(((n >> 16) & 255)) $(((n >> 24) & 255)))" > "$seeds/$1"
  printf '%s' "$2" >> "$seeds/$1"
  head -c "${3:-0}" /dev/zero >> "$seeds/$1"
}
seed empty '{}'
seed meta '{"__metadata__":{"format":"pt","ss_network_dim":"16"}}'
seed one '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}' 24
seed many '{"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]},"c":{"dtype":"I64","shape":[],"data_offsets":[16,24]},"d":{"dtype":"BOOL","shape":[0],"data_offsets":[24,24]},"e":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[24,32]}}' 32
seed escapes '{"caf\u00e9 \ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}' 1
seed overlap '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' 12
seed gap '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' 8
seed truncated '{"a":{"dtype":"F64","shape":[4],"data_offsets":[0,32]}}' 5
seed deep '{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'
seed numbers '{"a":{"dtype":"F32","shape":[18446744073709551615,0],"data_offsets":[0,0]}}'
printf '\xff\xff\xff\xff\xff\xff\xff\x7f{}' > "$seeds/huge-length"

if [ "$seconds" -le 0 ]; then
  # libFuzzer reads -max_total_time=0 as "forever": with no time, only replay the seeds.
  echo "fuzz_seconds is 0: replaying the seeds only"
  exec "$bin" -runs=0 "$seeds"/*
fi
echo "fuzzing for $seconds s"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 "$corpus" "$seeds"
