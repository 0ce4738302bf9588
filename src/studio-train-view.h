/* studio-train-view.h: StudioTrainView, the Train view: the config panel, the engine
 * subprocess that trains (Start, Pause, Resume, Stop, Resume from the last checkpoint),
 * live status and the loss curve, and what to do when the engine fails.
 *
 * Each run gets its own folder (runs/<stamp>/, the run's output_dir), holding the
 * config that ran, the engine's metrics.jsonl, samples, checkpoints, the LoRA and
 * engine.log (the engine's stderr). */
#pragma once

#include <adwaita.h>

#include "studio-config-panel.h"
#include "studio-engine-client.h"
#include "studio-loss-plot.h"
#include "studio-project.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_TRAIN_VIEW (studio_train_view_get_type ())
G_DECLARE_FINAL_TYPE (StudioTrainView, studio_train_view, STUDIO, TRAIN_VIEW, AdwBin)

void               studio_train_view_set_project   (StudioTrainView *self, StudioProject *project);
StudioConfigPanel *studio_train_view_get_config_panel (StudioTrainView *self);
StudioLossPlot    *studio_train_view_get_loss_plot (StudioTrainView *self);
/* The engine in use, or NULL when none runs. */
StudioEngineClient *studio_train_view_get_engine   (StudioTrainView *self);
/* Starts the engine when it is not running; requests wait until it said hello. */
gboolean           studio_train_view_ensure_engine (StudioTrainView *self, GError **error);
/* Sends CMD once the engine is ready; returns the request id (free it) or NULL when
 * no engine can run. Answers arrive through the "engine-event" signal. */
char              *studio_train_view_send          (StudioTrainView *self, const char *cmd,
                                                    JsonObject *args);

/* Saves the config, makes a run folder and starts training in it. */
gboolean           studio_train_view_start         (StudioTrainView *self, GError **error);
void               studio_train_view_pause         (StudioTrainView *self);
void               studio_train_view_resume        (StudioTrainView *self);
/* Ends the run after the current step; SAVE_CHECKPOINT as the Stop dialog answered. */
void               studio_train_view_stop          (StudioTrainView *self, gboolean save_checkpoint);
/* Continues the newest run that has a checkpoint, in its own folder. */
gboolean           studio_train_view_resume_last   (StudioTrainView *self, GError **error);

/* TRUE from Start until the run's done (or the engine's death). */
gboolean           studio_train_view_is_training   (StudioTrainView *self);
/* The run's state in words ("Training", "Paused", "Finished", ...). */
const char        *studio_train_view_get_state_text (StudioTrainView *self);
/* The error shown (NULL when none) and the engine log lines shown with it. */
const char        *studio_train_view_get_error     (StudioTrainView *self);
const char        *studio_train_view_get_error_log (StudioTrainView *self);
/* TRUE when the error report offers to resume from a checkpoint. */
gboolean           studio_train_view_get_resume_offered (StudioTrainView *self);
/* The folder of the current (or last) run, or NULL. */
const char        *studio_train_view_get_run_dir   (StudioTrainView *self);
/* Shows a finished run's curve (from its metrics.jsonl). */
void               studio_train_view_show_run      (StudioTrainView *self, const char *run_dir);
/* Asks the engine to stop (checkpoint saved) and exit; CALLBACK runs once it has
 * (or at once when none runs). Used when the window closes during a run. */
void               studio_train_view_shutdown      (StudioTrainView *self, GCallback callback,
                                                    gpointer user_data);

G_END_DECLS
