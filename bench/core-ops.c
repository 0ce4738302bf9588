/* core-ops.c: times the core's CPU ops on one LLaMA-style decoder layer with LoRA on
 * q_proj and v_proj (frozen BF16 base weights), forward + backward, so the CPU path can be
 * compared with PyTorch (core-ops-torch.py builds the same layer). Run by hand:
 *   _build/bench/core-ops [B T C H HKV FF]   (defaults 4 256 512 8 4 1376) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "math-common.h"
#include "ops.h"
#include "param-store.h"

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static tensor *
add_param (param_store *ps, const char *name, le_dtype dt, int64_t r, int64_t c, bool train)
{
  int64_t s[2] = { r, c };
  le_error err;
  tensor *t = param_store_add (ps, name, dt, c ? 2 : 1, s, train, &err);
  if (!t)
    {
      fprintf (stderr, "%s\n", err.message);
      exit (1);
    }
  return t;
}

int
main (int argc, char **argv)
{
  int64_t B = argc > 1 ? atoll (argv[1]) : 4, T = argc > 2 ? atoll (argv[2]) : 256;
  int64_t C = argc > 3 ? atoll (argv[3]) : 512, H = argc > 4 ? atoll (argv[4]) : 8;
  int64_t HKV = argc > 5 ? atoll (argv[5]) : 4, FF = argc > 6 ? atoll (argv[6]) : 1376;
  int64_t D = C / H, R = 8;
  le_error err;
  const backend *be = &backend_cpu;
  param_store *ps = param_store_new (be, &err);
  tensor *norm1 = add_param (ps, "norm1", LE_F32, C, 0, false);
  tensor *wq = add_param (ps, "q", LE_BF16, C, C, false);
  tensor *wk = add_param (ps, "k", LE_BF16, HKV * D, C, false);
  tensor *wv = add_param (ps, "v", LE_BF16, HKV * D, C, false);
  tensor *wo = add_param (ps, "o", LE_BF16, C, C, false);
  tensor *norm2 = add_param (ps, "norm2", LE_F32, C, 0, false);
  tensor *wg = add_param (ps, "gate", LE_BF16, FF, C, false);
  tensor *wu = add_param (ps, "up", LE_BF16, FF, C, false);
  tensor *wd = add_param (ps, "down", LE_BF16, C, FF, false);
  tensor *qa = add_param (ps, "q.A", LE_F32, R, C, true);
  tensor *qb = add_param (ps, "q.B", LE_F32, C, R, true);
  tensor *va = add_param (ps, "v.A", LE_F32, R, C, true);
  tensor *vb = add_param (ps, "v.B", LE_F32, HKV * D, R, true);
  if (!param_store_commit (ps, &err))
    return fprintf (stderr, "%s\n", err.message), 1;
  for (int i = 0; i < ps->n_tensors; i++)
    {
      tensor *t = ps->tensors[i];
      float *h = malloc ((size_t) t->numel * 4);
      for (int64_t j = 0; j < t->numel; j++)
        h[j] = t->ndim == 1 ? 1.0f : 0.05f * (2 * le_rand_uniform (i, j) - 1);
      void *c = malloc ((size_t) t->numel * 4);
      tensor_convert_host (c, t->dtype, h, LE_F32, t->numel);
      param_store_upload (ps, t, c, tensor_bytes (t), &err);
      free (h);
      free (c);
    }
  float *cos_h = malloc (T * D * 4), *sin_h = malloc (T * D * 4);
  rope_table_build (cos_h, sin_h, T, D, 10000.0f, NULL);
  float *xh = malloc (B * T * C * 4);
  for (int64_t j = 0; j < B * T * C; j++)
    xh[j] = 2 * le_rand_uniform (77, j) - 1;

  graph *g = graph_new (be, &err);
  double best = 1e9;
  for (int it = 0; it < 6; it++)
    {
      graph_reset (g);
      param_store_zero_grad (ps);
      double t0 = now ();
      int64_t xs[3] = { B, T, C }, ts[2] = { T, D };
      tensor *x = graph_from_host (g, LE_F32, 3, xs, xh, "x");        // (B, T, C)
      tensor *cs = graph_from_host (g, LE_F32, 2, ts, cos_h, "cos");
      tensor *sn = graph_from_host (g, LE_F32, 2, ts, sin_h, "sin");
      tensor *h = op_rmsnorm (g, x, norm1, 1e-5f);
      tensor *q = op_add (g, op_linear (g, h, wq, NULL),
                          op_scale (g, op_linear (g, op_linear (g, h, qa, NULL), qb, NULL), 2.0f));
      tensor *k = op_linear (g, h, wk, NULL);
      tensor *v = op_add (g, op_linear (g, h, wv, NULL),
                          op_scale (g, op_linear (g, op_linear (g, h, va, NULL), vb, NULL), 2.0f));
      int perm[4] = { 0, 2, 1, 3 };
      int64_t qs[4] = { B, T, H, D }, ks[4] = { B, T, HKV, D };
      q = op_rope (g, op_permute (g, op_reshape (g, q, 4, qs), perm), cs, sn, 0);  // (B, H, T, D)
      k = op_rope (g, op_permute (g, op_reshape (g, k, 4, ks), perm), cs, sn, 0);  // (B, HKV, T, D)
      v = op_permute (g, op_reshape (g, v, 4, ks), perm);
      tensor *a = op_attention (g, q, k, v, true, 1.0f / sqrtf ((float) D));
      a = op_reshape (g, op_permute (g, a, perm), 3, xs);              // (B, T, C)
      x = op_add (g, x, op_linear (g, a, wo, NULL));
      h = op_rmsnorm (g, x, norm2, 1e-5f);
      h = op_linear (g, op_swiglu (g, op_linear (g, h, wg, NULL), op_linear (g, h, wu, NULL)),
                     wd, NULL);
      x = op_add (g, x, h);
      tensor *loss = op_mean (g, op_mul (g, x, x));
      double t1 = now ();
      if (!graph_backward (g, loss, &err))
        return fprintf (stderr, "%s\n", err.message), 1;
      double t2 = now ();
      if (it > 0 && t2 - t0 < best)
        best = t2 - t0;
      if (it == 5)
        printf ("core-ops: B=%lld T=%lld C=%lld H=%lld HKV=%lld FF=%lld: forward %.1f ms, "
                "backward %.1f ms, best step %.1f ms, arena peak %.1f MiB, loss %.6f\n",
                (long long) B, (long long) T, (long long) C, (long long) H, (long long) HKV,
                (long long) FF, (t1 - t0) * 1e3, (t2 - t1) * 1e3, best * 1e3,
                graph_peak_bytes (g) / 1048576.0, graph_item (g, loss));
    }
  graph_free (g);
  param_store_free (ps);
  return 0;
}
