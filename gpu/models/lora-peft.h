/* lora-peft.h: the PEFT adapter folder (adapter_model.safetensors + adapter_config.json)
 * that PEFT's PeftModel.from_pretrained and llama.cpp's converter read as it is.
 *
 * adapter_model.safetensors holds NAME.lora_A.weight (r, in) and NAME.lora_B.weight
 * (out, r) in F32 for every adapter of the set; adapter_config.json holds r, lora_alpha,
 * lora_dropout, target_modules, peft_type "LORA", task_type, base_model_name_or_path,
 * bias "none", fan_in_fan_out false, inference_mode true. Both are written atomically. */
#pragma once

#include "lora.h"

typedef struct {
  int rank;
  double alpha;
  double dropout;
  char **target_modules;            /* NULL-terminated */
  char task_type[32];               /* "CAUSAL_LM" */
  char base_model[1024];            /* base_model_name_or_path */
} peft_adapter_config;

/* Writes DIR/adapter_model.safetensors and DIR/adapter_config.json (creates DIR). */
bool peft_adapter_save (const lora_set *set, const char *dir, const char *task_type,
                        const char *base_model, const char *const *target_modules,
                        le_error *err);
/* Reads DIR/adapter_config.json. Free with peft_adapter_config_clear. */
bool peft_adapter_config_load (const char *dir, peft_adapter_config *cfg, le_error *err);
void peft_adapter_config_clear (peft_adapter_config *cfg);
/* Loads every adapter of SET from DIR/adapter_model.safetensors (or a .safetensors path);
 * a tensor missing or of another shape is an error naming it; a tensor in the file
 * that the set does not have is an error too (a different target_modules). */
bool peft_adapter_load_weights (lora_set *set, const char *path, le_error *err);
