/* tokenizer-decode.c: ids back to text through the tokenizer.json decoder chain, each
 * step a transformation of the list of token strings, as Hugging Face tokenizers does;
 * invalid UTF-8 becomes U+FFFD the way Rust's from_utf8_lossy does it. */
#include "tokenizer-private.h"

#include "tokenizer-unicode.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *s;
  size_t len;
} str;

typedef struct {
  str *items;
  size_t len;
} str_list;

static bool
str_set (str *d, const char *s, size_t n, le_error *err)
{
  char *c = le_malloc (n + 1, "decoded text", err);
  if (c == NULL)
    return false;
  memcpy (c, s, n);
  c[n] = '\0';
  free (d->s);
  d->s = c;
  d->len = n;
  return true;
}

/* Appends S to D. */
static bool
str_cat (str *d, const char *s, size_t n, le_error *err)
{
  char *c = realloc (d->s, d->len + n + 1);
  if (c == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory decoding");
  memcpy (c + d->len, s, n);
  d->s = c;
  d->len += n;
  d->s[d->len] = '\0';
  return true;
}

static void
list_free (str_list *l)
{
  for (size_t i = 0; i < l->len; i++)
    free (l->items[i].s);
  free (l->items);
  l->items = NULL;
  l->len = 0;
}

/* Bytes to valid UTF-8: each maximal invalid subpart becomes one U+FFFD. */
static bool
utf8_lossy (const unsigned char *s, size_t n, str *out, le_error *err)
{
  static const char fffd[] = "\xef\xbf\xbd";
  out->len = 0;
  if (!str_cat (out, "", 0, err))
    return false;
  size_t i = 0;
  while (i < n)
    {
      unsigned c = s[i];
      size_t need = 0;
      unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
      if (c < 0x80) need = 1;
      else if (c >= 0xC2 && c <= 0xDF) need = 2;
      else if (c >= 0xE0 && c <= 0xEF) need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      else if (c >= 0xF0 && c <= 0xF4) need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (need == 0)
        {
          if (!str_cat (out, fffd, 3, err)) return false;
          i++;
          continue;
        }
      size_t k = 1;
      while (k < need && i + k < n)
        {
          unsigned b = s[i + k];
          if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
            break;
          k++;
        }
      if (!(k == need ? str_cat (out, (const char *) s + i, k, err) : str_cat (out, fffd, 3, err)))
        return false;
      i += k;
    }
  return true;
}

/* "<0xNN>" as a byte, or -1. */
static int
byte_token (const str *t)
{
  if (t->len != 6 || memcmp (t->s, "<0x", 3) != 0 || t->s[5] != '>')
    return -1;
  int v = 0;
  for (int i = 3; i < 5; i++)
    {
      char c = t->s[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else return -1;
    }
  return v;
}

static bool
replace_in (str *t, const char *pat, size_t pl, const char *rep, size_t rl, le_error *err)
{
  str out = { 0 };
  if (!str_cat (&out, "", 0, err))
    return false;
  for (size_t i = 0; i < t->len;)
    {
      bool hit = t->len - i >= pl && memcmp (t->s + i, pat, pl) == 0;
      if (!str_cat (&out, hit ? rep : t->s + i, hit ? rl : 1, err))
        {
          free (out.s);
          return false;
        }
      i += hit ? pl : 1;
    }
  free (t->s);
  *t = out;
  return true;
}

static bool
step_bytelevel (str_list *l, le_error *err)
{
  str bytes = { 0 };
  bool ok = str_cat (&bytes, "", 0, err);
  for (size_t i = 0; ok && i < l->len; i++)
    {
      /* A token whose characters all map back to bytes gives those bytes; any other
       * (an added token such as <|eot_id|>) gives its own text. */
      str mapped = { 0 };
      ok = str_cat (&mapped, "", 0, err);
      bool all = true;
      for (size_t k = 0; ok && all && k < l->items[i].len;)
        {
          uint32_t cp;
          k += tok_utf8_decode (l->items[i].s + k, l->items[i].len - k, &cp);
          int b = tok_unicode_to_byte (cp);
          if (b < 0)
            all = false;
          else
            {
              char c = (char) b;
              ok = str_cat (&mapped, &c, 1, err);
            }
        }
      if (ok)
        ok = all ? str_cat (&bytes, mapped.s, mapped.len, err)
                 : str_cat (&bytes, l->items[i].s, l->items[i].len, err);
      free (mapped.s);
    }
  str text = { 0 };
  ok = ok && utf8_lossy ((const unsigned char *) bytes.s, bytes.len, &text, err);
  free (bytes.s);
  if (!ok)
    {
      free (text.s);
      return false;
    }
  list_free (l);
  l->items = malloc (sizeof *l->items);
  if (l->items == NULL)
    {
      free (text.s);
      return le_fail (err, LE_ERR_MEMORY, "out of memory decoding");
    }
  l->items[0] = text;
  l->len = 1;
  return true;
}

static bool
step_bytefallback (str_list *l, le_error *err)
{
  str_list out = { calloc (l->len * 4 + 1, sizeof (str)), 0 };
  if (out.items == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory decoding");
  bool ok = true;
  for (size_t i = 0; ok && i < l->len;)
    {
      if (byte_token (&l->items[i]) < 0)
        {
          out.items[out.len++] = l->items[i];
          l->items[i].s = NULL;
          i++;
          continue;
        }
      /* A run of byte tokens: one string when the bytes are valid UTF-8, otherwise one
       * U+FFFD per byte. */
      unsigned char bytes[256];
      size_t n = 0, j = i;
      while (j < l->len && n < sizeof bytes && byte_token (&l->items[j]) >= 0)
        bytes[n++] = (unsigned char) byte_token (&l->items[j++]);
      str text = { 0 };
      ok = utf8_lossy (bytes, n, &text, err);
      bool valid = ok && text.len == n && memcmp (text.s, bytes, n) == 0;
      if (ok && valid)
        out.items[out.len++] = text;
      else
        {
          free (text.s);
          for (size_t k = 0; ok && k < n; k++)
            ok = str_set (&out.items[out.len++], "\xef\xbf\xbd", 3, err);
        }
      i = j;
    }
  list_free (l);
  *l = out;
  return ok;
}

static bool
step_fuse (str_list *l, le_error *err)
{
  str all = { 0 };
  bool ok = str_cat (&all, "", 0, err);
  for (size_t i = 0; ok && i < l->len; i++)
    ok = str_cat (&all, l->items[i].s, l->items[i].len, err);
  if (!ok)
    {
      free (all.s);
      return false;
    }
  for (size_t i = 0; i < l->len; i++)
    free (l->items[i].s);
  l->items[0] = all; /* there is always room: l->items has at least one slot */
  l->len = 1;
  return true;
}

static void
strip_token (str *t, const char *c, int start, int stop)
{
  size_t cl = strlen (c);
  for (int k = 0; k < start && t->len >= cl && memcmp (t->s, c, cl) == 0; k++)
    {
      memmove (t->s, t->s + cl, t->len - cl + 1);
      t->len -= cl;
    }
  for (int k = 0; k < stop && t->len >= cl && memcmp (t->s + t->len - cl, c, cl) == 0; k++)
    {
      t->len -= cl;
      t->s[t->len] = '\0';
    }
}

char *
le_tokenizer_decode (const le_tokenizer *t, const int32_t *ids, size_t n_ids,
                     bool skip_special, le_error *err)
{
  str_list l = { calloc (n_ids + 1, sizeof (str)), 0 };
  if (l.items == NULL)
    {
      le_fail (err, LE_ERR_MEMORY, "out of memory decoding");
      return NULL;
    }
  bool ok = true;
  for (size_t i = 0; ok && i < n_ids; i++)
    {
      const tok_added *a = tok_added_by_id (t, ids[i]);
      if (a && a->special && skip_special)
        continue;
      size_t len = 0;
      const char *s = a ? a->content : tok_bpe_token (&t->bpe, ids[i], &len);
      if (a)
        len = a->len;
      if (s == NULL)
        {
          le_fail (err, LE_ERR_INVALID, "token id %d is not in the vocabulary (%zu ids)",
                   (int) ids[i], le_tokenizer_vocab_size (t));
          ok = false;
          break;
        }
      ok = str_set (&l.items[l.len++], s, len, err);
    }
  for (size_t d = 0; ok && d < t->n_decs; d++)
    {
      const tok_dec_step *st = &t->decs[d];
      switch (st->kind)
        {
        case DEC_BYTELEVEL: ok = step_bytelevel (&l, err); break;
        case DEC_BYTEFALLBACK: ok = step_bytefallback (&l, err); break;
        case DEC_FUSE: ok = l.len == 0 || step_fuse (&l, err); break;
        case DEC_REPLACE:
          for (size_t i = 0; ok && i < l.len; i++)
            ok = replace_in (&l.items[i], st->a, st->a_len, st->b, st->b_len, err);
          break;
        case DEC_STRIP:
          for (size_t i = 0; i < l.len; i++)
            strip_token (&l.items[i], st->content, st->start, st->stop);
          break;
        case DEC_METASPACE:
          for (size_t i = 0; ok && i < l.len; i++)
            {
              ok = replace_in (&l.items[i], st->content, strlen (st->content), " ", 1, err);
              if (ok && i == 0 && st->prepend_scheme != PREPEND_NEVER)
                strip_token (&l.items[i], " ", 1, 0);
            }
          break;
        }
    }
  str out = { 0 };
  ok = ok && str_cat (&out, "", 0, err);
  /* Without a decoder, HF joins the tokens with spaces. */
  for (size_t i = 0; ok && i < l.len; i++)
    ok = (i == 0 || t->has_decoder || str_cat (&out, " ", 1, err))
         && str_cat (&out, l.items[i].s, l.items[i].len, err);
  list_free (&l);
  if (!ok)
    {
      free (out.s);
      return NULL;
    }
  return out.s;
}
