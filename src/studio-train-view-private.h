/* studio-train-view-private.h: what the parts of StudioTrainView share: its instance
 * struct, its signals, and the functions one part calls in another. The parts are
 *   studio-train-view.c          the class, signals, project, getters and train.* actions
 *   studio-train-view-status.c   what is shown: actions, state, progress, log, errors
 *   studio-train-view-engine.c   the engine subprocess and its events
 *   studio-train-view-run.c      a run's life: start, resume, pause, stop, end
 *   studio-train-view-close.c    the question when the window closes during a run
 * Only these files include it. */
#pragma once

#include "studio-train-view.h"

G_BEGIN_DECLS

struct _StudioTrainView
{
  AdwBin parent_instance;

  StudioConfigPanel *config_panel;
  GtkLabel          *state_label;
  GtkButton         *start_button;
  GtkButton         *pause_button;
  GtkButton         *stop_button;
  GtkButton         *resume_checkpoint_button;
  GtkProgressBar    *progress_bar;
  GtkLabel          *step_label, *epoch_label, *speed_label, *elapsed_label, *eta_label;
  GtkLabel          *device_label, *memory_label, *loss_label;
  GtkRevealer       *error_revealer;
  GtkLabel          *error_label;
  GtkLabel          *error_log_label;
  GtkButton         *dismiss_button;
  GtkButton         *offer_resume_button;
  StudioLossPlot    *loss_plot;
  GtkAdjustment     *smoothing_adjustment;
  GtkButton         *reset_zoom_button;
  GtkTextView       *log_view;

  StudioProject      *project;
  StudioEngineClient *engine;
  gboolean            engine_refused; /* another protocol version: no training */

  char          *train_id;
  char          *inspect_id;
  char          *inspect_path;
  char          *run_dir;
  char          *state_text;
  char          *error_text;
  char          *error_log;
  char          *last_error_code;
  gboolean       paused;
  gboolean       progress_seen;   /* a step of this run was shown */
  gboolean       resume_offered;
  GOutputStream *run_log;

  gboolean   close_confirmed;   /* the window may close now */
  GCallback  shutdown_callback;
  gpointer   shutdown_data;
  gulong     close_handler;
  GtkWindow *window;
};

typedef enum {
  SIGNAL_ENGINE_EVENT,
  SIGNAL_RUN_STARTED,
  SIGNAL_RUN_FINISHED,
  SIGNAL_SAMPLE_ADDED,
  N_SIGNALS
} StudioTrainViewSignal;

/* studio-train-view.c */
/* Emits SIGNAL with its one argument (a StudioEvent* or a run folder). */
void     _studio_train_view_emit               (StudioTrainView *self, StudioTrainViewSignal signal,
                                                gconstpointer arg);

/* studio-train-view-status.c */
void     _studio_train_view_update_actions     (StudioTrainView *self);
void     _studio_train_view_set_state_text     (StudioTrainView *self, const char *text);
/* Adds LINE to the log view and to the run's engine.log. */
void     _studio_train_view_append_log         (StudioTrainView *self, const char *line);
/* The error report: what happened, the engine's last words (WITH_LOG), and a way on. */
void     _studio_train_view_show_error         (StudioTrainView *self, const char *message,
                                                gboolean with_log);
void     _studio_train_view_clear_error        (StudioTrainView *self);
void     _studio_train_view_notify_if_unfocused (StudioTrainView *self, const char *title,
                                                 const char *body);
void     _studio_train_view_check_convergence  (StudioTrainView *self);
void     _studio_train_view_on_progress        (StudioTrainView *self, JsonObject *o);

/* studio-train-view-engine.c */
void     _studio_train_view_on_inspect_model   (StudioConfigPanel *panel, const char *path,
                                                StudioTrainView *self);

/* studio-train-view-run.c */
/* The newest checkpoint of the current run, else of the project's newest run that has
 * one; its run folder in OUT_RUN_DIR. NULL when there is none. */
char    *_studio_train_view_find_resumable_checkpoint (StudioTrainView *self, char **out_run_dir);
void     _studio_train_view_finish_run         (StudioTrainView *self);

/* studio-train-view-close.c */
/* The window's close-request: during a run, asks first and stops the engine cleanly. */
gboolean _studio_train_view_on_window_close_request (GtkWindow *window, StudioTrainView *self);

G_END_DECLS
