/* tokenizer-unicode.h: the Unicode facts the tokenizers need, without ICU: UTF-8
 * decoding, the general-category class of a code point (letter, number, mark, other,
 * space separator) from a generated table, White_Space, CJK ideographs, lower case. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  TOK_UC_NONE = 0, /* punctuation, symbols, Zl, Zp */
  TOK_UC_L = 1,    /* Lu Ll Lt Lm Lo: regex \p{L} */
  TOK_UC_N = 2,    /* Nd Nl No: regex \p{N} */
  TOK_UC_C = 3,    /* Cc Cf Cs Co Cn */
  TOK_UC_ZS = 4,   /* space separators */
  TOK_UC_M = 5,    /* combining marks */
};

typedef struct {
  uint32_t first, last;
  int32_t stride, delta;
} tok_uc_lower_block;

extern const uint32_t tok_uc_class_runs[];
extern const size_t tok_uc_class_runs_len;
extern const tok_uc_lower_block tok_uc_lower_blocks[];
extern const size_t tok_uc_lower_blocks_len;

/* Decodes one code point at S (N > 0 bytes left) into *CP and returns its length.
 * An invalid byte decodes as itself (U+FFFD-free, length 1) so no input is lost. */
size_t tok_utf8_decode (const char *s, size_t n, uint32_t *cp);
/* Writes CP as UTF-8 into OUT (4 bytes room) and returns the length. */
size_t tok_utf8_encode (uint32_t cp, char *out);

int tok_uc_class (uint32_t cp);
static inline bool tok_uc_is_letter (uint32_t cp) { return tok_uc_class (cp) == TOK_UC_L; }
static inline bool tok_uc_is_number (uint32_t cp) { return tok_uc_class (cp) == TOK_UC_N; }
/* The White_Space property, which is what \s matches in Oniguruma and Python's regex. */
bool tok_uc_is_space (uint32_t cp);
/* The CJK ideograph blocks that BERT-style cleaning surrounds with spaces. */
bool tok_uc_is_cjk (uint32_t cp);
/* One-to-one lower case (U+0130 is the caller's business: it lowers to two code points). */
uint32_t tok_uc_lower (uint32_t cp);
