#!/bin/sh
# standin-garbage.sh: a stand-in for `lora-engine serve` that prints lines that are not
# protocol, then a hello of protocol major version 9, then waits.
echo 'Loading libcuda... done'
printf '{"event": "progress", "step": \n'
echo '[1, 2, 3]'
printf '\377\376 not utf-8\n'
echo '{"event":"bogus"}'
echo '{"event":"hello","protocol":"9.0","engine":"from-the-future","devices":[]}'
while IFS= read -r line; do :; done
