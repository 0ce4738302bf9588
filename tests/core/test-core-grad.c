/* test-core-grad.c: a central finite-difference check of every op's backward on the CPU.
 *
 * For each case of core-cases.c the analytic gradient of loss = sum(out * r) (r fixed
 * random weights, so every output element matters differently) is compared with
 * (loss(x + h) - loss(x - h)) / 2h, the loss summed in double on the host, at up to
 * CHECKS_PER_INPUT elements of every input that needs a gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core-cases.h"
#include "cpu-kernels.h"
#include "math-common.h"
#include "tap.h"

#define CHECKS_PER_INPUT 24
#define H 1e-2f
#define TOL_ABS 3e-3
#define TOL_REL 2e-2

static double
weighted (const float *out, const float *r, int64_t n)
{
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    s += (double) out[i] * r[i];
  return s;
}

static bool
check_case (graph *g, const core_case *c)
{
  le_error err = { 0 };
  float *inputs[4] = { NULL }, *grads[4] = { NULL };
  core_case_inputs (c, inputs);
  core_case_grads (c, false, grads);
  int64_t n_out = 0;
  bool ok = true;
  float *out = core_case_run (g, c, inputs, NULL, NULL, &n_out, &err);
  float *r = NULL;
  if (out)
    {
      r = malloc ((size_t) n_out * sizeof (float));
      for (int64_t i = 0; i < n_out; i++)
        r[i] = 2.0f * le_rand_uniform (4242, (uint64_t) i) - 1.0f;
      free (out);
      out = core_case_run (g, c, inputs, r, grads, &n_out, &err);
    }
  if (out == NULL)
    {
      tap_ok (false, "%s: runs (%s)", c->name, err.message);
      ok = false;
      goto done;
    }
  free (out);
  double worst = 0;
  int checked = 0;
  for (int j = 0; j < c->n_in && ok; j++)
    {
      if (!c->in[j].grad)
        continue;
      int64_t n = case_numel (&c->in[j]);
      int64_t step = n > CHECKS_PER_INPUT ? n / CHECKS_PER_INPUT : 1;
      for (int64_t i = (j * 7) % step; i < n; i += step)
        {
          float saved = inputs[j][i];
          int64_t m;
          inputs[j][i] = saved + H;
          float *op = core_case_run (g, c, inputs, NULL, NULL, &m, &err);
          inputs[j][i] = saved - H;
          float *om = core_case_run (g, c, inputs, NULL, NULL, &m, &err);
          inputs[j][i] = saved;
          if (!op || !om)
            {
              free (op);
              free (om);
              tap_ok (false, "%s: perturbed run (%s)", c->name, err.message);
              ok = false;
              break;
            }
          double fd = (weighted (op, r, m) - weighted (om, r, m)) / (2.0 * H);
          double an = grads[j][i];
          double diff = fabs (fd - an), bound = TOL_ABS + TOL_REL * fmax (fabs (fd), fabs (an));
          if (diff / bound > worst)
            worst = diff / bound;
          if (diff > bound)
            {
              tap_diag ("%s: input %d element %lld: analytic %.6g, finite difference %.6g",
                        c->name, j, (long long) i, an, fd);
              ok = false;
            }
          checked++;
          free (op);
          free (om);
        }
    }
  if (checked == 0 && ok)
    ok = tap_ok (true, "%s: forward runs (no input needs a gradient)", c->name);
  else
    tap_ok (ok, "%s: %d gradient elements match finite differences (worst %.2f of tolerance)",
            c->name, checked, worst);
done:
  core_case_free_buffers (c, inputs);
  core_case_free_buffers (c, grads);
  free (r);
  return ok;
}

/* The frozen inputs of a case must come back without a gradient; the trainable ones with
 * one that is not all zero (a backward that forgot an input would pass the FD check on
 * the others). */
static void
check_nonzero_grads (graph *g)
{
  for (int k = 0; k < n_core_cases; k++)
    {
      const core_case *c = &core_cases[k];
      if (strcmp (c->op, "concat") != 0 || c->n_in < 3)
        continue;
      /* concat_last3: the middle input is frozen and sits between two trainable ones */
      le_error err = { 0 };
      float *inputs[4] = { NULL }, *grads[4] = { NULL };
      core_case_inputs (c, inputs);
      core_case_grads (c, true, grads);
      int64_t n_out;
      float *out = core_case_run (g, c, inputs, NULL, NULL, &n_out, &err);
      float *r = malloc ((size_t) n_out * sizeof (float));
      for (int64_t i = 0; i < n_out; i++)
        r[i] = 1.0f;
      free (out);
      out = core_case_run (g, c, inputs, r, grads, &n_out, &err);
      bool ok = out != NULL;
      for (int j = 0; ok && j < c->n_in; j++)
        {
          double s = 0;
          for (int64_t i = 0; i < case_numel (&c->in[j]); i++)
            s += fabs (grads[j][i]);
          ok = c->in[j].grad ? s > 0 : s == 0;
        }
      tap_ok (ok, "%s: trainable inputs get gradients, the frozen one none", c->name);
      free (out);
      free (r);
      core_case_free_buffers (c, inputs);
      core_case_free_buffers (c, grads);
    }
}

int
main (void)
{
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  if (g == NULL)
    {
      tap_ok (false, "graph_new: %s", err.message);
      return tap_done ();
    }
  for (int k = 0; k < n_core_cases; k++)
    check_case (g, &core_cases[k]);
  check_nonzero_grads (g);
  /* again with convolutions cut into one-row im2col tiles, as big images are: the same
   * output as in one tile, and gradients that still match finite differences */
  for (int k = 0; k < n_core_cases; k++)
    {
      const core_case *c = &core_cases[k];
      if (strcmp (c->op, "conv2d") != 0)
        continue;
      float *inputs[4] = { NULL };
      core_case_inputs (c, inputs);
      int64_t saved = cpu_conv_col_max, n1 = 0, n2 = 0;
      float *whole = core_case_run (g, c, inputs, NULL, NULL, &n1, &err);
      cpu_conv_col_max = 1;
      float *tiled = core_case_run (g, c, inputs, NULL, NULL, &n2, &err);
      /* equal up to float rounding: OpenBLAS may sum a narrower product in another order */
      double worst = 0;
      for (int64_t i = 0; whole && tiled && i < n1; i++)
        worst = fmax (worst, fabs (whole[i] - tiled[i]) / fmax (1.0, fabs (whole[i])));
      tap_ok (whole && tiled && n1 == n2 && worst < 1e-6,
              "%s: one-row im2col tiles give the same output (max relative difference %.1e)",
              c->name, worst);
      check_case (g, c);
      cpu_conv_col_max = saved;
      free (whole);
      free (tiled);
      core_case_free_buffers (c, inputs);
    }
  graph_free (g);
  return tap_done ();
}
