/* cuda-reduce.cu: backend_cuda's row reductions: row sums, the sum of squares that
 * gradient clipping needs (deterministic two-stage, no atomics), softmax and the masked
 * cross-entropy, each with its backward. One block per row; rows are independent. */
#include "cuda-backend-impl.h"

__global__ void
k_row_sum (float *out, const float *x, int64_t c, float scale)
{
  const float *row = x + blockIdx.x * c;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    s += row[j];
  s = cb_block_sum (s);
  if (threadIdx.x == 0)
    out[blockIdx.x] = scale * s;
}

extern "C" void
cb_row_sum (float *out, const float *x, int64_t n, int64_t c, float scale)
{
  CB_LAUNCH (k_row_sum, (unsigned) n, CB_THREADS, out, x, c, scale);
  cb_check_launch ("row sum");
}

__global__ void
k_row_sum_backward (float *dx, const float *dout, int64_t n, int64_t c, float scale)
{
  CB_FOR (i, n * c)
    dx[i] += scale * dout[i / c];
}

extern "C" void
cb_row_sum_backward (float *dx, const float *dout, int64_t n, int64_t c, float scale)
{
  CB_LAUNCH (k_row_sum_backward, cb_blocks (n * c), CB_THREADS, dx, dout, n, c, scale);
  cb_check_launch ("row sum backward");
}

#define SUMSQ_BLOCKS 512

__global__ void
k_sumsq_partial (float *partial, const float *x, int64_t n)
{
  float s = 0.0f;
  CB_FOR (i, n)
    s += x[i] * x[i];
  s = cb_block_sum (s);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = s;
}

__global__ void
k_sum_partials (float *out, const float *partial, int count)
{
  float s = 0.0f;
  for (int i = threadIdx.x; i < count; i += blockDim.x)
    s += partial[i];
  s = cb_block_sum (s);
  if (threadIdx.x == 0)
    out[0] = s;
}

extern "C" void
cb_sumsq (float *out, const float *x, int64_t n)
{
  float *partial = (float *) cb_scratch (CB_SCRATCH_REDUCE, SUMSQ_BLOCKS * sizeof (float));
  if (partial == NULL)
    return;
  CB_LAUNCH (k_sumsq_partial, SUMSQ_BLOCKS, CB_THREADS, partial, x, n);
  CB_LAUNCH (k_sum_partials, 1, CB_THREADS, out, partial, SUMSQ_BLOCKS);
  cb_check_launch ("sum of squares");
}

__global__ void
k_softmax (float *out, const float *x, int64_t c)
{
  const float *row = x + blockIdx.x * c;
  float *o = out + blockIdx.x * c;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    m = fmaxf (m, row[j]);
  m = cb_block_max (m);
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    s += expf (row[j] - m);
  s = cb_block_sum (s);
  float inv = 1.0f / s;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    o[j] = expf (row[j] - m) * inv;
}

extern "C" void
cb_softmax (float *out, const float *x, int64_t n, int64_t c)
{
  CB_LAUNCH (k_softmax, (unsigned) n, CB_THREADS, out, x, c);
  cb_check_launch ("softmax");
}

__global__ void
k_softmax_backward (float *dx, const float *dout, const float *out, int64_t c)
{
  int64_t base = blockIdx.x * c;
  float dot = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    dot += dout[base + j] * out[base + j];
  dot = cb_block_sum (dot);
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    dx[base + j] += out[base + j] * (dout[base + j] - dot);
}

extern "C" void
cb_softmax_backward (float *dx, const float *dout, const float *out, int64_t n, int64_t c)
{
  CB_LAUNCH (k_softmax_backward, (unsigned) n, CB_THREADS, dx, dout, out, c);
  cb_check_launch ("softmax backward");
}

__global__ void
k_cross_entropy (float *losses, float *lse, const float *logits, const int32_t *targets,
                 int64_t v)
{
  const float *row = logits + blockIdx.x * v;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
    m = fmaxf (m, row[j]);
  m = cb_block_max (m);
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
    s += expf (row[j] - m);
  s = cb_block_sum (s);
  if (threadIdx.x == 0)
    {
      float l = m + logf (s);
      int32_t t = targets[blockIdx.x];
      lse[blockIdx.x] = l;
      losses[blockIdx.x] = t >= 0 && t < v ? l - row[t] : 0.0f;
    }
}

extern "C" void
cb_cross_entropy (float *losses, float *lse, const float *logits, const int32_t *targets,
                  int64_t n, int64_t v)
{
  CB_LAUNCH (k_cross_entropy, (unsigned) n, CB_THREADS, losses, lse, logits, targets, v);
  cb_check_launch ("cross entropy");
}

__global__ void
k_cross_entropy_backward (float *dlogits, const float *dloss, const float *logits,
                          const float *lse, const int32_t *targets, int64_t n, int64_t v,
                          float scale)
{
  CB_FOR (i, n * v)
    {
      int64_t r = i / v, j = i % v;
      int32_t t = targets[r];
      if (t < 0 || t >= v)
        continue;
      float p = expf (logits[i] - lse[r]);
      dlogits[i] += scale * dloss[0] * (p - (j == t ? 1.0f : 0.0f));
    }
}

extern "C" void
cb_cross_entropy_backward (float *dlogits, const float *dloss, const float *logits,
                           const float *lse, const int32_t *targets, int64_t n, int64_t v,
                           float scale)
{
  CB_LAUNCH (k_cross_entropy_backward, cb_blocks (n * v), CB_THREADS, dlogits, dloss, logits, lse,
             targets, n, v, scale);
  cb_check_launch ("cross entropy backward");
}
