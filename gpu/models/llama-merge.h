/* llama-merge.h: bakes a PEFT LoRA adapter into its LLaMA-family base model, giving a full
 * HF folder (config.json and tokenizer files copied, model.safetensors with
 * W + weight * (alpha / r) * B @ A in each weight's own dtype), written atomically: into a
 * temporary folder next to OUT, renamed when complete. */
#pragma once

#include <stdbool.h>

#include "error.h"

bool llama_merge_adapter (const char *base_folder, const char *adapter_dir, double weight,
                          const char *out_dir, le_error *err);
