/* sd-demo.h: what the in-process SD training tests (test-sd-train.c,
 * test-sd-multistore.c) share: the demo dataset's images and captions, and the LoRA
 * options they start from. */
#pragma once

#include <glib.h>

#include "sd-lora-run.h"

/* Appends the path of every image of DEMO_DIR/dataset/metadata.csv to PATHS and its
 * caption to CAPTIONS (both own their strings); nothing when the file cannot be read. */
void sd_demo_read (const char *demo_dir, GPtrArray *paths, GPtrArray *captions);

/* Small, fast runs on the CPU: rank 4 (alpha 4) at 64x64, batch 4, one epoch, a constant
 * learning rate of 3e-3 without warmup, seed 3, on the N ITEMS, from MODEL into OUT. */
void sd_demo_options (sd_lora_options *o, const char *model, const char *out,
                      sd_train_item *items, int n);
