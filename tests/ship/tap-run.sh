#!/bin/sh
# tap-run.sh: runs one validator (desktop-file-validate, appstreamcli, ...) as a TAP
# test: "ok" when it exits 0 and prints no error or warning line, its output as
# diagnostics either way, so meson test shows what a validator said.
# Usage: tap-run.sh NAME COMMAND [ARG...]
name=$1; shift
echo "1..1"
out=$("$@" 2>&1); rc=$?
printf '%s\n' "$out" | sed -e '/^$/d' -e 's/^/# /'
# desktop-file-validate exits 0 on warnings; they still fail here (hints do not).
if [ $rc -eq 0 ] && ! printf '%s\n' "$out" | grep -Eq '(^|: )(error|warning):|^[EW]: '; then
  echo "ok 1 - $name"
else
  echo "not ok 1 - $name (exit $rc)"
fi
