/* scheduler.c: learning-rate schedules (see scheduler.h). */
#include "scheduler.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {
  [LE_SCHED_CONSTANT] = "constant",
  [LE_SCHED_CONSTANT_WITH_WARMUP] = "constant_with_warmup",
  [LE_SCHED_LINEAR] = "linear",
  [LE_SCHED_COSINE] = "cosine",
  [LE_SCHED_COSINE_WITH_RESTARTS] = "cosine_with_restarts",
};

bool
le_sched_kind_from_name (const char *name, le_sched_kind *out, le_error *err)
{
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (name, names[i]) == 0)
      {
        *out = (le_sched_kind) i;
        return true;
      }
  return le_fail (err, LE_ERR_INVALID, "unknown scheduler \"%s\": use constant, "
                  "constant_with_warmup, linear, cosine or cosine_with_restarts", name);
}

const char *
le_sched_kind_name (le_sched_kind kind)
{
  return (unsigned) kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static double
max1 (int64_t x)
{
  return x > 1 ? (double) x : 1.0;
}

double
le_scheduler_factor (const le_scheduler *s, int64_t step)
{
  if (step < s->warmup_steps)
    return (double) step / max1 (s->warmup_steps);
  double progress = (double) (step - s->warmup_steps) / max1 (s->total_steps - s->warmup_steps);
  switch (s->kind)
    {
    case LE_SCHED_CONSTANT:
    case LE_SCHED_CONSTANT_WITH_WARMUP:
      return 1.0;
    case LE_SCHED_LINEAR:
      return fmax (0.0, (double) (s->total_steps - step) / max1 (s->total_steps - s->warmup_steps));
    case LE_SCHED_COSINE:
      {
        double cycles = s->num_cycles > 0 ? s->num_cycles : 0.5;
        return fmax (0.0, 0.5 * (1.0 + cos (M_PI * cycles * 2.0 * progress)));
      }
    case LE_SCHED_COSINE_WITH_RESTARTS:
      {
        double cycles = s->num_cycles > 0 ? s->num_cycles : 1.0;
        if (progress >= 1.0)
          return 0.0;
        return fmax (0.0, 0.5 * (1.0 + cos (M_PI * fmod (cycles * progress, 1.0))));
      }
    }
  return 1.0;
}

double
le_scheduler_lr (const le_scheduler *s, int64_t step)
{
  return s->base_lr * le_scheduler_factor (s, step);
}
