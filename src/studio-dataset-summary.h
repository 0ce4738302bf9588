/* studio-dataset-summary.h: StudioDatasetSummary, the Dataset view until the image grid
 * lands: how many images, how many captioned, what is wrong, the first thumbnails. */
#pragma once

#include <adwaita.h>

#include "studio-config.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_DATASET_SUMMARY (studio_dataset_summary_get_type ())
G_DECLARE_FINAL_TYPE (StudioDatasetSummary, studio_dataset_summary, STUDIO, DATASET_SUMMARY, AdwBin)

/* Shows a spinner until set_config(). */
void studio_dataset_summary_set_loading (StudioDatasetSummary *self);
/* Scans CONFIG's dataset (train_data_dir, captions as metadata_path says) in a worker
 * thread, then shows the summary. */
void studio_dataset_summary_set_config  (StudioDatasetSummary *self, const StudioConfig *config);
/* TRUE while the scan runs (the "loading" property); thumbnails may follow later. */
gboolean studio_dataset_summary_get_loading (StudioDatasetSummary *self);

G_END_DECLS
