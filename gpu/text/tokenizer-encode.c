/* tokenizer-encode.c: text to ids, in Hugging Face tokenizers' order: added tokens are
 * cut out of the raw text, each remaining segment is normalized, pre-tokenized into
 * words, and each word goes through the BPE model; the post-processor template adds
 * BOS/EOS. */
#include "tokenizer-private.h"

#include "tokenizer-split.h"
#include "tokenizer-unicode.h"

#include <stdlib.h>
#include <string.h>

/* A list of owned strings: the words of one segment between pre-tokenizer steps. */
typedef struct {
  char *s;
  size_t len;
  bool at_start; /* begins at offset 0 of the input (Metaspace prepend_scheme "first") */
} piece;

typedef struct {
  piece *items;
  size_t len, cap;
} piece_list;

static bool
list_push (piece_list *l, const char *s, size_t len, bool at_start, le_error *err)
{
  if (l->len == l->cap)
    {
      size_t cap = l->cap ? l->cap * 2 : 16;
      piece *p = realloc (l->items, cap * sizeof *p);
      if (p == NULL)
        return le_fail (err, LE_ERR_MEMORY, "out of memory while tokenizing");
      l->items = p;
      l->cap = cap;
    }
  char *copy = le_malloc (len + 1, "a word", err);
  if (copy == NULL)
    return false;
  memcpy (copy, s, len);
  copy[len] = '\0';
  l->items[l->len++] = (piece) { copy, len, at_start };
  return true;
}

static void
list_free (piece_list *l)
{
  for (size_t i = 0; i < l->len; i++)
    free (l->items[i].s);
  free (l->items);
  l->items = NULL;
  l->len = l->cap = 0;
}

/* A growing byte buffer. */
typedef struct {
  char *s;
  size_t len, cap;
} buf;

static bool
buf_add (buf *b, const char *s, size_t n, le_error *err)
{
  if (b->len + n + 1 > b->cap)
    {
      size_t cap = b->cap ? b->cap : 64;
      while (cap < b->len + n + 1)
        cap *= 2;
      char *p = realloc (b->s, cap);
      if (p == NULL)
        return le_fail (err, LE_ERR_MEMORY, "out of memory while tokenizing");
      b->s = p;
      b->cap = cap;
    }
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
  return true;
}

/* Replaces every PAT in S[0..N) by REP into OUT (cleared first). */
static bool
replace_all (const char *s, size_t n, const char *pat, size_t pat_len, const char *rep,
             size_t rep_len, buf *out, le_error *err)
{
  out->len = 0;
  if (!buf_add (out, "", 0, err))
    return false;
  size_t i = 0;
  while (i < n)
    {
      if (n - i >= pat_len && memcmp (s + i, pat, pat_len) == 0)
        {
          if (!buf_add (out, rep, rep_len, err))
            return false;
          i += pat_len;
        }
      else
        {
          if (!buf_add (out, s + i, 1, err))
            return false;
          i++;
        }
    }
  return true;
}

/* One pre-tokenizer step over every piece of IN into OUT. */
static bool
pre_step (const tok_pre_step *st, piece_list *in, piece_list *out, le_error *err)
{
  buf tmp = { 0 }, tmp2 = { 0 };
  bool ok = true;
  for (size_t p = 0; ok && p < in->len; p++)
    {
      const char *s = in->items[p].s;
      size_t n = in->items[p].len;
      bool at_start = in->items[p].at_start;
      switch (st->kind)
        {
        case PRE_SPLIT_GPT2:
        case PRE_SPLIT_LLAMA3:
          for (size_t i = 0; ok && i < n;)
            {
              size_t m = st->kind == PRE_SPLIT_GPT2 ? tok_split_gpt2 (s, n, i)
                                                    : tok_split_llama3 (s, n, i);
              ok = list_push (out, s + i, m, at_start && i == 0, err);
              i += m;
            }
          break;
        case PRE_BYTELEVEL:
          {
            tmp.len = 0;
            if (st->add_prefix_space && (n == 0 || s[0] != ' '))
              ok = buf_add (&tmp, " ", 1, err);
            ok = ok && buf_add (&tmp, s, n, err);
            if (!ok)
              break;
            for (size_t i = 0; ok && i < tmp.len;)
              {
                size_t m = st->use_regex ? tok_split_gpt2 (tmp.s, tmp.len, i) : tmp.len - i;
                /* Each byte becomes its printable stand-in character. */
                tmp2.len = 0;
                for (size_t k = 0; ok && k < m; k++)
                  {
                    char enc[4];
                    size_t el = tok_utf8_encode (tok_byte_to_unicode ((uint8_t) tmp.s[i + k]), enc);
                    ok = buf_add (&tmp2, enc, el, err);
                  }
                ok = ok && list_push (out, tmp2.s ? tmp2.s : "", tmp2.len, at_start && i == 0, err);
                i += m;
              }
            break;
          }
        case PRE_METASPACE:
          {
            size_t rl = strlen (st->replacement);
            ok = replace_all (s, n, " ", 1, st->replacement, rl, &tmp, err);
            if (!ok)
              break;
            bool prepend = st->prepend_scheme == PREPEND_ALWAYS
                           || (st->prepend_scheme == PREPEND_FIRST && at_start);
            tmp2.len = 0;
            if (prepend && !(tmp.len >= rl && memcmp (tmp.s, st->replacement, rl) == 0))
              ok = buf_add (&tmp2, st->replacement, rl, err);
            ok = ok && buf_add (&tmp2, tmp.s, tmp.len, err);
            if (!ok)
              break;
            if (!st->split)
              {
                ok = list_push (out, tmp2.s, tmp2.len, at_start, err);
                break;
              }
            /* Split before every replacement character (MergedWithNext). */
            size_t start = 0;
            for (size_t i = 0; ok && i <= tmp2.len; i++)
              {
                bool at_rep = i < tmp2.len && i > start && tmp2.len - i >= rl
                              && memcmp (tmp2.s + i, st->replacement, rl) == 0;
                if (at_rep || (i == tmp2.len && i > start))
                  {
                    ok = list_push (out, tmp2.s + start, i - start, at_start && start == 0, err);
                    start = i;
                  }
              }
            break;
          }
        }
    }
  free (tmp.s);
  free (tmp2.s);
  return ok;
}

/* The BPE model on one word: characters to ids (byte fallback, unknown), then merges. */
static bool
encode_word (const le_tokenizer *t, const char *w, size_t n, tok_ids *out, le_error *err)
{
  if (n == 0)
    return true;
  if (t->ignore_merges)
    {
      int32_t id = tok_strmap_get (&t->bpe.vocab, w, n);
      if (id >= 0)
        return tok_ids_push (out, id, err);
    }
  tok_ids syms = { 0 };
  int32_t pending_unk = -1; /* an unknown run not yet emitted, fused when fuse_unk */
  bool ok = true;
  for (size_t i = 0; ok && i < n;)
    {
      uint32_t cp;
      size_t cl = tok_utf8_decode (w + i, n - i, &cp);
      int32_t id = tok_strmap_get (&t->bpe.vocab, w + i, cl);
      if (id >= 0)
        {
          if (pending_unk >= 0)
            ok = tok_ids_push (&syms, pending_unk, err), pending_unk = -1;
          ok = ok && tok_ids_push (&syms, id, err);
          i += cl;
          continue;
        }
      bool all_bytes = t->byte_fallback;
      for (size_t k = 0; all_bytes && k < cl; k++)
        all_bytes = t->byte_ids[(uint8_t) w[i + k]] >= 0;
      if (all_bytes)
        {
          /* As in HF tokenizers, byte tokens do not flush a pending unknown. */
          for (size_t k = 0; ok && k < cl; k++)
            ok = tok_ids_push (&syms, t->byte_ids[(uint8_t) w[i + k]], err);
          i += cl;
          continue;
        }
      if (t->unk_id >= 0)
        {
          if (pending_unk >= 0 && !t->fuse_unk)
            ok = tok_ids_push (&syms, pending_unk, err);
          pending_unk = t->unk_id;
        }
      i += cl;
    }
  if (ok && pending_unk >= 0)
    ok = tok_ids_push (&syms, pending_unk, err);
  if (ok)
    {
      size_t m = tok_bpe_merge (&t->bpe, syms.ids, syms.len);
      for (size_t k = 0; ok && k < m; k++)
        ok = tok_ids_push (out, syms.ids[k], err);
    }
  tok_ids_clear (&syms);
  return ok;
}

/* A segment of text between added tokens: normalize, pre-tokenize, BPE. */
static bool
encode_segment (const le_tokenizer *t, const char *s, size_t n, bool at_start, tok_ids *out,
                le_error *err)
{
  buf cur = { 0 }, next = { 0 };
  bool ok = buf_add (&cur, s, n, err);
  for (size_t i = 0; ok && i < t->n_norms; i++)
    {
      const tok_norm_step *st = &t->norms[i];
      if (st->kind == NORM_PREPEND)
        {
          if (cur.len == 0)
            continue;
          next.len = 0;
          ok = buf_add (&next, st->a, st->a_len, err) && buf_add (&next, cur.s, cur.len, err);
        }
      else
        ok = replace_all (cur.s, cur.len, st->a, st->a_len, st->b, st->b_len, &next, err);
      buf swap = cur;
      cur = next;
      next = swap;
    }
  piece_list a = { 0 }, b = { 0 };
  ok = ok && list_push (&a, cur.s, cur.len, at_start, err);
  for (size_t i = 0; ok && i < t->n_pres; i++)
    {
      ok = pre_step (&t->pres[i], &a, &b, err);
      list_free (&a);
      a = b;
      b = (piece_list) { 0 };
    }
  for (size_t i = 0; ok && i < a.len; i++)
    ok = encode_word (t, a.items[i].s, a.items[i].len, out, err);
  list_free (&a);
  list_free (&b);
  free (cur.s);
  free (next.s);
  return ok;
}

/* The added token that matches at S (longest), or NULL. */
static const tok_added *
added_at (const le_tokenizer *t, const char *s, size_t n)
{
  const tok_added *best = NULL;
  if (!t->added_first_byte[(unsigned char) s[0]])
    return NULL;
  for (size_t i = 0; i < t->n_added; i++)
    {
      const tok_added *a = &t->added[i];
      if (a->len <= n && (best == NULL || a->len > best->len) && a->content[0] == s[0]
          && memcmp (a->content, s, a->len) == 0)
        best = a;
    }
  return best;
}

static bool
valid_utf8 (const char *str, size_t n, size_t *bad_at)
{
  const unsigned char *s = (const unsigned char *) str;
  for (size_t i = 0; i < n;)
    {
      unsigned c = s[i];
      size_t need;
      uint32_t cp, min;
      if (c < 0x80) { i++; continue; }
      else if ((c & 0xE0) == 0xC0) need = 2, cp = c & 0x1F, min = 0x80;
      else if ((c & 0xF0) == 0xE0) need = 3, cp = c & 0x0F, min = 0x800;
      else if ((c & 0xF8) == 0xF0) need = 4, cp = c & 0x07, min = 0x10000;
      else { *bad_at = i; return false; }
      if (n - i < need) { *bad_at = i; return false; }
      for (size_t k = 1; k < need; k++)
        {
          if ((s[i + k] & 0xC0) != 0x80) { *bad_at = i; return false; }
          cp = cp << 6 | (s[i + k] & 0x3F);
        }
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { *bad_at = i; return false; }
      i += need;
    }
  return true;
}

bool
le_tokenizer_encode (const le_tokenizer *t, const char *text, size_t len, bool add_special,
                     int32_t **ids, size_t *n_ids, le_error *err)
{
  *ids = NULL;
  *n_ids = 0;
  size_t bad_at;
  if (!valid_utf8 (text, len, &bad_at))
    return le_fail (err, LE_ERR_INVALID, "text is not valid UTF-8 (byte %zu); save the "
                    "file as UTF-8", bad_at);
  tok_ids out = { 0 };
  bool ok = true;
  if (add_special)
    for (size_t i = 0; ok && i < t->n_prefix; i++)
      ok = tok_ids_push (&out, t->prefix[i], err);
  size_t seg = 0;
  for (size_t i = 0; ok && i <= len;)
    {
      const tok_added *a = i < len ? added_at (t, text + i, len - i) : NULL;
      if (a == NULL && i < len)
        {
          i++;
          continue;
        }
      if (i > seg)
        ok = encode_segment (t, text + seg, i - seg, seg == 0, &out, err);
      if (a == NULL)
        break;
      ok = ok && tok_ids_push (&out, a->id, err);
      i += a->len;
      seg = i;
    }
  if (add_special)
    for (size_t i = 0; ok && i < t->n_suffix; i++)
      ok = tok_ids_push (&out, t->suffix[i], err);
  if (!ok)
    {
      tok_ids_clear (&out);
      return false;
    }
  if (out.ids == NULL)
    out.ids = malloc (sizeof *out.ids); /* a valid pointer even for no ids */
  *ids = out.ids;
  *n_ids = out.len;
  return true;
}
