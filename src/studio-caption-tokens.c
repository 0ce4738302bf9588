/* studio-caption-tokens.c: the CLIP token estimate (see the header for why). */
#include "config.h"

#include "studio-caption-tokens.h"

guint
studio_caption_estimate_tokens (const char *text)
{
  guint tokens = 0;
  guint letters = 0;   /* length of the ASCII word being read */

  if (text == NULL)
    return 0;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 128 && g_ascii_isalpha (c))
        {
          /* CLIP's vocabulary holds most English words whole; long or rare ones split
           * in pieces of a few letters, so one token per 6 letters covers both. */
          if (letters % 6 == 0)
            tokens++;
          letters++;
          continue;
        }
      letters = 0;
      if (g_unichar_isspace (c))
        continue;
      if (c < 128)
        tokens++;        /* digits and punctuation stand alone */
      else
        tokens += 2;     /* accents, CJK, emoji: several byte-level pieces */
    }
  return tokens;
}
