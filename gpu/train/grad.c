/* grad.c: gradient clipping, accumulation and the non-finite check (see grad.h). */
#include "grad.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double
le_grad_sumsq (const float *g, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) g[i] * g[i];
  return s;
}

void
le_grad_scale (float *g, size_t n, float factor)
{
  for (size_t i = 0; i < n; i++)
    g[i] *= factor;
}

double
le_clip_coef (double norm, double max_norm)
{
  if (max_norm <= 0)
    return 1.0;
  double c = max_norm / (norm + 1e-6);
  return c < 1.0 ? c : 1.0;
}

bool
le_clip_grad_norm (float *g, size_t n, double max_norm, double *norm_out, le_error *err)
{
  double norm = sqrt (le_grad_sumsq (g, n));
  if (norm_out != NULL)
    *norm_out = norm;
  if (!isfinite (norm))
    return le_fail (err, LE_ERR_NUMERIC, "the gradient norm is %s: training diverged. Try a lower "
                    "learning rate, and bf16 instead of fp16 mixed precision",
                    isnan (norm) ? "NaN" : "infinite");
  double c = le_clip_coef (norm, max_norm);
  if (c < 1.0)
    le_grad_scale (g, n, (float) c);
  return true;
}

void
le_grad_accum_init (le_grad_accum *acc, int steps)
{
  acc->steps = steps < 1 ? 1 : steps;
  acc->micro = 0;
}

float
le_grad_accum_scale (const le_grad_accum *acc)
{
  return 1.0f / (float) acc->steps;
}

bool
le_grad_accum_next (le_grad_accum *acc)
{
  if (++acc->micro < acc->steps)
    return false;
  acc->micro = 0;
  return true;
}

void
le_grad_add (float *sum, const float *g, size_t n, float scale)
{
  for (size_t i = 0; i < n; i++)
    sum[i] += scale * g[i];
}

bool
le_check_finite (double loss, double grad_norm, int64_t step, double lr, const char *precision,
                 le_error *err)
{
  const char *what = NULL, *how = NULL;
  if (!isfinite (loss))
    what = "loss", how = isnan (loss) ? "NaN" : "infinite";
  else if (!isfinite (grad_norm))
    what = "gradient norm", how = isnan (grad_norm) ? "NaN" : "infinite";
  if (what == NULL)
    return true;
  char precision_hint[160] = "";
  if (precision != NULL && strcmp (precision, "fp16") == 0)
    snprintf (precision_hint, sizeof precision_hint,
              ", and mixed_precision: bf16 instead of fp16 (fp16 overflows easily)");
  else
    snprintf (precision_hint, sizeof precision_hint,
              ", and if you use fp16 mixed precision, bf16 instead");
  return le_fail (err, LE_ERR_NUMERIC,
                  "step %lld: the %s is %s, training diverged. The last good checkpoint is kept. "
                  "Try a lower learning_rate (it is %g; try %g)%s",
                  (long long) step, what, how, lr, lr / 4, precision_hint);
}
