/* sd-train-job.h: the GLib side of an image-lora run: the dataset scanned with
 * StudioDataset (captions from metadata.csv or sidecars), images decoded with gdk-pixbuf,
 * the config turned into sd_lora_options (gpu/models/sd-lora-run.h). */
#pragma once

#include <glib.h>

#include "run-hooks.h"
#include "sd-data.h"
#include "studio-config.h"
#include "train-job.h"
#include "trainer.h"

/* Trains CONFIG (an image-lora config, already checked and saved) with TRAIN's loop
 * options; paths written go to OUTPUTS. */
le_run_status sd_train_job_run (const TrainJobArgs *args, StudioConfig *config,
                                const le_trainer_options *train, const le_run_hooks *hooks,
                                GPtrArray *outputs);

/* sd_decode_fn with gdk-pixbuf (EXIF orientation applied); pixels are a malloc'd copy
 * that sd_images_free releases. */
bool sd_images_decode (void *user, const char *path, sd_rgb_image *img, char *why,
                           size_t why_len);
void sd_images_free (void *user, sd_rgb_image *img);
