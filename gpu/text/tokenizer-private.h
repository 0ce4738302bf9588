/* tokenizer-private.h: the parsed pipeline of a tokenizer.json, shared by the loader
 * (tokenizer.c), the encoder (tokenizer-encode.c) and the decoder (tokenizer-decode.c). */
#pragma once

#include "tokenizer.h"
#include "tokenizer-bpe.h"

typedef struct {
  enum { NORM_PREPEND, NORM_REPLACE } kind;
  char *a, *b; /* PREPEND: a = text; REPLACE: a = pattern, b = content */
  size_t a_len, b_len;
} tok_norm_step;

enum { PREPEND_NEVER, PREPEND_FIRST, PREPEND_ALWAYS };

typedef struct {
  enum { PRE_BYTELEVEL, PRE_SPLIT_GPT2, PRE_SPLIT_LLAMA3, PRE_METASPACE } kind;
  bool add_prefix_space; /* BYTELEVEL */
  bool use_regex;        /* BYTELEVEL */
  char replacement[8];   /* METASPACE, UTF-8 */
  int prepend_scheme;    /* METASPACE */
  bool split;            /* METASPACE */
} tok_pre_step;

typedef struct {
  enum { DEC_BYTELEVEL, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE } kind;
  char *a, *b; /* REPLACE: a = pattern, b = content */
  size_t a_len, b_len;
  char content[8];     /* STRIP: the character; METASPACE: the replacement */
  int start, stop;     /* STRIP */
  int prepend_scheme;  /* METASPACE */
} tok_dec_step;

typedef struct {
  char *content;
  size_t len;
  int32_t id;
  bool special;
} tok_added;

struct le_tokenizer {
  tok_bpe bpe;
  int32_t unk_id;
  bool byte_fallback, fuse_unk, ignore_merges;
  int32_t byte_ids[256];  /* ids of <0x00>..<0xFF>, -1 when absent */

  tok_norm_step *norms;
  size_t n_norms;
  tok_pre_step *pres;
  size_t n_pres;
  tok_dec_step *decs;
  size_t n_decs;
  bool has_decoder;
  tok_added *added;       /* matched longest first */
  size_t n_added;
  bool added_first_byte[256]; /* which bytes start an added token: most positions skip */

  int32_t prefix[8], suffix[8]; /* what add_special puts around the tokens */
  size_t n_prefix, n_suffix;

  int32_t bos_id, eos_id;
  int32_t stop_ids[16];
  size_t n_stop;
};

const tok_added *tok_added_by_id (const le_tokenizer *tok, int32_t id);
