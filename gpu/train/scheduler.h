/* scheduler.h: learning-rate schedules with linear warmup, the same formulas as Hugging
 * Face transformers' get_*_schedule_with_warmup (so configs mean what users expect).
 *
 * The schedule is a pure function of the step (its whole state is the step counter that
 * the checkpoint stores), which makes resuming exact. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef enum {
  LE_SCHED_CONSTANT,               /* warmup, then 1 (get_constant_schedule[_with_warmup]) */
  LE_SCHED_CONSTANT_WITH_WARMUP,
  LE_SCHED_LINEAR,                 /* warmup, then down to 0 at total_steps */
  LE_SCHED_COSINE,                 /* warmup, then half a cosine (num_cycles 0.5) */
  LE_SCHED_COSINE_WITH_RESTARTS,   /* warmup, then num_cycles hard-restarted cosines */
} le_sched_kind;

typedef struct {
  le_sched_kind kind;
  double base_lr;
  int64_t warmup_steps;
  int64_t total_steps;
  double num_cycles;   /* <= 0: the default, 0.5 for cosine and 1 for restarts */
} le_scheduler;

/* "cosine" -> LE_SCHED_COSINE; an unknown name is an error listing the known ones. */
bool le_sched_kind_from_name (const char *name, le_sched_kind *out, le_error *err);
const char *le_sched_kind_name (le_sched_kind kind);

/* The multiplier of base_lr at optimizer step STEP (0-based, as LambdaLR counts). */
double le_scheduler_factor (const le_scheduler *s, int64_t step);
double le_scheduler_lr (const le_scheduler *s, int64_t step);
