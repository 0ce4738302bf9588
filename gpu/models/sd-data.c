/* sd-data.c: image preprocessing, aspect buckets and caption tag counts (see sd-data.h). */
#include "sd-data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sd_buckets (int resolution, sd_bucket *out)
{
  int step = resolution >= 256 ? 64 : 8;
  int64_t area = (int64_t) resolution * resolution;
  int n = 0;
  out[n++] = (sd_bucket) { resolution, resolution };
  for (int w = (resolution / 2 + step - 1) / step * step; w <= 2 * resolution && n < SD_MAX_BUCKETS;
       w += step)
    {
      int h = (int) (area / w) / step * step;
      if (h < resolution / 2 || h > 2 * resolution || w == h)
        continue;
      bool dup = false;
      for (int i = 0; i < n && !dup; i++)
        dup = out[i].width == w && out[i].height == h;
      if (!dup)
        out[n++] = (sd_bucket) { w, h };
    }
  return n;
}

int
sd_bucket_nearest (const sd_bucket *b, int n, int width, int height)
{
  double want = log ((double) width / height);
  int best = 0;
  double best_d = INFINITY;
  for (int i = 0; i < n; i++)
    {
      double d = fabs (log ((double) b[i].width / b[i].height) - want);
      if (d < best_d - 1e-12)
        {
          best_d = d;
          best = i;
        }
    }
  return best;
}

/* One channel value of pixel (x, y), clamped to the image, alpha over white. */
static double
pixel (const sd_rgb_image *img, int x, int y, int c)
{
  x = x < 0 ? 0 : x >= img->width ? img->width - 1 : x;
  y = y < 0 ? 0 : y >= img->height ? img->height - 1 : y;
  const uint8_t *p = img->pixels + y * img->stride + (int64_t) x * img->channels;
  if (img->channels == 4)
    {
      double a = p[3] / 255.0;
      return p[c] * a + 255.0 * (1.0 - a);
    }
  return p[c];
}

static double
bilinear (const sd_rgb_image *img, double sx, double sy, int c)
{
  int x0 = (int) floor (sx), y0 = (int) floor (sy);
  double fx = sx - x0, fy = sy - y0;
  double top = pixel (img, x0, y0, c) * (1 - fx) + pixel (img, x0 + 1, y0, c) * fx;
  double bot = pixel (img, x0, y0 + 1, c) * (1 - fx) + pixel (img, x0 + 1, y0 + 1, c) * fx;
  return top * (1 - fy) + bot * fy;
}

void
sd_image_to_tensor (const sd_rgb_image *img, int out_w, int out_h, bool flip, float *out)
{
  /* scale so the image covers the target; crop the overflow evenly on both sides */
  double scale = fmax ((double) out_w / img->width, (double) out_h / img->height);
  double off_x = (img->width * scale - out_w) / 2, off_y = (img->height * scale - out_h) / 2;
  /* when shrinking, average k x k bilinear taps per output pixel (a box filter) */
  int k = scale < 1 ? (int) ceil (1.0 / scale) : 1;
  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++)
      {
        int ox = flip ? out_w - 1 - x : x;
        for (int c = 0; c < 3; c++)
          {
            double sum = 0;
            for (int j = 0; j < k; j++)
              for (int i = 0; i < k; i++)
                {
                  double dx = x + (i + 0.5) / k + off_x, dy = y + (j + 0.5) / k + off_y;
                  sum += bilinear (img, dx / scale - 0.5, dy / scale - 0.5, c);
                }
            double v = sum / (k * k) / 255.0;
            out[((int64_t) c * out_h + y) * out_w + ox] = (float) (v * 2.0 - 1.0);
          }
      }
}

typedef struct {
  char *tag;
  int64_t count;
} tag_count;

/* Appends S to the JSON buffer as a string, escaping what JSON requires. */
static void
json_string (char **buf, size_t *len, size_t *cap, const char *s)
{
  size_t need = *len + strlen (s) * 6 + 4;
  if (need > *cap)
    {
      *cap = need * 2;
      *buf = realloc (*buf, *cap);
    }
  char *p = *buf + *len;
  *p++ = '"';
  for (const unsigned char *c = (const unsigned char *) s; *c; c++)
    {
      if (*c == '"' || *c == '\\')
        {
          *p++ = '\\';
          *p++ = (char) *c;
        }
      else if (*c < 0x20)
        p += sprintf (p, "\\u%04x", *c);
      else
        *p++ = (char) *c;
    }
  *p++ = '"';
  *p = '\0';
  *len = (size_t) (p - *buf);
}

char *
sd_tag_frequency_json (const char *const *captions, int64_t n, const char *dataset)
{
  tag_count *tags = NULL;
  int64_t n_tags = 0, cap_tags = 0;
  for (int64_t i = 0; i < n; i++)
    {
      const char *s = captions[i] ? captions[i] : "";
      while (*s)
        {
          const char *end = strchr (s, ',');
          if (end == NULL)
            end = s + strlen (s);
          const char *a = s, *b = end;
          while (a < b && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r'))
            a++;
          while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n' || b[-1] == '\r'))
            b--;
          if (b > a)
            {
              int64_t j = 0;
              for (; j < n_tags; j++)
                if (strlen (tags[j].tag) == (size_t) (b - a) && memcmp (tags[j].tag, a, b - a) == 0)
                  break;
              if (j == n_tags)
                {
                  if (n_tags == cap_tags)
                    {
                      cap_tags = cap_tags ? 2 * cap_tags : 64;
                      tags = realloc (tags, cap_tags * sizeof *tags);
                    }
                  tags[n_tags].tag = strndup (a, b - a);
                  tags[n_tags++].count = 0;
                }
              tags[j].count++;
            }
          s = *end ? end + 1 : end;
        }
    }
  size_t len = 0, cap = 256;
  char *buf = malloc (cap);
  buf[0] = '\0';
  strcpy (buf, "{");
  len = 1;
  json_string (&buf, &len, &cap, dataset);
  char num[32];
  for (int64_t j = 0; j < n_tags; j++)
    {
      size_t need = len + 40;
      if (need > cap)
        {
          cap = need * 2;
          buf = realloc (buf, cap);
        }
      strcpy (buf + len, j == 0 ? ": {" : ", ");
      len += strlen (buf + len);
      json_string (&buf, &len, &cap, tags[j].tag);
      snprintf (num, sizeof num, ": %lld", (long long) tags[j].count);
      if (len + strlen (num) + 8 > cap)
        {
          cap = (len + 64) * 2;
          buf = realloc (buf, cap);
        }
      strcpy (buf + len, num);
      len += strlen (num);
      free (tags[j].tag);
    }
  if (len + 8 > cap)
    buf = realloc (buf, len + 8);
  strcpy (buf + len, n_tags == 0 ? ": {}}" : "}}");
  free (tags);
  return buf;
}
