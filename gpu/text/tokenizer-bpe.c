/* tokenizer-bpe.c: the shared BPE machinery of tokenizer-bpe.h. */
#include "tokenizer-bpe.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_bytes (const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char) s[i]) * 1099511628211ull;
  return h;
}

static uint64_t
hash_u64 (uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

bool
tok_strmap_init (tok_strmap *m, size_t expected, le_error *err)
{
  memset (m, 0, sizeof *m);
  size_t cap = 16;
  while (cap < expected * 2)
    cap *= 2;
  m->keys = le_calloc (cap, sizeof *m->keys, "a token map", err);
  m->key_lens = le_calloc (cap, sizeof *m->key_lens, "a token map", err);
  m->values = le_calloc (cap, sizeof *m->values, "a token map", err);
  m->cap = cap;
  if (!m->keys || !m->key_lens || !m->values)
    {
      tok_strmap_free (m);
      return false;
    }
  return true;
}

void
tok_strmap_free (tok_strmap *m)
{
  if (m->keys)
    for (size_t i = 0; i < m->cap; i++)
      free (m->keys[i]);
  free (m->keys);
  free (m->key_lens);
  free (m->values);
  memset (m, 0, sizeof *m);
}

static size_t
strmap_slot (const tok_strmap *m, const char *key, size_t len)
{
  size_t i = hash_bytes (key, len) & (m->cap - 1);
  while (m->keys[i] != NULL
         && !(m->key_lens[i] == len && memcmp (m->keys[i], key, len) == 0))
    i = (i + 1) & (m->cap - 1);
  return i;
}

bool
tok_strmap_put (tok_strmap *m, const char *key, size_t len, int32_t value, le_error *err)
{
  if ((m->len + 1) * 2 > m->cap)
    {
      tok_strmap bigger;
      if (!tok_strmap_init (&bigger, m->cap, err))
        return false;
      for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
          {
            size_t j = strmap_slot (&bigger, m->keys[i], m->key_lens[i]);
            bigger.keys[j] = m->keys[i];
            bigger.key_lens[j] = m->key_lens[i];
            bigger.values[j] = m->values[i];
            m->keys[i] = NULL;
          }
      bigger.len = m->len;
      tok_strmap_free (m);
      *m = bigger;
    }
  size_t i = strmap_slot (m, key, len);
  if (m->keys[i] == NULL)
    {
      char *copy = le_malloc (len + 1, "a token", err);
      if (copy == NULL)
        return false;
      memcpy (copy, key, len);
      copy[len] = '\0';
      m->keys[i] = copy;
      m->key_lens[i] = (uint32_t) len;
      m->len++;
    }
  m->values[i] = value;
  return true;
}

int32_t
tok_strmap_get (const tok_strmap *m, const char *key, size_t len)
{
  if (m->cap == 0)
    return -1;
  size_t i = strmap_slot (m, key, len);
  return m->keys[i] ? m->values[i] : -1;
}

bool
tok_bpe_init (tok_bpe *b, size_t expected_vocab, le_error *err)
{
  memset (b, 0, sizeof *b);
  return tok_strmap_init (&b->vocab, expected_vocab, err);
}

void
tok_bpe_free (tok_bpe *b)
{
  tok_strmap_free (&b->vocab);
  for (size_t i = 0; i < b->n_ids; i++)
    free (b->id_to_token[i]);
  free (b->id_to_token);
  free (b->id_token_lens);
  free (b->merges);
  memset (b, 0, sizeof *b);
}

bool
tok_bpe_add_token (tok_bpe *b, const char *str, size_t len, int32_t id, le_error *err)
{
  if (id < 0 || id > (1 << 30))
    return le_fail (err, LE_ERR_FORMAT, "token id %d of \"%.*s\" is out of range",
                    (int) id, (int) (len > 60 ? 60 : len), str);
  if ((size_t) id >= b->n_ids)
    {
      size_t n = (size_t) id + 1;
      if (n > b->ids_cap)
        {
          size_t cap = b->ids_cap ? b->ids_cap : 256;
          while (cap < n)
            cap *= 2;
          char **t = realloc (b->id_to_token, cap * sizeof *t);
          if (t == NULL)
            return le_fail (err, LE_ERR_MEMORY, "out of memory for the vocabulary");
          b->id_to_token = t;
          uint32_t *l = realloc (b->id_token_lens, cap * sizeof *l);
          if (l == NULL)
            return le_fail (err, LE_ERR_MEMORY, "out of memory for the vocabulary");
          b->id_token_lens = l;
          b->ids_cap = cap;
        }
      memset (b->id_to_token + b->n_ids, 0, (n - b->n_ids) * sizeof *b->id_to_token);
      memset (b->id_token_lens + b->n_ids, 0, (n - b->n_ids) * sizeof *b->id_token_lens);
      b->n_ids = n;
    }
  if (b->id_to_token[id] == NULL)
    {
      char *copy = le_malloc (len + 1, "a token", err);
      if (copy == NULL)
        return false;
      memcpy (copy, str, len);
      copy[len] = '\0';
      b->id_to_token[id] = copy;
      b->id_token_lens[id] = (uint32_t) len;
    }
  return tok_strmap_put (&b->vocab, str, len, id, err);
}

static size_t
merge_slot (const tok_bpe *b, uint64_t key)
{
  size_t i = hash_u64 (key) & (b->merges_cap - 1);
  while (b->merges[i].key != UINT64_MAX && b->merges[i].key != key)
    i = (i + 1) & (b->merges_cap - 1);
  return i;
}

static bool
merges_grow (tok_bpe *b, le_error *err)
{
  size_t cap = b->merges_cap ? b->merges_cap * 2 : 1024;
  tok_merge_slot *slots = le_malloc (cap * sizeof *slots, "the merges", err);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i < cap; i++)
    slots[i].key = UINT64_MAX;
  tok_merge_slot *old = b->merges;
  size_t old_cap = b->merges_cap;
  b->merges = slots;
  b->merges_cap = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].key != UINT64_MAX)
      b->merges[merge_slot (b, old[i].key)] = old[i];
  free (old);
  return true;
}

bool
tok_bpe_add_merge (tok_bpe *b, const char *left, size_t left_len,
                   const char *right, size_t right_len, int32_t rank, le_error *err)
{
  int32_t a = tok_strmap_get (&b->vocab, left, left_len);
  int32_t c = tok_strmap_get (&b->vocab, right, right_len);
  char stack[256];
  char *both = left_len + right_len <= sizeof stack ? stack
               : le_malloc (left_len + right_len, "a merge", err);
  if (both == NULL)
    return false;
  memcpy (both, left, left_len);
  memcpy (both + left_len, right, right_len);
  int32_t m = tok_strmap_get (&b->vocab, both, left_len + right_len);
  if (both != stack)
    free (both);
  if (a < 0 || c < 0 || m < 0)
    return le_fail (err, LE_ERR_FORMAT,
                    "merge %d \"%.*s %.*s\" uses a token that is not in the vocabulary",
                    (int) rank, (int) (left_len > 60 ? 60 : left_len), left,
                    (int) (right_len > 60 ? 60 : right_len), right);
  if ((b->n_merges + 1) * 2 > b->merges_cap && !merges_grow (b, err))
    return false;
  uint64_t key = (uint64_t) (uint32_t) a << 32 | (uint32_t) c;
  size_t i = merge_slot (b, key);
  if (b->merges[i].key == UINT64_MAX)
    {
      /* A repeated merge keeps its first (lowest) rank, as the references do. */
      b->merges[i].key = key;
      b->merges[i].rank = rank;
      b->merges[i].merged = m;
      b->n_merges++;
    }
  return true;
}

static const tok_merge_slot *
find_merge (const tok_bpe *b, int32_t a, int32_t c)
{
  if (b->merges_cap == 0 || a < 0 || c < 0)
    return NULL;
  uint64_t key = (uint64_t) (uint32_t) a << 32 | (uint32_t) c;
  size_t i = merge_slot (b, key);
  return b->merges[i].key == key ? &b->merges[i] : NULL;
}

size_t
tok_bpe_merge (const tok_bpe *b, int32_t *syms, size_t n)
{
  if (n < 2)
    return n;
  /* rank[i] caches the merge of syms[i], syms[i+1] so each step is one linear scan and
   * only the two neighbours of a merge are looked up again. */
  int32_t small[256];
  int32_t *rank = n <= 256 ? small : malloc (n * sizeof *rank);
  if (rank == NULL)
    return n; /* out of memory: leave the word unmerged rather than crash */
  for (size_t i = 0; i + 1 < n; i++)
    {
      const tok_merge_slot *s = find_merge (b, syms[i], syms[i + 1]);
      rank[i] = s ? s->rank : INT32_MAX;
    }
  for (;;)
    {
      size_t best = n;
      int32_t best_rank = INT32_MAX;
      for (size_t i = 0; i + 1 < n; i++)
        if (rank[i] < best_rank)
          best_rank = rank[i], best = i;
      if (best == n)
        break;
      syms[best] = find_merge (b, syms[best], syms[best + 1])->merged;
      memmove (syms + best + 1, syms + best + 2, (n - best - 2) * sizeof *syms);
      memmove (rank + best, rank + best + 1, (n - best - 2) * sizeof *rank);
      n--;
      if (best > 0)
        {
          const tok_merge_slot *s = find_merge (b, syms[best - 1], syms[best]);
          rank[best - 1] = s ? s->rank : INT32_MAX;
        }
      if (best + 1 < n)
        {
          const tok_merge_slot *s = find_merge (b, syms[best], syms[best + 1]);
          rank[best] = s ? s->rank : INT32_MAX;
        }
    }
  if (rank != small)
    free (rank);
  return n;
}

const char *
tok_bpe_token (const tok_bpe *b, int32_t id, size_t *len)
{
  if (id < 0 || (size_t) id >= b->n_ids || b->id_to_token[id] == NULL)
    return NULL;
  if (len)
    *len = b->id_token_lens[id];
  return b->id_to_token[id];
}

uint32_t
tok_byte_to_unicode (uint8_t byte)
{
  /* Printable Latin-1 bytes stand for themselves; the other 68 bytes are moved, in
   * order, to U+0100 and up, so every byte has a visible, non-space character. */
  if ((byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE)
    return byte;
  uint32_t k = 0;
  for (unsigned c = 0; c < byte; c++)
    if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE))
      k++;
  return 256 + k;
}

int
tok_unicode_to_byte (uint32_t cp)
{
  if ((cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
    return (int) cp;
  if (cp < 256 || cp >= 256 + 68)
    return -1;
  uint32_t k = 0;
  for (unsigned c = 0; c < 256; c++)
    if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE))
      {
        if (k == cp - 256)
          return (int) c;
        k++;
      }
  return -1;
}

bool
tok_ids_push (tok_ids *v, int32_t id, le_error *err)
{
  if (v->len == v->cap)
    {
      size_t cap = v->cap ? v->cap * 2 : 64;
      int32_t *ids = realloc (v->ids, cap * sizeof *ids);
      if (ids == NULL)
        return le_fail (err, LE_ERR_MEMORY, "out of memory for token ids");
      v->ids = ids;
      v->cap = cap;
    }
  v->ids[v->len++] = id;
  return true;
}

void
tok_ids_clear (tok_ids *v)
{
  free (v->ids);
  v->ids = NULL;
  v->len = v->cap = 0;
}
