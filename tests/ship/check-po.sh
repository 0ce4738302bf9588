#!/bin/sh
# check-po.sh: a translation must cover today's strings, not yesterday's. Extracts the
# strings of po/POTFILES afresh (the arguments meson's i18n glib preset passes),
# merges LANG.po with them, and fails on any untranslated or fuzzy message, naming it;
# then checks the .po itself with msgfmt --check. TAP output.
# Usage: check-po.sh SOURCE_ROOT LANG
root=${1:?usage: check-po.sh SOURCE_ROOT LANG}
lang=${2:?usage: check-po.sh SOURCE_ROOT LANG}
cd "$root" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
po=po/$lang.po
echo "1..4"

if [ -f "$po" ]; then echo "ok 1 - $po exists"; else echo "not ok 1 - $po does not exist"; exit 0; fi

if msgfmt --check --statistics -o "$tmp/out.mo" "$po" 2> "$tmp/msgfmt.log"; then
  echo "ok 2 - msgfmt --check $po"
else
  echo "not ok 2 - msgfmt --check $po"
fi
sed 's/^/# /' "$tmp/msgfmt.log"

sed -e 's/#.*//' -e '/^[[:space:]]*$/d' po/POTFILES > "$tmp/files"
if xgettext --package-name=lora-studio --from-code=UTF-8 --add-comments \
     --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
     --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
     --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
     --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
     --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
     --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
     --flag=g_markup_printf_escaped:1:c-format \
     -f "$tmp/files" -o "$tmp/lora-studio.pot" 2> "$tmp/xgettext.log" &&
   ! grep -q 'in the middle of a directive' "$tmp/xgettext.log"; then
  echo "ok 3 - the strings of po/POTFILES extract whole"
else
  echo "not ok 3 - xgettext failed on po/POTFILES, or cut a string short"
  # A macro inside _() such as "%" G_GINT64_FORMAT ends the string xgettext sees, so
  # it can never be translated.
  echo "# fix: write %lld with a (long long) cast (or %llu, (unsigned long long)) instead of G_GINT64_FORMAT and friends inside _()"
fi
sed 's/^/# /' "$tmp/xgettext.log"

msgmerge --quiet --no-fuzzy-matching -o "$tmp/merged.po" "$po" "$tmp/lora-studio.pot" 2>/dev/null
msgattrib --untranslated --no-obsolete --no-wrap "$tmp/merged.po" > "$tmp/untranslated.po" 2>/dev/null
msgattrib --only-fuzzy --no-obsolete --no-wrap "$po" > "$tmp/fuzzy.po" 2>/dev/null
missing=$(grep -c '^msgid ' "$tmp/untranslated.po"); missing=$((missing > 0 ? missing - 1 : 0))
fuzzy=$(grep -c '^msgid ' "$tmp/fuzzy.po"); fuzzy=$((fuzzy > 0 ? fuzzy - 1 : 0))
if [ "$missing" = 0 ] && [ "$fuzzy" = 0 ]; then
  echo "ok 4 - $po translates every current string"
else
  echo "not ok 4 - $po: $missing untranslated, $fuzzy fuzzy"
  { grep -A1 '^#:' "$tmp/untranslated.po"; grep -A1 '^#:' "$tmp/fuzzy.po"; } | sed 's/^/# /' | head -80
  echo "# fix: meson compile -C BUILDDIR lora-studio-update-po, then translate those in $po"
fi
