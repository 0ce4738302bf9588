/* cpu-matmul.c: CPU matrix products on OpenBLAS (split over OpenMP threads, see
 * cpu_sgemm) and conv2d as im2col + sgemm; also the grow-only scratch buffers they use. F16/BF16 operands are
 * converted into scratch per call rather than cached (see backend.h). */
#include "cpu-kernels.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "math-common.h"

static struct { float *p; size_t n; } scratch[CPU_SCRATCH_N];
static size_t scratch_failed_bytes;   /* reported by cpu_take_error (sync) */

float *
cpu_scratch (int slot, size_t n)
{
  if (scratch[slot].n < n)
    {
      free (scratch[slot].p);
      size_t bytes = ((n * sizeof (float) + 63) / 64) * 64;
      scratch[slot].p = aligned_alloc (64, bytes);
      scratch[slot].n = scratch[slot].p ? n : 0;
      if (scratch[slot].p == NULL)
        scratch_failed_bytes = bytes;
    }
  return scratch[slot].p;
}

bool
cpu_take_error (le_error *err)
{
  if (scratch_failed_bytes == 0)
    return true;
  size_t bytes = scratch_failed_bytes;
  scratch_failed_bytes = 0;
  return le_fail (err, LE_ERR_MEMORY,
                  "out of memory for a CPU kernel's %zu MiB work buffer; results since the "
                  "last check are invalid (try a smaller batch or resolution)", bytes >> 20);
}

const float *
cpu_as_f32 (const void *src, le_dtype dt, size_t n, int slot)
{
  if (dt == LE_F32)
    return src;
  float *dst = cpu_scratch (slot, n);
  if (dst == NULL)
    return NULL;
  const uint16_t *h = src;
  if (dt == LE_BF16)
    {
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t i = 0; i < n; i++)
        dst[i] = le_bf16_to_f32 (h[i]);
    }
  else
    {
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t i = 0; i < n; i++)
        dst[i] = le_f16_to_f32 (h[i]);
    }
  return dst;
}

/* OpenBLAS's own threads and our OpenMP threads must not compete: libgomp keeps idle
 * workers spinning after each parallel region, which starves OpenBLAS's pthreads (one
 * measurement on 2 cores: a LLaMA layer step 4.9 s instead of 0.27 s). So OpenBLAS runs
 * single-threaded and every product is split over the OpenMP threads instead, by rows of
 * C or, when C is wide and short (LoRA's rank-r products), by columns.
 *
 * Products under SGEMM_SPLIT_MIN multiply-adds (~0.1 ms on one core, e.g. LoRA's rank-8
 * products of a 1024-token batch) run on the calling thread: waking the team costs more
 * than it saves. Larger ones are cut into up to 2 pieces per thread of at least
 * SGEMM_PIECE_MIN rows (or columns), taken dynamically, so that when the machine is busy
 * and one thread is descheduled the others take its share instead of waiting at the end
 * of the region; each piece re-packs the other operand, hence the minimum size. */
#define SGEMM_SPLIT_MIN ((double) (1 << 23))
#define SGEMM_PIECE_MIN 64

void
cpu_sgemm (bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
           int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
  static bool blas_single;
  if (!blas_single)
    {
      openblas_set_num_threads (1);
      blas_single = true;
    }
  CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  int threads = omp_in_parallel () ? 1 : omp_get_max_threads ();
  bool by_rows = m >= n;
  int64_t len = by_rows ? m : n;
  int64_t pieces = len / SGEMM_PIECE_MIN;
  if (pieces > 2 * threads)
    pieces = 2 * threads;
  if (threads <= 1 || pieces < 2 || (double) m * (double) n * (double) k < SGEMM_SPLIT_MIN)
    {
      cblas_sgemm (CblasRowMajor, opa, opb, (int) m, (int) n, (int) k, alpha, a, (int) lda,
                   b, (int) ldb, beta, c, (int) ldc);
      return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads (threads)
  for (int64_t p = 0; p < pieces; p++)
    {
      int64_t lo = len * p / pieces, hi = len * (p + 1) / pieces;
      if (by_rows)
        cblas_sgemm (CblasRowMajor, opa, opb, (int) (hi - lo), (int) n, (int) k, alpha,
                     ta ? a + lo : a + lo * lda, (int) lda, b, (int) ldb, beta,
                     c + lo * ldc, (int) ldc);
      else
        cblas_sgemm (CblasRowMajor, opa, opb, (int) m, (int) (hi - lo), (int) k, alpha, a,
                     (int) lda, tb ? b + lo * ldb : b + lo, (int) ldb, beta, c + lo,
                     (int) ldc);
    }
}

void
cpu_matmul (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
            int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b,
            int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha, float beta)
{
  /* elements each operand spans over the whole batch */
  size_t span_a = (size_t) (stride_a * (batch - 1) + m * k);
  size_t span_b = (size_t) (stride_b * (batch - 1) + k * n);
  const float *af = cpu_as_f32 (a, a_dt, span_a, CPU_SCRATCH_A);
  const float *bf = cpu_as_f32 (b, b_dt, span_b, CPU_SCRATCH_B);
  if (af == NULL || bf == NULL)
    return;
  for (int64_t i = 0; i < batch; i++)
    cpu_sgemm (trans_a,
                 trans_b, (int) m, (int) n, (int) k, alpha,
                 af + i * stride_a, trans_a ? (int) m : (int) k,
                 bf + i * stride_b, trans_b ? (int) k : (int) n,
                 beta, c + i * stride_c, (int) n);
}

/* Convolutions are done one tile of output rows at a time, so the column buffer stays
 * under this many floats (32 MiB) even for a VAE layer at 512 x 512 (128 channels x 9
 * taps x 262144 pixels would be 1.2 GB at once). Tests lower it to force many tiles. */
int64_t cpu_conv_col_max = (int64_t) 8 << 20;

static int64_t
tile_rows (const le_conv2d_geom *g)
{
  int64_t per_row = g->c_in * g->kh * g->kw * g->out_w;
  int64_t r = cpu_conv_col_max / per_row;
  return r < 1 ? 1 : r > g->out_h ? g->out_h : r;
}

/* col // (Cin*kh*kw, n*Wo) for output rows [oy0, oy0 + n) of one image x // (Cin, H, W) */
static void
im2col (float *col, const float *x, const le_conv2d_geom *g, int64_t oy0, int64_t n)
{
  int64_t rows = g->c_in * g->kh * g->kw, tw = n * g->out_w;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t ci = r / (g->kh * g->kw), ky = (r / g->kw) % g->kh, kx = r % g->kw;
      float *dst = col + r * tw;
      const float *src = x + ci * g->h * g->w;
      for (int64_t oy = 0; oy < n; oy++)
        {
          int64_t iy = (oy0 + oy) * g->stride - g->pad_t + ky;
          for (int64_t ox = 0; ox < g->out_w; ox++)
            {
              int64_t ix = ox * g->stride - g->pad_l + kx;
              bool in = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
              dst[oy * g->out_w + ox] = in ? src[iy * g->w + ix] : 0.0f;
            }
        }
    }
}

/* dx // (Cin, H, W) += col2im(dcol) for output rows [oy0, oy0 + n) */
static void
col2im_add (float *dx, const float *dcol, const le_conv2d_geom *g, int64_t oy0, int64_t n)
{
  int64_t tw = n * g->out_w;
  /* parallel over input channels: each writes only its own plane */
#pragma omp parallel for schedule(static)
  for (int64_t ci = 0; ci < g->c_in; ci++)
    for (int64_t ky = 0; ky < g->kh; ky++)
      for (int64_t kx = 0; kx < g->kw; kx++)
        {
          const float *src = dcol + ((ci * g->kh + ky) * g->kw + kx) * tw;
          float *dst = dx + ci * g->h * g->w;
          for (int64_t oy = 0; oy < n; oy++)
            {
              int64_t iy = (oy0 + oy) * g->stride - g->pad_t + ky;
              if (iy < 0 || iy >= g->h)
                continue;
              for (int64_t ox = 0; ox < g->out_w; ox++)
                {
                  int64_t ix = ox * g->stride - g->pad_l + kx;
                  if (ix >= 0 && ix < g->w)
                    dst[iy * g->w + ix] += src[oy * g->out_w + ox];
                }
            }
        }
}

/* A 1x1, stride-1, unpadded conv reads the image itself as its column matrix. */
static bool
conv_is_pointwise (const le_conv2d_geom *g)
{
  return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad_t == 0 && g->pad_l == 0
         && g->pad_b == 0 && g->pad_r == 0;
}

static void
add_channel_sums (float *dbias, const float *db, int64_t c_out, int64_t hw)
{
#pragma omp parallel for schedule(static)
  for (int64_t co = 0; co < c_out; co++)
    {
      double s = 0;
      for (int64_t i = 0; i < hw; i++)
        s += db[co * hw + i];
      dbias[co] += (float) s;
    }
}

void
cpu_conv2d (float *out, const float *x, const void *w, le_dtype w_dt, const float *bias,
            const le_conv2d_geom *g)
{
  int64_t kdim = g->c_in * g->kh * g->kw, hw = g->out_h * g->out_w, wo = g->out_w;
  const float *wf = cpu_as_f32 (w, w_dt, (size_t) (g->c_out * kdim), CPU_SCRATCH_W);
  bool pointwise = conv_is_pointwise (g);
  int64_t tr = pointwise ? g->out_h : tile_rows (g);
  float *col = pointwise ? NULL : cpu_scratch (CPU_SCRATCH_COL, (size_t) (kdim * tr * wo));
  if (wf == NULL || (!pointwise && col == NULL))
    return;
  for (int64_t b = 0; b < g->batch; b++)
    {
      const float *xb = x + b * g->c_in * g->h * g->w;
      float *ob = out + b * g->c_out * hw;                     // (Cout, Ho*Wo)
      for (int64_t oy0 = 0; oy0 < g->out_h; oy0 += tr)
        {
          int64_t n = g->out_h - oy0 < tr ? g->out_h - oy0 : tr;
          if (!pointwise)
            im2col (col, xb, g, oy0, n);
          /* out tile // (Cout, n*Wo), row stride Ho*Wo = w // (Cout, K) @ col // (K, n*Wo) */
          cpu_sgemm (false, false, g->c_out, n * wo, kdim, 1.0f, wf, kdim,
                     pointwise ? xb : col, n * wo, 0.0f, ob + oy0 * wo, hw);
        }
      if (bias)
        {
#pragma omp parallel for schedule(static)
          for (int64_t co = 0; co < g->c_out; co++)
            for (int64_t i = 0; i < hw; i++)
              ob[co * hw + i] += bias[co];
        }
    }
}

void
cpu_conv2d_backward (float *dx, float *dw, float *dbias, const float *dout, const float *x,
                     const void *w, le_dtype w_dt, const le_conv2d_geom *g)
{
  int64_t kdim = g->c_in * g->kh * g->kw, hw = g->out_h * g->out_w, wo = g->out_w;
  bool pointwise = conv_is_pointwise (g);
  int64_t tr = pointwise ? g->out_h : tile_rows (g);
  const float *wf = dx ? cpu_as_f32 (w, w_dt, (size_t) (g->c_out * kdim), CPU_SCRATCH_W)
                       : NULL;
  size_t tile = (size_t) (kdim * tr * wo);
  float *col = (!pointwise && dw) ? cpu_scratch (CPU_SCRATCH_COL, tile) : NULL;
  float *dcol = (!pointwise && dx) ? cpu_scratch (CPU_SCRATCH_A, tile) : NULL;
  if ((dx && wf == NULL) || (!pointwise && ((dw && !col) || (dx && !dcol))))
    return;
  for (int64_t b = 0; b < g->batch; b++)
    {
      const float *xb = x + b * g->c_in * g->h * g->w;
      const float *db = dout + b * g->c_out * hw;              // (Cout, Ho*Wo)
      float *dxb = dx ? dx + b * g->c_in * g->h * g->w : NULL;
      for (int64_t oy0 = 0; oy0 < g->out_h; oy0 += tr)
        {
          int64_t n = g->out_h - oy0 < tr ? g->out_h - oy0 : tr;
          const float *dt = db + oy0 * wo;                     // tile, row stride Ho*Wo
          if (dw)
            {
              if (!pointwise)
                im2col (col, xb, g, oy0, n);
              /* dw // (Cout, K) += dout tile // (Cout, n*Wo) @ col^T // (n*Wo, K) */
              cpu_sgemm (false, true, g->c_out, kdim, n * wo, 1.0f, dt, hw,
                         pointwise ? xb : col, n * wo, 1.0f, dw, kdim);
            }
          if (dx)
            {
              /* dcol // (K, n*Wo) = w^T // (K, Cout) @ dout tile // (Cout, n*Wo) */
              cpu_sgemm (true, false, kdim, n * wo, g->c_out, 1.0f, wf, kdim, dt, hw,
                         pointwise ? 1.0f : 0.0f, pointwise ? dxb : dcol, pointwise ? hw : n * wo);
              if (!pointwise)
                col2im_add (dxb, dcol, g, oy0, n);
            }
        }
      if (dbias)
        add_channel_sums (dbias, db, g->c_out, hw);
    }
}
