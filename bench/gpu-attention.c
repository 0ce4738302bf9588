/* gpu-attention.c: CUDA benchmarks for the kernels SD 1.5 and LLaMA training lean on.
 *
 *   1. Fused flash attention, forward + backward, at SD 1.5's 512x512 self-attention
 *      (T = 4096, head dims 40 and 64; BF16 and F32), against materialised attention
 *      built from the same backend's cuBLAS products and softmax kernels (T x T scores).
 *   2. cuBLAS products at SD-like shapes: BF16 x BF16, F32 x F32, and F32 activations
 *      against a BF16 weight (the autocast path, conversion included).
 *
 * Prints Markdown table rows (tests/gpu/device-check.sh collects them into
 * device-check.md). Without a usable CUDA device it says so and exits 0. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "cuda/kernels/flash-attn.h"

static const backend *be;

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
dev_alloc (size_t bytes)
{
  le_error err = { 0 };
  void *p = be->alloc (bytes, &err);
  if (p == NULL)
    {
      fprintf (stderr, "gpu-attention: %s\n", err.message);
      exit (1);
    }
  be->memset_zero (p, bytes);
  return p;
}

/* Random F32 data, converted to DT on the device. */
static void *
dev_rand (int64_t n, le_dtype dt)
{
  float *h = malloc ((size_t) n * sizeof (float));
  uint64_t s = 88172645463325252ull + (uint64_t) n;
  for (int64_t i = 0; i < n; i++)
    {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      h[i] = (float) (s >> 40) / 16777216.0f * 2.0f - 1.0f;
    }
  float *f = dev_alloc ((size_t) n * sizeof (float));
  be->copy_h2d (f, h, (size_t) n * sizeof (float));
  free (h);
  if (dt == LE_F32)
    return f;
  void *d = dev_alloc ((size_t) n * dtype_size (dt));
  be->convert (d, dt, f, LE_F32, n);
  be->free (f);
  return d;
}

static bool
sync_or_report (const char *what)
{
  le_error err = { 0 };
  if (be->sync (&err))
    return true;
  printf ("| %s | failed: %s | | |\n", what, err.message);
  return false;
}

/* ---- attention ---- */

typedef struct {
  int b, h, t, d;
  le_dtype dt;
  void *q, *k, *v, *o, *dout, *dq, *dk, *dv;
  float *lse, *ws;
} att;

static att
att_new (int b, int h, int t, int d, le_dtype dt)
{
  att a = { b, h, t, d, dt, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
  int64_t n = (int64_t) b * h * t * d;
  a.q = dev_rand (n, dt), a.k = dev_rand (n, dt), a.v = dev_rand (n, dt);
  a.dout = dev_rand (n, dt);
  a.o = dev_alloc ((size_t) n * dtype_size (dt));
  a.dq = dev_alloc ((size_t) n * dtype_size (dt));
  a.dk = dev_alloc ((size_t) n * dtype_size (dt));
  a.dv = dev_alloc ((size_t) n * dtype_size (dt));
  a.lse = dev_alloc ((size_t) b * h * t * sizeof (float));
  a.ws = dev_alloc ((size_t) b * h * t * sizeof (float));
  return a;
}

static void
att_free (att *a)
{
  void *p[] = { a->q, a->k, a->v, a->o, a->dout, a->dq, a->dk, a->dv, a->lse, a->ws };
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
    be->free (p[i]);
}

static bool
flash_step (att *a, bool backward)
{
  fa_shape s = { a->b, a->h, a->h, a->t, a->t, a->d, false, 0.0f,
                 a->dt == LE_F32 ? FA_F32 : a->dt == LE_F16 ? FA_F16 : FA_BF16, false };
  le_error err = { 0 };
  fa_view q = fa_view_bhtd (a->q, a->h, a->t, a->d), k = fa_view_bhtd (a->k, a->h, a->t, a->d);
  fa_view v = fa_view_bhtd (a->v, a->h, a->t, a->d), o = fa_view_bhtd (a->o, a->h, a->t, a->d);
  bool ok = flash_attn_forward (&s, q, k, v, o, a->lse, NULL, &err);
  if (ok && backward)
    ok = flash_attn_backward (&s, q, k, v, o, a->lse, fa_view_bhtd (a->dout, a->h, a->t, a->d),
                              fa_view_bhtd (a->dq, a->h, a->t, a->d),
                              fa_view_bhtd (a->dk, a->h, a->t, a->d),
                              fa_view_bhtd (a->dv, a->h, a->t, a->d), a->ws, NULL, &err);
  if (!ok)
    fprintf (stderr, "gpu-attention: %s\n", err.message);
  return ok;
}

/* Materialised attention on the backend's own kernels (F32): S = scale Q K^T (B H, T, T),
 * P = softmax (S), O = P V; backward dV = P^T dO, dP = dO V^T, dS = softmax' (dP),
 * dQ = scale dS K, dK = scale dS^T Q. */
static void
naive_step (att *a, float *p, float *dp, float *ds, bool backward)
{
  int64_t bh = (int64_t) a->b * a->h, t = a->t, d = a->d, tt = t * t, td = t * d;
  float scale = 1.0f / sqrtf ((float) d);
  be->matmul (p, a->q, LE_F32, a->k, LE_F32, bh, t, t, d, false, true, td, td, tt, scale, 0.0f);
  be->softmax (p, p, bh * t, t);
  be->matmul (a->o, p, LE_F32, a->v, LE_F32, bh, t, d, t, false, false, tt, td, td, 1.0f, 0.0f);
  if (!backward)
    return;
  be->matmul (a->dv, p, LE_F32, a->dout, LE_F32, bh, t, d, t, true, false, tt, td, td, 1.0f, 0.0f);
  be->matmul (dp, a->dout, LE_F32, a->v, LE_F32, bh, t, t, d, false, true, td, td, tt, 1.0f, 0.0f);
  be->memset_zero (ds, (size_t) (bh * tt) * sizeof (float));
  be->softmax_backward (ds, dp, p, bh * t, t);
  be->matmul (a->dq, ds, LE_F32, a->k, LE_F32, bh, t, d, t, false, false, tt, td, td, scale, 0.0f);
  be->matmul (a->dk, ds, LE_F32, a->q, LE_F32, bh, t, d, t, true, false, tt, td, td, scale, 0.0f);
}

static void
bench_attention (int b, int h, int t, int d, le_dtype dt, bool with_naive)
{
  att a = att_new (b, h, t, d, dt);
  const int iters = 10;
  double flops_fwd = 4.0 * b * h * (double) t * t * d;
  double flops_all = flops_fwd * 3.5;   /* backward is 2.5x forward, FlashAttention's count */
  char what[128];
  for (int pass = 0; pass < 2; pass++)
    {
      bool bwd = pass == 1;
      flash_step (&a, bwd);
      if (!sync_or_report ("flash attention"))
        break;
      double t0 = now_s ();
      for (int i = 0; i < iters; i++)
        flash_step (&a, bwd);
      if (!sync_or_report ("flash attention"))
        break;
      double ms = (now_s () - t0) / iters * 1e3;
      snprintf (what, sizeof what, "flash attention %s %s", bwd ? "fwd+bwd" : "fwd", dtype_name (dt));
      printf ("| %s | B%d H%d T%d D%d | %.3f | %.1f | %.1f MB |\n", what, b, h, t, d, ms,
              (bwd ? flops_all : flops_fwd) / (ms * 1e-3) / 1e12,
              (double) b * h * t * sizeof (float) * 2 / 1e6);
    }
  if (with_naive && dt == LE_F32)
    {
      size_t sbytes = (size_t) b * h * t * t * sizeof (float);
      float *p = dev_alloc (sbytes), *dp = dev_alloc (sbytes), *ds = dev_alloc (sbytes);
      for (int pass = 0; pass < 2; pass++)
        {
          bool bwd = pass == 1;
          naive_step (&a, p, dp, ds, bwd);
          if (!sync_or_report ("materialised attention"))
            break;
          double t0 = now_s ();
          for (int i = 0; i < iters; i++)
            naive_step (&a, p, dp, ds, bwd);
          if (!sync_or_report ("materialised attention"))
            break;
          double ms = (now_s () - t0) / iters * 1e3;
          printf ("| materialised attention %s f32 | B%d H%d T%d D%d | %.3f | %.1f | %.1f MB |\n",
                  bwd ? "fwd+bwd" : "fwd", b, h, t, d, ms,
                  (bwd ? flops_all : flops_fwd) / (ms * 1e-3) / 1e12, sbytes * 3 / 1e6);
        }
      be->free (p);
      be->free (dp);
      be->free (ds);
    }
  att_free (&a);
}

/* ---- products ---- */

static void
bench_gemm (const char *label, int64_t m, int64_t n, int64_t k, le_dtype a_dt, le_dtype b_dt)
{
  void *a = dev_rand (m * k, a_dt), *b = dev_rand (n * k, b_dt);
  float *c = dev_alloc ((size_t) (m * n) * sizeof (float));
  const int iters = 20;
  be->matmul (c, a, a_dt, b, b_dt, 1, m, n, k, false, true, 0, 0, 0, 1.0f, 0.0f);
  if (sync_or_report ("matmul"))
    {
      double t0 = now_s ();
      for (int i = 0; i < iters; i++)
        be->matmul (c, a, a_dt, b, b_dt, 1, m, n, k, false, true, 0, 0, 0, 1.0f, 0.0f);
      if (sync_or_report ("matmul"))
        {
          double ms = (now_s () - t0) / iters * 1e3;
          printf ("| matmul %s %s x %s^T | %lldx%lld @ %lldx%lld | %.3f | %.1f | |\n", label,
                  dtype_name (a_dt), dtype_name (b_dt), (long long) m, (long long) k,
                  (long long) n, (long long) k, ms, 2.0 * m * n * k / (ms * 1e-3) / 1e12);
        }
    }
  be->free (a);
  be->free (b);
  be->free (c);
}

int
main (int argc, char **argv)
{
  char why[512];
  if (!cuda_backend_available (why, sizeof why))
    {
      printf ("gpu-attention: %s; nothing to measure\n", why);
      return 0;
    }
  le_error err = { 0 };
  be = &backend_cuda;
  if (!be->init (&err))
    {
      printf ("gpu-attention: %s\n", err.message);
      return 1;
    }
  bool quick = argc > 1 && strcmp (argv[1], "--quick") == 0;
  printf ("Device: %s\n\n", why);
  printf ("| benchmark | shape | ms | TFLOP/s | attention memory |\n");
  printf ("| --- | --- | --- | --- | --- |\n");
  /* SD 1.5 at 512x512, batch 1: 8 heads of 40 at 64x64 latents (4096 tokens) */
  bench_attention (1, 8, 4096, 40, LE_BF16, false);
  bench_attention (1, 8, 4096, 40, LE_F32, true);
  bench_attention (1, 8, 4096, 64, LE_BF16, false);
  if (!quick)
    {
      bench_attention (1, 8, 4096, 64, LE_F32, true);
      bench_attention (4, 32, 1024, 64, LE_BF16, false);   /* LLaMA-1B-like, T 1024 */
      bench_attention (1, 8, 1024, 80, LE_BF16, false);    /* SD level 2 */
      bench_attention (1, 8, 256, 160, LE_BF16, false);    /* SD level 3 */
    }
  /* SD UNet level 1 projections (4096 tokens x 320), its GEGLU (320 -> 2560), and the
   * 3x3 conv at 320 channels as a GEMM (320 x 2880 @ 2880 x 4096) */
  le_dtype pairs[3][2] = { { LE_BF16, LE_BF16 }, { LE_F32, LE_F32 }, { LE_F32, LE_BF16 } };
  for (int i = 0; i < 3; i++)
    {
      bench_gemm ("attn proj", 4096, 320, 320, pairs[i][0], pairs[i][1]);
      bench_gemm ("geglu in", 4096, 2560, 320, pairs[i][0], pairs[i][1]);
      bench_gemm ("conv 3x3 320", 320, 4096, 2880, pairs[i][0], pairs[i][1]);
      if (!quick)
        bench_gemm ("square 4096", 4096, 4096, 4096, pairs[i][0], pairs[i][1]);
    }
  return 0;
}
