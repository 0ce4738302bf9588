/* grad.h: what happens to gradients between backward and the optimizer step: global-norm
 * clipping, accumulation over micro-batches, and the non-finite check that stops a run
 * that diverged with advice instead of training on NaNs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Sum of squares of (N,) G, accumulated in double; add the parts of several buffers and
 * take sqrt for the global norm. */
double le_grad_sumsq (const float *g, size_t n);
void le_grad_scale (float *g, size_t n, float factor);

/* The factor PyTorch's clip_grad_norm_ applies: min(1, max_norm / (norm + 1e-6)); 1 when
 * max_norm <= 0 (clipping off). */
double le_clip_coef (double norm, double max_norm);

/* Clips one buffer in place; *NORM_OUT gets the norm before clipping. A NaN or infinite norm
 * is an LE_ERR_NUMERIC error (nothing is scaled). */
bool le_clip_grad_norm (float *g, size_t n, double max_norm, double *norm_out, le_error *err);

/* Accumulation over STEPS micro-batches: scale each micro-batch's loss by
 * le_grad_accum_scale and add its gradients; le_grad_accum_next returns true after the
 * micro-batch that completes a group, when the optimizer should step and the sum be zeroed. */
typedef struct {
  int steps;
  int micro;  /* micro-batches done in the current group */
} le_grad_accum;

void le_grad_accum_init (le_grad_accum *acc, int steps);
float le_grad_accum_scale (const le_grad_accum *acc);
bool le_grad_accum_next (le_grad_accum *acc);
/* SUM += SCALE * G, both (N,). */
void le_grad_add (float *sum, const float *g, size_t n, float scale);

/* LE_ERR_NUMERIC when LOSS or GRAD_NORM is NaN or infinite, with a message saying what to
 * try; PRECISION is the run's mixed precision ("fp16", "bf16", "no") and LR its learning
 * rate, both quoted in the advice. */
bool le_check_finite (double loss, double grad_norm, int64_t step, double lr,
                      const char *precision, le_error *err);
