/* gpu-test.h: what the CUDA tests share: a tiny TAP printer, the skip when no CUDA
 * device is usable, seeded random inputs, and "pairs": the same data on the CPU backend
 * and on the CUDA backend, so each kernel runs on both and the results are compared
 * element by element with a tolerance that fits the dtype. Header-only (static). */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GT_EMULATED
#include "config.h"   /* HAVE_CUDA, which backend.h needs to declare backend_cuda */
#endif
#include "backend.h"

#ifdef GT_EMULATED
/* the CPU emulator's backend_cuda (tests/gpu/emu/), renamed by the build */
extern const backend backend_cuda;
#elif !HAVE_CUDA
#error "the CUDA tests are built only with CUDA or against the emulator"
#endif

static int gt_count, gt_failed;
static const backend *gt_cpu, *gt_gpu;

/* Prints "1..0 # SKIP" and exits 0 when no device is usable, so meson marks the test
 * SKIP; otherwise initialises both backends. */
static inline void
gt_start (void)
{
  char why[512];
  le_error err = { 0 };
  if (!cuda_backend_available (why, sizeof why))
    {
      printf ("1..0 # SKIP %s\n", why);
      exit (0);
    }
  gt_cpu = &backend_cpu;
  gt_gpu = &backend_cuda;
  if (!gt_cpu->init (&err) || !gt_gpu->init (&err))
    {
      printf ("Bail out! backend init: %s\n", err.message);
      exit (1);
    }
}

static inline int
gt_finish (void)
{
  printf ("1..%d\n", gt_count);
  return gt_failed ? 1 : 0;
}

static inline void
gt_ok (bool ok, const char *name, const char *detail)
{
  gt_count++;
  if (!ok)
    gt_failed++;
  printf ("%sok %d - %s%s%s\n", ok ? "" : "not ", gt_count, name, detail[0] ? " # " : "", detail);
  fflush (stdout);
}

/* xorshift: reproducible inputs without touching the engine's RNG */
static uint64_t gt_state = 0x9e3779b97f4a7c15ull;

static inline float
gt_uniform (float lo, float hi)
{
  gt_state ^= gt_state << 13;
  gt_state ^= gt_state >> 7;
  gt_state ^= gt_state << 17;
  return lo + (hi - lo) * (float) (gt_state >> 40) / 16777216.0f;
}

/* The same buffer on both backends. */
typedef struct {
  void *c, *g;
  size_t bytes;
} gt_pair;

static inline gt_pair
gt_pair_from (const void *host, size_t bytes)
{
  le_error err = { 0 };
  gt_pair p = { gt_cpu->alloc (bytes, &err), gt_gpu->alloc (bytes, &err), bytes };
  if (p.c == NULL || p.g == NULL)
    {
      printf ("Bail out! alloc %zu: %s\n", bytes, err.message);
      exit (1);
    }
  memcpy (p.c, host, bytes);
  gt_gpu->copy_h2d (p.g, host, bytes);
  return p;
}

static inline gt_pair
gt_rand (int64_t n, float lo, float hi)
{
  float *h = malloc ((size_t) n * sizeof (float));
  for (int64_t i = 0; i < n; i++)
    h[i] = gt_uniform (lo, hi);
  gt_pair p = gt_pair_from (h, (size_t) n * sizeof (float));
  free (h);
  return p;
}

static inline gt_pair
gt_zeros (int64_t n)
{
  float *h = calloc ((size_t) n, sizeof (float));
  gt_pair p = gt_pair_from (h, (size_t) n * sizeof (float));
  free (h);
  return p;
}

static inline gt_pair
gt_ids (int64_t n, int32_t lo, int32_t hi)
{
  int32_t *h = malloc ((size_t) n * sizeof (int32_t));
  for (int64_t i = 0; i < n; i++)
    h[i] = lo + (int32_t) gt_uniform (0.0f, (float) (hi - lo));
  gt_pair p = gt_pair_from (h, (size_t) n * sizeof (int32_t));
  free (h);
  return p;
}

/* F32 data of P rounded to DT (F16/BF16) on both sides. */
static inline gt_pair
gt_as (gt_pair p, le_dtype dt, int64_t n)
{
  size_t bytes = (size_t) n * dtype_size (dt);
  void *h = malloc (bytes);
  tensor_convert_host (h, dt, p.c, LE_F32, (size_t) n);
  gt_pair q = gt_pair_from (h, bytes);
  free (h);
  return q;
}

static inline void
gt_free (gt_pair p)
{
  gt_cpu->free (p.c);
  gt_gpu->free (p.g);
}

/* Compares N floats of P: |gpu - cpu| <= atol + rtol |cpu|. One TAP line. */
static inline bool
gt_check (const char *name, gt_pair p, int64_t n, float atol, float rtol)
{
  le_error err = { 0 };
  float *g = malloc ((size_t) n * sizeof (float));
  if (!gt_gpu->sync (&err))
    {
      gt_ok (false, name, err.message);
      free (g);
      return false;
    }
  gt_gpu->copy_d2h (g, p.g, (size_t) n * sizeof (float));
  const float *c = p.c;
  double worst = 0.0, worst_abs = 0.0;
  int64_t at = -1;
  for (int64_t i = 0; i < n; i++)
    {
      double diff = fabs ((double) g[i] - c[i]);
      double r = diff / (atol + rtol * fabs ((double) c[i]));
      if (!(r <= worst) || isnan (g[i]) != isnan (c[i]))
        {
          worst = isnan (r) ? INFINITY : r;
          worst_abs = diff;
          at = i;
        }
    }
  char detail[256] = "";
  if (worst > 1.0)
    snprintf (detail, sizeof detail, "element %lld: gpu %g cpu %g (|diff| %g)", (long long) at,
              g[at], c[at], worst_abs);
  free (g);
  gt_ok (worst <= 1.0, name, detail);
  return worst <= 1.0;
}

/* Bit-exact comparison of BYTES. */
static inline bool
gt_check_exact (const char *name, gt_pair p, size_t bytes)
{
  le_error err = { 0 };
  unsigned char *g = malloc (bytes);
  bool ok = gt_gpu->sync (&err);
  if (ok)
    {
      gt_gpu->copy_d2h (g, p.g, bytes);
      ok = memcmp (g, p.c, bytes) == 0;
    }
  free (g);
  gt_ok (ok, name, ok ? "" : err.message[0] ? err.message : "bytes differ");
  return ok;
}
