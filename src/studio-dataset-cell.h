/* studio-dataset-cell.h: StudioDatasetCell, one image in the Dataset grid: the
 * thumbnail, the file name, the size in pixels and badges for what is wrong. */
#pragma once

#include <adwaita.h>

#include "studio-dataset-item.h"
#include "studio-thumbnail-loader.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_DATASET_CELL (studio_dataset_cell_get_type ())
G_DECLARE_FINAL_TYPE (StudioDatasetCell, studio_dataset_cell, STUDIO, DATASET_CELL, GtkWidget)

GtkWidget *studio_dataset_cell_new (void);
/* ITEM NULL unbinds (and cancels the thumbnail request). MIN_SIDE: images whose
 * shorter side is below it get the "smaller than the training resolution" badge
 * (0: no badge). */
void       studio_dataset_cell_bind   (StudioDatasetCell *self, StudioDatasetItem *item,
                                       StudioThumbnailLoader *loader, int size, int min_side);
void       studio_dataset_cell_unbind (StudioDatasetCell *self);
/* TRUE once the thumbnail (or the unreadable placeholder) is shown. */
gboolean   studio_dataset_cell_has_thumbnail (StudioDatasetCell *self);

G_END_DECLS
