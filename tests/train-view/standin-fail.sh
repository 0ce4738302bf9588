#!/bin/sh
# standin-fail.sh: a stand-in for `lora-engine serve` whose runs fail as the engine
# reports a failure it caught: a few steps, an error event for the run, done "failed";
# the engine itself stays up.
field () { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }
echo '{"event":"hello","protocol":"1.0","engine":"standin-fail","devices":[]}'
while IFS= read -r line; do
  id=$(field "$line" id)
  case "$(field "$line" cmd)" in
    train)
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"running\"}"
      for i in 1 2 3; do
        echo "{\"event\":\"progress\",\"id\":\"$id\",\"step\":$i,\"total\":100,\"epoch\":1,\"loss\":0.5,\"lr\":0.0001,\"it_s\":1.0,\"eta_s\":97,\"elapsed_s\":$i}"
      done
      echo "{\"event\":\"error\",\"id\":\"$id\",\"code\":\"bad-data\",\"message\":\"image 7 of the dataset cannot be read: truncated PNG\"}"
      echo "{\"event\":\"done\",\"id\":\"$id\",\"status\":\"failed\",\"outputs\":[]}"
      echo "{\"event\":\"state\",\"id\":\"$id\",\"state\":\"idle\"}" ;;
    shutdown)
      exit 0 ;;
  esac
done
