#!/bin/sh
# run-python.sh PYTHON SCRIPT [ARG...]: runs a reference test with the test venv's Python;
# without the venv the test is skipped (TAP "1..0 # SKIP"), never passed silently.
python=$1
shift
if [ ! -x "$python" ]; then
  echo "1..0 # SKIP no test venv at $python"
  exit 0
fi
exec "$python" "$@"
