#!/bin/sh
# run-with-python.sh PYTHON SCRIPT OUTDIR TEST [ARG...]: builds the reference files with the
# test venv's Python (SCRIPT OUTDIR), then runs TEST ARG..., whose TAP output is the result.
# Without the venv the test is skipped (TAP "1..0 # SKIP"), never passed silently.
python=$1 script=$2 outdir=$3 test=$4
shift 4
if [ ! -x "$python" ]; then
  echo "1..0 # SKIP no test venv at $python (run build-aux/setup-tests or similar)"
  exit 0
fi
rm -rf "$outdir" && mkdir -p "$outdir" || exit 1
if ! "$python" "$script" "$outdir" >"$outdir.log" 2>&1; then
  echo "not ok 1 - $script failed:"
  sed 's/^/# /' "$outdir.log"
  echo "1..1"
  exit 1
fi
exec "$test" "$@"
