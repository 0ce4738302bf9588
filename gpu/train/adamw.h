/* adamw.h: the AdamW optimizer (decoupled weight decay, bias correction) on the CPU.
 *
 * The trainable parameters are one flat F32 range of N values (the engine plans them in one
 * allocation); the moments m and v live in one allocation of 2N floats. Parameter groups
 * with their own learning rate (e.g. the text encoder) are slices updated separately within
 * the same step. The CUDA kernel uses the same element math (adamw-math.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adamw-math.h"
#include "error.h"

typedef struct {
  double beta1, beta2, eps, weight_decay;
} le_adamw_hparams;

/* PyTorch's defaults: (0.9, 0.999), 1e-8, 0.01. */
le_adamw_hparams le_adamw_defaults (void);

typedef struct {
  le_adamw_hparams hp;
  int64_t step;   /* completed optimizer steps; bias correction uses step after begin */
  size_t n;
  float *m;       /* (N,) first moment; m and v are one allocation */
  float *v;       /* (N,) second moment */
} le_adamw;

bool le_adamw_init (le_adamw *opt, size_t n, le_adamw_hparams hp, le_error *err);
void le_adamw_free (le_adamw *opt);

/* Starts an optimizer step (t += 1); then update each group's slice with its lr. */
void le_adamw_begin_step (le_adamw *opt);
void le_adamw_update (le_adamw *opt, size_t offset, size_t count, float *params,
                      const float *grads, double lr);
/* begin_step + update of all N values. PARAMS and GRADS are (N,). */
void le_adamw_step (le_adamw *opt, float *params, const float *grads, double lr);
