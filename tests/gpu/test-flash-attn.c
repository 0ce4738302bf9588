/* test-flash-attn.c: the fused flash-attention kernels (gpu/cuda/kernels/flash-attn.h)
 * against a plain double-precision attention written here, independent of both backends:
 * every supported head-dim bucket (16 .. 160, SD's 40/80/160 and LLaMA's 64/128), F32,
 * F16 and BF16 inputs, causal masks, grouped-query heads, Tq != Tk (cross-attention and
 * one-token decoding), a (B, T, H, D) strided layout, NULL gradients, accumulation, and
 * SD's 4096-token self-attention. Skips without a CUDA device. */
#include "gpu-test.h"
#include "kernels/flash-attn.h"

typedef struct {
  int b, h, hkv, tq, tk, d;
  bool causal;
  fa_dtype dt;
  bool bthd;          /* (B, T, H, D) layout instead of (B, H, T, D) */
} fa_case;

static le_dtype
le_of (fa_dtype dt)
{
  return dt == FA_F32 ? LE_F32 : dt == FA_F16 ? LE_F16 : LE_BF16;
}

/* Element (b, h, t, x) of a tensor with NH heads and T tokens in the case's layout. */
static int64_t
at (const fa_case *c, int nh, int t_len, int b, int h, int t, int x)
{
  if (c->bthd)
    return (((int64_t) b * t_len + t) * nh + h) * c->d + x;
  return (((int64_t) b * nh + h) * t_len + t) * c->d + x;
}

static fa_view
view_of (const fa_case *c, void *data, int nh, int t_len)
{
  fa_view v = fa_view_bhtd (data, nh, t_len, c->d);
  if (c->bthd)
    {
      v.token_stride = (long) nh * c->d;
      v.head_stride = c->d;
      v.batch_stride = (long) t_len * nh * c->d;
    }
  return v;
}

/* Host values rounded to the case's dtype: what the kernel sees. */
static float *
rounded_rand (int64_t n, fa_dtype dt, void **dev_copy)
{
  float *h = malloc ((size_t) n * sizeof (float));
  for (int64_t i = 0; i < n; i++)
    h[i] = gt_uniform (-1.0f, 1.0f);
  le_dtype ld = le_of (dt);
  size_t bytes = (size_t) n * dtype_size (ld);
  void *typed = malloc (bytes);
  tensor_convert_host (typed, ld, h, LE_F32, (size_t) n);
  tensor_convert_host (h, LE_F32, typed, ld, (size_t) n);
  le_error err = { 0 };
  *dev_copy = gt_gpu->alloc (bytes, &err);
  gt_gpu->copy_h2d (*dev_copy, typed, bytes);
  free (typed);
  return h;
}

static void *
dev_zeros (int64_t n, fa_dtype dt)
{
  le_error err = { 0 };
  size_t bytes = (size_t) n * dtype_size (le_of (dt));
  void *p = gt_gpu->alloc (bytes, &err);
  gt_gpu->memset_zero (p, bytes);
  return p;
}

static float *
download (const void *dev, int64_t n, fa_dtype dt)
{
  le_dtype ld = le_of (dt);
  size_t bytes = (size_t) n * dtype_size (ld);
  void *typed = malloc (bytes);
  float *h = malloc ((size_t) n * sizeof (float));
  gt_gpu->copy_d2h (typed, dev, bytes);
  tensor_convert_host (h, LE_F32, typed, ld, (size_t) n);
  free (typed);
  return h;
}

static bool
visible (const fa_case *c, int i, int j)
{
  return !c->causal || j <= i + (c->tk - c->tq);
}

/* Reference forward and backward for rows i % row_step == 0 (all rows: row_step 1).
 * dq is filled for those rows; dk and dv only when row_step == 1. */
static void
reference (const fa_case *c, const float *q, const float *k, const float *v, const float *dout,
           int row_step, double *o, double *lse, double *dq, double *dk, double *dv)
{
  int group = c->h / c->hkv, d = c->d;
  double scale = 1.0 / sqrt ((double) d);
  double *p = malloc ((size_t) c->tk * sizeof (double));
  double *dp = malloc ((size_t) c->tk * sizeof (double));
  for (int b = 0; b < c->b; b++)
    for (int h = 0; h < c->h; h++)
      for (int i = 0; i < c->tq; i += row_step)
        {
          int kvh = h / group;
          double mx = -INFINITY;
          for (int j = 0; j < c->tk; j++)
            {
              p[j] = -INFINITY;
              if (!visible (c, i, j))
                continue;
              double s = 0;
              for (int x = 0; x < d; x++)
                s += (double) q[at (c, c->h, c->tq, b, h, i, x)] * k[at (c, c->hkv, c->tk, b, kvh, j, x)];
              p[j] = s * scale;
              mx = fmax (mx, p[j]);
            }
          double sum = 0;
          for (int j = 0; j < c->tk; j++)
            {
              p[j] = p[j] == -INFINITY ? 0.0 : exp (p[j] - mx);
              sum += p[j];
            }
          int64_t row = ((int64_t) b * c->h + h) * c->tq + i;
          lse[row] = sum > 0 ? mx + log (sum) : -INFINITY;
          for (int j = 0; j < c->tk; j++)
            p[j] = sum > 0 ? p[j] / sum : 0.0;
          double pdp = 0;
          for (int j = 0; j < c->tk; j++)
            {
              double s = 0;
              for (int x = 0; x < d; x++)
                s += (double) dout[at (c, c->h, c->tq, b, h, i, x)] * v[at (c, c->hkv, c->tk, b, kvh, j, x)];
              dp[j] = s;
              pdp += p[j] * s;
            }
          for (int x = 0; x < d; x++)
            {
              double acc = 0, gq = 0;
              for (int j = 0; j < c->tk; j++)
                {
                  acc += p[j] * v[at (c, c->hkv, c->tk, b, kvh, j, x)];
                  gq += p[j] * (dp[j] - pdp) * scale * k[at (c, c->hkv, c->tk, b, kvh, j, x)];
                }
              o[at (c, c->h, c->tq, b, h, i, x)] = acc;
              dq[at (c, c->h, c->tq, b, h, i, x)] = gq;
            }
          if (row_step != 1)
            continue;
          for (int j = 0; j < c->tk; j++)
            {
              double ds = p[j] * (dp[j] - pdp) * scale;
              for (int x = 0; x < d; x++)
                {
                  dk[at (c, c->hkv, c->tk, b, kvh, j, x)] += ds * q[at (c, c->h, c->tq, b, h, i, x)];
                  dv[at (c, c->hkv, c->tk, b, kvh, j, x)] += p[j] * dout[at (c, c->h, c->tq, b, h, i, x)];
                }
            }
        }
  free (p);
  free (dp);
}

/* Worst |got - want| / (atol + rtol |want|) over rows i % row_step == 0 of (B, NH, T, D). */
static double
worst (const fa_case *c, const float *got, const double *want, int nh, int t_len, int row_step,
       double atol, double rtol)
{
  double w = 0;
  for (int b = 0; b < c->b; b++)
    for (int h = 0; h < nh; h++)
      for (int t = 0; t < t_len; t += row_step)
        for (int x = 0; x < c->d; x++)
          {
            int64_t i = at (c, nh, t_len, b, h, t, x);
            double r = fabs (got[i] - want[i]) / (atol + rtol * fabs (want[i]));
            if (!(r <= w))
              w = isnan (r) ? INFINITY : r;
          }
  return w;
}

static void
run_case (const fa_case *c, int row_step)
{
  const char *dtn[] = { "f32", "f16", "bf16" };
  char shape[160];
  snprintf (shape, sizeof shape, "%s B%d H%d Hkv%d Tq%d Tk%d D%d%s%s", dtn[c->dt], c->b, c->h,
            c->hkv, c->tq, c->tk, c->d, c->causal ? " causal" : "", c->bthd ? " (B,T,H,D)" : "");
  int64_t nq = (int64_t) c->b * c->h * c->tq * c->d, nk = (int64_t) c->b * c->hkv * c->tk * c->d;
  void *dq_, *dk_, *dv_, *ddo;
  float *q = rounded_rand (nq, c->dt, &dq_), *k = rounded_rand (nk, c->dt, &dk_);
  float *v = rounded_rand (nk, c->dt, &dv_), *dout = rounded_rand (nq, c->dt, &ddo);
  void *o_ = dev_zeros (nq, c->dt), *gq = dev_zeros (nq, c->dt), *gk = dev_zeros (nk, c->dt);
  void *gv = dev_zeros (nk, c->dt);
  le_error err = { 0 };
  float *lse_ = gt_gpu->alloc ((size_t) c->b * c->h * c->tq * sizeof (float), &err);
  fa_shape s = { c->b, c->h, c->hkv, c->tq, c->tk, c->d, c->causal, 0.0f, c->dt, false };
  void *ws = gt_gpu->alloc (flash_attn_backward_workspace (&s), &err);
  bool ok = flash_attn_forward (&s, view_of (c, dq_, c->h, c->tq), view_of (c, dk_, c->hkv, c->tk),
                                view_of (c, dv_, c->hkv, c->tk), view_of (c, o_, c->h, c->tq), lse_,
                                NULL, &err)
            && flash_attn_backward (&s, view_of (c, dq_, c->h, c->tq), view_of (c, dk_, c->hkv, c->tk),
                                    view_of (c, dv_, c->hkv, c->tk), view_of (c, o_, c->h, c->tq), lse_,
                                    view_of (c, ddo, c->h, c->tq), view_of (c, gq, c->h, c->tq),
                                    view_of (c, gk, c->hkv, c->tk), view_of (c, gv, c->hkv, c->tk), ws,
                                    NULL, &err)
            && gt_gpu->sync (&err);
  char name[256];
  snprintf (name, sizeof name, "flash attention runs: %s", shape);
  gt_ok (ok, name, ok ? "" : err.message);
  if (ok)
    {
      double *ro = calloc ((size_t) nq, sizeof (double)), *rl = calloc ((size_t) c->b * c->h * c->tq, sizeof (double));
      double *rq = calloc ((size_t) nq, sizeof (double)), *rk = calloc ((size_t) nk, sizeof (double));
      double *rv = calloc ((size_t) nk, sizeof (double));
      reference (c, q, k, v, dout, row_step, ro, rl, rq, rk, rv);
      float *o = download (o_, nq, c->dt), *g_q = download (gq, nq, c->dt);
      float *g_k = download (gk, nk, c->dt), *g_v = download (gv, nk, c->dt);
      float *lse = malloc ((size_t) c->b * c->h * c->tq * sizeof (float));
      gt_gpu->copy_d2h (lse, lse_, (size_t) c->b * c->h * c->tq * sizeof (float));
      /* outputs are rounded to the dtype once; sums stay F32 */
      double tol = c->dt == FA_F32 ? 2e-4 : c->dt == FA_F16 ? 4e-3 : 2e-2;
      double wl = 0;
      for (int64_t r = 0; r < (int64_t) c->b * c->h * c->tq; r += 1)
        if ((r % c->tq) % row_step == 0)
          {
            double e = isinf (rl[r]) ? (isinf (lse[r]) ? 0 : INFINITY) : fabs (lse[r] - rl[r]) / (1e-4 + 1e-4 * fabs (rl[r]));
            wl = e > wl ? e : wl;
          }
      double wo = worst (c, o, ro, c->h, c->tq, row_step, tol, tol);
      double wq = worst (c, g_q, rq, c->h, c->tq, row_step, tol, tol * 2);
      char detail[128];
      snprintf (name, sizeof name, "flash attention output and lse: %s", shape);
      snprintf (detail, sizeof detail, "worst error / tolerance: out %.3g lse %.3g", wo, wl);
      gt_ok (wo <= 1 && wl <= 1, name, wo <= 1 && wl <= 1 ? "" : detail);
      snprintf (name, sizeof name, "flash attention dq: %s", shape);
      snprintf (detail, sizeof detail, "worst error / tolerance %.3g", wq);
      gt_ok (wq <= 1, name, wq <= 1 ? "" : detail);
      if (row_step == 1)
        {
          double wk = worst (c, g_k, rk, c->hkv, c->tk, 1, tol, tol * 2);
          double wv = worst (c, g_v, rv, c->hkv, c->tk, 1, tol, tol * 2);
          snprintf (name, sizeof name, "flash attention dk, dv: %s", shape);
          snprintf (detail, sizeof detail, "worst error / tolerance: dk %.3g dv %.3g", wk, wv);
          gt_ok (wk <= 1 && wv <= 1, name, wk <= 1 && wv <= 1 ? "" : detail);
        }
      free (ro); free (rl); free (rq); free (rk); free (rv);
      free (o); free (g_q); free (g_k); free (g_v); free (lse);
    }
  free (q); free (k); free (v); free (dout);
  void *dev[] = { dq_, dk_, dv_, ddo, o_, gq, gk, gv, lse_, ws };
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
    gt_gpu->free (dev[i]);
}

/* dq NULL is skipped; accumulate adds to what dk already holds. */
static void
test_null_and_accumulate (void)
{
  fa_case c = { 1, 2, 2, 40, 40, 64, true, FA_F32, false };
  int64_t nq = 2 * 40 * 64;
  void *q_, *dout_;
  float *q = rounded_rand (nq, FA_F32, &q_), *dout = rounded_rand (nq, FA_F32, &dout_);
  void *o_ = dev_zeros (nq, FA_F32), *dk1 = dev_zeros (nq, FA_F32), *dk2 = dev_zeros (nq, FA_F32);
  le_error err = { 0 };
  float *lse_ = gt_gpu->alloc (2 * 40 * sizeof (float), &err);
  fa_shape s = { 1, 2, 2, 40, 40, 64, true, 0.0f, FA_F32, false };
  void *ws = gt_gpu->alloc (flash_attn_backward_workspace (&s), &err);
  fa_view vq = view_of (&c, q_, 2, 40), vo = view_of (&c, o_, 2, 40), vd = view_of (&c, dout_, 2, 40);
  fa_view none = { NULL, 0, 0, 0 };
  bool ok = flash_attn_forward (&s, vq, vq, vq, vo, lse_, NULL, &err)
            && flash_attn_backward (&s, vq, vq, vq, vo, lse_, vd, none, view_of (&c, dk1, 2, 40), none,
                                    ws, NULL, &err);
  s.accumulate = true;
  ok = ok && flash_attn_backward (&s, vq, vq, vq, vo, lse_, vd, none, view_of (&c, dk2, 2, 40), none,
                                  ws, NULL, &err)
       && flash_attn_backward (&s, vq, vq, vq, vo, lse_, vd, none, view_of (&c, dk2, 2, 40), none,
                               ws, NULL, &err)
       && gt_gpu->sync (&err);
  float *a = download (dk1, nq, FA_F32), *b = download (dk2, nq, FA_F32);
  double w = 0;
  for (int64_t i = 0; i < nq; i++)
    w = fmax (w, fabs (b[i] - 2 * a[i]) / (1e-6 + 1e-5 * fabs (a[i])));
  gt_ok (ok && w <= 1, "flash attention: NULL gradients skipped, accumulate adds",
         ok ? "" : err.message);
  free (q); free (dout); free (a); free (b);
  void *dev[] = { q_, dout_, o_, dk1, dk2, lse_, ws };
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
    gt_gpu->free (dev[i]);
}

static void
test_refusals (void)
{
  le_error err = { 0 };
  fa_shape s = { 1, 3, 2, 8, 8, 64, false, 0.0f, FA_F32, false };
  gt_ok (!flash_attn_check (&s, &err) && strstr (err.message, "multiple") != NULL,
         "3 query heads on 2 kv heads are refused", err.message);
  fa_shape big = { 1, 1, 1, 8, 8, 256, false, 0.0f, FA_BF16, false };
  gt_ok (!flash_attn_check (&big, &err) && err.code == LE_ERR_UNSUPPORTED,
         "head dim 256 is refused as unsupported", err.message);
}

int
main (void)
{
  gt_start ();
  fa_case cases[] = {
    { 2, 4, 4, 77, 77, 16, false, FA_F32, false },
    { 1, 8, 8, 130, 130, 40, false, FA_BF16, false },    /* SD level 1 */
    { 1, 8, 8, 100, 77, 40, false, FA_F16, false },      /* SD cross-attention */
    { 2, 8, 2, 96, 96, 64, true, FA_BF16, false },       /* LLaMA GQA */
    { 1, 4, 1, 65, 65, 64, true, FA_F32, true },         /* (B, T, H, D) layout */
    { 1, 8, 8, 64, 77, 80, false, FA_BF16, false },      /* SD level 2 */
    { 1, 4, 2, 70, 70, 128, true, FA_F16, false },       /* LLaMA 2 / 3 8B */
    { 1, 2, 2, 40, 40, 160, false, FA_F32, false },      /* SD level 3 */
    { 1, 2, 2, 33, 33, 160, true, FA_BF16, false },
    { 1, 4, 4, 1, 50, 64, true, FA_F32, false },         /* one new token, cache of 50 */
    { 1, 2, 2, 50, 20, 32, true, FA_F32, false },        /* early rows see no key */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case (&cases[i], 1);
#ifndef GT_EMULATED
  /* SD 1.5 self-attention at 512x512: 4096 tokens, D 40; rows checked every 127th
   * (minutes on the CPU emulator, so only on a real device) */
  fa_case sd = { 1, 2, 2, 4096, 4096, 40, false, FA_BF16, false };
  run_case (&sd, 127);
#endif
  test_null_and_accumulate ();
  test_refusals ();
  return gt_finish ();
}
