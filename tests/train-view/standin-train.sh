#!/bin/sh
# standin-train.sh: a stand-in for `lora-engine serve` that trains nothing: hello, then
# for `train` a state, STANDIN_STEPS progress events (default 100), a sample and a
# checkpoint in the config's output_dir, and done; with STANDIN_HOLD=1 it waits after
# half the steps for stop (done "stopped"); STANDIN_FLAT=1 makes a loss that does not fall. `sample` copies STANDIN_SAMPLE_PNG to `out`;
# during a held run it answers as serve does: the run's preview as a sample event under
# the run's id, then done for the sample request. STANDIN_REQUESTS: a file that gets
# each sample request line.
# On shutdown or end of input it touches STANDIN_MARKER (a clean exit) and exits 0.
steps=${STANDIN_STEPS:-100}
field () { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }
echo '{"event":"hello","protocol":"1.0","engine":"standin","devices":[{"kind":"cpu","index":0,"name":"Stand-in CPU","memory_total":1000000,"cores":2}]}'
echo "stand-in engine started" >&2
train_id=""
finish () {
  [ -n "$STANDIN_MARKER" ] && touch "$STANDIN_MARKER"
  exit 0
}
run_steps () {
  from=$1; to=$2
  i=$from
  while [ "$i" -le "$to" ]; do
    loss=$(awk "BEGIN { printf \"%.4f\", 1.0 / (1 + $i * 0.05) + ($i % 7) * 0.01 }")
    [ "$STANDIN_FLAT" = 1 ] && loss=$(awk "BEGIN { printf \"%.4f\", 0.5 + ($i % 3) * 0.01 }")
    lr=$(awk "BEGIN { printf \"%.6f\", 0.0001 * (1 - $i / ($steps + 1)) }")
    echo "{\"event\":\"progress\",\"id\":\"$train_id\",\"step\":$i,\"total\":$steps,\"epoch\":$(( (i - 1) / 10 + 1 )),\"loss\":$loss,\"lr\":$lr,\"it_s\":2.5,\"eta_s\":$(( steps - i )),\"elapsed_s\":$i,\"memory_used\":524288000,\"memory_total\":8589934592,\"device\":\"cuda:0\"}"
    i=$(( i + 1 ))
  done
}
while IFS= read -r line; do
  id=$(field "$line" id)
  cmd=$(field "$line" cmd)
  case "$cmd" in
    train)
      train_id=$id
      config=$(field "$line" config)
      resume=$(field "$line" resume)
      out=$(sed -n 's/^output_dir: *//p' "$config" | tr -d "\"'")
      case "$out" in /*) ;; *) out="$(dirname "$(field "$line" config)")/$out" ;; esac
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"running\"}"
      echo "{\"event\":\"log\",\"id\":\"$id\",\"level\":\"info\",\"message\":\"resume=$resume\"}"
      run_out=$out
      half=$(( steps / 2 ))
      run_steps 1 "$half"
      mkdir -p "$out/checkpoints/step-$half" "$out/samples"
      if [ -n "$STANDIN_SAMPLE_PNG" ]; then
        cp "$STANDIN_SAMPLE_PNG" "$out/samples/step-$half-0.png"
        echo "{\"event\":\"sample\",\"id\":\"$id\",\"step\":$half,\"path\":\"$out/samples/step-$half-0.png\",\"prompt\":\"a red circle\"}"
      fi
      echo "{\"event\":\"checkpoint\",\"id\":\"$id\",\"step\":$half,\"path\":\"$out/checkpoints/step-$half\"}"
      if [ "$STANDIN_HOLD" = 1 ]; then
        continue
      fi
      run_steps $(( half + 1 )) "$steps"
      echo "{\"event\":\"done\",\"id\":\"$id\",\"status\":\"completed\",\"outputs\":[]}"
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"idle\"}"
      train_id="" ;;
    pause)
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"paused\"}" ;;
    resume)
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"running\"}" ;;
    stop)
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"stopping\"}"
      case "$line" in *'"save_checkpoint":false'*) ;; *)
        echo "{\"event\":\"log\",\"id\":\"$train_id\",\"level\":\"info\",\"message\":\"saving a checkpoint\"}" ;; esac
      echo "{\"event\":\"done\",\"id\":\"$train_id\",\"status\":\"stopped\",\"outputs\":[]}"
      echo "{\"event\":\"state\",\"id\":\"$train_id\",\"state\":\"idle\"}"
      train_id="" ;;
    sample)
      [ -n "$STANDIN_REQUESTS" ] && printf '%s\n' "$line" >> "$STANDIN_REQUESTS"
      if [ -n "$train_id" ]; then
        preview="$run_out/samples/step-$half-1.png"
        echo "{\"event\":\"log\",\"id\":\"$id\",\"level\":\"info\",\"message\":\"the run draws its sample prompts after the current step\"}"
        cp "$STANDIN_SAMPLE_PNG" "$preview"
        echo "{\"event\":\"sample\",\"id\":\"$train_id\",\"step\":$half,\"path\":\"$preview\",\"prompt\":\"a green star\"}"
        echo "{\"event\":\"done\",\"id\":\"$id\",\"status\":\"completed\",\"outputs\":[\"$preview\"]}"
        continue
      fi
      out=$(field "$line" out)
      prompt=$(field "$line" prompt)
      cp "$STANDIN_SAMPLE_PNG" "$out"
      echo "{\"event\":\"sample\",\"id\":\"$id\",\"step\":0,\"path\":\"$out\",\"prompt\":\"$prompt\"}"
      echo "{\"event\":\"done\",\"id\":\"$id\",\"status\":\"completed\",\"outputs\":[\"$out\"]}" ;;
    inspect)
      echo "{\"event\":\"result\",\"id\":\"$id\",\"data\":{\"architecture\":\"sd15\",\"precision\":\"f16\"}}" ;;
    shutdown)
      finish ;;
  esac
done
finish
