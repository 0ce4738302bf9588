/* studio-run-data.h: what a run folder holds, read back for the Train and Samples views:
 * the engine's metrics.jsonl, the samples (images or texts) by step and prompt, the
 * LoRA file and the newest checkpoint; the `<lora:name:0.8>` snippet and the export.
 *
 * A run folder is the output_dir of one training run (runs/<stamp>-<label>/): the
 * engine writes config.yaml, metrics.jsonl, samples/, checkpoints/ and the LoRA there;
 * the app adds engine.log (the engine's stderr) and samples.jsonl (the prompt of each
 * sample, from the engine's sample events). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define STUDIO_RUN_METRICS_NAME "metrics.jsonl"
#define STUDIO_RUN_LOG_NAME "engine.log"
#define STUDIO_RUN_SAMPLE_INDEX_NAME "samples.jsonl"

typedef struct {
  gint64 step;
  char  *path;     /* the PNG or text file */
  char  *prompt;   /* may be "" when unknown */
  char  *text;     /* text runs: what the model wrote after the prompt; else NULL */
} StudioSampleItem;

void studio_sample_item_free (StudioSampleItem *item);

/* Appends the logged steps of RUN_DIR/metrics.jsonl to the three arrays of double.
 * Lines that do not parse are skipped (a run killed mid-write leaves half a line).
 * FALSE with ERROR when the file cannot be read. */
gboolean   studio_run_read_metrics      (const char *run_dir, GArray *steps, GArray *loss,
                                         GArray *lr, GError **error);
/* The last finite loss of the run, or NAN. */
double     studio_run_final_loss        (const char *run_dir);
/* Samples of the run, newest step first; within a step in prompt order. Text samples
 * (step-N.txt, "### prompt" blocks) give one item per prompt. */
GPtrArray *studio_run_list_samples      (const char *run_dir);
/* Remembers the prompt of a sample the engine announced. */
gboolean   studio_run_add_sample_index  (const char *run_dir, gint64 step, const char *path,
                                         const char *prompt, GError **error);
/* The run's LoRA file (image or text), or NULL. Free with g_free. */
char      *studio_run_find_lora         (const char *run_dir);
/* The newest checkpoints/step-N folder, or NULL. */
char      *studio_run_find_last_checkpoint (const char *run_dir);
/* The name WebUI gives the exported file (run folder name), e.g. in <lora:NAME:0.8>. */
char      *studio_run_lora_name         (const char *run_dir);
/* "<lora:NAME:WEIGHT>" with WEIGHT as "0.8". */
char      *studio_run_prompt_snippet    (const char *run_dir, double weight);
/* Copies the run's LoRA file (a stopped run's: its last checkpoint's) to
 * DEST_DIR/NAME.safetensors (atomically; an existing file of that name is replaced) and
 * returns the new path. */
char      *studio_run_export_lora       (const char *run_dir, const char *dest_dir,
                                         GError **error);

G_END_DECLS
