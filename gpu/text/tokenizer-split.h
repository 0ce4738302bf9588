/* tokenizer-split.h: the pre-tokenizer regexes of the supported tokenizers, written out
 * by hand (no regex engine): each returns the length in bytes of the match at byte I of
 * the valid UTF-8 text S (N bytes), as the backtracking regex would find it there.
 *
 * GPT-2 (also ByteLevel's built-in split):
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Llama 3:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * CLIP (findall, so 0 means "no match here, skip one character"):
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * \s is White_Space, \p{L} and \p{N} the general categories (tokenizer-unicode.h). */
#pragma once

#include <stddef.h>

extern const char tok_regex_gpt2[];
extern const char tok_regex_llama3[];

size_t tok_split_gpt2 (const char *s, size_t n, size_t i);
size_t tok_split_llama3 (const char *s, size_t n, size_t i);
size_t tok_split_clip (const char *s, size_t n, size_t i);
