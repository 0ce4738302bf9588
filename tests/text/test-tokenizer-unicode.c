/* test-tokenizer-unicode.c: the engine's compact Unicode tables (tokenizer-unicode.h)
 * against Python's unicodedata for every code point: the general-category class that
 * the regex splits use, and the lower case that CLIP uses.
 * Usage: test-tokenizer-unicode DIR (made by make_unicode_dump.py) */
#include "../core/tap.h"

#include "tokenizer-unicode.h"

#include <stdlib.h>
#include <string.h>

static unsigned char *
slurp (const char *dir, const char *name, size_t want)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "rb");
  unsigned char *buf = malloc (want);
  size_t got = f ? fread (buf, 1, want, f) : 0;
  if (f)
    fclose (f);
  if (got != want)
    {
      free (buf);
      return NULL;
    }
  return buf;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    return 2;
  unsigned char *cls = slurp (argv[1], "class.bin", 0x110000);
  unsigned char *low = slurp (argv[1], "lower.bin", 4 * 0x110000);
  if (!tap_ok (cls && low, "read the dumps"))
    return tap_done ();
  size_t bad_class = 0, bad_lower = 0;
  uint32_t first_class = 0, first_lower = 0;
  for (uint32_t cp = 0; cp < 0x110000; cp++)
    {
      if (tok_uc_class (cp) != cls[cp] && bad_class++ == 0)
        first_class = cp;
      uint32_t want = (uint32_t) low[4 * cp] | (uint32_t) low[4 * cp + 1] << 8
                      | (uint32_t) low[4 * cp + 2] << 16 | (uint32_t) low[4 * cp + 3] << 24;
      if (tok_uc_lower (cp) != want && bad_lower++ == 0)
        first_lower = cp;
    }
  tap_ok (bad_class == 0, "general category class of every code point (%zu differ, first U+%04X)",
          bad_class, (unsigned) first_class);
  tap_ok (bad_lower == 0, "lower case of every code point (%zu differ, first U+%04X)",
          bad_lower, (unsigned) first_lower);
  /* White_Space is a short fixed list: the spaces of the test set. */
  tap_ok (tok_uc_is_space (' ') && tok_uc_is_space ('\n') && tok_uc_is_space (0x3000)
          && tok_uc_is_space (0xA0) && !tok_uc_is_space (0x200B) && !tok_uc_is_space ('a'),
          "White_Space");
  free (cls);
  free (low);
  return tap_done ();
}
