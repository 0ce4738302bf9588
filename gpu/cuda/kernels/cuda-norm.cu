/* cuda-norm.cu: backend_cuda's normalisations with saved statistics: RMSNorm, LayerNorm
 * and GroupNorm, forward and backward. Statistics are two-pass (mean, then the mean of
 * squared deviations) like the CPU, and the biased variance as in PyTorch. Weight and
 * bias gradients are column sums done without atomics, so they are deterministic. */
#include "cuda-backend-impl.h"

/* ---- RMSNorm: out = x * rstd * w, rstd = 1 / sqrt (mean (x^2) + eps) ---- */

__global__ void
k_rmsnorm (float *out, float *rstd, const float *x, const float *w, int64_t c, float eps)
{
  const float *row = x + blockIdx.x * c;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    s += row[j] * row[j];
  s = cb_block_sum (s);
  float r = 1.0f / sqrtf (s / (float) c + eps);
  if (threadIdx.x == 0)
    rstd[blockIdx.x] = r;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    out[blockIdx.x * c + j] = row[j] * r * (w != NULL ? w[j] : 1.0f);
}

extern "C" void
cb_rmsnorm (float *out, float *rstd, const float *x, const float *w, int64_t n, int64_t c,
            float eps)
{
  CB_LAUNCH (k_rmsnorm, (unsigned) n, CB_THREADS, out, rstd, x, w, c, eps);
  cb_check_launch ("rmsnorm");
}

/* dx = rstd (w dout - x rstd^2 mean (w dout x)) */
__global__ void
k_rmsnorm_backward_dx (float *dx, const float *dout, const float *x, const float *w,
                       const float *rstd, int64_t c)
{
  int64_t base = blockIdx.x * c;
  float r = rstd[blockIdx.x];
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    s += (w != NULL ? w[j] : 1.0f) * dout[base + j] * x[base + j];
  s = cb_block_sum (s) / (float) c;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    {
      float g = (w != NULL ? w[j] : 1.0f) * dout[base + j];
      dx[base + j] += r * (g - x[base + j] * r * r * s);
    }
}

/* dw[j] += sum_n dout xhat; db[j] += sum_n dout, xhat = (x - mean) rstd (mean NULL: 0).
 * Blocks of 32 columns x 8 row lanes, summed in shared memory. */
__global__ void
k_norm_param_grads (float *dw, float *db, const float *dout, const float *x, const float *mean,
                    const float *rstd, int64_t n, int64_t c)
{
  __shared__ float sw[8][33], sb[8][33];
  int64_t j = blockIdx.x * 32 + threadIdx.x;
  float gw = 0.0f, gb = 0.0f;
  if (j < c)
    for (int64_t r = threadIdx.y; r < n; r += 8)
      {
        float g = dout[r * c + j];
        float xhat = (x[r * c + j] - (mean != NULL ? mean[r] : 0.0f)) * rstd[r];
        gw += g * xhat;
        gb += g;
      }
  sw[threadIdx.y][threadIdx.x] = gw;
  sb[threadIdx.y][threadIdx.x] = gb;
  __syncthreads ();
  if (threadIdx.y == 0 && j < c)
    {
      for (int y = 1; y < 8; y++)
        {
          gw += sw[y][threadIdx.x];
          gb += sb[y][threadIdx.x];
        }
      if (dw != NULL)
        dw[j] += gw;
      if (db != NULL)
        db[j] += gb;
    }
}

static void
norm_param_grads (float *dw, float *db, const float *dout, const float *x, const float *mean,
                  const float *rstd, int64_t n, int64_t c)
{
  if (dw == NULL && db == NULL)
    return;
  CB_LAUNCH (k_norm_param_grads, (unsigned) ((c + 31) / 32), dim3 (32, 8), dw, db, dout, x, mean,
             rstd, n, c);
  cb_check_launch ("norm weight gradient");
}

extern "C" void
cb_rmsnorm_backward (float *dx, float *dw, const float *dout, const float *x, const float *w,
                     const float *rstd, int64_t n, int64_t c)
{
  if (dx != NULL)
    {
      CB_LAUNCH (k_rmsnorm_backward_dx, (unsigned) n, CB_THREADS, dx, dout, x, w, rstd, c);
      cb_check_launch ("rmsnorm backward");
    }
  norm_param_grads (dw, NULL, dout, x, NULL, rstd, n, c);
}

/* ---- LayerNorm ---- */

__global__ void
k_layernorm (float *out, float *mean, float *rstd, const float *x, const float *w,
             const float *b, int64_t c, float eps)
{
  const float *row = x + blockIdx.x * c;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    s += row[j];
  float mu = cb_block_sum (s) / (float) c;
  float v = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    v += (row[j] - mu) * (row[j] - mu);
  float r = 1.0f / sqrtf (cb_block_sum (v) / (float) c + eps);
  if (threadIdx.x == 0)
    {
      mean[blockIdx.x] = mu;
      rstd[blockIdx.x] = r;
    }
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    out[blockIdx.x * c + j] = (row[j] - mu) * r * (w != NULL ? w[j] : 1.0f)
                              + (b != NULL ? b[j] : 0.0f);
}

extern "C" void
cb_layernorm (float *out, float *mean, float *rstd, const float *x, const float *w,
              const float *b, int64_t n, int64_t c, float eps)
{
  CB_LAUNCH (k_layernorm, (unsigned) n, CB_THREADS, out, mean, rstd, x, w, b, c, eps);
  cb_check_launch ("layernorm");
}

/* dx = rstd (g - mean (g) - xhat mean (g xhat)), g = dout w, over the elements of one
 * normalised row or group. Shared by LayerNorm (CH = 1 channel per row, weight per
 * column) and GroupNorm (weight per channel of S elements). */
__device__ void
norm_backward_dx (float *dx, const float *dout, const float *x, const float *w, float mu,
                  float r, int64_t count, int64_t s, int64_t c0)
{
  float sg = 0.0f, sgx = 0.0f;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
    {
      float g = dout[j] * (w != NULL ? w[c0 + j / s] : 1.0f);
      sg += g;
      sgx += g * (x[j] - mu) * r;
    }
  sg = cb_block_sum (sg) / (float) count;
  sgx = cb_block_sum (sgx) / (float) count;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
    {
      float g = dout[j] * (w != NULL ? w[c0 + j / s] : 1.0f);
      dx[j] += r * (g - sg - (x[j] - mu) * r * sgx);
    }
}

__global__ void
k_layernorm_backward_dx (float *dx, const float *dout, const float *x, const float *w,
                         const float *mean, const float *rstd, int64_t c)
{
  int64_t base = blockIdx.x * c;
  /* s = 1: the weight index is the column */
  norm_backward_dx (dx + base, dout + base, x + base, w, mean[blockIdx.x], rstd[blockIdx.x], c,
                    1, 0);
}

extern "C" void
cb_layernorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                       const float *w, const float *mean, const float *rstd, int64_t n,
                       int64_t c)
{
  if (dx != NULL)
    {
      CB_LAUNCH (k_layernorm_backward_dx, (unsigned) n, CB_THREADS, dx, dout, x, w, mean, rstd, c);
      cb_check_launch ("layernorm backward");
    }
  norm_param_grads (dw, db, dout, x, mean, rstd, n, c);
}

/* ---- GroupNorm: x // (B, C, S); one block per (b, group) ---- */

__global__ void
k_groupnorm (float *out, float *mean, float *rstd, const float *x, const float *w,
             const float *b, int64_t c, int64_t s, int64_t groups, float eps)
{
  int64_t bg = blockIdx.x, g = bg % groups, cpg = c / groups;
  int64_t count = cpg * s, base = bg * count;   /* groups are contiguous in (B, C, S) */
  const float *px = x + base;
  float sum = 0.0f;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
    sum += px[j];
  float mu = cb_block_sum (sum) / (float) count;
  float v = 0.0f;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
    v += (px[j] - mu) * (px[j] - mu);
  float r = 1.0f / sqrtf (cb_block_sum (v) / (float) count + eps);
  if (threadIdx.x == 0)
    {
      mean[bg] = mu;
      rstd[bg] = r;
    }
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
    {
      int64_t ch = g * cpg + j / s;
      out[base + j] = (px[j] - mu) * r * (w != NULL ? w[ch] : 1.0f) + (b != NULL ? b[ch] : 0.0f);
    }
}

extern "C" void
cb_groupnorm (float *out, float *mean, float *rstd, const float *x, const float *w,
              const float *b, int64_t batch, int64_t c, int64_t s, int64_t groups, float eps)
{
  CB_LAUNCH (k_groupnorm, (unsigned) (batch * groups), CB_THREADS, out, mean, rstd, x, w, b, c, s,
             groups, eps);
  cb_check_launch ("groupnorm");
}

__global__ void
k_groupnorm_backward_dx (float *dx, const float *dout, const float *x, const float *w,
                         const float *mean, const float *rstd, int64_t c, int64_t s,
                         int64_t groups)
{
  int64_t bg = blockIdx.x, g = bg % groups, cpg = c / groups;
  int64_t count = cpg * s, base = bg * count;
  norm_backward_dx (dx + base, dout + base, x + base, w, mean[bg], rstd[bg], count, s, g * cpg);
}

/* One block per channel: sums over batch and positions. */
__global__ void
k_groupnorm_param_grads (float *dw, float *db, const float *dout, const float *x,
                         const float *mean, const float *rstd, int64_t batch, int64_t c,
                         int64_t s, int64_t groups)
{
  int64_t ch = blockIdx.x, g = ch / (c / groups);
  float gw = 0.0f, gb = 0.0f;
  for (int64_t j = threadIdx.x; j < batch * s; j += blockDim.x)
    {
      int64_t b = j / s, i = j % s, at = (b * c + ch) * s + i;
      float xhat = (x[at] - mean[b * groups + g]) * rstd[b * groups + g];
      gw += dout[at] * xhat;
      gb += dout[at];
    }
  gw = cb_block_sum (gw);
  gb = cb_block_sum (gb);
  if (threadIdx.x == 0)
    {
      if (dw != NULL)
        dw[ch] += gw;
      if (db != NULL)
        db[ch] += gb;
    }
}

extern "C" void
cb_groupnorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                       const float *w, const float *mean, const float *rstd, int64_t batch,
                       int64_t c, int64_t s, int64_t groups)
{
  if (dx != NULL)
    {
      CB_LAUNCH (k_groupnorm_backward_dx, (unsigned) (batch * groups), CB_THREADS, dx, dout, x, w,
                 mean, rstd, c, s, groups);
      cb_check_launch ("groupnorm backward");
    }
  if (dw != NULL || db != NULL)
    {
      CB_LAUNCH (k_groupnorm_param_grads, (unsigned) c, CB_THREADS, dw, db, dout, x, mean, rstd,
                 batch, c, s, groups);
      cb_check_launch ("groupnorm weight gradient");
    }
}
