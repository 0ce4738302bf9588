/* studio-samples-view.h: StudioSamplesView, the Samples view: the project's runs (final
 * loss, date) and the selected run's samples by step and prompt, newest first, with a
 * large view, two steps side by side, Generate (prompt, negative prompt, seed, LoRA
 * strength, any checkpoint) through the engine's `sample` request, and the run's
 * folder, prompt snippet and LoRA export. Text runs show generated texts. */
#pragma once

#include <adwaita.h>

#include "studio-project.h"
#include "studio-train-view.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_SAMPLES_VIEW (studio_samples_view_get_type ())
G_DECLARE_FINAL_TYPE (StudioSamplesView, studio_samples_view, STUDIO, SAMPLES_VIEW, AdwBin)

void        studio_samples_view_set_project    (StudioSamplesView *self, StudioProject *project);
/* The Train view runs the engine (Generate) and shows curves; runs it starts appear here. */
void        studio_samples_view_set_train_view (StudioSamplesView *self, StudioTrainView *train);
/* Lists the runs again (in a worker thread). */
void        studio_samples_view_refresh        (StudioSamplesView *self);
/* TRUE once the last refresh and sample load have finished. */
gboolean    studio_samples_view_is_loaded      (StudioSamplesView *self);
guint       studio_samples_view_get_n_runs     (StudioSamplesView *self);
/* Title and subtitle of the I-th run row ("final loss 0.1234 · 29 Nov 2026 14:15"). */
const char *studio_samples_view_get_run_subtitle (StudioSamplesView *self, guint i);
void        studio_samples_view_select_run     (StudioSamplesView *self, const char *run_dir);
const char *studio_samples_view_get_run        (StudioSamplesView *self);
/* The samples shown, newest step first (StudioSampleItem*, owned by the view). */
GPtrArray  *studio_samples_view_get_items      (StudioSamplesView *self);
/* The steps the run has samples for, newest first. */
GArray     *studio_samples_view_get_steps      (StudioSamplesView *self);
/* "empty", "gallery", "compare" or "large". */
const char *studio_samples_view_get_page       (StudioSamplesView *self);
void        studio_samples_view_show_large     (StudioSamplesView *self, guint index);
gboolean    studio_samples_view_compare        (StudioSamplesView *self, gint64 step_a,
                                                gint64 step_b);
/* Copies <lora:name:0.8> to the clipboard and returns it (free it), or NULL. */
char       *studio_samples_view_copy_snippet   (StudioSamplesView *self);
/* Exports the run's LoRA to FOLDER; returns the new file (free it). */
char       *studio_samples_view_export_to      (StudioSamplesView *self, const char *folder,
                                                GError **error);
/* Asks the engine for a sample of the selected run with WEIGHTS (NULL: the run's LoRA);
 * returns the request id (free it). The result appears under "Generated". */
/* TRUE while a sample asked for with studio_samples_view_generate is being drawn. */
gboolean    studio_samples_view_is_generating (StudioSamplesView *self);
char       *studio_samples_view_generate       (StudioSamplesView *self, const char *prompt,
                                                const char *negative, gint64 seed,
                                                double strength, const char *weights,
                                                GError **error);
/* What was generated in this session (StudioSampleItem*). */
GPtrArray  *studio_samples_view_get_generated  (StudioSamplesView *self);
/* The status line (last action's result or error). */
const char *studio_samples_view_get_status     (StudioSamplesView *self);

G_END_DECLS
