/* studio-dataset-image.c: format sniffing, header sizes and truncation checks for
 * dataset images (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <string.h>

#include "studio-dataset-image.h"

G_DEFINE_QUARK (studio-image-error-quark, studio_image_error)

#define HEAD_SIZE 64
#define TAIL_SIZE 32

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint32
le32 (const guint8 *p)
{
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

StudioImageFormat
studio_image_sniff (const guint8 *head, gsize len)
{
  if (len >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
    return STUDIO_IMAGE_FORMAT_JPEG;
  if (len >= 8 && memcmp (head, "\x89PNG\r\n\x1a\n", 8) == 0)
    return STUDIO_IMAGE_FORMAT_PNG;
  if (len >= 12 && memcmp (head, "RIFF", 4) == 0 && memcmp (head + 8, "WEBP", 4) == 0)
    return STUDIO_IMAGE_FORMAT_WEBP;
  if (len >= 18 && head[0] == 'B' && head[1] == 'M')
    {
      /* "BM" alone also starts plenty of text; the DIB header size must be one of the
       * few that exist. */
      guint32 dib = le32 (head + 14);
      if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124)
        return STUDIO_IMAGE_FORMAT_BMP;
    }
  if (len >= 6 && (memcmp (head, "GIF87a", 6) == 0 || memcmp (head, "GIF89a", 6) == 0))
    return STUDIO_IMAGE_FORMAT_GIF;
  if (len >= 4 && (memcmp (head, "II*\0", 4) == 0 || memcmp (head, "MM\0*", 4) == 0))
    return STUDIO_IMAGE_FORMAT_TIFF;
  return STUDIO_IMAGE_FORMAT_UNKNOWN;
}

const char *
studio_image_format_name (StudioImageFormat format)
{
  switch (format)
    {
    case STUDIO_IMAGE_FORMAT_JPEG: return "JPEG";
    case STUDIO_IMAGE_FORMAT_PNG:  return "PNG";
    case STUDIO_IMAGE_FORMAT_WEBP: return "WebP";
    case STUDIO_IMAGE_FORMAT_BMP:  return "BMP";
    case STUDIO_IMAGE_FORMAT_GIF:  return "GIF";
    case STUDIO_IMAGE_FORMAT_TIFF: return "TIFF";
    case STUDIO_IMAGE_FORMAT_UNKNOWN:
    default:
      return NULL;
    }
}

static const char *
extension_of (const char *name)
{
  const char *base = strrchr (name, '/');
  const char *dot = strrchr (base ? base + 1 : name, '.');
  return dot ? dot + 1 : "";
}

gboolean
studio_image_extension_matches (StudioImageFormat format, const char *name)
{
  static const char *const jpeg[] = { "jpg", "jpeg", "jpe", "jfif", NULL };
  static const char *const png[] = { "png", NULL };
  static const char *const webp[] = { "webp", NULL };
  static const char *const bmp[] = { "bmp", "dib", NULL };
  static const char *const gif[] = { "gif", NULL };
  static const char *const tiff[] = { "tif", "tiff", NULL };
  const char *const *list = NULL;

  switch (format)
    {
    case STUDIO_IMAGE_FORMAT_JPEG: list = jpeg; break;
    case STUDIO_IMAGE_FORMAT_PNG:  list = png;  break;
    case STUDIO_IMAGE_FORMAT_WEBP: list = webp; break;
    case STUDIO_IMAGE_FORMAT_BMP:  list = bmp;  break;
    case STUDIO_IMAGE_FORMAT_GIF:  list = gif;  break;
    case STUDIO_IMAGE_FORMAT_TIFF: list = tiff; break;
    case STUDIO_IMAGE_FORMAT_UNKNOWN:
    default:
      return FALSE;
    }
  g_autofree char *ext = g_ascii_strdown (extension_of (name), -1);
  return g_strv_contains (list, ext);
}

gboolean
studio_image_has_image_extension (const char *name)
{
  return studio_image_extension_matches (STUDIO_IMAGE_FORMAT_JPEG, name) ||
         studio_image_extension_matches (STUDIO_IMAGE_FORMAT_PNG, name) ||
         studio_image_extension_matches (STUDIO_IMAGE_FORMAT_WEBP, name) ||
         studio_image_extension_matches (STUDIO_IMAGE_FORMAT_BMP, name);
}

/* Walks the JPEG segments and the entropy-coded data up to the EOI marker. Reads the
 * whole file, so the cheap mode calls it only when the end of the file looks wrong. */
static gboolean
jpeg_is_complete (const guint8 *d, gsize n)
{
  gsize p = 2;

  while (p + 2 <= n)
    {
      if (d[p] != 0xFF)
        return FALSE;
      if (d[p + 1] == 0xFF)
        {
          p++;   /* fill byte */
          continue;
        }
      guint8 marker = d[p + 1];
      if (marker == 0xD9)
        return TRUE;
      if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
        {
          p += 2;
          continue;
        }
      if (p + 4 > n)
        return FALSE;
      gsize seglen = ((gsize) d[p + 2] << 8) | d[p + 3];
      if (seglen < 2)
        return FALSE;
      p += 2 + seglen;
      if (marker == 0xDA)
        {
          /* Entropy-coded data: 0xFF is followed by 0x00 (stuffing) or a restart
           * marker; anything else is the next segment. */
          while (p + 1 < n)
            {
              if (d[p] == 0xFF && d[p + 1] != 0x00 && d[p + 1] != 0xFF &&
                  !(d[p + 1] >= 0xD0 && d[p + 1] <= 0xD7))
                break;
              p++;
            }
        }
    }
  return FALSE;
}

/* Walks the PNG chunks up to IEND. */
static gboolean
png_is_complete (const guint8 *d, gsize n)
{
  guint64 p = 8;

  while (p + 12 <= n)
    {
      guint64 len = be32 (d + p);
      if (memcmp (d + p + 4, "IEND", 4) == 0)
        return TRUE;
      p += 12 + len;
    }
  return FALSE;
}

/* Width and height from the VP8, VP8L or VP8X header, so that the size is known even
 * where the WebP pixbuf loader is not installed. */
/* Width and height from a PNG's IHDR, which the format puts right after the signature. */
static gboolean
png_size (const guint8 *h, gsize n, int *width, int *height)
{
  if (n < 24 || memcmp (h + 12, "IHDR", 4) != 0)
    return FALSE;
  *width = (int) MIN (be32 (h + 16), G_MAXINT);
  *height = (int) MIN (be32 (h + 20), G_MAXINT);
  return *width > 0 && *height > 0;
}

/* Width and height from a JPEG's frame header (SOFn), walking the markers in the first
 * 4 KB. Reading the size ourselves is why: gdk_pixbuf_get_file_info() sniffs the MIME
 * type and starts a loader per file, 70% of scanning 10,000 JPEGs (profiled). FALSE
 * when the frame header is further in (a large EXIF or ICC block): the caller asks
 * gdk-pixbuf then. */
static gboolean
jpeg_size (const char *path, int *width, int *height)
{
  guint8 buf[4096];
  gsize n, i = 2;
  FILE *f = fopen (path, "rb");

  if (f == NULL)
    return FALSE;
  n = fread (buf, 1, sizeof buf, f);
  fclose (f);
  while (i + 4 <= n)
    {
      guint8 marker = buf[i + 1];
      gsize len;

      if (buf[i] != 0xFF)
        return FALSE;
      if (marker == 0xFF)   /* fill byte */
        {
          i++;
          continue;
        }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))   /* no length */
        {
          i += 2;
          continue;
        }
      if (marker == 0xD9 || marker == 0xDA)   /* end, or scan data before any frame */
        return FALSE;
      len = ((gsize) buf[i + 2] << 8) | buf[i + 3];
      if (len < 2)
        return FALSE;
      /* SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
        {
          if (i + 9 > n || len < 7)
            return FALSE;
          *height = (buf[i + 5] << 8) | buf[i + 6];
          *width = (buf[i + 7] << 8) | buf[i + 8];
          return *width > 0 && *height > 0;
        }
      i += 2 + len;
    }
  return FALSE;
}

static gboolean
webp_size (const guint8 *h, gsize n, int *width, int *height)
{
  if (n < 30)
    return FALSE;
  if (memcmp (h + 12, "VP8 ", 4) == 0 && h[23] == 0x9d && h[24] == 0x01 && h[25] == 0x2a)
    {
      *width = le16 (h + 26) & 0x3fff;
      *height = le16 (h + 28) & 0x3fff;
      return *width > 0 && *height > 0;
    }
  if (memcmp (h + 12, "VP8L", 4) == 0 && h[20] == 0x2f)
    {
      guint32 b = le32 (h + 21);
      *width = (int) (b & 0x3fff) + 1;
      *height = (int) ((b >> 14) & 0x3fff) + 1;
      return TRUE;
    }
  if (memcmp (h + 12, "VP8X", 4) == 0)
    {
      *width = (int) (h[24] | (h[25] << 8) | (h[26] << 16)) + 1;
      *height = (int) (h[27] | (h[28] << 8) | (h[29] << 16)) + 1;
      return TRUE;
    }
  return FALSE;
}

/* An uncompressed BMP must hold every row its header announces. */
static gboolean
bmp_is_complete (const guint8 *h, gsize n, guint64 file_size)
{
  guint32 offset = le32 (h + 10);
  guint32 dib = le32 (h + 14);
  gint64 width, height;
  guint bpp, compression = 0;

  if (dib == 12)
    {
      if (n < 26)
        return FALSE;
      width = le16 (h + 18);
      height = le16 (h + 20);
      bpp = le16 (h + 24);
    }
  else
    {
      if (n < 34)
        return FALSE;
      width = (gint32) le32 (h + 18);
      height = (gint32) le32 (h + 22);
      bpp = le16 (h + 28);
      compression = le32 (h + 30);
    }
  if (width <= 0 || height == 0)
    return FALSE;
  if (height < 0)
    height = -height;
  if (compression != 0 && compression != 3)
    {
      /* RLE and embedded JPEG/PNG: the header's file size is all we can check. */
      guint32 declared = le32 (h + 2);
      return declared == 0 || declared <= file_size;
    }
  guint64 row = (((guint64) width * bpp + 31) / 32) * 4;
  return (guint64) offset + row * (guint64) height <= file_size;
}

static gboolean
have_pixbuf_loader (const char *name)
{
  g_autoptr (GSList) formats = gdk_pixbuf_get_formats ();
  for (GSList *l = formats; l; l = l->next)
    {
      g_autofree char *format_name = gdk_pixbuf_format_get_name (l->data);
      if (g_strcmp0 (format_name, name) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
set_truncated (GError **error, const char *path, StudioImageFormat format)
{
  g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNREADABLE,
               _("“%s” is cut short: the %s data stops before its end. The copy is "
               "probably incomplete; copy the image again or remove it"),
               path, studio_image_format_name (format));
  return FALSE;
}

/* Structural check over the whole file (mapped, not copied). */
static gboolean
check_whole_file (const char *path, StudioImageFormat format, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &local_error);
  if (map == NULL)
    {
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_IO,
                   _("Cannot read “%s”: %s"), path, local_error->message);
      return FALSE;
    }
  const guint8 *d = (const guint8 *) g_mapped_file_get_contents (map);
  gsize n = g_mapped_file_get_length (map);
  gboolean ok = TRUE;

  if (format == STUDIO_IMAGE_FORMAT_JPEG)
    ok = jpeg_is_complete (d, n);
  else if (format == STUDIO_IMAGE_FORMAT_PNG)
    ok = png_is_complete (d, n);
  return ok ? TRUE : set_truncated (error, path, format);
}

gboolean
studio_image_probe (const char *path, StudioProbeMode mode, StudioImageInfo *info,
                    GError **error)
{
  guint8 head[HEAD_SIZE], tail[TAIL_SIZE];
  gsize head_len, tail_len = 0;
  gint64 file_size;
  FILE *f;

  memset (info, 0, sizeof *info);
  f = fopen (path, "rb");
  if (f == NULL)
    {
      int err = errno;
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_IO,
                   _("Cannot open “%s”: %s"), path, g_strerror (err));
      return FALSE;
    }
  head_len = fread (head, 1, sizeof head, f);
  if (fseeko (f, 0, SEEK_END) == 0 && (file_size = ftello (f)) >= 0)
    {
      gint64 start = MAX (0, file_size - TAIL_SIZE);
      if (fseeko (f, start, SEEK_SET) == 0)
        tail_len = fread (tail, 1, sizeof tail, f);
    }
  else
    file_size = (gint64) head_len;
  fclose (f);

  info->format = studio_image_sniff (head, head_len);
  switch (info->format)
    {
    case STUDIO_IMAGE_FORMAT_UNKNOWN:
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_NOT_IMAGE,
                   file_size == 0 ? _("“%s” is empty, not an image; remove it or copy it again")
                                  : _("“%s” is not an image: its content is not JPEG, PNG, WebP "
                                    "or BMP, whatever its name says; remove it from the "
                                    "dataset folder"),
                   path);
      return FALSE;
    case STUDIO_IMAGE_FORMAT_GIF:
    case STUDIO_IMAGE_FORMAT_TIFF:
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNSUPPORTED,
                   _("“%s” is a %s image; LoRA Studio trains on JPEG, PNG, WebP and BMP: "
                   "convert it to PNG"), path, studio_image_format_name (info->format));
      return FALSE;
    case STUDIO_IMAGE_FORMAT_JPEG:
      {
        /* Cheap: the end marker is in the last bytes (a few encoders pad after it).
         * Only when it is not do we walk the file, which also accepts trailers that
         * some phones append after the image. */
        gboolean tail_ok = FALSE;
        for (gsize i = 0; i + 1 < tail_len; i++)
          if (tail[i] == 0xFF && tail[i + 1] == 0xD9)
            tail_ok = TRUE;
        if ((!tail_ok || mode == STUDIO_PROBE_FULL_DECODE) &&
            !check_whole_file (path, info->format, error))
          return FALSE;
      }
      break;
    case STUDIO_IMAGE_FORMAT_PNG:
      {
        gboolean tail_ok = tail_len >= 12 &&
          memcmp (tail + tail_len - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12) == 0;
        if ((!tail_ok || mode == STUDIO_PROBE_FULL_DECODE) &&
            !check_whole_file (path, info->format, error))
          return FALSE;
      }
      break;
    case STUDIO_IMAGE_FORMAT_WEBP:
      if ((gint64) le32 (head + 4) + 8 > file_size)
        return set_truncated (error, path, info->format);
      break;
    case STUDIO_IMAGE_FORMAT_BMP:
      if (!bmp_is_complete (head, head_len, (guint64) file_size))
        return set_truncated (error, path, info->format);
      break;
    default:
      break;
    }

  if (info->format == STUDIO_IMAGE_FORMAT_WEBP &&
      webp_size (head, head_len, &info->width, &info->height))
    ;
  else if (info->format == STUDIO_IMAGE_FORMAT_PNG &&
           png_size (head, head_len, &info->width, &info->height))
    ;
  else if (info->format == STUDIO_IMAGE_FORMAT_JPEG &&
           jpeg_size (path, &info->width, &info->height))
    ;
  else if (gdk_pixbuf_get_file_info (path, &info->width, &info->height) == NULL ||
           info->width <= 0 || info->height <= 0)
    {
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNREADABLE,
                   _("“%s” looks like a %s image but its size cannot be read; the file is "
                   "damaged: open it in an image editor and save it again, or remove it"),
                   path, studio_image_format_name (info->format));
      return FALSE;
    }

  if (mode == STUDIO_PROBE_FULL_DECODE &&
      (info->format != STUDIO_IMAGE_FORMAT_WEBP || have_pixbuf_loader ("webp")))
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &local_error);
      if (pixbuf == NULL)
        {
          g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNREADABLE,
                       _("“%s” cannot be decoded (%s); open it in an image editor and save "
                       "it again, or remove it"), path, local_error->message);
          return FALSE;
        }
    }
  return TRUE;
}

char *
studio_image_hash_file (const char *path, GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buffer[64 * 1024];
  size_t n;
  FILE *f = fopen (path, "rb");

  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_IO,
                   _("Cannot read “%s”: %s"), path, g_strerror (saved));
      return NULL;
    }
  while ((n = fread (buffer, 1, sizeof buffer, f)) > 0)
    g_checksum_update (checksum, buffer, n);
  if (ferror (f))
    {
      fclose (f);
      g_set_error (error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_IO,
                   _("Cannot read “%s” to the end; check the disk"), path);
      return NULL;
    }
  fclose (f);
  return g_strdup (g_checksum_get_string (checksum));
}
