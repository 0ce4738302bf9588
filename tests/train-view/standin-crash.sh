#!/bin/sh
# standin-crash.sh: a stand-in for `lora-engine serve` that dies in the middle of a run
# (after a checkpoint and an out-of-memory error, as an engine killed for memory would),
# exit status 137.
field () { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }
echo '{"event":"hello","protocol":"1.0","engine":"standin-crash","devices":[]}'
while IFS= read -r line; do
  id=$(field "$line" id)
  if [ "$(field "$line" cmd)" = train ]; then
    out=$(sed -n 's/^output_dir: *//p' "$(field "$line" config)" | tr -d "\"'")
      case "$out" in /*) ;; *) out="$(dirname "$(field "$line" config)")/$out" ;; esac
    echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"running\"}"
    for i in 1 2 3 4 5; do
      echo "{\"event\":\"progress\",\"id\":\"$id\",\"step\":$i,\"total\":100,\"epoch\":1,\"loss\":0.5,\"lr\":0.0001,\"it_s\":1.0,\"eta_s\":95,\"elapsed_s\":$i}"
    done
    mkdir -p "$out/checkpoints/step-000005"
    echo "{\"event\":\"checkpoint\",\"id\":\"$id\",\"step\":5,\"path\":\"$out/checkpoints/step-000005\"}"
    echo "{\"event\":\"error\",\"id\":\"$id\",\"code\":\"out-of-memory\",\"message\":\"out of device memory at step 6\"}"
    echo "allocating 9.5 GiB for activations" >&2
    echo "fatal: cudaMalloc failed: out of memory" >&2
    exit 137
  fi
done
