/* loss-scale.c: dynamic loss scaling for fp16 (see loss-scale.h). */
#include "loss-scale.h"

void
le_loss_scaler_init (le_loss_scaler *s, bool enabled)
{
  s->enabled = enabled;
  s->scale = enabled ? LE_LOSS_SCALE_INIT : 1.0;
  s->good_steps = 0;
  s->growth_interval = LE_LOSS_SCALE_GROWTH_INTERVAL;
}

bool
le_loss_scaler_update (le_loss_scaler *s, bool finite, bool *step, le_error *err)
{
  *step = true;
  if (!s->enabled)
    return true;
  if (!finite)
    {
      *step = false;
      s->good_steps = 0;
      if (s->scale * 0.5 < LE_LOSS_SCALE_MIN)
        return le_fail (err, LE_ERR_NUMERIC,
                        "the gradients overflow even without fp16 loss scaling: training "
                        "diverged. Try a lower learning_rate, and mixed_precision: bf16");
      s->scale *= 0.5;
      return true;
    }
  if (++s->good_steps >= s->growth_interval)
    {
      s->scale *= 2.0;
      s->good_steps = 0;
    }
  return true;
}
