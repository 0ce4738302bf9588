#!/bin/sh
# check-help.sh: the user guide validates as Mallard (yelp-check validate), has no
# broken links (yelp-check links), every page of help/C is translated in each
# help/LANG and no translated page is left over, and help/meson.build installs every page.
# TAP output. Usage: check-help.sh SOURCE_ROOT LANG...
root=${1:?usage: check-help.sh SOURCE_ROOT LANG...}; shift
cd "$root/help" || exit 1
n=0
say () { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
out=$(
for dir in C "$@"; do
  log=$(yelp-check validate "$dir"/*.page 2>&1); rc=$?
  [ -n "$log" ] && printf '%s\n' "$log" | sed 's/^/# /'
  say $rc "yelp-check validate help/$dir"
  log=$(yelp-check links "$dir" 2>&1)
  [ -n "$log" ] && printf '%s\n' "$log" | sed 's/^/# /'
  [ -z "$log" ]; say $? "no broken links in help/$dir"
done
for page in C/*.page; do
  name=$(basename "$page")
  grep -q "'$name'" meson.build; say $? "help/meson.build installs $name"
  for lang in "$@"; do
    [ -f "$lang/$name" ]; say $? "help/$lang/$name translates help/C/$name"
  done
done
for lang in "$@"; do
  for page in "$lang"/*.page; do
    [ -f "C/$(basename "$page")" ]; say $? "help/$page has an English original"
  done
done
echo "count $n"
)
echo "1..$(printf '%s\n' "$out" | sed -n 's/^count //p')"
printf '%s\n' "$out" | grep -v '^count '
