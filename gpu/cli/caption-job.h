/* caption-job.h: captions for a folder of images, as `lora-engine caption` and serve's
 * `caption` request both do it: a CLIP model tags each image from the vocabulary
 * (gpu/models/clip-caption.h), and the captions go into metadata.csv (merged, replaced
 * atomically) or IMAGE.txt sidecars.
 *
 * Captions a person wrote are never replaced: an image that already has a non-empty
 * caption is left alone unless OVERWRITE. An image that cannot be read (a truncated JPEG)
 * is skipped and reported; the others are captioned. A cancelled job still writes the
 * captions it made. */
#pragma once

#include <glib.h>

#include "error.h"

typedef struct {
  const char *model;        /* a Hugging Face CLIPModel folder */
  const char *images;       /* the folder of images */
  const char *out;          /* the CSV; NULL: IMAGES/metadata.csv */
  gboolean    sidecars;     /* write IMAGE.txt beside each image instead of a CSV */
  const char *trigger;      /* put first in every caption; NULL or "" for none */
  int         max_tags;     /* phrases after the trigger; <= 0: 8 */
  gboolean    overwrite;    /* replace captions that exist */
  const char *vocabulary;   /* NULL: the installed caption-vocabulary.txt */
  const char *device;       /* NULL: auto */
  const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/lora-studio/clip */
} CaptionJobArgs;

typedef enum {
  CAPTION_JOB_COMPLETED,
  CAPTION_JOB_CANCELLED,
  CAPTION_JOB_FAILED,
} CaptionJobStatus;

/* What the job tells as it goes; any member may be NULL. */
typedef struct {
  /* DONE of TOTAL images needing a caption are handled. */
  void (*progress) (gpointer data, int done, int total, double elapsed_s);
  /* FILENAME (the name in the folder) got CAPTION. */
  void (*caption) (gpointer data, const char *filename, const char *caption);
  /* FILENAME was skipped; WHY names the file and what to do. */
  void (*skipped) (gpointer data, const char *filename, const char *why);
  void (*log) (gpointer data, const char *level, const char *message);
  /* Asked between images. */
  gboolean (*cancelled) (gpointer data);
  gpointer data;
} CaptionJobHooks;

/* Runs the job. OUTPUTS (may be NULL) gets the files written (g_free'd strings);
 * *N_SKIPPED (may be NULL) the images that could not be read. FAILED fills ERR. */
CaptionJobStatus caption_job_run (const CaptionJobArgs *args, const CaptionJobHooks *hooks,
                                  GPtrArray *outputs, int *n_skipped, le_error *err);

/* The installed vocabulary (PKGDATADIR), or the build tree's beside the engine. */
char *caption_job_default_vocabulary (void);

/* The protocol's error code for ERR ("io", "format", "unsupported", ...). */
const char *caption_job_error_code (const le_error *err);
