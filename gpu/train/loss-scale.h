/* loss-scale.h: dynamic loss scaling for fp16 mixed precision, as PyTorch's GradScaler
 * does it: the loss is multiplied by SCALE before backward so that small gradients survive
 * half precision; the optimizer divides it out again (before clipping). A step whose
 * scaled gradients are not finite is skipped and the scale halved; after GROWTH_INTERVAL
 * finite steps in a row the scale doubles. The scale and the count of good steps are
 * checkpoint state, so a resumed run scales exactly as an uninterrupted one. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define LE_LOSS_SCALE_INIT 65536.0
#define LE_LOSS_SCALE_GROWTH_INTERVAL 2000
/* Below this an overflow is not a scaling problem: the unscaled gradients overflow. */
#define LE_LOSS_SCALE_MIN 1.0

typedef struct {
  bool enabled;              /* false: scale stays 1 and every step is taken */
  double scale;
  int64_t good_steps;        /* finite steps since the scale last changed */
  int64_t growth_interval;
} le_loss_scaler;

/* ENABLED for fp16 runs; otherwise scale 1 for ever. */
void le_loss_scaler_init (le_loss_scaler *s, bool enabled);

/* After the gradients of one optimizer step: FINITE says whether they were all finite.
 * Returns true when the optimizer should step. A non-finite step halves the scale and
 * returns false; when the scale would fall below LE_LOSS_SCALE_MIN it is an
 * LE_ERR_NUMERIC error instead (the run diverged). Without scaling a non-finite step is
 * left to the caller (returns true). */
bool le_loss_scaler_update (le_loss_scaler *s, bool finite, bool *step, le_error *err);
