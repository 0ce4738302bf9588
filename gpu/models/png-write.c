/* png-write.c: PNG encoding with zlib (IHDR, tEXt, one IDAT, IEND; filter 0 rows). */
#include "png-write.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "atomic-file.h"

static void
put_u32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static bool
chunk (FILE *fp, const char *type, const uint8_t *data, size_t len)
{
  uint8_t head[8];
  put_u32 (head, (uint32_t) len);
  memcpy (head + 4, type, 4);
  uLong crc = crc32 (0, (const Bytef *) type, 4);
  if (len > 0)
    crc = crc32 (crc, data, (uInt) len);
  uint8_t tail[4];
  put_u32 (tail, (uint32_t) crc);
  return fwrite (head, 1, 8, fp) == 8 && (len == 0 || fwrite (data, 1, len, fp) == len)
         && fwrite (tail, 1, 4, fp) == 4;
}

bool
png_write_rgb (const char *path, const uint8_t *rgb, int width, int height,
               const char *const *keys, const char *const *values, int n, le_error *err)
{
  size_t row = (size_t) width * 3 + 1;
  size_t raw_len = row * (size_t) height;
  uint8_t *raw = malloc (raw_len);
  uLongf z_len = compressBound ((uLong) raw_len);
  uint8_t *z = malloc (z_len);
  if (raw == NULL || z == NULL)
    {
      free (raw);
      free (z);
      return le_fail (err, LE_ERR_MEMORY, "out of memory encoding %s", path);
    }
  for (int y = 0; y < height; y++)
    {
      raw[y * row] = 0;
      memcpy (raw + y * row + 1, rgb + (size_t) y * width * 3, (size_t) width * 3);
    }
  int zr = compress2 (z, &z_len, raw, (uLong) raw_len, 6);
  free (raw);
  if (zr != Z_OK)
    {
      free (z);
      return le_fail (err, LE_ERR_MEMORY, "%s: zlib could not compress the image", path);
    }
  le_atomic_file f;
  if (!le_atomic_open (&f, path, err))
    {
      free (z);
      return false;
    }
  static const uint8_t sig[8] = { 137, 'P', 'N', 'G', '\r', '\n', 26, '\n' };
  uint8_t ihdr[13];
  put_u32 (ihdr, (uint32_t) width);
  put_u32 (ihdr + 4, (uint32_t) height);
  ihdr[8] = 8;    /* bit depth */
  ihdr[9] = 2;    /* colour type RGB */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  bool ok = fwrite (sig, 1, 8, f.fp) == 8 && chunk (f.fp, "IHDR", ihdr, 13);
  for (int i = 0; ok && i < n; i++)
    {
      size_t kl = strlen (keys[i]), vl = strlen (values[i]);
      uint8_t *t = malloc (kl + 1 + vl);
      ok = t != NULL;
      if (ok)
        {
          memcpy (t, keys[i], kl);
          t[kl] = 0;
          memcpy (t + kl + 1, values[i], vl);
          ok = chunk (f.fp, "tEXt", t, kl + 1 + vl);
        }
      free (t);
    }
  ok = ok && chunk (f.fp, "IDAT", z, z_len) && chunk (f.fp, "IEND", NULL, 0);
  free (z);
  if (!ok)
    {
      le_atomic_abort (&f);
      return le_fail (err, LE_ERR_IO, "%s: cannot write the image (disk full?)", path);
    }
  return le_atomic_commit (&f, err);
}
