/* clip-fixture.h: the clip-tiny fixture (`lora-engine fixture --kind clip-tiny --out DIR`):
 * a Hugging Face CLIPModel folder with tiny widths, real tensor names and seeded random
 * weights (config.json, preprocessor_config.json, model.safetensors) plus the small CLIP
 * tokenizer of the sd15-tiny fixture (vocab.json, merges.txt), so captioning is tested
 * against transformers without a download. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"

typedef struct {
  le_dtype dtype;               /* F32 (default), F16 or BF16 for every tensor */
  uint64_t seed;                /* 1 */
} clip_fixture_options;

void clip_fixture_defaults (clip_fixture_options *o);
/* Writes the fixture into DIR (created). */
bool clip_fixture_write (const char *dir, const clip_fixture_options *o, le_error *err);
