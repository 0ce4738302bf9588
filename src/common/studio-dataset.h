/* studio-dataset.h: StudioDataset, a folder of training images and their captions.
 *
 * Loading scans the folder (optionally its subfolders) for JPEG, PNG, WebP and BMP
 * images, recognised by content rather than by name, reads each one's size from its
 * header and checks that it is complete; captions come from one caption store:
 * `metadata.csv` (`filename,prompt`) or `<image-stem>.txt` sidecars. What is wrong is
 * reported per image (StudioDatasetItem flags and message) and as a list of problems
 * (images without captions, captions without images, unreadable files, ...).
 *
 * The dataset is a GListModel of StudioDatasetItem, sorted by file name, for the
 * Dataset view to bind. Captions are edited through studio_dataset_set_caption() and
 * written back atomically by studio_dataset_save(); studio_dataset_convert() moves
 * every caption to the other store. Nothing here deletes a user's file.
 */
#pragma once

#include <gio/gio.h>

#include "studio-dataset-item.h"

G_BEGIN_DECLS

#define STUDIO_DATASET_ERROR (studio_dataset_error_quark ())
GQuark studio_dataset_error_quark (void);

typedef enum {
  STUDIO_DATASET_ERROR_NOT_FOUND,   /* the folder does not exist */
  STUDIO_DATASET_ERROR_NOT_FOLDER,  /* the path is a file */
  STUDIO_DATASET_ERROR_EMPTY,       /* no images in it */
  STUDIO_DATASET_ERROR_IO,          /* cannot list or write */
} StudioDatasetError;

typedef enum {
  STUDIO_CAPTION_STORE_SIDECAR,     /* `<image-stem>.txt` beside each image */
  STUDIO_CAPTION_STORE_CSV,         /* one `filename,prompt` CSV */
} StudioCaptionStore;

typedef enum {
  STUDIO_DATASET_LOAD_DEFAULT     = 0,
  STUDIO_DATASET_LOAD_RECURSIVE   = 1 << 0,  /* also scan subfolders */
  STUDIO_DATASET_LOAD_FULL_DECODE = 1 << 1,  /* decode every image (health check) */
  STUDIO_DATASET_LOAD_ALLOW_EMPTY = 1 << 2,  /* an empty folder is no error (new project) */
} StudioDatasetLoadFlags;

typedef enum {
  STUDIO_PROBLEM_NO_CAPTION,           /* an image without caption */
  STUDIO_PROBLEM_ORPHAN_CAPTION,       /* a CSV row or a .txt naming no image */
  STUDIO_PROBLEM_UNREADABLE,           /* truncated or corrupt image (still an item) */
  STUDIO_PROBLEM_NOT_AN_IMAGE,         /* image name, other content (not an item) */
  STUDIO_PROBLEM_UNSUPPORTED,          /* GIF, TIFF (not an item) */
  STUDIO_PROBLEM_EXTENSION_MISMATCH,   /* e.g. a PNG named .jpg (accepted) */
  STUDIO_PROBLEM_DUPLICATE_ROW,        /* the CSV names an image twice; first row wins */
  STUDIO_PROBLEM_INVALID_CAPTION,      /* a sidecar that is not UTF-8 (left untouched) */
  STUDIO_PROBLEM_NO_CAPTION_FILE,      /* the CSV does not exist (yet) */
} StudioProblemKind;

typedef struct {
  StudioProblemKind kind;
  char  *file;      /* relative to the folder, or the CSV's path for CSV-wide problems */
  guint  line;      /* CSV line, 0 when none */
  char  *message;   /* a sentence for a person, naming the file */
} StudioDatasetProblem;

void studio_dataset_problem_free (StudioDatasetProblem *problem);

#define STUDIO_TYPE_DATASET (studio_dataset_get_type ())
G_DECLARE_FINAL_TYPE (StudioDataset, studio_dataset, STUDIO, DATASET, GObject)

/* METADATA_PATH is used for STUDIO_CAPTION_STORE_CSV (NULL: FOLDER/metadata.csv; a
 * relative path resolves against FOLDER). A CSV that does not exist yet is no error
 * (it is reported as a problem and created by save); a broken one is, naming its
 * line, so that saving can never overwrite what could not be read. */
StudioDataset *studio_dataset_load        (const char *folder, StudioCaptionStore store,
                                           const char *metadata_path,
                                           StudioDatasetLoadFlags flags,
                                           GCancellable *cancellable, GError **error);
/* The same in a GTask thread; the callback runs in the caller's main context. */
void           studio_dataset_load_async  (const char *folder, StudioCaptionStore store,
                                           const char *metadata_path,
                                           StudioDatasetLoadFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
StudioDataset *studio_dataset_load_finish (GAsyncResult *result, GError **error);

const char        *studio_dataset_get_folder        (StudioDataset *self);
StudioCaptionStore studio_dataset_get_caption_store (StudioDataset *self);
/* Absolute path of the CSV, or NULL for sidecars. */
const char        *studio_dataset_get_metadata_path (StudioDataset *self);
guint              studio_dataset_get_n_captioned   (StudioDataset *self);
/* By name relative to the folder ("cat.png", "sub/dog.jpg"); NULL if none. */
StudioDatasetItem *studio_dataset_lookup            (StudioDataset *self, const char *name);

/* Trailing line breaks are dropped (they are not part of a caption in either store);
 * NULL removes the caption from the CSV but never deletes a sidecar. */
void     studio_dataset_set_caption (StudioDataset *self, StudioDatasetItem *item,
                                     const char *caption);
gboolean studio_dataset_is_dirty    (StudioDataset *self);
/* Writes the changed captions to the current store, atomically: the changed sidecars,
 * or the whole CSV (rows naming missing images are kept, not dropped). */
gboolean studio_dataset_save        (StudioDataset *self, GError **error);
/* Writes every caption to STORE (METADATA_PATH as for load) and makes it the current
 * store. The old store's files are left in place, so nothing is lost. */
gboolean studio_dataset_convert     (StudioDataset *self, StudioCaptionStore store,
                                     const char *metadata_path, GError **error);

/* Probes one file (an import, or a change a file monitor saw) and inserts it in order,
 * with its sidecar caption when the store is sidecars. Replaces an item of the same
 * name. NULL and an error when the file is not a usable image. */
StudioDatasetItem *studio_dataset_add_file    (StudioDataset *self, const char *path,
                                               GError **error);
/* Takes the item out of the model (the caller trashes the file if it wants). */
void               studio_dataset_remove_item (StudioDataset *self, StudioDatasetItem *item);

/* Everything wrong right now, the load's findings plus the images still without a
 * caption: a new GPtrArray of StudioDatasetProblem*. */
GPtrArray *studio_dataset_get_problems (StudioDataset *self);

G_END_DECLS
