/* text-generate.h: a prompt's continuation with a LLaMA-family model and adapter, as
 * `lora-engine generate` prints it and serve's `sample` writes it for a text project:
 * greedy at temperature 0, else temperature and top-p sampling from a seeded generator,
 * with a key/value cache. */
#pragma once

#include <stdint.h>

#include "text-session.h"

/* The prompt and up to MAX_TOKENS more, decoded (malloc'd), or NULL with ERR. */
char *text_generate (TextSession *s, const char *prompt, int max_tokens, double temperature,
                     double top_p, uint64_t seed, le_error *err);
