/* bench-step.h: what the training-step benchmarks (llama-cpu-bench, llama-gpu-bench,
 * sd-bench) share: clocks, a sort order for medians, the device's peak memory, and the
 * part of a step after the loss (backward, AdamW, zeroed gradients, a sync so that the
 * step's time is the device's too). Header-only: device-check.sh builds each bench from
 * its one .c file. */
#pragma once

#include <math.h>
#include <stdio.h>
#include <time.h>

#include "graph.h"
#include "param-store.h"

static inline double
bench_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int
bench_cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The most device memory seen in use by bench_note_memory, in bytes. */
static size_t bench_mem_peak;

static inline void
bench_note_memory (const backend *be)
{
  size_t used = 0, total = 0;
  if (be->mem_info != NULL && be->mem_info (&used, &total) && used > bench_mem_peak)
    bench_mem_peak = used;
}

/* Backward from LOSS (NULL: the forward failed), AdamW step number STEP (from 1) on the
 * store's trainable tensors with MOMENTS (2 x N floats), gradients zeroed, the device
 * synchronised; FALSE after printing what failed, prefixed with NAME. */
static inline bool
bench_optimizer_step (const char *name, const backend *be, graph *g, tensor *loss,
                      param_store *ps, float *moments, size_t n, int step)
{
  le_error err = { 0 };
  double st = (double) step;

  if (loss == NULL || !graph_backward (g, loss, &err))
    {
      graph_take_error (g, &err);
      fprintf (stderr, "%s: %s\n", name, err.message);
      return false;
    }
  be->adamw (ps->train_data, ps->train_grad, moments, moments + n, (int64_t) n, 1e-4f, 0.9f,
             0.999f, 1e-8f, 0.01f, (float) (1 - pow (0.9, st)), (float) (1 - pow (0.999, st)),
             1.0f);
  param_store_zero_grad (ps);
  bench_note_memory (be);
  if (!be->sync (&err))
    {
      fprintf (stderr, "%s: %s\n", name, err.message);
      return false;
    }
  return true;
}
