/* cuda-conv.cu: backend_cuda's 2-D convolution (NCHW, groups 1) lowered to cuBLAS:
 * im2col into a scratch buffer, then W (Cout, Cin kh kw) @ cols. One image and a band of
 * output rows at a time, so the columns stay under CONV_SCRATCH_ELEMS even for the VAE
 * at 512x512 (a full image would need 1.2 GB). Backward: dW += dout @ cols^T, and
 * dcols = W^T @ dout scattered back by a gather (col2im) that adds into dx without
 * atomics. Columns are written in the weight's dtype so a BF16 weight meets BF16 columns
 * on tensor cores. */
#include "cuda-backend-impl.h"

#define CONV_SCRATCH_ELEMS (32ll << 20)

/* cols // (Cin kh kw, rows Wo) for output rows [oy0, oy0 + rows) of image x // (Cin, H, W) */
__global__ void
k_im2col (void *cols, le_dtype dt, const float *x, le_conv2d_geom g, int64_t oy0, int64_t rows)
{
  int64_t ncols = rows * g.out_w;
  CB_FOR (i, g.c_in * g.kh * g.kw * ncols)
    {
      int64_t p = i % ncols, kk = i / ncols;
      int64_t kj = kk % g.kw, ki = (kk / g.kw) % g.kh, ci = kk / (g.kw * g.kh);
      int64_t oy = oy0 + p / g.out_w, ox = p % g.out_w;
      int64_t iy = oy * g.stride - g.pad_t + ki, ix = ox * g.stride - g.pad_l + kj;
      float v = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? x[(ci * g.h + iy) * g.w + ix] : 0.0f;
      cb_store (cols, dt, i, v);
    }
}

/* dx rows [iy0, iy1) of one image += the entries of dcols that came from them. */
__global__ void
k_col2im (float *dx, const float *dcols, le_conv2d_geom g, int64_t oy0, int64_t rows,
          int64_t iy0, int64_t iy1)
{
  int64_t ncols = rows * g.out_w, band = iy1 - iy0;
  CB_FOR (i, g.c_in * band * g.w)
    {
      int64_t ix = i % g.w, iy = iy0 + (i / g.w) % band, ci = i / (g.w * band);
      float sum = 0.0f;
      for (int64_t ki = 0; ki < g.kh; ki++)
        {
          int64_t ty = iy + g.pad_t - ki;
          if (ty < 0 || ty % g.stride != 0)
            continue;
          int64_t oy = ty / g.stride;
          if (oy < oy0 || oy >= oy0 + rows)
            continue;
          for (int64_t kj = 0; kj < g.kw; kj++)
            {
              int64_t tx = ix + g.pad_l - kj;
              if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= g.out_w)
                continue;
              int64_t p = (oy - oy0) * g.out_w + tx / g.stride;
              sum += dcols[((ci * g.kh + ki) * g.kw + kj) * ncols + p];
            }
        }
      dx[(ci * g.h + iy) * g.w + ix] += sum;
    }
}

static int64_t
rows_per_band (const le_conv2d_geom *g)
{
  int64_t k = g->c_in * g->kh * g->kw;
  int64_t rows = CONV_SCRATCH_ELEMS / (k * g->out_w);
  if (rows < 1)
    rows = 1;
  return rows < g->out_h ? rows : g->out_h;
}

extern "C" void
cb_conv2d (float *out, const float *x, const void *w, le_dtype w_dt, const float *bias,
           const le_conv2d_geom *g)
{
  int64_t k = g->c_in * g->kh * g->kw, hw = g->out_h * g->out_w;
  int64_t band = rows_per_band (g);
  void *cols = cb_scratch (CB_SCRATCH_IM2COL, (size_t) (k * band * g->out_w) * dtype_size (w_dt));
  if (cols == NULL)
    return;
  for (int64_t b = 0; b < g->batch; b++)
    for (int64_t oy0 = 0; oy0 < g->out_h; oy0 += band)
      {
        int64_t rows = g->out_h - oy0 < band ? g->out_h - oy0 : band;
        int64_t ncols = rows * g->out_w;
        CB_LAUNCH (k_im2col, cb_blocks (k * ncols), CB_THREADS, cols, w_dt,
                   x + b * g->c_in * g->h * g->w, *g, oy0, rows);
        cb_check_launch ("conv2d im2col");
        /* out_b[:, band] // (Cout, ncols) = W // (Cout, K) @ cols // (K, ncols) */
        cb_gemm (out + b * g->c_out * hw + oy0 * g->out_w, w, w_dt, cols, w_dt, 1, g->c_out,
                 ncols, k, false, false, k, ncols, hw, 0, 0, 0, 1.0f, 0.0f);
      }
  if (bias != NULL)
    cb_bias_add (out, out, bias, g->batch, g->c_out, hw, 1);
}

extern "C" void
cb_conv2d_backward (float *dx, float *dw, float *dbias, const float *dout, const float *x,
                    const void *w, le_dtype w_dt, const le_conv2d_geom *g)
{
  int64_t k = g->c_in * g->kh * g->kw, hw = g->out_h * g->out_w;
  if (dbias != NULL)
    cb_bias_add_backward (dbias, dout, g->batch, g->c_out, hw, 1);
  if (dx == NULL && dw == NULL)
    return;
  int64_t band = rows_per_band (g);
  float *cols = (float *) cb_scratch (CB_SCRATCH_IM2COL, (size_t) (k * band * g->out_w) * sizeof (float));
  if (cols == NULL)
    return;
  for (int64_t b = 0; b < g->batch; b++)
    for (int64_t oy0 = 0; oy0 < g->out_h; oy0 += band)
      {
        int64_t rows = g->out_h - oy0 < band ? g->out_h - oy0 : band;
        int64_t ncols = rows * g->out_w;
        const float *dout_band = dout + b * g->c_out * hw + oy0 * g->out_w;
        if (dw != NULL)
          {
            CB_LAUNCH (k_im2col, cb_blocks (k * ncols), CB_THREADS, cols, LE_F32,
                       x + b * g->c_in * g->h * g->w, *g, oy0, rows);
            cb_check_launch ("conv2d backward im2col");
            /* dW // (Cout, K) += dout_band // (Cout, ncols) @ cols^T */
            cb_gemm (dw, dout_band, LE_F32, cols, LE_F32, 1, g->c_out, k, ncols, false, true,
                     hw, ncols, k, 0, 0, 0, 1.0f, 1.0f);
          }
        if (dx != NULL)
          {
            /* dcols // (K, ncols) = W^T @ dout_band (reuses the columns' scratch) */
            cb_gemm (cols, w, w_dt, dout_band, LE_F32, 1, k, ncols, g->c_out, true, false, k, hw,
                     ncols, 0, 0, 0, 1.0f, 0.0f);
            int64_t iy0 = oy0 * g->stride - g->pad_t;
            int64_t iy1 = (oy0 + rows - 1) * g->stride - g->pad_t + g->kh;
            iy0 = iy0 < 0 ? 0 : iy0;
            iy1 = iy1 > g->h ? g->h : iy1;
            if (iy1 > iy0)
              {
                CB_LAUNCH (k_col2im, cb_blocks (g->c_in * (iy1 - iy0) * g->w), CB_THREADS,
                           dx + b * g->c_in * g->h * g->w, cols, *g, oy0, rows, iy0, iy1);
                cb_check_launch ("conv2d col2im");
              }
          }
      }
}
