/* studio-dataset-cell.h: StudioDatasetCell, one image in the Dataset grid: the
 * thumbnail, the file name, the size in pixels and badges for what is wrong. The cell
 * draws all of it itself and its size depends only on the thumbnail size and the font,
 * so binding it to another image or a thumbnail arriving only redraws it. */
#pragma once

#include <adwaita.h>

#include "studio-dataset-item.h"
#include "studio-thumbnail-loader.h"

G_BEGIN_DECLS

/* The badges a cell shows, over the top end corner of its thumbnail. */
typedef enum {
  STUDIO_DATASET_CELL_BADGE_NO_CAPTION = 1 << 0,
  STUDIO_DATASET_CELL_BADGE_SMALL      = 1 << 1,   /* smaller than the training resolution */
  STUDIO_DATASET_CELL_BADGE_UNREADABLE = 1 << 2,
} StudioDatasetCellBadges;

#define STUDIO_TYPE_DATASET_CELL (studio_dataset_cell_get_type ())
G_DECLARE_FINAL_TYPE (StudioDatasetCell, studio_dataset_cell, STUDIO, DATASET_CELL, GtkWidget)

GtkWidget *studio_dataset_cell_new (void);
/* ITEM NULL unbinds (and cancels the thumbnail request). SIZE: the thumbnail's side in
 * pixels (the cell's size follows it). MIN_SIDE: images whose shorter side is below it
 * get the "smaller than the training resolution" badge (0: no badge). */
void       studio_dataset_cell_bind   (StudioDatasetCell *self, StudioDatasetItem *item,
                                       StudioThumbnailLoader *loader, int size, int min_side);
void       studio_dataset_cell_unbind (StudioDatasetCell *self);
/* TRUE once the thumbnail (or the unreadable placeholder) is shown. */
gboolean   studio_dataset_cell_has_thumbnail (StudioDatasetCell *self);

/* What the cell shows, for tests and tools; NULL or 0 when unbound. */
GdkPaintable            *studio_dataset_cell_get_paintable (StudioDatasetCell *self);
const char              *studio_dataset_cell_get_name      (StudioDatasetCell *self);
/* "1024 × 768", or "unreadable". */
const char              *studio_dataset_cell_get_pixels    (StudioDatasetCell *self);
StudioDatasetCellBadges  studio_dataset_cell_get_badges    (StudioDatasetCell *self);

G_END_DECLS
