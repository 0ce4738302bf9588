/* sample-job.h: one preview drawn outside training, as `lora-engine sample` and serve's
 * `sample` request (when no run is in progress) both do it: the base model (from the
 * config or given), a LoRA at a strength, the prompt, a PNG. One function so the command
 * line and the app get the same image for the same settings. */
#pragma once

#include <glib.h>

#include "error.h"

typedef struct {
  const char *config_path;  /* a training config: base_model, resolution, sample_*; or NULL */
  const char *base;         /* the base model; NULL: the config's */
  const char *lora;         /* LoRA file, or a run or checkpoint folder holding one; or NULL */
  double      weight;       /* LoRA strength (WebUI's <lora:name:W>) */
  const char *prompt;
  const char *negative;     /* or NULL */
  gint64      seed;         /* < 0: the config's seed */
  int         steps;        /* <= 0: sample_steps */
  double      cfg;          /* <= 0: sample_cfg_scale */
  int         width, height;  /* <= 0: resolution */
  const char *sampler;      /* NULL: sample_sampler */
  const char *device;       /* NULL: cpu for images, the config's device for text */
  const char *out;          /* the PNG; NULL: output_dir/samples/generated-<time>.png */
} SampleJobArgs;

/* Draws the image and returns the path written (g_free), or NULL with ERR (the message
 * names the file at fault). */
char *sample_job_run (const SampleJobArgs *args, le_error *err);

/* The protocol's error code for ERR ("io", "format", "unsupported", ...). */
const char *sample_job_error_code (const le_error *err);
