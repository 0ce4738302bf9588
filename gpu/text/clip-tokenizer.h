/* clip-tokenizer.h: the CLIP text tokenizer of Stable Diffusion 1.5.
 *
 * Loaded from a diffusers model's tokenizer/ folder (vocab.json + merges.txt) or from
 * OpenAI's bpe_simple_vocab_16e6.txt.gz (the vocabulary is then built the standard way:
 * the 256 byte characters, the same with </w>, the concatenation of each merge, then
 * <|startoftext|> and <|endoftext|>).
 *
 * Encoding follows transformers' CLIPTokenizer as it runs without ftfy (the usual case):
 * BasicTokenizer cleaning (control and format characters such as ZWJ removed, whitespace
 * runs collapsed, spaces around CJK ideographs), lower case, CLIP's regex split, BPE with
 * the </w> end-of-word marker. Then 77 ids: start, at most 75 tokens, end, padded with the
 * end token (SD 1.5's convention).
 * Deliberate differences: no NFC normalization (text typed or read from UTF-8 files is
 * NFC already; decomposed accents tokenize differently), no ftfy or HTML unescaping
 * (CLIPTokenizer without ftfy does none either). */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LE_CLIP_CONTEXT 77

typedef struct le_clip_tokenizer le_clip_tokenizer;

/* PATH is a folder with vocab.json and merges.txt, a model folder with a tokenizer/
 * subfolder holding them, or a bpe_simple_vocab file (.txt.gz or .txt). */
le_clip_tokenizer *le_clip_tokenizer_load (const char *path, le_error *err);
/* Tries each of the N_PATHS candidates in order (NULL entries are skipped); when none has
 * a tokenizer, the error lists every place looked at. */
le_clip_tokenizer *le_clip_tokenizer_load_first (const char *const *paths, size_t n_paths,
                                                 le_error *err);
/* Where SD 1.5 training looks, in order: CONFIGURED (the config's tokenizer path; may be
 * NULL), MODEL (a diffusers folder's tokenizer/, or the folder next to a single-file
 * checkpoint; may be NULL), then the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or
 * ~/.cache/huggingface/hub): openai/clip-vit-large-patch14 and the SD 1.5 repositories'
 * tokenizer/. The error of a miss lists every place. */
le_clip_tokenizer *le_clip_tokenizer_find (const char *configured, const char *model,
                                           le_error *err);
void le_clip_tokenizer_free (le_clip_tokenizer *tok);

/* TEXT (UTF-8, NUL-terminated) to exactly LE_CLIP_CONTEXT ids: start, tokens cut to fit,
 * end, end padding. *N_TOKENS (may be NULL) gets the number of text tokens before the
 * cut, so callers can warn that a caption was truncated. */
bool le_clip_tokenizer_encode (const le_clip_tokenizer *tok, const char *text,
                               int32_t ids[LE_CLIP_CONTEXT], size_t *n_tokens, le_error *err);
/* The bare tokens of TEXT, no start, end or padding; *IDS is malloc'd. */
bool le_clip_tokenizer_tokenize (const le_clip_tokenizer *tok, const char *text,
                                 int32_t **ids, size_t *n_ids, le_error *err);
/* Ids back to (lower-cased, cleaned) text; start and end tokens are left out. */
char *le_clip_tokenizer_decode (const le_clip_tokenizer *tok, const int32_t *ids, size_t n,
                                le_error *err);

int32_t le_clip_tokenizer_start_id (const le_clip_tokenizer *tok); /* 49406 in SD 1.5 */
int32_t le_clip_tokenizer_end_id (const le_clip_tokenizer *tok);   /* 49407 in SD 1.5 */
size_t le_clip_tokenizer_vocab_size (const le_clip_tokenizer *tok);
