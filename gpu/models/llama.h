/* llama.h: LLaMA-family causal language models (Llama 1/2/3, Mistral without sliding
 * window, TinyLlama) from a Hugging Face folder, with LoRA on chosen linear layers.
 *
 * The forward pass is written once on the core ops (ops.h); autograd gives the backward.
 * Per layer: RMSNorm -> q/k/v projections (+LoRA) -> RoPE (HF rotate_half) -> causal
 * grouped-query attention -> o_proj (+LoRA) -> residual -> RMSNorm -> SwiGLU MLP
 * (gate/up/down, +LoRA when targeted) -> residual; final RMSNorm; lm_head (or the tied
 * embedding table). Base weights are frozen and kept in their file dtype (F32/F16/BF16;
 * norms are converted to F32) in one param_store; LoRA tensors are in a lora_set.
 *
 * Typical use (trainer):
 *   llama_model *m = llama_model_load (folder, LLAMA_DTYPE_KEEP, be, &err);
 *   llama_lora_attach (m, targets, rank, alpha, dropout, seed, &err);
 *   graph_set_training (g, true); graph_set_rng (g, seed, step << 32);
 *   tensor *loss = llama_forward_loss (m, g, tokens, count, B, T, &sum, &n);
 *   graph_backward (g, loss, &err);   // grads in m->lora->ps->train_grad
 *   peft_adapter_save (m->lora, dir, "CAUSAL_LM", folder, targets, &err);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "hf-config.h"
#include "lora.h"
#include "param-store.h"

/* The linear layers LoRA may target, in HF module names. */
enum {
  LLAMA_Q, LLAMA_K, LLAMA_V, LLAMA_O, LLAMA_GATE, LLAMA_UP, LLAMA_DOWN, LLAMA_N_LINEAR
};
extern const char *const llama_linear_names[LLAMA_N_LINEAR];  /* "q_proj", ... */

typedef struct {
  tensor *attn_norm;                  /* (C) F32 input_layernorm */
  tensor *mlp_norm;                   /* (C) F32 post_attention_layernorm */
  tensor *w[LLAMA_N_LINEAR];          /* (out, in) frozen, file dtype */
  lora_linear *lora[LLAMA_N_LINEAR];  /* NULL when not targeted */
} llama_layer;

typedef struct {
  llama_config cfg;
  const backend *be;
  param_store *base;                  /* frozen weights */
  tensor *embed;                      /* (V, C) model.embed_tokens.weight */
  tensor *norm;                       /* (C) model.norm.weight */
  tensor *lm_head;                    /* (V, C); == embed when tied */
  llama_layer *layers;                /* (n_layers) */
  lora_set *lora;                     /* NULL until llama_lora_attach */
  char **lora_targets;                /* NULL-terminated module names attached */
  bool checkpointing;                 /* gradient checkpointing per layer */
  /* per-layer block arguments; they must outlive the forward, since a checkpointed
   * block runs again during backward */
  struct llama_block_ctx *block_ctx;  /* (n_layers) */
  /* host RoPE tables, grown on demand // (rope_positions, head_dim) */
  float *rope_cos, *rope_sin;
  int64_t rope_positions;
  char folder[1024];
} llama_model;

#define LLAMA_DTYPE_KEEP (-1)

/* Loads FOLDER (config.json + model.safetensors or model.safetensors.index.json).
 * DTYPE is LLAMA_DTYPE_KEEP (file dtype per tensor) or an le_dtype (LE_F32, LE_F16,
 * LE_BF16) to convert the big matrices to. Refuses other architectures by name, GGML/GGUF
 * files, missing tensors and shapes that do not match config.json, naming the tensor. */
llama_model *llama_model_load (const char *folder, int dtype, const backend *be,
                               le_error *err);
void llama_model_free (llama_model *m);

/* Attaches LoRA to every layer's modules named in TARGETS (NULL-terminated, e.g.
 * {"q_proj", "v_proj", NULL}); an unknown name is an error that lists the valid ones.
 * A from seeded Kaiming-uniform, B zero. */
bool llama_lora_attach (llama_model *m, const char *const *targets, int rank, float alpha,
                        float dropout, uint64_t seed, le_error *err);
/* Attaches the PEFT adapter of folder DIR (adapter_config.json: r, lora_alpha,
 * target_modules; adapter_model.safetensors: the weights), for eval, generate and resume.
 * Errors name the file and tensor. */
bool llama_lora_load_adapter (llama_model *m, const char *dir, le_error *err);
/* PEFT name of layer L's module K: "base_model.model.model.layers.L.self_attn.q_proj". */
void llama_lora_name (char *buf, size_t n, int layer, int k);

/* Mean cross-entropy over counted targets. TOKENS, COUNT // (B, T) host arrays: COUNT[b,t]
 * = 1 when token t is a counted target (predicted from position t - 1; t = 0 never counts).
 * Dropout and RNG come from the graph (graph_set_training / graph_set_rng). SUM_OUT and
 * N_OUT (may be NULL) get the summed loss and the number counted. Returns a (1) tensor,
 * or NULL with the graph's sticky error. */
tensor *llama_forward_loss (llama_model *m, graph *g, const int32_t *tokens,
                            const uint8_t *count, int64_t batch, int64_t t, double *sum_out,
                            int64_t *n_out);
/* Logits // (B, T, V) for TOKENS // (B, T); LAST_ONLY gives (B, 1, V) of the last
 * position only (generation). */
tensor *llama_forward_logits (llama_model *m, graph *g, const int32_t *tokens, int64_t batch,
                              int64_t t, bool last_only);

/* A key/value cache for generation: each layer's rotated keys and values of the tokens
 * seen so far // (B, Hkv, max_t, D), so that each new token costs one position's work. */
typedef struct llama_kv_cache llama_kv_cache;
llama_kv_cache *llama_kv_cache_new (llama_model *m, int64_t batch, int64_t max_t,
                                    le_error *err);
void llama_kv_cache_free (llama_kv_cache *c);
int64_t llama_kv_cache_len (const llama_kv_cache *c);
/* Runs TOKENS // (B, T) at positions len .. len + T - 1, appends their keys and values,
 * and returns the logits of the last position // (B, 1, V). No gradient. */
tensor *llama_forward_cached (llama_model *m, graph *g, llama_kv_cache *c,
                              const int32_t *tokens, int64_t batch, int64_t t);

/* Parameter counts (for logs): frozen base and trainable LoRA. */
int64_t llama_n_base_params (const llama_model *m);
int64_t llama_n_lora_params (const llama_model *m);
