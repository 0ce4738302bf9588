/* hf-config.h: the config.json of a Hugging Face LLaMA-family folder, read with the
 * engine's strict JSON parser and checked before any weight is touched.
 *
 * Accepted: architectures LlamaForCausalLM and MistralForCausalLM (model_type llama or
 * mistral). Every other architecture is refused by name, so a Qwen2 (biases), Gemma
 * (scaled embeddings) or GPT-2 folder never trains on a silently wrong graph. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "ops.h"

#define LLAMA_ARCH_MAX 64

typedef struct {
  char architecture[LLAMA_ARCH_MAX];  /* "LlamaForCausalLM" */
  char model_type[32];                /* "llama", "mistral" */
  int64_t hidden;                     /* hidden_size */
  int64_t intermediate;               /* intermediate_size */
  int64_t n_layers;                   /* num_hidden_layers */
  int64_t n_heads;                    /* num_attention_heads */
  int64_t n_kv_heads;                 /* num_key_value_heads (n_heads when absent) */
  int64_t head_dim;                   /* hidden / n_heads, or head_dim when given */
  int64_t vocab;                      /* vocab_size */
  int64_t max_positions;              /* max_position_embeddings */
  float rms_eps;                      /* rms_norm_eps */
  float rope_theta;                   /* 10000 when absent */
  rope_scaling scaling;               /* factor 0 = none; "linear" folds into linear_factor */
  float rope_linear_factor;           /* rope_scaling type "linear": positions / factor; 1 */
  bool tie_embeddings;                /* tie_word_embeddings */
  int32_t bos_id, eos_id;             /* -1 when absent (first id when eos is a list) */
  char torch_dtype[16];               /* "float32", "bfloat16", ... ("" when absent) */
} llama_config;

/* Reads FOLDER/config.json (or a config.json path). Errors name the file and key. */
bool llama_config_load (const char *folder, llama_config *cfg, le_error *err);
/* Parses config.json text; LABEL names it in errors. */
bool llama_config_parse (const char *text, size_t len, const char *label, llama_config *cfg,
                         le_error *err);
/* Writes cfg as an HF config.json (atomically); used by the fixture. */
bool llama_config_save (const llama_config *cfg, const char *path, le_error *err);
