/* train-job.h: one training run from a config file, reported through le_run_hooks.
 * `lora-engine train` runs it on the main thread; `lora-engine serve` on a worker
 * thread. This is the seam where the engine's trainer plugs in. */
#pragma once

#include <glib.h>

#include "run-hooks.h"

typedef struct {
  const char *config_path;
  const char *resume;    /* checkpoint folder to continue from, or NULL */
  const char *device;    /* "auto", "cpu", "cuda", "cuda:N", or NULL (= auto) */
} TrainJobArgs;

/* Checks the config and the files it names, then trains. Every problem goes to
 * hooks->error; paths written are appended to OUTPUTS (char*, g_free). */
le_run_status train_job_run (const TrainJobArgs *args, const le_run_hooks *hooks,
                             GPtrArray *outputs);

/* TRUE when DEVICE is a --device value we accept. */
gboolean train_job_device_valid (const char *device);
