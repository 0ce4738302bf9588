/* cpu-norm.c: CPU normalisations (rmsnorm, layernorm, groupnorm), softmax and rope,
 * forward and backward. Statistics are accumulated in double: this is the reference. */
#include "cpu-kernels.h"

#include <math.h>

void
cpu_rmsnorm (float *out, float *rstd, const float *x, const float *w, int64_t n, int64_t c,
             float eps)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      const float *xr = x + r * c;
      double ss = 0;
      for (int64_t i = 0; i < c; i++)
        ss += (double) xr[i] * xr[i];
      float rs = (float) (1.0 / sqrt (ss / (double) c + eps));
      rstd[r] = rs;
      for (int64_t i = 0; i < c; i++)
        out[r * c + i] = xr[i] * rs * (w ? w[i] : 1.0f);
    }
}

void
cpu_rmsnorm_backward (float *dx, float *dw, const float *dout, const float *x, const float *w,
                      const float *rstd, int64_t n, int64_t c)
{
  if (dx)
    {
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < n; r++)
        {
          const float *xr = x + r * c, *gr = dout + r * c;
          float rs = rstd[r];
          double dot = 0;   /* sum(g * w * x) */
          for (int64_t i = 0; i < c; i++)
            dot += (double) gr[i] * (w ? w[i] : 1.0f) * xr[i];
          float k = (float) (dot / (double) c) * rs * rs;
          for (int64_t i = 0; i < c; i++)
            dx[r * c + i] += rs * (gr[i] * (w ? w[i] : 1.0f) - xr[i] * k);
        }
    }
  if (dw)
    {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < c; i++)
        {
          double s = 0;
          for (int64_t r = 0; r < n; r++)
            s += (double) dout[r * c + i] * x[r * c + i] * rstd[r];
          dw[i] += (float) s;
        }
    }
}

/* mean and rstd of n contiguous values */
static void
moments (const float *x, int64_t n, float eps, float *mean, float *rstd)
{
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    s += x[i];
  double m = s / (double) n, v = 0;
  for (int64_t i = 0; i < n; i++)
    v += ((double) x[i] - m) * ((double) x[i] - m);
  *mean = (float) m;
  *rstd = (float) (1.0 / sqrt (v / (double) n + eps));
}

void
cpu_layernorm (float *out, float *mean, float *rstd, const float *x, const float *w,
               const float *b, int64_t n, int64_t c, float eps)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      const float *xr = x + r * c;
      moments (xr, c, eps, &mean[r], &rstd[r]);
      for (int64_t i = 0; i < c; i++)
        out[r * c + i] = (xr[i] - mean[r]) * rstd[r] * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
    }
}

void
cpu_layernorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                        const float *w, const float *mean, const float *rstd, int64_t n,
                        int64_t c)
{
  if (dx)
    {
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < n; r++)
        {
          const float *xr = x + r * c, *gr = dout + r * c;
          double sg = 0, sgx = 0;
          for (int64_t i = 0; i < c; i++)
            {
              double gw = (double) gr[i] * (w ? w[i] : 1.0f);
              sg += gw;
              sgx += gw * (xr[i] - mean[r]) * rstd[r];
            }
          float mg = (float) (sg / (double) c), mgx = (float) (sgx / (double) c);
          for (int64_t i = 0; i < c; i++)
            {
              float xhat = (xr[i] - mean[r]) * rstd[r];
              dx[r * c + i] += rstd[r] * (gr[i] * (w ? w[i] : 1.0f) - mg - xhat * mgx);
            }
        }
    }
  if (dw || db)
    {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < c; i++)
        {
          double sw = 0, sb = 0;
          for (int64_t r = 0; r < n; r++)
            {
              sw += (double) dout[r * c + i] * (x[r * c + i] - mean[r]) * rstd[r];
              sb += dout[r * c + i];
            }
          if (dw)
            dw[i] += (float) sw;
          if (db)
            db[i] += (float) sb;
        }
    }
}

void
cpu_groupnorm (float *out, float *mean, float *rstd, const float *x, const float *w,
               const float *b, int64_t batch, int64_t c, int64_t s, int64_t groups, float eps)
{
  int64_t cg = c / groups;
#pragma omp parallel for schedule(static)
  for (int64_t bg = 0; bg < batch * groups; bg++)
    {
      /* a group's channels are contiguous in NCHW: cg * s values */
      const float *xg = x + bg * cg * s;
      moments (xg, cg * s, eps, &mean[bg], &rstd[bg]);
      int64_t c0 = (bg % groups) * cg;
      for (int64_t j = 0; j < cg; j++)
        {
          float wc = w ? w[c0 + j] : 1.0f, bc = b ? b[c0 + j] : 0.0f;
          for (int64_t i = 0; i < s; i++)
            out[bg * cg * s + j * s + i] = (xg[j * s + i] - mean[bg]) * rstd[bg] * wc + bc;
        }
    }
}

void
cpu_groupnorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                        const float *w, const float *mean, const float *rstd, int64_t batch,
                        int64_t c, int64_t s, int64_t groups)
{
  int64_t cg = c / groups, ng = cg * s;
  if (dx)
    {
#pragma omp parallel for schedule(static)
      for (int64_t bg = 0; bg < batch * groups; bg++)
        {
          const float *xg = x + bg * ng, *gg = dout + bg * ng;
          int64_t c0 = (bg % groups) * cg;
          double sg = 0, sgx = 0;
          for (int64_t j = 0; j < cg; j++)
            {
              float wc = w ? w[c0 + j] : 1.0f;
              for (int64_t i = 0; i < s; i++)
                {
                  double gw = (double) gg[j * s + i] * wc;
                  sg += gw;
                  sgx += gw * (xg[j * s + i] - mean[bg]) * rstd[bg];
                }
            }
          float mg = (float) (sg / (double) ng), mgx = (float) (sgx / (double) ng);
          for (int64_t j = 0; j < cg; j++)
            {
              float wc = w ? w[c0 + j] : 1.0f;
              for (int64_t i = 0; i < s; i++)
                {
                  float xhat = (xg[j * s + i] - mean[bg]) * rstd[bg];
                  dx[bg * ng + j * s + i] += rstd[bg] * (gg[j * s + i] * wc - mg - xhat * mgx);
                }
            }
        }
    }
  if (dw || db)
    {
#pragma omp parallel for schedule(static)
      for (int64_t ch = 0; ch < c; ch++)
        {
          double sw = 0, sb = 0;
          for (int64_t b = 0; b < batch; b++)
            {
              int64_t bg = b * groups + ch / cg;
              const float *xc = x + (b * c + ch) * s, *gc = dout + (b * c + ch) * s;
              for (int64_t i = 0; i < s; i++)
                {
                  sw += (double) gc[i] * (xc[i] - mean[bg]) * rstd[bg];
                  sb += gc[i];
                }
            }
          if (dw)
            dw[ch] += (float) sw;
          if (db)
            db[ch] += (float) sb;
        }
    }
}

void
cpu_softmax (float *out, const float *x, int64_t n, int64_t c)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      const float *xr = x + r * c;
      float mx = -INFINITY;
      for (int64_t i = 0; i < c; i++)
        mx = fmaxf (mx, xr[i]);
      double s = 0;
      for (int64_t i = 0; i < c; i++)
        {
          float e = expf (xr[i] - mx);
          out[r * c + i] = e;
          s += e;
        }
      float inv = (float) (1.0 / s);
      for (int64_t i = 0; i < c; i++)
        out[r * c + i] *= inv;
    }
}

void
cpu_softmax_backward (float *dx, const float *dout, const float *out, int64_t n, int64_t c)
{
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; r++)
    {
      const float *y = out + r * c, *g = dout + r * c;
      double dot = 0;
      for (int64_t i = 0; i < c; i++)
        dot += (double) g[i] * y[i];
      for (int64_t i = 0; i < c; i++)
        dx[r * c + i] += y[i] * (g[i] - (float) dot);
    }
}

void
cpu_rope (float *out, const float *x, const float *cos_t, const float *sin_t, int64_t bh,
          int64_t t, int64_t d, int64_t pos_offset)
{
  int64_t half = d / 2;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < bh * t; r++)
    {
      const float *cr = cos_t + (pos_offset + r % t) * d, *sr = sin_t + (pos_offset + r % t) * d;
      const float *xr = x + r * d;
      float *o = out + r * d;
      for (int64_t i = 0; i < half; i++)
        {
          float a = xr[i], b = xr[i + half];   /* read both first: out may alias x */
          o[i] = a * cr[i] - b * sr[i];
          o[i + half] = b * cr[i + half] + a * sr[i + half];
        }
    }
}

void
cpu_rope_backward (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                   int64_t bh, int64_t t, int64_t d, int64_t pos_offset)
{
  int64_t half = d / 2;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < bh * t; r++)
    {
      const float *cr = cos_t + (pos_offset + r % t) * d, *sr = sin_t + (pos_offset + r % t) * d;
      const float *g = dout + r * d;
      float *o = dx + r * d;
      for (int64_t i = 0; i < half; i++)
        {
          o[i] += g[i] * cr[i] + g[i + half] * sr[i + half];
          o[i + half] += g[i + half] * cr[i + half] - g[i] * sr[i];
        }
    }
}
