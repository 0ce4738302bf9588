/* studio-dataset-import.h: copying dropped or chosen files into a dataset folder.
 *
 * Files and whole folders (recursively) go in; every image is copied into the
 * dataset folder (flat), a name already taken is renamed ("cat.png" -> "cat-2.png"),
 * an image whose content is already in the folder or earlier in the same import is
 * skipped and counted, anything that is not an image is refused with the reason,
 * and a `.txt` caption dropped beside an image comes along with it. Runs in a GTask
 * thread, reports progress in the caller's main context and stops when cancelled
 * (files already copied stay; none is left half-written). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char *path;        /* the copy, inside the dataset folder */
  char *caption;     /* the dropped sidecar's text, or NULL */
} StudioImportedFile;

typedef struct {
  GPtrArray *imported;     /* StudioImportedFile* */
  GPtrArray *refused;      /* char*: "name: why", one per file that is not an image */
  guint      duplicates;   /* images skipped because the folder has them already */
  guint      renamed;      /* images that got a new name to avoid a clash */
  gboolean   cancelled;
} StudioImportResult;

void studio_import_result_free (StudioImportResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioImportResult, studio_import_result_free)

/* Called with the number of files looked at so far and the total. */
typedef void (*StudioImportProgress) (guint done, guint total, gpointer user_data);

/* The import itself, blocking: FILES is a list of GFile*. PROGRESS runs in the
 * calling thread. NULL and an error only when the dataset folder cannot be written. */
StudioImportResult *studio_dataset_import (const char *folder, GSList *files,
                                           GCancellable *cancellable,
                                           StudioImportProgress progress, gpointer progress_data,
                                           GError **error);

/* The same in a thread; PROGRESS runs in the caller's thread-default main context. */
void                studio_dataset_import_async  (const char *folder, GSList *files,
                                                  GCancellable *cancellable,
                                                  StudioImportProgress progress,
                                                  gpointer progress_data,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
StudioImportResult *studio_dataset_import_finish (GAsyncResult *result, GError **error);

G_END_DECLS
