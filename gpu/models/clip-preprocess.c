/* clip-preprocess.c: CLIPImageProcessor's pixel pipeline (clip-model.h): the short side
 * resized with PIL's bicubic filter, centre crop, rescale and normalise.
 *
 * transformers resizes through PIL, so the resize follows PIL's Resample.c: a separable
 * filter (a = -0.5) whose support widens by the scale when shrinking (antialiasing),
 * coefficients in 22-bit fixed point, each pass rounded to 8 bits, horizontal first.
 * Images with alpha are composited over white first, as the training data is (sd-data.c);
 * CLIPImageProcessor would drop the alpha instead, which turns transparent pixels into
 * whatever colour they happen to store. */
#include "clip-model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

static double
bicubic (double x)
{
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/* PIL's precompute_coeffs + normalize_coeffs_8bpc: for each output index its first input
 * index BOUNDS[2i], count BOUNDS[2i+1], and KSIZE fixed-point weights. */
static int
coefficients (int in_size, int out_size, int **bounds_out, int **kk_out)
{
  double scale = (double) in_size / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 2.0 * filterscale;
  int ksize = (int) ceil (support) * 2 + 1;
  int *bounds = malloc ((size_t) out_size * 2 * sizeof *bounds);
  int *kk = malloc ((size_t) out_size * (size_t) ksize * sizeof *kk);
  double *k = malloc ((size_t) ksize * sizeof *k);
  if (bounds == NULL || kk == NULL || k == NULL)
    {
      free (bounds);
      free (kk);
      free (k);
      return 0;
    }
  for (int xx = 0; xx < out_size; xx++)
    {
      double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0)
        xmin = 0;
      int xmax = (int) (center + support + 0.5);
      if (xmax > in_size)
        xmax = in_size;
      xmax -= xmin;
      for (int x = 0; x < xmax; x++)
        {
          k[x] = bicubic ((x + xmin - center + 0.5) * ss);
          ww += k[x];
        }
      for (int x = 0; x < ksize; x++)
        {
          double w = x < xmax && ww != 0.0 ? k[x] / ww : 0.0;
          kk[xx * ksize + x] = w < 0 ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                                     : (int) (0.5 + w * (1 << PRECISION_BITS));
        }
      bounds[2 * xx] = xmin;
      bounds[2 * xx + 1] = xmax;
    }
  free (k);
  *bounds_out = bounds;
  *kk_out = kk;
  return ksize;
}

static uint8_t
clip8 (int64_t v)
{
  v >>= PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) v;
}

/* One pass over SRC (w x h x 3) along x (HORIZONTAL) or y, resizing that side to OUT but
 * computing only output indices [FIRST, FIRST + KEEP) (the centre crop): DST is KEEP x h
 * or w x KEEP. Each output pixel depends only on its own coefficients, so the crop is the
 * same as cropping the whole resize, without a whole resize's memory for a thin image. */
static bool
resample_pass (const uint8_t *src, int w, int h, uint8_t *dst, int out, int first_out,
               int keep, bool horizontal)
{
  int *bounds = NULL, *kk = NULL;
  int ksize = coefficients (horizontal ? w : h, out, &bounds, &kk);
  if (ksize == 0)
    return false;
  int ow = horizontal ? keep : w, oh = horizontal ? h : keep;
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      {
        int i = (horizontal ? x : y) + first_out;
        const int *k = kk + i * ksize;
        int first = bounds[2 * i], n = bounds[2 * i + 1];
        for (int c = 0; c < 3; c++)
          {
            int64_t ss = (int64_t) 1 << (PRECISION_BITS - 1);
            for (int j = 0; j < n; j++)
              {
                int sx = horizontal ? first + j : x, sy = horizontal ? y : first + j;
                ss += (int64_t) src[((size_t) sy * (size_t) w + (size_t) sx) * 3 + c] * k[j];
              }
            dst[((size_t) y * (size_t) ow + (size_t) x) * 3 + c] = clip8 (ss);
          }
      }
  free (bounds);
  free (kk);
  return true;
}

bool
clip_preprocess (const clip_preprocessor *p, const sd_rgb_image *img, float *out,
                 le_error *err)
{
  int w = img->width, h = img->height, S = p->shortest_edge, crop = p->crop;
  /* transformers' get_resize_output_image_size(default_to_square=False) */
  int nw, nh;
  if (w <= h)
    {
      nw = S;
      nh = (int) ((double) S * h / w);
    }
  else
    {
      nh = S;
      nw = (int) ((double) S * w / h);
    }
  /* transformers' center_crop offsets */
  int top = (nh - crop) / 2, left = (nw - crop) / 2;
  size_t n_in = (size_t) w * (size_t) h * 3;
  uint8_t *rgb = malloc (n_in);
  uint8_t *mid = malloc ((size_t) crop * (size_t) h * 3);
  uint8_t *res = malloc ((size_t) crop * (size_t) crop * 3);
  bool ok = rgb && mid && res;
  for (int y = 0; ok && y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const uint8_t *s = img->pixels + (size_t) y * (size_t) img->stride
                           + (size_t) x * (size_t) img->channels;
        for (int c = 0; c < 3; c++)
          {
            int v = s[c];
            if (img->channels == 4)   /* over white, rounded */
              v = (v * s[3] + 255 * (255 - s[3]) + 127) / 255;
            rgb[((size_t) y * (size_t) w + (size_t) x) * 3 + c] = (uint8_t) v;
          }
      }
  ok = ok && resample_pass (rgb, w, h, mid, nw, left, crop, true)
       && resample_pass (mid, crop, h, res, nh, top, crop, false);
  for (int c = 0; ok && c < 3; c++)
    for (int y = 0; y < crop; y++)
      for (int x = 0; x < crop; x++)
        {
          float v = res[((size_t) y * (size_t) crop + (size_t) x) * 3 + c]
                    * (float) (1.0 / 255.0);
          out[((size_t) c * (size_t) crop + (size_t) y) * (size_t) crop + (size_t) x]
            = (v - p->mean[c]) / p->std[c];
        }
  free (rgb);
  free (mid);
  free (res);
  if (!ok)
    return le_fail (err, LE_ERR_MEMORY, "out of memory resizing a %d x %d image", w, h);
  return true;
}
