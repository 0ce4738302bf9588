/* tokenizer-split.c: the hand-written pre-tokenizer regexes of tokenizer-split.h. */
#include "tokenizer-split.h"

#include "tokenizer-unicode.h"

#include <stdbool.h>
#include <string.h>

const char tok_regex_gpt2[] =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char tok_regex_llama3[] =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
  " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

enum { K_LETTER, K_NUMBER, K_SPACE, K_OTHER };

/* The class of the character at byte I (I < N), and its length in *LEN. */
static int
kind_at (const char *s, size_t n, size_t i, size_t *len)
{
  uint32_t cp;
  size_t l = tok_utf8_decode (s + i, n - i, &cp);
  if (len)
    *len = l;
  if (tok_uc_is_space (cp))
    return K_SPACE;
  int c = tok_uc_class (cp);
  return c == TOK_UC_L ? K_LETTER : c == TOK_UC_N ? K_NUMBER : K_OTHER;
}

/* End of the run of characters of class KIND starting at I. */
static size_t
run_end (const char *s, size_t n, size_t i, int kind)
{
  size_t len;
  while (i < n && kind_at (s, n, i, &len) == kind)
    i += len;
  return i;
}

static char
lower_ascii (char c)
{
  return (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
}

/* 's 't 're 've 'm 'll 'd at I, optionally ignoring ASCII case; the length or 0. */
static size_t
contraction (const char *s, size_t n, size_t i, bool icase)
{
  if (s[i] != '\'' || i + 1 >= n)
    return 0;
  char a = icase ? lower_ascii (s[i + 1]) : s[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if (i + 2 >= n)
    return 0;
  char b = icase ? lower_ascii (s[i + 2]) : s[i + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

/* \s+(?!\S)|\s+ at I (a space character): the whole run when it ends the text or is
 * one character long, else the run without its last character, which then goes with
 * the word that follows. */
static size_t
trailing_space (const char *s, size_t n, size_t i)
{
  size_t end = i, last = i, count = 0, len;
  while (end < n && kind_at (s, n, end, &len) == K_SPACE)
    last = end, end += len, count++;
  if (end == n || count == 1)
    return end - i;
  return last - i;
}

size_t
tok_split_gpt2 (const char *s, size_t n, size_t i)
{
  size_t m = contraction (s, n, i, false);
  if (m)
    return m;
  size_t len;
  size_t j = (s[i] == ' ' && i + 1 < n) ? i + 1 : i;
  int k = kind_at (s, n, j, &len);
  if (k != K_SPACE)
    return run_end (s, n, j, k) - i;
  return trailing_space (s, n, i);
}

size_t
tok_split_llama3 (const char *s, size_t n, size_t i)
{
  size_t m = contraction (s, n, i, true);
  if (m)
    return m;
  size_t len, len2;
  int k = kind_at (s, n, i, &len);
  /* [^\r\n\p{L}\p{N}]?\p{L}+ */
  if (k != K_LETTER && k != K_NUMBER && s[i] != '\r' && s[i] != '\n' && i + len < n
      && kind_at (s, n, i + len, &len2) == K_LETTER)
    return run_end (s, n, i + len, K_LETTER) - i;
  if (k == K_LETTER)
    return run_end (s, n, i, K_LETTER) - i;
  /* \p{N}{1,3} */
  if (k == K_NUMBER)
    {
      size_t j = i;
      for (int c = 0; c < 3 && j < n && kind_at (s, n, j, &len2) == K_NUMBER; c++)
        j += len2;
      return j - i;
    }
  /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
  size_t j = (s[i] == ' ' && i + 1 < n) ? i + 1 : i;
  if (kind_at (s, n, j, &len2) == K_OTHER)
    {
      j = run_end (s, n, j, K_OTHER);
      while (j < n && (s[j] == '\r' || s[j] == '\n'))
        j++;
      return j - i;
    }
  /* \s*[\r\n]+ : up to and including the last line break of the whitespace run */
  size_t end = i, after_nl = 0;
  while (end < n && kind_at (s, n, end, &len2) == K_SPACE)
    {
      end += len2;
      if (s[end - 1] == '\r' || s[end - 1] == '\n')
        after_nl = end;
    }
  if (after_nl)
    return after_nl - i;
  return trailing_space (s, n, i);
}

size_t
tok_split_clip (const char *s, size_t n, size_t i)
{
  static const char *const specials[] = { "<|startoftext|>", "<|endoftext|>" };
  for (size_t t = 0; t < 2; t++)
    {
      size_t l = strlen (specials[t]);
      if (n - i >= l && memcmp (s + i, specials[t], l) == 0)
        return l;
    }
  size_t m = contraction (s, n, i, true);
  if (m)
    return m;
  size_t len;
  int k = kind_at (s, n, i, &len);
  if (k == K_LETTER || k == K_OTHER)
    return run_end (s, n, i, k) - i;
  if (k == K_NUMBER)
    return len;
  return 0;
}
