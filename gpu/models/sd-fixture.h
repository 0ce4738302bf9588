/* sd-fixture.h: the sd15-tiny fixture (`lora-engine fixture --kind sd15-tiny --out DIR`):
 * an SD 1.5-architecture model with tiny widths (sd15_config_tiny), seeded random weights
 * and a small CLIP tokenizer, so demos train on a CPU in seconds and tests need no
 * downloads.
 *
 * Layout diffusers (default): DIR/model_index.json, unet/, vae/, text_encoder/ (config.json
 * files diffusers and transformers accept, weights as .safetensors), scheduler/, tokenizer/.
 * Layout single: DIR/sd15-tiny.safetensors with LDM names (plus metadata sd15_unet_heads
 * and sd15_clip_heads, which the weights cannot tell) and DIR/tokenizer/. Both layouts of
 * the same seed hold the same values. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"

typedef enum { SD15_LAYOUT_DIFFUSERS = 0, SD15_LAYOUT_SINGLE } sd15_layout;

typedef struct {
  sd15_layout layout;
  le_dtype dtype;               /* F32 (default), F16 or BF16 for every tensor */
  uint64_t seed;                /* 1 */
} sd15_fixture_options;

void sd15_fixture_defaults (sd15_fixture_options *o);
/* Writes the fixture into DIR (created). For the single layout *MODEL_PATH (may be NULL)
 * gets the .safetensors path; for diffusers, DIR. */
bool sd15_fixture_write (const char *dir, const sd15_fixture_options *o, char *model_path,
                         size_t model_path_len, le_error *err);
/* The tokenizer alone: DIR/vocab.json, merges.txt, tokenizer_config.json,
 * special_tokens_map.json. *VOCAB_OUT gets the vocabulary size. */
bool sd15_fixture_write_tokenizer (const char *dir, int64_t *vocab_out, le_error *err);
