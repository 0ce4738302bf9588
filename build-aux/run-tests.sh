#!/usr/bin/env bash
# Sets up, builds and runs every test (the README's second command).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$here/_build}
BUILDDIR=$builddir "$here/build-aux/setup.sh" test
# GUI tests need a display: run the whole suite under one Xvfb server.
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  exec xvfb-run -a -s "-screen 0 1280x900x24" \
    meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
fi
exec meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
