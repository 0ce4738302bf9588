/* adamw-math.h: the per-element AdamW update, shared by the CPU loop (adamw.c) and the
 * CUDA kernel, so that the CPU tests against torch.optim.AdamW cover the GPU formula too.
 *
 * The order of operations follows PyTorch's single-tensor AdamW (decoupled weight decay
 * first, then the moments, then the bias-corrected step), so results agree to rounding. */
#pragma once

#include <math.h>

#ifndef LE_HD
#ifdef __CUDACC__
#define LE_HD __host__ __device__
#else
#define LE_HD
#endif
#endif

/* Scalars of one step, computed once on the host (in double, like PyTorch) and rounded to
 * float the way PyTorch passes Python scalars to float tensors. */
typedef struct {
  float decay;         /* 1 - lr * weight_decay */
  float one_minus_b1;  /* 1 - beta1 */
  float beta2;
  float one_minus_b2;  /* 1 - beta2 */
  float step_size;     /* lr / (1 - beta1^t) */
  float bc2_sqrt;      /* sqrt(1 - beta2^t) */
  float eps;
} le_adamw_coef;

static inline LE_HD le_adamw_coef
le_adamw_make_coef (double lr, double beta1, double beta2, double eps, double weight_decay,
                    long long t)
{
  le_adamw_coef c;
  c.decay = (float) (1.0 - lr * weight_decay);
  c.one_minus_b1 = (float) (1.0 - beta1);
  c.beta2 = (float) beta2;
  c.one_minus_b2 = (float) (1.0 - beta2);
  c.step_size = (float) (lr / (1.0 - pow (beta1, (double) t)));
  c.bc2_sqrt = (float) sqrt (1.0 - pow (beta2, (double) t));
  c.eps = (float) eps;
  return c;
}

/* One parameter P with gradient G and moments M, V. */
static inline LE_HD void
le_adamw_element (float *p, float *m, float *v, float g, le_adamw_coef c)
{
  float param = *p * c.decay;
  float mm = *m + c.one_minus_b1 * (g - *m);
  float vv = *v * c.beta2 + c.one_minus_b2 * g * g;
  float denom = sqrtf (vv) / c.bc2_sqrt + c.eps;
  *p = param - c.step_size * (mm / denom);
  *m = mm;
  *v = vv;
}
