/* kohya-merge.h: baking an SD LoRA file into an SD 1.5 checkpoint: W + weight * alpha / r
 * * up @ down for every adapted module, written as one single-file .safetensors with LDM
 * names (what WebUI and ComfyUI load as a checkpoint), each tensor in its loaded dtype. */
#pragma once

#include <stdbool.h>

#include "error.h"

/* BASE: single file or diffusers folder; LORA: kohya or diffusers naming; OUT is written
 * atomically. *N_MERGED (may be NULL) gets the number of modules changed. */
bool sd_merge_lora (const char *base, const char *lora, float weight, const char *out,
                    int *n_merged, le_error *err);
