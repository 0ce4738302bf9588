/* tokenizer-bpe.h: what every BPE tokenizer here shares: a token string <-> id vocabulary
 * in a hash map, merges keyed by the pair of ids with their rank, the merge loop, and
 * GPT-2's byte <-> printable-character mapping. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open-addressing hash map from byte strings to int32 values; keys are copied. */
typedef struct {
  char **keys;
  uint32_t *key_lens;
  int32_t *values;
  size_t cap, len; /* cap is a power of two */
} tok_strmap;

bool tok_strmap_init (tok_strmap *m, size_t expected, le_error *err);
void tok_strmap_free (tok_strmap *m);
/* Sets KEY to VALUE (replacing an old value); false only when memory runs out. */
bool tok_strmap_put (tok_strmap *m, const char *key, size_t len, int32_t value, le_error *err);
/* The value of KEY, or -1. */
int32_t tok_strmap_get (const tok_strmap *m, const char *key, size_t len);

typedef struct {
  uint64_t key;      /* left id << 32 | right id; UINT64_MAX marks an empty slot */
  int32_t rank;
  int32_t merged;
} tok_merge_slot;

typedef struct {
  tok_strmap vocab;        /* token string -> id */
  char **id_to_token;      /* id -> token string (NULL for holes) */
  uint32_t *id_token_lens;
  size_t n_ids;            /* ids run 0 .. n_ids - 1 */
  size_t ids_cap;
  tok_merge_slot *merges;  /* open-addressing map */
  size_t merges_cap, n_merges;
} tok_bpe;

bool tok_bpe_init (tok_bpe *b, size_t expected_vocab, le_error *err);
void tok_bpe_free (tok_bpe *b);
/* Adds token STR with ID (ids may come in any order). */
bool tok_bpe_add_token (tok_bpe *b, const char *str, size_t len, int32_t id, le_error *err);
/* Adds the merge LEFT + RIGHT with RANK; fails naming the merge when a side or their
 * concatenation is not in the vocabulary. */
bool tok_bpe_add_merge (tok_bpe *b, const char *left, size_t left_len,
                        const char *right, size_t right_len, int32_t rank, le_error *err);
/* Applies merges to the N symbol ids in SYMS, lowest rank first, leftmost on ties, as
 * Hugging Face tokenizers and the GPT-2 reference do. Returns the new count. */
size_t tok_bpe_merge (const tok_bpe *b, int32_t *syms, size_t n);
const char *tok_bpe_token (const tok_bpe *b, int32_t id, size_t *len);

/* GPT-2's mapping of the 256 byte values to printable code points. */
uint32_t tok_byte_to_unicode (uint8_t byte);
/* The byte for code point CP, or -1 when CP is not in the mapping. */
int tok_unicode_to_byte (uint32_t cp);

/* A growing id buffer. */
typedef struct {
  int32_t *ids;
  size_t len, cap;
} tok_ids;

bool tok_ids_push (tok_ids *v, int32_t id, le_error *err);
void tok_ids_clear (tok_ids *v);
