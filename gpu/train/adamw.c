/* adamw.c: the CPU AdamW loop (see adamw.h). */
#include "adamw.h"

#include <stdlib.h>
#include <string.h>

le_adamw_hparams
le_adamw_defaults (void)
{
  return (le_adamw_hparams) { .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01 };
}

bool
le_adamw_init (le_adamw *opt, size_t n, le_adamw_hparams hp, le_error *err)
{
  memset (opt, 0, sizeof *opt);
  if (n > SIZE_MAX / (2 * sizeof (float)))
    return le_fail (err, LE_ERR_MEMORY, "optimizer state for %zu parameters is too large", n);
  opt->m = le_calloc (2 * n, sizeof (float), "AdamW state (m and v)", err);
  if (opt->m == NULL)
    return false;
  opt->v = opt->m + n;
  opt->n = n;
  opt->hp = hp;
  return true;
}

void
le_adamw_free (le_adamw *opt)
{
  free (opt->m);
  memset (opt, 0, sizeof *opt);
}

void
le_adamw_begin_step (le_adamw *opt)
{
  opt->step++;
}

void
le_adamw_update (le_adamw *opt, size_t offset, size_t count, float *params, const float *grads,
                 double lr)
{
  if (offset > opt->n || count > opt->n - offset || opt->step < 1)
    return;
  le_adamw_coef c = le_adamw_make_coef (lr, opt->hp.beta1, opt->hp.beta2, opt->hp.eps,
                                        opt->hp.weight_decay, opt->step);
  float *m = opt->m + offset, *v = opt->v + offset;
  for (size_t i = 0; i < count; i++)
    le_adamw_element (&params[i], &m[i], &v[i], grads[i], c);
}

void
le_adamw_step (le_adamw *opt, float *params, const float *grads, double lr)
{
  le_adamw_begin_step (opt);
  le_adamw_update (opt, 0, opt->n, params, grads, lr);
}
