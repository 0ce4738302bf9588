/* studio-dataset-item.h: StudioDatasetItem, one image of a dataset as the Dataset view
 * shows it: its file, its caption, its size in pixels and what is wrong with it.
 * Items live in a StudioDataset (a GListModel of them); change captions through
 * studio_dataset_set_caption() so that the dataset knows what to save.
 */
#pragma once

#include <glib-object.h>

#include "studio-dataset-image.h"

G_BEGIN_DECLS

typedef enum /*< flags >*/ {
  STUDIO_ITEM_NO_CAPTION         = 1 << 0,  /* no caption, or only blanks */
  STUDIO_ITEM_UNREADABLE         = 1 << 1,  /* truncated or corrupt: not trained on */
  STUDIO_ITEM_EXTENSION_MISMATCH = 1 << 2,  /* e.g. a PNG named .jpg (accepted) */
  STUDIO_ITEM_CAPTION_INVALID    = 1 << 3,  /* the sidecar is not UTF-8: kept untouched */
} StudioItemFlags;

GType studio_item_flags_get_type (void);
#define STUDIO_TYPE_ITEM_FLAGS (studio_item_flags_get_type ())

#define STUDIO_TYPE_DATASET_ITEM (studio_dataset_item_get_type ())
G_DECLARE_FINAL_TYPE (StudioDatasetItem, studio_dataset_item, STUDIO, DATASET_ITEM, GObject)

/* Properties: "path" (absolute), "name" (relative to the dataset folder, '/'-separated,
 * as written in metadata.csv), "caption" (NULL: none), "width", "height", "format"
 * (StudioImageFormat as int), "flags" (StudioItemFlags), "message" (the human
 * warnings, one per line, or NULL). All are read-only from outside. */
const char        *studio_dataset_item_get_path    (StudioDatasetItem *self);
const char        *studio_dataset_item_get_name    (StudioDatasetItem *self);
const char        *studio_dataset_item_get_caption (StudioDatasetItem *self);
int                studio_dataset_item_get_width   (StudioDatasetItem *self);
int                studio_dataset_item_get_height  (StudioDatasetItem *self);
StudioImageFormat  studio_dataset_item_get_format  (StudioDatasetItem *self);
StudioItemFlags    studio_dataset_item_get_flags   (StudioDatasetItem *self);
gboolean           studio_dataset_item_has_flag    (StudioDatasetItem *self, StudioItemFlags flag);
const char        *studio_dataset_item_get_message (StudioDatasetItem *self);
/* Path of the `<stem>.txt` sidecar beside the image (whether it exists or not). */
char              *studio_dataset_item_dup_sidecar_path (StudioDatasetItem *self);

/* For StudioDataset only. */
StudioDatasetItem *_studio_dataset_item_new (const char *path, const char *name);
void _studio_dataset_item_set_info    (StudioDatasetItem *self, const StudioImageInfo *info);
void _studio_dataset_item_set_caption (StudioDatasetItem *self, const char *caption);
void _studio_dataset_item_add_flags   (StudioDatasetItem *self, StudioItemFlags flags);
void _studio_dataset_item_add_message (StudioDatasetItem *self, const char *message);

G_END_DECLS
