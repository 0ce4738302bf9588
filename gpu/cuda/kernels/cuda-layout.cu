/* cuda-layout.cu: backend_cuda's broadcast and layout kernels: bias add (and its
 * reduction), permute, slice copy (concat/split), nearest 2x upsampling, embedding
 * lookup (backward by atomicAdd: repeated ids are rare and the order of F32 adds is the
 * only thing that varies) and HF rotate_half RoPE. */
#include "cuda-backend-impl.h"

__global__ void
k_bias_add (float *out, const float *x, const float *b, int64_t outer, int64_t c,
            int64_t inner, int64_t b_outer)
{
  CB_FOR (i, outer * c * inner)
    {
      int64_t o = i / (c * inner), ch = (i / inner) % c;
      out[i] = x[i] + b[(o % b_outer) * c + ch];
    }
}

extern "C" void
cb_bias_add (float *out, const float *x, const float *b, int64_t outer, int64_t c,
             int64_t inner, int64_t b_outer)
{
  CB_LAUNCH (k_bias_add, cb_blocks (outer * c * inner), CB_THREADS, out, x, b, outer, c, inner, b_outer);
  cb_check_launch ("bias add");
}

/* One block per entry of db // (b_outer, C): sums every (o, i) with o % b_outer == bo. */
__global__ void
k_bias_add_backward (float *db, const float *dout, int64_t outer, int64_t c, int64_t inner,
                     int64_t b_outer)
{
  int64_t bo = blockIdx.x / c, ch = blockIdx.x % c;
  int64_t reps = (outer - bo + b_outer - 1) / b_outer;
  float sum = 0.0f;
  for (int64_t j = threadIdx.x; j < reps * inner; j += blockDim.x)
    {
      int64_t o = bo + (j / inner) * b_outer, i = j % inner;
      sum += dout[(o * c + ch) * inner + i];
    }
  sum = cb_block_sum (sum);
  if (threadIdx.x == 0)
    db[bo * c + ch] += sum;
}

extern "C" void
cb_bias_add_backward (float *db, const float *dout, int64_t outer, int64_t c, int64_t inner,
                      int64_t b_outer)
{
  CB_LAUNCH (k_bias_add_backward, (unsigned) (b_outer * c), CB_THREADS, db, dout, outer, c, inner,
             b_outer);
  cb_check_launch ("bias add backward");
}

struct perm_args {
  int64_t out_shape[4];
  int64_t in_stride[4];   /* stride in x of the input dim that out dim d reads */
};

__global__ void
k_permute (float *out, const float *x, perm_args a, int64_t n, int accumulate)
{
  CB_FOR (i, n)
    {
      int64_t rest = i, src = 0;
      for (int d = 3; d >= 0; d--)
        {
          int64_t coord = rest % a.out_shape[d];
          rest /= a.out_shape[d];
          src += coord * a.in_stride[d];
        }
      out[i] = accumulate ? out[i] + x[src] : x[src];
    }
}

extern "C" void
cb_permute (float *out, const float *x, const int64_t shape[4], const int perm[4],
            bool accumulate)
{
  int64_t stride[4];
  stride[3] = 1;
  for (int d = 2; d >= 0; d--)
    stride[d] = stride[d + 1] * shape[d + 1];
  perm_args a;
  for (int d = 0; d < 4; d++)
    {
      a.out_shape[d] = shape[perm[d]];
      a.in_stride[d] = stride[perm[d]];
    }
  int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  CB_LAUNCH (k_permute, cb_blocks (n), CB_THREADS, out, x, a, n, accumulate ? 1 : 0);
  cb_check_launch ("permute");
}

__global__ void
k_slice_copy (float *dst, int64_t dst_len, int64_t dst_off, const float *src, int64_t src_len,
              int64_t src_off, int64_t outer, int64_t n, int64_t inner, int accumulate)
{
  CB_FOR (i, outer * n * inner)
    {
      int64_t o = i / (n * inner), j = (i / inner) % n, k = i % inner;
      float v = src[(o * src_len + src_off + j) * inner + k];
      float *d = dst + (o * dst_len + dst_off + j) * inner + k;
      *d = accumulate ? *d + v : v;
    }
}

extern "C" void
cb_slice_copy (float *dst, int64_t dst_len, int64_t dst_off, const float *src, int64_t src_len,
               int64_t src_off, int64_t outer, int64_t n, int64_t inner, bool accumulate)
{
  CB_LAUNCH (k_slice_copy, cb_blocks (outer * n * inner), CB_THREADS, dst, dst_len, dst_off, src,
             src_len, src_off, outer, n, inner, accumulate ? 1 : 0);
  cb_check_launch ("slice copy");
}

__global__ void
k_upsample2x (float *out, const float *x, int64_t bc, int64_t h, int64_t w)
{
  CB_FOR (i, bc * 4 * h * w)
    {
      int64_t ox = i % (2 * w), oy = (i / (2 * w)) % (2 * h), p = i / (4 * h * w);
      out[i] = x[(p * h + oy / 2) * w + ox / 2];
    }
}

__global__ void
k_upsample2x_backward (float *dx, const float *dout, int64_t bc, int64_t h, int64_t w)
{
  CB_FOR (i, bc * h * w)
    {
      int64_t xx = i % w, y = (i / w) % h, p = i / (h * w);
      const float *d = dout + (p * 2 * h + 2 * y) * 2 * w + 2 * xx;
      dx[i] += d[0] + d[1] + d[2 * w] + d[2 * w + 1];
    }
}

extern "C" void
cb_upsample2x (float *out, const float *x, int64_t bc, int64_t h, int64_t w)
{
  CB_LAUNCH (k_upsample2x, cb_blocks (bc * 4 * h * w), CB_THREADS, out, x, bc, h, w);
  cb_check_launch ("upsample");
}

extern "C" void
cb_upsample2x_backward (float *dx, const float *dout, int64_t bc, int64_t h, int64_t w)
{
  CB_LAUNCH (k_upsample2x_backward, cb_blocks (bc * h * w), CB_THREADS, dx, dout, bc, h, w);
  cb_check_launch ("upsample backward");
}

__global__ void
k_embedding (float *out, const void *table, le_dtype dt, const int32_t *ids, int64_t n,
             int64_t c, int64_t v)
{
  CB_FOR (i, n * c)
    {
      int64_t r = i / c, j = i % c;
      int32_t id = ids[r];
      out[i] = id >= 0 && id < v ? cb_load (table, dt, (int64_t) id * c + j) : 0.0f;
    }
}

__global__ void
k_embedding_backward (float *dtable, const float *dout, const int32_t *ids, int64_t n,
                      int64_t c, int64_t v)
{
  CB_FOR (i, n * c)
    {
      int64_t r = i / c, j = i % c;
      int32_t id = ids[r];
      if (id >= 0 && id < v)
        atomicAdd (dtable + (int64_t) id * c + j, dout[i]);
    }
}

extern "C" void
cb_embedding (float *out, const void *table, le_dtype table_dt, const int32_t *ids, int64_t n,
              int64_t c, int64_t v)
{
  CB_LAUNCH (k_embedding, cb_blocks (n * c), CB_THREADS, out, table, table_dt, ids, n, c, v);
  cb_check_launch ("embedding");
}

extern "C" void
cb_embedding_backward (float *dtable, const float *dout, const int32_t *ids, int64_t n,
                       int64_t c, int64_t v)
{
  CB_LAUNCH (k_embedding_backward, cb_blocks (n * c), CB_THREADS, dtable, dout, ids, n, c, v);
  cb_check_launch ("embedding backward");
}

/* One thread per pair (i, i + D/2) so that out may alias x. */
__global__ void
k_rope (float *out, const float *x, const float *cos_t, const float *sin_t, int64_t bh,
        int64_t t, int64_t d, int64_t pos_offset)
{
  int64_t half = d / 2;
  CB_FOR (idx, bh * t * half)
    {
      int64_t i = idx % half, row = idx / half, pos = pos_offset + row % t;
      const float *c = cos_t + pos * d, *s = sin_t + pos * d;
      float x1 = x[row * d + i], x2 = x[row * d + i + half];
      out[row * d + i] = x1 * c[i] - x2 * s[i];
      out[row * d + i + half] = x2 * c[i + half] + x1 * s[i + half];
    }
}

__global__ void
k_rope_backward (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                 int64_t bh, int64_t t, int64_t d, int64_t pos_offset)
{
  int64_t half = d / 2;
  CB_FOR (idx, bh * t * half)
    {
      int64_t i = idx % half, row = idx / half, pos = pos_offset + row % t;
      const float *c = cos_t + pos * d, *s = sin_t + pos * d;
      float g1 = dout[row * d + i], g2 = dout[row * d + i + half];
      dx[row * d + i] += g1 * c[i] + g2 * s[i + half];
      dx[row * d + i + half] += g2 * c[i + half] - g1 * s[i];
    }
}

extern "C" void
cb_rope (float *out, const float *x, const float *cos_t, const float *sin_t, int64_t bh,
         int64_t t, int64_t d, int64_t pos_offset)
{
  CB_LAUNCH (k_rope, cb_blocks (bh * t * (d / 2)), CB_THREADS, out, x, cos_t, sin_t, bh, t, d, pos_offset);
  cb_check_launch ("rope");
}

extern "C" void
cb_rope_backward (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                  int64_t bh, int64_t t, int64_t d, int64_t pos_offset)
{
  CB_LAUNCH (k_rope_backward, cb_blocks (bh * t * (d / 2)), CB_THREADS, dx, dout, cos_t, sin_t, bh,
             t, d, pos_offset);
  cb_check_launch ("rope backward");
}
