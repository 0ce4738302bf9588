/* tokenizer.h: the text tokenizer of LLaMA-family models, loaded from a Hugging Face
 * `tokenizer.json` (plus `tokenizer_config.json` and `config.json` next to it for the
 * BOS/EOS tokens).
 *
 * Supported: model type BPE, either byte-level (GPT-2, Llama 3: the ByteLevel
 * pre-tokenizer, optionally after a Split with GPT-2's or Llama 3's regex) or
 * SentencePiece style (Llama 2, TinyLlama, Mistral: Prepend/Replace normalizers or the
 * Metaspace pre-tokenizer, `<0xNN>` byte fallback, fuse_unk); added and special tokens
 * matched in the raw text before anything else; the TemplateProcessing post-processor;
 * the ByteLevel, Metaspace, Replace, ByteFallback, Fuse and Strip decoders.
 * Anything else (WordPiece, Unigram, an unknown regex or normalizer) is refused by name,
 * so a model never trains on silently different ids.
 *
 * Known differences from Hugging Face tokenizers: added tokens are always matched in the
 * raw text (as for `normalized: false`, which every special token of the supported
 * families uses) and their lstrip/rstrip/single_word flags are ignored. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct le_tokenizer le_tokenizer;

/* PATH is a model folder holding tokenizer.json, or the tokenizer.json file itself. */
le_tokenizer *le_tokenizer_load (const char *path, le_error *err);
void le_tokenizer_free (le_tokenizer *tok);

/* Encodes LEN bytes of TEXT (UTF-8) into *IDS (malloc'd, *N_IDS entries; free() it).
 * ADD_SPECIAL adds what the tokenizer's post-processor (or, without one,
 * tokenizer_config.json's add_bos_token/add_eos_token) adds, as HF's
 * `encode(text, add_special_tokens=True)`; false gives the bare tokens. */
bool le_tokenizer_encode (const le_tokenizer *tok, const char *text, size_t len,
                          bool add_special, int32_t **ids, size_t *n_ids, le_error *err);

/* Decodes ids back to text (malloc'd, NUL-terminated; free() it) as HF's `decode`;
 * SKIP_SPECIAL leaves out special tokens. Unknown ids are an error. */
char *le_tokenizer_decode (const le_tokenizer *tok, const int32_t *ids, size_t n_ids,
                           bool skip_special, le_error *err);

/* Number of ids (the largest id + 1), for the embedding size check. */
size_t le_tokenizer_vocab_size (const le_tokenizer *tok);
/* BOS and EOS ids from tokenizer_config.json (bos_token/eos_token), else config.json
 * (bos_token_id/eos_token_id); -1 when there is none. */
int32_t le_tokenizer_bos_id (const le_tokenizer *tok);
int32_t le_tokenizer_eos_id (const le_tokenizer *tok);
/* True for ids that end generation: the EOS id and every id of config.json's
 * eos_token_id (a number or a list, as in Llama 3 instruct models). */
bool le_tokenizer_is_eos (const le_tokenizer *tok, int32_t id);
/* The id of a token string (vocabulary or added token), or -1. */
int32_t le_tokenizer_token_id (const le_tokenizer *tok, const char *token);
/* The string of an id as stored in the vocabulary (byte-level tokens are in GPT-2's
 * mapped form), or NULL. */
const char *le_tokenizer_token (const le_tokenizer *tok, int32_t id);
