/* studio-dataset-image.h: what one file of a dataset is. The format comes from the
 * content (magic bytes), never from the name; the size from the header (cheap); and
 * a structural check finds files that stop half-way, which gdk-pixbuf alone decodes
 * without complaint (a truncated JPEG comes out grey at the bottom).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define STUDIO_IMAGE_ERROR (studio_image_error_quark ())
GQuark studio_image_error_quark (void);

typedef enum {
  STUDIO_IMAGE_ERROR_IO,           /* cannot open or read the file */
  STUDIO_IMAGE_ERROR_NOT_IMAGE,    /* content is no image format at all */
  STUDIO_IMAGE_ERROR_UNSUPPORTED,  /* an image, but not JPEG, PNG, WebP or BMP */
  STUDIO_IMAGE_ERROR_UNREADABLE,   /* truncated or corrupt */
} StudioImageError;

typedef enum {
  STUDIO_IMAGE_FORMAT_UNKNOWN,
  STUDIO_IMAGE_FORMAT_JPEG,
  STUDIO_IMAGE_FORMAT_PNG,
  STUDIO_IMAGE_FORMAT_WEBP,
  STUDIO_IMAGE_FORMAT_BMP,
  /* Recognised only to say plainly that they are not supported. */
  STUDIO_IMAGE_FORMAT_GIF,
  STUDIO_IMAGE_FORMAT_TIFF,
} StudioImageFormat;

typedef enum {
  STUDIO_PROBE_CHEAP = 0,        /* header, size, and the end of the file */
  STUDIO_PROBE_FULL_DECODE = 1,  /* also decode every pixel (health check) */
} StudioProbeMode;

typedef struct {
  StudioImageFormat format;
  int width, height;
} StudioImageInfo;

/* Format of the first bytes of a file (16 are enough). */
StudioImageFormat studio_image_sniff (const guint8 *head, gsize len);
/* "JPEG", "PNG", ...; NULL for UNKNOWN. */
const char *studio_image_format_name (StudioImageFormat format);
/* TRUE when NAME's extension is one of ours (.jpg .jpeg .jpe .png .webp .bmp .dib). */
gboolean    studio_image_has_image_extension (const char *name);
/* TRUE when NAME's extension is a usual one for FORMAT. */
gboolean    studio_image_extension_matches (StudioImageFormat format, const char *name);

/* Fills INFO for a supported, complete image; otherwise a STUDIO_IMAGE_ERROR whose
 * message names the file and what to do. */
gboolean studio_image_probe (const char *path, StudioProbeMode mode, StudioImageInfo *info,
                             GError **error);

/* SHA-256 of the file's bytes, lower-case hex: two files with the same hash are the
 * same picture (duplicate detection on import and in the health summary). */
char *studio_image_hash_file (const char *path, GError **error);

G_END_DECLS
