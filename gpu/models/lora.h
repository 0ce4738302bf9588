/* lora.h: LoRA adapters on frozen linear layers, shared by the LLaMA model and the SD UNet.
 *
 * For a frozen W // (out, in): y = W x + (alpha / r) * B (A (dropout (x))), with
 * A // (r, in) drawn Kaiming-uniform with a = sqrt(5) (bound 1 / sqrt(in), as PyTorch's
 * nn.Linear init and PEFT give) from a seeded generator, and B // (out, r) zero, so a
 * fresh adapter leaves the model unchanged. Dropout acts only when the graph is in
 * training mode.
 *
 * All A and B of a set live in one param_store (trainable, one flat F32 vector), so the
 * optimizer updates every adapter with one kernel. Each adapter is named by its module
 * path in PEFT spelling ("base_model.model.model.layers.0.self_attn.q_proj"); its tensors
 * are that name + ".lora_A.weight" / ".lora_B.weight". */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "param-store.h"

#define LORA_NAME_MAX 160

typedef struct {
  char name[LORA_NAME_MAX];   /* module path, PEFT spelling */
  tensor *a;                  /* (r, in) trainable */
  tensor *b;                  /* (out, r) trainable */
  int64_t in, out;
  float scale;                /* alpha / r */
} lora_linear;

typedef struct {
  const backend *be;
  param_store *ps;            /* A and B of every adapter */
  lora_linear **items;        /* in declaration order */
  int n, cap;
  int rank;
  float alpha;
  float dropout;
  bool owns_ps;               /* false: PS is another set's (lora_set_new_shared) */
  char prefix[16];            /* store names "<prefix>.N.A" / ".B" ("lora") */
} lora_set;

lora_set *lora_set_new (const backend *be, int rank, float alpha, float dropout,
                        le_error *err);
/* A set whose adapters go into OWNER's param_store after OWNER's, named PREFIX.N.A/B
 * there: several sets (SD's UNet, LoCon and text encoder LoRA, each with its own rank
 * and alpha) then form one flat trainable vector that one optimizer and one checkpoint
 * cover. Declare every set's adapters before committing any; the first commit commits
 * the store. OWNER must outlive the set. */
lora_set *lora_set_new_shared (lora_set *owner, const char *prefix, int rank, float alpha,
                               float dropout, le_error *err);
void lora_set_free (lora_set *set);
/* Declares an adapter for a frozen weight of shape (out, in). Before commit only. */
lora_linear *lora_set_add (lora_set *set, const char *name, int64_t out, int64_t in,
                           le_error *err);
/* Allocates (the store, once) and initialises this set's adapters: A Kaiming-uniform
 * from SEED (in declaration order), B zero. */
bool lora_set_commit (lora_set *set, uint64_t seed, le_error *err);
lora_linear *lora_set_find (const lora_set *set, const char *name);

/* y = x @ w^T + bias + scale * (dropout(x) @ A^T) @ B^T. LORA may be NULL (plain linear).
 * x // (..., in), w // (out, in) -> (..., out) */
tensor *lora_linear_forward (graph *g, const lora_linear *lora, tensor *x, tensor *w,
                             tensor *bias, float dropout);

/* True when module NAME (e.g. "q_proj", "to_out.0") is in the comma- or NULL-terminated
 * TARGETS list: matches the last path components, as PEFT does for plain names. */
bool lora_target_match (const char *const *targets, const char *module_path);

/* ---- host copies (checkpoints, saving) ---- */
/* Copies A or B values to host F32. */
bool lora_tensor_to_host (const lora_set *set, const tensor *t, float *host, le_error *err);
bool lora_tensor_from_host (lora_set *set, tensor *t, const float *host, le_error *err);
