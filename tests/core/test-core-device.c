/* test-core-device.c: every op case of core-cases.c on the CUDA backend against the CPU
 * reference (outputs and gradients, same inputs). Skipped (TAP skip-all) when the build has no
 * CUDA backend or no GPU can be used; tests/gpu/device-check.sh runs it on a lent GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-cases.h"
#include "math-common.h"
#include "tap.h"

#define RTOL 2e-3
#define ATOL 2e-4

/* |a - b| <= ATOL * max(1, max|b|) + RTOL * |b| everywhere; the worst excess in *worst */
static bool
close_enough (const float *a, const float *b, int64_t n, double *worst)
{
  double scale = 1.0;
  for (int64_t i = 0; i < n; i++)
    scale = fmax (scale, fabs (b[i]));
  bool ok = true;
  *worst = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]), bound = ATOL * scale + RTOL * fabs (b[i]);
      if (!(d <= bound))
        ok = false;
      if (d / bound > *worst || isnan (d))
        *worst = isnan (d) ? INFINITY : d / bound;
    }
  return ok;
}

static void
run_on (graph *g, const core_case *c, float **inputs, const float *r, float **grads,
        float **out, int64_t *n_out, le_error *err)
{
  for (int j = 0; j < c->n_in; j++)
    if (grads[j])
      memset (grads[j], 0, (size_t) case_numel (&c->in[j]) * sizeof (float));
  *out = core_case_run (g, c, inputs, r, grads, n_out, err);
}

int
main (void)
{
  char why[256] = "";
  if (!cuda_backend_available (why, sizeof why))
    {
      /* TAP's skip-all plan; meson reports the test as skipped */
      printf ("1..0 # SKIP no CUDA backend to compare: %s\n", why);
      return 0;
    }
  le_error err = { 0 };
  const backend *cuda = backend_select ("cuda", &err);
  graph *gc = cuda ? graph_new (cuda, &err) : NULL;
  graph *gh = graph_new (&backend_cpu, &err);
  if (gc == NULL || gh == NULL)
    {
      tap_ok (false, "CUDA backend starts: %s", err.message);
      return tap_done ();
    }
  for (int k = 0; k < n_core_cases; k++)
    {
      const core_case *c = &core_cases[k];
      float *inputs[4] = { NULL }, *gh_[4] = { NULL }, *gc_[4] = { NULL };
      core_case_inputs (c, inputs);
      core_case_grads (c, false, gh_);
      core_case_grads (c, false, gc_);
      int64_t n_out = 0, n_out_c = 0;
      float *probe = core_case_run (gh, c, inputs, NULL, NULL, &n_out, &err);
      free (probe);
      float *r = malloc ((size_t) (n_out ? n_out : 1) * sizeof (float));
      for (int64_t i = 0; i < n_out; i++)
        r[i] = 2.0f * le_rand_uniform (99, (uint64_t) i) - 1.0f;
      float *oh = NULL, *oc = NULL;
      le_error errc = { 0 };
      run_on (gh, c, inputs, r, gh_, &oh, &n_out, &err);
      run_on (gc, c, inputs, r, gc_, &oc, &n_out_c, &errc);
      double worst = 0, w;
      bool ok = oh && oc && n_out == n_out_c && close_enough (oc, oh, n_out, &worst);
      for (int j = 0; ok && j < c->n_in; j++)
        if (gh_[j])
          {
            ok = close_enough (gc_[j], gh_[j], case_numel (&c->in[j]), &w);
            worst = fmax (worst, w);
          }
      tap_ok (ok, "%s: CUDA output and gradients match the CPU (worst %.2f of tolerance)%s%s",
              c->name, worst, oc ? "" : ": ", oc ? "" : errc.message);
      free (oh);
      free (oc);
      free (r);
      core_case_free_buffers (c, inputs);
      core_case_free_buffers (c, gh_);
      core_case_free_buffers (c, gc_);
    }
  graph_free (gc);
  graph_free (gh);
  return tap_done ();
}
