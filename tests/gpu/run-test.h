/* run-test.h: what the whole-run GPU tests (test-cuda-train.c, test-cuda-sd-run.c) share:
 * the two backends under test (the emulator's backend_cuda or the real one), TAP through
 * tests/core/tap.h, the start (skip without a usable device, a scratch folder, both
 * backends ready) and the end, the relative L2 error, two safetensors files compared
 * tensor by tensor, and a run's losses read back from metrics.jsonl. Header-only
 * (static): each test is one translation unit. */
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GT_EMULATED
#include "config.h"   /* HAVE_CUDA: backend.h then declares the real backend_cuda */
#endif
#include "backend.h"
#include "safetensors.h"
#include "../core/tap.h"

#ifdef GT_EMULATED
extern const backend backend_cuda;            /* the emulator's, see meson.build */
unsigned long cuda_emu_copy_misuse (void);
#elif !HAVE_CUDA
#error "built only with CUDA or against the emulator"
#endif

/* the scratch folder of this run, removed at the end when every test passed */
static char tmp[256];
static const backend *cpu = &backend_cpu, *dev = &backend_cuda;

/* Set-up that cannot go on: TAP's "Bail out!" and exit. */
static void
bail (const char *what, const char *msg)
{
  printf ("Bail out! %s: %s\n", what, msg);
  exit (1);
}

/* Prints a TAP skip and exits 0 when the real backend has no usable device (the emulator
 * always has one); else makes /tmp/NAME-XXXXXX the scratch folder and starts both
 * backends. */
static inline void
run_test_start (const char *name)
{
#ifndef GT_EMULATED
  char why[256];
  if (!cuda_backend_available (why, sizeof why))
    {
      printf ("1..0 # SKIP %s\n", why);
      exit (0);
    }
#endif
  le_error e = { 0 };
  snprintf (tmp, sizeof tmp, "/tmp/%s-XXXXXX", name);
  if (mkdtemp (tmp) == NULL)
    bail ("setup", "cannot make a scratch folder in /tmp");
  if (!cpu->init (&e) || !dev->init (&e))
    bail ("setup", e.message);
}

/* Removes the scratch folder when all passed (kept to look at otherwise), prints the plan
 * and returns the exit status. */
static inline int
run_test_finish (void)
{
  char cmd[400];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (tap_failed == 0 && system (cmd) != 0)
    printf ("# could not remove %s\n", tmp);
  return tap_done ();
}

/* ||a - b|| / ||a||: the error of a whole vector, which BF16/F16 products (the device
 * rounds F32 activations to the weights' type, as autocast does; the CPU widens the
 * weights instead) and Adam (whose first steps move every weight by about lr, whatever
 * the gradient's size, so near-zero gradients of either sign differ by 2 lr) perturb
 * element by element far more than as a whole */
static inline double
rel_l2 (const float *a, const float *b, int64_t n)
{
  double d = 0, s = 0;
  for (int64_t i = 0; i < n; i++)
    {
      d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
      s += (double) a[i] * a[i];
    }
  return s > 0 ? sqrt (d / s) : sqrt (d);
}

/* Every tensor of two safetensors files in F32, those whose name contains SKIP (when not
 * NULL) left out: returns the worst relative L2 error of a tensor, and in *ALL (when not
 * NULL) that of all of them together; both INFINITY when a file does not open, the counts
 * differ, or a name or size of A is not in B. *N_TENSORS: how many were compared. */
static inline double
compare_st (const char *pa, const char *pb, const char *skip, int *n_tensors, double *all)
{
  double d2 = 0, s2 = 0;
  le_error e = { 0 };
  st_file *a = st_open (pa, &e), *b = a ? st_open (pb, &e) : NULL;
  double worst = a && b && st_count (a) == st_count (b) ? 0 : INFINITY;
  *n_tensors = 0;
  for (size_t i = 0; a && b && isfinite (worst) && i < st_count (a); i++)
    {
      const st_tensor *ta = st_at (a, i), *tb = st_find (b, ta->name);
      if (tb == NULL || tb->numel != ta->numel)
        {
          worst = INFINITY;
          break;
        }
      if (skip != NULL && strstr (ta->name, skip) != NULL)
        continue;
      float *fa = malloc (ta->numel * sizeof (float) + 4), *fb = malloc (ta->numel * sizeof (float) + 4);
      if (st_to_f32 (ta, fa, ta->numel, &e) && st_to_f32 (tb, fb, tb->numel, &e))
        {
          double d = rel_l2 (fa, fb, (int64_t) ta->numel);
          worst = d > worst || isnan (d) ? d : worst;
          (*n_tensors)++;
          for (size_t j = 0; j < ta->numel; j++)
            {
              d2 += ((double) fa[j] - fb[j]) * ((double) fa[j] - fb[j]);
              s2 += (double) fa[j] * fa[j];
            }
        }
      free (fa);
      free (fb);
    }
  if (a)
    st_close (a);
  if (b)
    st_close (b);
  if (all != NULL)
    *all = isfinite (worst) && s2 > 0 ? sqrt (d2 / s2) : INFINITY;
  return worst;
}

/* Losses of OUT/metrics.jsonl by step (1-based) into LOSSES; returns the last step seen. */
static inline int
read_losses (const char *out, double *losses, int max)
{
  char path[512], line[1024];
  snprintf (path, sizeof path, "%s/metrics.jsonl", out);
  FILE *f = fopen (path, "r");
  int n = 0;
  while (f != NULL && fgets (line, sizeof line, f) != NULL)
    {
      const char *s = strstr (line, "\"step\":"), *l = strstr (line, "\"loss\":");
      if (s == NULL || l == NULL)
        continue;
      int step = atoi (s + 7);
      if (step >= 1 && step <= max)
        {
          losses[step - 1] = strtod (l + 7, NULL);
          n = step > n ? step : n;
        }
    }
  if (f != NULL)
    fclose (f);
  return n;
}
