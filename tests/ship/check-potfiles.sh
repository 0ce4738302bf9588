#!/bin/sh
# check-potfiles.sh: po/POTFILES must list every file under src/, ui/ and data/ that
# holds translatable strings (C: _( N_( C_( NC_( ngettext; .ui: translatable="yes"; a
# .desktop.in, .metainfo.xml.in or .gschema.xml), and every entry must exist; otherwise
# a string silently stays English. TAP output, one test per file checked.
# Usage: check-potfiles.sh SOURCE_ROOT
root=${1:?usage: check-potfiles.sh SOURCE_ROOT}
cd "$root" || exit 1
potfiles=po/POTFILES
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Entries, without comments and blank lines.
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$potfiles" | sort -u > "$tmp/listed"

# Files that need to be listed.
{
  find src data -name '*.c' -print0 2>/dev/null |
    xargs -0 grep -lE '(^|[^A-Za-z0-9_])(N?C?_|g?_?d?n?gettext)[[:space:]]*\(' 2>/dev/null
  find ui src data -name '*.ui' -print0 2>/dev/null | xargs -0 grep -l 'translatable="yes"' 2>/dev/null
  find data -name '*.desktop.in' -o -name '*.metainfo.xml.in' -o -name '*.gschema.xml' 2>/dev/null
} | sed 's|^\./||' | sort -u > "$tmp/needed"

n=0; failed=0
out=""
while read -r f; do
  n=$((n + 1))
  if grep -qxF "$f" "$tmp/listed"; then
    out="$out
ok $n - $f is in po/POTFILES"
  else
    failed=1
    out="$out
not ok $n - $f has translatable strings but is missing from po/POTFILES"
  fi
done < "$tmp/needed"
while read -r f; do
  n=$((n + 1))
  if [ -f "$f" ]; then
    out="$out
ok $n - POTFILES entry $f exists"
  else
    failed=1
    out="$out
not ok $n - POTFILES entry $f does not exist (remove it)"
  fi
done < "$tmp/listed"
echo "1..$n"
printf '%s\n' "$out" | sed '1d'
[ $failed = 0 ] || echo "# fix: add the missing files to po/POTFILES, then run: meson compile lora-studio-update-po"
