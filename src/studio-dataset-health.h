/* studio-dataset-health.h: the numbers at the top of the Dataset view: how many
 * images, captioned, the smallest and median resolution, the aspect ratios, exact
 * duplicates (same bytes), unreadable files and images below the training resolution.
 * Hashing every file is slow for thousands of images, so it runs in a thread
 * (studio_dataset_hash_async) and the rest is computed from the items at once. */
#pragma once

#include "studio-dataset.h"

G_BEGIN_DECLS

typedef struct {
  guint  n_images;
  guint  n_captioned;
  guint  n_unreadable;
  guint  n_small;          /* shorter side below MIN_SIDE */
  guint  n_warnings;       /* anything but a missing caption is wrong */
  guint  n_duplicates;     /* images that repeat an earlier one */
  int    min_width, min_height;        /* smallest by area; 0 when none */
  int    median_width, median_height;  /* median by area */
  char  *aspects;          /* "1:1 × 20, 3:2 × 4", most frequent first; "" when none */
  GHashTable *duplicates;  /* paths of every image in a group of equal ones */
} StudioDatasetHealth;

void studio_dataset_health_free (StudioDatasetHealth *health);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioDatasetHealth, studio_dataset_health_free)

/* ITEMS: GListModel of StudioDatasetItem. HASHES: path -> content hash, or NULL when
 * not known yet (no duplicates then). MIN_SIDE 0: no "small" check. */
StudioDatasetHealth *studio_dataset_health_compute (GListModel *items, int min_side,
                                                    GHashTable *hashes);
/* "with warnings": flags other than a missing caption, too small, or a duplicate. */
gboolean studio_dataset_health_item_has_warning (StudioDatasetHealth *health,
                                                 StudioDatasetItem *item, int min_side);

/* Hashes PATHS (a NULL-terminated array) in a thread: the result is a GHashTable
 * path -> hash (both char*), unreadable files left out. */
void        studio_dataset_hash_async  (GStrv paths, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
GHashTable *studio_dataset_hash_finish (GAsyncResult *result, GError **error);

G_END_DECLS
