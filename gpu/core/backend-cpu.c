/* backend-cpu.c: the CPU backend, the reference every other backend is tested against.
 * Memory, element-wise, layout, reduction, lookup, dropout, loss and optimiser kernels
 * live here; products (cpu-matmul.c), normalisations (cpu-norm.c) and attention
 * (cpu-attention.c) in their own files. Loops run on OpenMP threads; the element math is
 * math-common.h's, the same the CUDA kernels use. */
#include "cpu-kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act-math.h"
#include "math-common.h"

/* ---- memory ---- */

static bool
cpu_init (le_error *err)
{
  (void) err;
  return true;
}

static void *
cpu_alloc (size_t bytes, le_error *err)
{
  size_t rounded = ((bytes ? bytes : 1) + 255) / 256 * 256;
  void *p = aligned_alloc (256, rounded);
  if (p == NULL)
    le_fail (err, LE_ERR_MEMORY, "out of memory allocating %zu MiB on the CPU",
             bytes >> 20);
  return p;
}

static void cpu_free (void *p) { free (p); }
static void cpu_memset_zero (void *p, size_t bytes) { memset (p, 0, bytes); }
static void cpu_copy (void *dst, const void *src, size_t bytes) { memmove (dst, src, bytes); }

static bool
cpu_sync (le_error *err)
{
  return cpu_take_error (err);
}

/* ---- element-wise ---- */

static void
cpu_convert (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, int64_t n)
{
  tensor_convert_host (dst, dst_dt, src, src_dt, (size_t) n);
}

static void
cpu_fill (float *x, float value, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++)
    x[i] = value;
}

static void
cpu_axpby (float *out, float alpha, const float *a, float beta, const float *b, int64_t n)
{
  if (b)
    {
#pragma omp parallel for schedule(static) if (n > 32768)
      for (int64_t i = 0; i < n; i++)
        out[i] = alpha * a[i] + beta * b[i];
    }
  else
    {
#pragma omp parallel for schedule(static) if (n > 32768)
      for (int64_t i = 0; i < n; i++)
        out[i] = alpha * a[i];
    }
}

static void
cpu_mul (float *out, const float *a, const float *b, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++)
    out[i] = a[i] * b[i];
}

static void
cpu_mul_backward (float *da, float *db, const float *dout, const float *a, const float *b,
                  int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++)
    {
      float g = dout[i], av = a[i], bv = b[i];   /* a and b may be the same tensor */
      if (da)
        da[i] += g * bv;
      if (db)
        db[i] += g * av;
    }
}

static void
cpu_act_forward (le_act act, float *out, const float *x, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    out[i] = le_act_value (act, x[i]);
}

static void
cpu_act_backward (le_act act, float *dx, const float *dout, const float *x, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    dx[i] += dout[i] * le_act_grad (act, x[i]);
}

static void
cpu_geglu (float *out, const float *x, int64_t n, int64_t c)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    for (int64_t i = 0; i < c; i++)
      out[r * c + i] = x[r * 2 * c + i] * le_gelu (x[r * 2 * c + c + i]);
}

static void
cpu_geglu_backward (float *dx, const float *dout, const float *x, int64_t n, int64_t c)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    for (int64_t i = 0; i < c; i++)
      {
        float a = x[r * 2 * c + i], gt = x[r * 2 * c + c + i], g = dout[r * c + i];
        dx[r * 2 * c + i] += g * le_gelu (gt);
        dx[r * 2 * c + c + i] += g * a * le_gelu_grad (gt);
      }
}

static void
cpu_swiglu (float *out, const float *gate, const float *up, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    out[i] = le_silu (gate[i]) * up[i];
}

static void
cpu_swiglu_backward (float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, int64_t n)
{
  /* le_silu_grad and le_silu written out to share one sigmoid (one expf, not two) */
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    {
      float x = gate[i], s = le_sigmoid (x);
      if (dgate)
        dgate[i] += dout[i] * up[i] * (s * (1.0f + x * (1.0f - s)));
      if (dup)
        dup[i] += dout[i] * (x * s);
    }
}

/* ---- broadcast, layout ---- */

static void
cpu_bias_add (float *out, const float *x, const float *b, int64_t outer, int64_t c,
              int64_t inner, int64_t b_outer)
{
  if (inner == 1)
    {
      /* A linear layer's bias (the common case): a row of C per output row, which the
       * compiler vectorises; no division or modulo per element (they were 10-15% of a
       * CLIP forward pass). */
#pragma omp parallel for schedule(static)
      for (int64_t o = 0; o < outer; o++)
        {
          const float *bias = b + (o % b_outer) * c;
          const float *xo = x + o * c;
          float *yo = out + o * c;
          for (int64_t ch = 0; ch < c; ch++)
            yo[ch] = xo[ch] + bias[ch];
        }
      return;
    }
  /* Per-channel bias over INNER positions (convolutions): rows of INNER. */
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t ch = 0; ch < c; ch++)
      {
        float bv = b[(o % b_outer) * c + ch];
        const float *xr = x + (o * c + ch) * inner;
        float *yr = out + (o * c + ch) * inner;
        for (int64_t i = 0; i < inner; i++)
          yr[i] = xr[i] + bv;
      }
}

static void
cpu_bias_add_backward (float *db, const float *dout, int64_t outer, int64_t c, int64_t inner,
                       int64_t b_outer)
{
  /* each bias element sums its own (o, i) set: parallel over bias elements */
#pragma omp parallel for schedule(static)
  for (int64_t bi = 0; bi < b_outer * c; bi++)
    {
      int64_t bo = bi / c, ch = bi % c;
      double s = 0;
      for (int64_t o = bo; o < outer; o += b_outer)
        for (int64_t i = 0; i < inner; i++)
          s += dout[(o * c + ch) * inner + i];
      db[bi] += (float) s;
    }
}

static void
cpu_permute (float *out, const float *x, const int64_t shape[4], const int perm[4],
             bool accumulate)
{
  int64_t in_stride[4], os[4];
  in_stride[3] = 1;
  for (int d = 2; d >= 0; d--)
    in_stride[d] = in_stride[d + 1] * shape[d + 1];
  for (int d = 0; d < 4; d++)
    os[d] = shape[perm[d]];
  int64_t st[4] = { in_stride[perm[0]], in_stride[perm[1]], in_stride[perm[2]],
                    in_stride[perm[3]] };
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i0 = 0; i0 < os[0]; i0++)
    for (int64_t i1 = 0; i1 < os[1]; i1++)
      {
        float *o = out + (i0 * os[1] + i1) * os[2] * os[3];
        const float *base = x + i0 * st[0] + i1 * st[1];
        for (int64_t i2 = 0; i2 < os[2]; i2++)
          for (int64_t i3 = 0; i3 < os[3]; i3++)
            {
              float v = base[i2 * st[2] + i3 * st[3]];
              if (accumulate)
                o[i2 * os[3] + i3] += v;
              else
                o[i2 * os[3] + i3] = v;
            }
      }
}

static void
cpu_slice_copy (float *dst, int64_t dst_len, int64_t dst_off, const float *src,
                int64_t src_len, int64_t src_off, int64_t outer, int64_t n, int64_t inner,
                bool accumulate)
{
#pragma omp parallel for schedule(static) if (outer * n * inner > 32768)
  for (int64_t o = 0; o < outer; o++)
    {
      float *d = dst + (o * dst_len + dst_off) * inner;
      const float *s = src + (o * src_len + src_off) * inner;
      if (accumulate)
        for (int64_t i = 0; i < n * inner; i++)
          d[i] += s[i];
      else
        memcpy (d, s, (size_t) (n * inner) * sizeof (float));
    }
}

static void
cpu_upsample2x (float *out, const float *x, int64_t bc, int64_t h, int64_t w)
{
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < bc; p++)
    for (int64_t y = 0; y < 2 * h; y++)
      for (int64_t xx = 0; xx < 2 * w; xx++)
        out[(p * 2 * h + y) * 2 * w + xx] = x[(p * h + y / 2) * w + xx / 2];
}

static void
cpu_upsample2x_backward (float *dx, const float *dout, int64_t bc, int64_t h, int64_t w)
{
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < bc; p++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t xx = 0; xx < w; xx++)
        {
          const float *g = dout + (p * 2 * h + 2 * y) * 2 * w + 2 * xx;
          dx[(p * h + y) * w + xx] += g[0] + g[1] + g[2 * w] + g[2 * w + 1];
        }
}

/* ---- reductions ---- */

static void
cpu_row_sum (float *out, const float *x, int64_t n, int64_t c, float scale)
{
#pragma omp parallel for schedule(static) if (n > 1)
  for (int64_t r = 0; r < n; r++)
    {
      double s = 0;
      for (int64_t i = 0; i < c; i++)
        s += x[r * c + i];
      out[r] = (float) s * scale;
    }
}

static void
cpu_row_sum_backward (float *dx, const float *dout, int64_t n, int64_t c, float scale)
{
#pragma omp parallel for schedule(static) if (n * c > 32768)
  for (int64_t r = 0; r < n; r++)
    for (int64_t i = 0; i < c; i++)
      dx[r * c + i] += dout[r] * scale;
}

static void
cpu_sumsq (float *out, const float *x, int64_t n)
{
  double s = 0;
#pragma omp parallel for reduction(+:s) schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++)
    s += (double) x[i] * x[i];
  out[0] = (float) s;
}

/* ---- lookups ---- */

static void
cpu_embedding (float *out, const void *table, le_dtype table_dt, const int32_t *ids,
               int64_t n, int64_t c, int64_t v)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      int64_t id = ids[r];
      float *o = out + r * c;
      if (id < 0 || id >= v)
        {
          memset (o, 0, (size_t) c * sizeof (float));
          continue;
        }
      tensor_convert_host (o, LE_F32, (const char *) table + id * c * dtype_size (table_dt),
                           table_dt, (size_t) c);
    }
}

static void
cpu_embedding_backward (float *dtable, const float *dout, const int32_t *ids, int64_t n,
                        int64_t c, int64_t v)
{
  /* rows may repeat an id: threads split the channels, never the rows */
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < c; i++)
    for (int64_t r = 0; r < n; r++)
      {
        int64_t id = ids[r];
        if (id >= 0 && id < v)
          dtable[id * c + i] += dout[r * c + i];
      }
}

/* ---- regularisation ---- */

static void
cpu_dropout (float *out, const float *x, int64_t n, float p, uint64_t seed, uint64_t offset)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    out[i] = x[i] * le_dropout_scale (seed, offset + (uint64_t) i, p);
}

static void
cpu_dropout_backward (float *dx, const float *dout, int64_t n, float p, uint64_t seed,
                      uint64_t offset)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    dx[i] += dout[i] * le_dropout_scale (seed, offset + (uint64_t) i, p);
}

/* ---- losses ---- */

static void
cpu_cross_entropy (float *losses, float *lse, const float *logits, const int32_t *targets,
                   int64_t n, int64_t v)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      const float *l = logits + r * v;
      float mx = -INFINITY;
      for (int64_t i = 0; i < v; i++)
        mx = l[i] > mx ? l[i] : mx;   /* fmaxf's NaN rule, inlined (it was a call) */
      double s = 0;
      for (int64_t i = 0; i < v; i++)
        s += expf (l[i] - mx);
      lse[r] = mx + (float) log (s);
      int64_t t = targets[r];
      losses[r] = (t >= 0 && t < v) ? lse[r] - l[t] : 0.0f;
    }
}

static void
cpu_cross_entropy_backward (float *dlogits, const float *dloss, const float *logits,
                            const float *lse, const int32_t *targets, int64_t n, int64_t v,
                            float scale)
{
  float k = scale * dloss[0];
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      int64_t t = targets[r];
      if (t < 0 || t >= v)
        continue;
      const float *l = logits + r * v;
      float *d = dlogits + r * v;
      for (int64_t i = 0; i < v; i++)
        d[i] += k * (expf (l[i] - lse[r]) - (i == t ? 1.0f : 0.0f));
    }
}

/* ---- optimiser ---- */

static void
cpu_adamw (float *p, const float *grad, float *m, float *v, int64_t n, float lr, float beta1,
           float beta2, float eps, float weight_decay, float bc1, float bc2, float grad_scale)
{
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++)
    {
      float g = grad[i] * grad_scale;
      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      float update = (m[i] / bc1) / (sqrtf (v[i] / bc2) + eps);
      p[i] -= lr * (update + weight_decay * p[i]);
    }
}

const backend backend_cpu = {
  .name = "cpu",
  .device = LE_CPU,
  .init = cpu_init,
  .alloc = cpu_alloc,
  .free = cpu_free,
  .memset_zero = cpu_memset_zero,
  .copy_h2d = cpu_copy,
  .copy_d2h = cpu_copy,
  .copy_d2d = cpu_copy,
  .sync = cpu_sync,
  .convert = cpu_convert,
  .fill = cpu_fill,
  .axpby = cpu_axpby,
  .mul = cpu_mul,
  .mul_backward = cpu_mul_backward,
  .act_forward = cpu_act_forward,
  .act_backward = cpu_act_backward,
  .bias_add = cpu_bias_add,
  .bias_add_backward = cpu_bias_add_backward,
  .permute = cpu_permute,
  .slice_copy = cpu_slice_copy,
  .upsample2x = cpu_upsample2x,
  .upsample2x_backward = cpu_upsample2x_backward,
  .row_sum = cpu_row_sum,
  .row_sum_backward = cpu_row_sum_backward,
  .sumsq = cpu_sumsq,
  .matmul = cpu_matmul,
  .embedding = cpu_embedding,
  .embedding_backward = cpu_embedding_backward,
  .rmsnorm = cpu_rmsnorm,
  .rmsnorm_backward = cpu_rmsnorm_backward,
  .layernorm = cpu_layernorm,
  .layernorm_backward = cpu_layernorm_backward,
  .groupnorm = cpu_groupnorm,
  .groupnorm_backward = cpu_groupnorm_backward,
  .softmax = cpu_softmax,
  .softmax_backward = cpu_softmax_backward,
  .geglu = cpu_geglu,
  .geglu_backward = cpu_geglu_backward,
  .swiglu = cpu_swiglu,
  .swiglu_backward = cpu_swiglu_backward,
  .rope = cpu_rope,
  .rope_backward = cpu_rope_backward,
  .attention = cpu_attention,
  .attention_backward = cpu_attention_backward,
  .conv2d = cpu_conv2d,
  .conv2d_backward = cpu_conv2d_backward,
  .dropout = cpu_dropout,
  .dropout_backward = cpu_dropout_backward,
  .cross_entropy = cpu_cross_entropy,
  .cross_entropy_backward = cpu_cross_entropy_backward,
  .adamw = cpu_adamw,
};
