/* llama-fixture.h: a tiny LLaMA folder with random weights (seeded) and a small byte-level
 * BPE tokenizer, for tests, demos and benchmarks (`lora-engine fixture --kind llama-tiny`).
 * The folder is what Hugging Face writes: config.json, model.safetensors (or shards with
 * model.safetensors.index.json), tokenizer.json, tokenizer_config.json,
 * generation_config.json, with real HF tensor names. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"

typedef enum {
  LLAMA_FIXTURE_ROPE_PLAIN = 0,
  LLAMA_FIXTURE_ROPE_LLAMA3,      /* rope_scaling type llama3 (factor 8, 1, 4, 32) */
  LLAMA_FIXTURE_ROPE_LINEAR,      /* rope_scaling type linear, factor 2 */
} llama_fixture_rope;

typedef struct {
  int64_t hidden;                 /* 64 */
  int64_t layers;                 /* 2 */
  int64_t heads;                  /* 4 */
  int64_t kv_heads;               /* 2 (grouped-query attention) */
  int64_t intermediate;           /* 0: about 8/3 hidden, a multiple of 4 (172 for 64) */
  int merges;                     /* BPE merges learned from the built-in text: 250 */
  le_dtype dtype;                 /* F32, F16 or BF16 */
  uint64_t seed;
  bool tied;                      /* tie_word_embeddings */
  llama_fixture_rope rope;
  int shards;                     /* 1: model.safetensors; more: an index and shards */
} llama_fixture_options;

void llama_fixture_defaults (llama_fixture_options *o);
bool llama_fixture_write (const char *dir, const llama_fixture_options *o, le_error *err);

/* The tokenizer part alone: DIR/tokenizer.json and DIR/tokenizer_config.json; the vocab
 * is 256 byte tokens, MERGES merged tokens, then <s> and </s>. *VOCAB_OUT gets the size. */
bool llama_fixture_write_tokenizer (const char *dir, int merges, int64_t *vocab_out,
                                    le_error *err);
