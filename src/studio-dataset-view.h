/* studio-dataset-view.h: StudioDatasetView, the Dataset page of a project: the health
 * summary (click a number to show that group), the filter and caption search, the
 * image grid (thumbnails off the main thread), the caption editor beside it, batch
 * tools with one Undo, import by drag-and-drop or Add Images, trash, conversion
 * between the two caption stores, and a folder monitor that shows changes made in a
 * file manager at once.
 *
 * Actions (prefix "dataset."): previous-image, next-image, zoom-in, zoom-out,
 * add-images, trash, undo, batch (s: prefix|suffix|replace|remove-tag),
 * caption-store (s: csv|sidecar), auto-caption (Ctrl+Shift+C in the view: the Auto
 * Caption dialog), review-captions (select what Auto Caption wrote). The window binds
 * its accelerators to them. */
#pragma once

#include <adwaita.h>

#include "studio-batch-ops.h"
#include "studio-caption-editor.h"
#include "studio-dataset.h"
#include "studio-project.h"

G_BEGIN_DECLS

typedef enum {
  STUDIO_DATASET_FILTER_ALL,
  STUDIO_DATASET_FILTER_NO_CAPTION,
  STUDIO_DATASET_FILTER_WARNINGS,
  STUDIO_DATASET_FILTER_DUPLICATES,
  STUDIO_DATASET_FILTER_UNREADABLE,
  STUDIO_DATASET_FILTER_SMALL,
} StudioDatasetFilter;

#define STUDIO_TYPE_DATASET_VIEW (studio_dataset_view_get_type ())
G_DECLARE_FINAL_TYPE (StudioDatasetView, studio_dataset_view, STUDIO, DATASET_VIEW, AdwBin)

/* Loads the project's dataset (in a thread). "loading" is TRUE until it is shown. */
void           studio_dataset_view_set_project (StudioDatasetView *self, StudioProject *project);
gboolean       studio_dataset_view_get_loading (StudioDatasetView *self);
/* NULL until loaded. */
StudioDataset *studio_dataset_view_get_dataset (StudioDatasetView *self);
/* The filtered model the grid shows. */
GListModel    *studio_dataset_view_get_visible (StudioDatasetView *self);
GtkSelectionModel *studio_dataset_view_get_selection (StudioDatasetView *self);
StudioCaptionEditor *studio_dataset_view_get_editor (StudioDatasetView *self);

/* Copies FILES (GFile*: images, folders, captions) into the dataset folder, as a
 * drop does; queued until the dataset is loaded. "importing" is TRUE meanwhile. */
void     studio_dataset_view_import       (StudioDatasetView *self, GSList *files);
gboolean studio_dataset_view_get_importing (StudioDatasetView *self);
/* Lines of the last import's refusals ("name: why"), NULL when none. */
GStrv    studio_dataset_view_dup_last_refused (StudioDatasetView *self);

void     studio_dataset_view_set_filter   (StudioDatasetView *self, StudioDatasetFilter filter,
                                           const char *search);
/* Makes CHANGES the current batch edit: writes them and remembers them for Undo. */
gboolean studio_dataset_view_apply_batch  (StudioDatasetView *self, GPtrArray *changes,
                                           GError **error);
gboolean studio_dataset_view_undo_batch   (StudioDatasetView *self, GError **error);
/* The items a batch applies to: the selection when it holds two or more, else every
 * image shown. A new model. */
GListModel *studio_dataset_view_dup_batch_scope (StudioDatasetView *self);
int      studio_dataset_view_get_thumbnail_size (StudioDatasetView *self);
/* Health numbers as shown, e.g. "24 images" (tests). */
const char *studio_dataset_view_get_images_text (StudioDatasetView *self);

G_END_DECLS
