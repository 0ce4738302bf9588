#!/usr/bin/env bash
# Sets up a Debian 12 machine for LoRA Studio and builds it.
#   build-aux/setup.sh build   apt packages for building and running, then build
#   build-aux/setup.sh test    also the test packages and the Python reference venv
#   build-aux/setup.sh bench   also what the benchmarks alone need (bench/README.md)
# Idempotent and quick when nothing changed: apt is skipped when every package is
# installed, the venv when its requirements file has not changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-build}
builddir=${BUILDDIR:-$here/_build}

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

wanted=$(awk -v m="$mode" '!/^#/ && NF==2 && ($1=="build" || ($1=="test" && m!="build") || ($1=="bench" && m=="bench")) {print $2}' \
  "$here/build-aux/apt-packages.txt")
missing=()
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$mode" = test ] || [ "$mode" = bench ]; then
  venv=$here/tests/.venv
  req=$here/build-aux/requirements-test.txt
  nodeps=$here/build-aux/requirements-test-nodeps.txt
  stamp=$venv/.requirements
  if [ ! -x "$venv/bin/python3" ] || ! cat "$req" "$nodeps" | cmp -s - "$stamp"; then
    echo "Creating the Python reference venv in $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    # Debian's torch calls itself 1.13.0a0, a pre-release that pip does not count as
    # ">=1.13.0": with its dependencies, peft would pull torch 2.x and 2 GB of CUDA wheels
    # from PyPI over the torch the tests must be judged by. Its other needs come above.
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$nodeps"
    if ! "$venv/bin/python3" -c 'import sys, torch; sys.exit(not torch.__file__.startswith("/usr/lib/python3/"))'; then
      echo "setup: the venv's torch is not Debian's python3-torch; see build-aux/requirements-test.txt" >&2
      exit 1
    fi
    cat "$req" "$nodeps" > "$stamp"
  fi
fi

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "$here" --prefix "$here/_install"
fi
ninja -C "$builddir"
