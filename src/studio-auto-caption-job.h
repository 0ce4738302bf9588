/* studio-auto-caption-job.h: StudioAutoCaptionJob, one `lora-engine caption --json` run
 * over a dataset folder, read asynchronously on the main loop.
 *
 * The job is its own process rather than a request to the Train view's `serve`, so the
 * Dataset view needs nothing from the Train view; the engine merges the captions into
 * the store (metadata.csv or sidecars) itself, atomically, and never replaces one that
 * exists unless asked. Cancel sends SIGINT: the engine stops after the image in
 * progress and still writes the captions it made. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  STUDIO_AUTO_CAPTION_COMPLETED,
  STUDIO_AUTO_CAPTION_CANCELLED,
  STUDIO_AUTO_CAPTION_FAILED,
} StudioAutoCaptionStatus;

typedef struct {
  const char *model;      /* a CLIPModel folder */
  const char *images;     /* the dataset folder */
  const char *out;        /* the CSV to merge into; NULL: sidecars */
  const char *trigger;    /* NULL or "": none */
  int         max_tags;   /* 1-64 */
  gboolean    overwrite;  /* replace captions that exist */
} StudioAutoCaptionOptions;

#define STUDIO_TYPE_AUTO_CAPTION_JOB (studio_auto_caption_job_get_type ())
G_DECLARE_FINAL_TYPE (StudioAutoCaptionJob, studio_auto_caption_job, STUDIO, AUTO_CAPTION_JOB, GObject)

StudioAutoCaptionJob *studio_auto_caption_job_new (void);
/* Starts the engine (ENGINE_PATH NULL: studio_engine_find ()). Signals follow on the
 * main loop: "progress" (guint done, guint total), "caption" (filename relative to the
 * folder, caption), "warning" (a skipped image, in the engine's words), then
 * "finished" once, when the process has ended. FALSE when it could not start. */
gboolean studio_auto_caption_job_start (StudioAutoCaptionJob *self, const char *engine_path,
                                        const StudioAutoCaptionOptions *options,
                                        GError **error);
/* Asks the engine to stop after the image in progress (the captions made are kept). */
void     studio_auto_caption_job_cancel (StudioAutoCaptionJob *self);
gboolean studio_auto_caption_job_is_running (StudioAutoCaptionJob *self);
/* After "finished": how it ended and, when it failed, the engine's message. */
StudioAutoCaptionStatus studio_auto_caption_job_get_status (StudioAutoCaptionJob *self);
const char *studio_auto_caption_job_get_error (StudioAutoCaptionJob *self);

G_END_DECLS
