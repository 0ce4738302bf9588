/* tokenizer-unicode.c: lookups over the generated tables of tokenizer-unicode-table.c. */
#include "tokenizer-unicode.h"

size_t
tok_utf8_decode (const char *str, size_t n, uint32_t *cp)
{
  const unsigned char *s = (const unsigned char *) str;
  unsigned c = s[0];
  size_t need;
  uint32_t v;
  if (c < 0x80) { *cp = c; return 1; }
  else if ((c & 0xE0) == 0xC0) need = 2, v = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) need = 3, v = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) need = 4, v = c & 0x07;
  else { *cp = c; return 1; }
  if (n < need) { *cp = c; return 1; }
  for (size_t i = 1; i < need; i++)
    {
      if ((s[i] & 0xC0) != 0x80) { *cp = c; return 1; }
      v = v << 6 | (s[i] & 0x3F);
    }
  *cp = v;
  return need;
}

size_t
tok_utf8_encode (uint32_t cp, char *o)
{
  if (cp < 0x80) { o[0] = (char) cp; return 1; }
  if (cp < 0x800) { o[0] = (char) (0xC0 | cp >> 6); o[1] = (char) (0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000)
    {
      o[0] = (char) (0xE0 | cp >> 12); o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
      o[2] = (char) (0x80 | (cp & 0x3F));
      return 3;
    }
  o[0] = (char) (0xF0 | cp >> 18); o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3F)); o[3] = (char) (0x80 | (cp & 0x3F));
  return 4;
}

int
tok_uc_class (uint32_t cp)
{
  if (cp < 0x80)
    {
      /* The ASCII fast path, same answers as the table. */
      if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return TOK_UC_L;
      if (cp >= '0' && cp <= '9') return TOK_UC_N;
      if (cp < 0x20 || cp == 0x7F) return TOK_UC_C;
      if (cp == ' ') return TOK_UC_ZS;
      return TOK_UC_NONE;
    }
  if (cp > 0x10FFFF)
    return TOK_UC_C;
  /* Last run whose start is <= cp. */
  size_t lo = 0, hi = tok_uc_class_runs_len;
  while (hi - lo > 1)
    {
      size_t mid = (lo + hi) / 2;
      if ((tok_uc_class_runs[mid] >> 3) <= cp) lo = mid;
      else hi = mid;
    }
  return (int) (tok_uc_class_runs[lo] & 7);
}

bool
tok_uc_is_space (uint32_t cp)
{
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0
         || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
         || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool
tok_uc_is_cjk (uint32_t cp)
{
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
         || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
         || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
         || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint32_t
tok_uc_lower (uint32_t cp)
{
  if (cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  size_t lo = 0, hi = tok_uc_lower_blocks_len;
  while (lo < hi)
    {
      size_t mid = (lo + hi) / 2;
      const tok_uc_lower_block *b = &tok_uc_lower_blocks[mid];
      if (cp < b->first) hi = mid;
      else if (cp > b->last) lo = mid + 1;
      else
        return ((cp - b->first) % (uint32_t) b->stride == 0) ? (uint32_t) ((int32_t) cp + b->delta) : cp;
    }
  return cp;
}
