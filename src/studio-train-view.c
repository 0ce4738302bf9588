/* studio-train-view.c: StudioTrainView: the run's life (run folder, train request,
 * events to status and curve, stop dialog, death report with the resume offer), the
 * engine's lifetime, and the question before closing the window during a run. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "studio-run-data.h"
#include "studio-train-view.h"

#define LOG_VIEW_MAX_LINES 2000
#define ERROR_LOG_LINES 8
#define SHUTDOWN_TIMEOUT_MS 15000

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
  gboolean       resume_offered;
  GOutputStream *run_log;

  gboolean   close_confirmed;   /* the window may close now */
  GCallback  shutdown_callback;
  gpointer   shutdown_data;
  gulong     close_handler;
  GtkWindow *window;
};

enum { SIGNAL_ENGINE_EVENT, SIGNAL_RUN_STARTED, SIGNAL_RUN_FINISHED, SIGNAL_SAMPLE_ADDED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioTrainView, studio_train_view, ADW_TYPE_BIN)

static void
update_actions (StudioTrainView *self)
{
  gboolean training = self->train_id != NULL;
  GtkWidget *w = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (w, "train.start", !training && self->project != NULL
                                                   && !self->engine_refused);
  gtk_widget_action_set_enabled (w, "train.pause", training && !self->paused);
  gtk_widget_action_set_enabled (w, "train.resume", training && self->paused);
  gtk_widget_action_set_enabled (w, "train.stop", training);
  gtk_widget_action_set_enabled (w, "train.pause-toggle", training);
  gtk_widget_action_set_enabled (w, "train.resume-checkpoint", !training && self->project != NULL
                                                               && !self->engine_refused);
  /* One button pauses and resumes. */
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->pause_button),
                                  self->paused ? "train.resume" : "train.pause");
  gtk_button_set_icon_name (self->pause_button, self->paused ? "media-playback-start-symbolic"
                                                             : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->pause_button),
                               self->paused ? _("Resume training") : _("Pause training"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->pause_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->paused ? _("Resume training") : _("Pause training"), -1);
  studio_config_panel_set_locked (self->config_panel, training);
}

static void
set_state_text (StudioTrainView *self, const char *text)
{
  g_free (self->state_text);
  self->state_text = g_strdup (text);
  gtk_label_set_text (self->state_label, text);
}

static void
append_log (StudioTrainView *self, const char *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, line, -1);
  gtk_text_buffer_insert (buffer, &end, "\n", 1);
  if (gtk_text_buffer_get_line_count (buffer) > LOG_VIEW_MAX_LINES)
    {
      GtkTextIter start, cut;
      gtk_text_buffer_get_start_iter (buffer, &start);
      gtk_text_buffer_get_iter_at_line (buffer, &cut, gtk_text_buffer_get_line_count (buffer)
                                                      - LOG_VIEW_MAX_LINES);
      gtk_text_buffer_delete (buffer, &start, &cut);
    }
  if (self->run_log != NULL)
    {
      g_autofree char *text = g_strconcat (line, "\n", NULL);
      g_output_stream_write_all (self->run_log, text, strlen (text), NULL, NULL, NULL);
    }
}

static char *
find_resumable_checkpoint (StudioTrainView *self, char **out_run_dir)
{
  g_autoptr (GPtrArray) runs = NULL;

  if (self->run_dir != NULL)
    {
      char *checkpoint = studio_run_find_last_checkpoint (self->run_dir);
      if (checkpoint != NULL)
        {
          *out_run_dir = g_strdup (self->run_dir);
          return checkpoint;
        }
    }
  if (self->project == NULL)
    return NULL;
  runs = studio_project_list_runs (self->project);
  for (guint i = 0; i < runs->len; i++)
    {
      StudioRun *run = g_ptr_array_index (runs, i);
      char *checkpoint = studio_run_find_last_checkpoint (run->path);
      if (checkpoint != NULL)
        {
          *out_run_dir = g_strdup (run->path);
          return checkpoint;
        }
    }
  return NULL;
}

/* The error report: what happened, the engine's last words, and a way on. */
static void
show_error (StudioTrainView *self, const char *message, gboolean with_log)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *checkpoint = find_resumable_checkpoint (self, &run_dir);
  char *text = g_strdup (message);   /* MESSAGE may be the old error_text */

  g_free (self->error_text);
  self->error_text = text;
  g_clear_pointer (&self->error_log, g_free);
  if (with_log && self->engine != NULL)
    self->error_log = studio_engine_client_dup_log_tail (self->engine, ERROR_LOG_LINES);
  gtk_label_set_text (self->error_label, text);
  gtk_label_set_text (self->error_log_label, self->error_log != NULL ? self->error_log : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_log_label),
                          self->error_log != NULL && *self->error_log != '\0');
  self->resume_offered = checkpoint != NULL && !self->engine_refused;
  gtk_widget_set_visible (GTK_WIDGET (self->offer_resume_button), self->resume_offered);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
clear_error (StudioTrainView *self)
{
  g_clear_pointer (&self->error_text, g_free);
  g_clear_pointer (&self->error_log, g_free);
  g_clear_pointer (&self->last_error_code, g_free);
  self->resume_offered = FALSE;
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static char *
format_duration (double seconds)
{
  gint64 s;

  if (!isfinite (seconds) || seconds < 0)
    return g_strdup ("–");
  s = (gint64) (seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", s / 3600, (int) (s / 60 % 60), (int) (s % 60));
  return g_strdup_printf ("%d:%02d", (int) (s / 60), (int) (s % 60));
}

static double
number (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return NAN;
  return json_node_get_double (node);
}

static void
finish_run (StudioTrainView *self)
{
  g_autofree char *run_dir = g_strdup (self->run_dir);

  g_clear_pointer (&self->train_id, g_free);
  self->paused = FALSE;
  if (self->run_log != NULL)
    {
      g_output_stream_close (self->run_log, NULL, NULL);
      g_clear_object (&self->run_log);
    }
  update_actions (self);
  if (run_dir != NULL)
    g_signal_emit (self, signals[SIGNAL_RUN_FINISHED], 0, run_dir);
}

/* A run that ends while the user looks elsewhere is worth a desktop notification;
 * clicking it (app.show-training) raises this project's window on the Train view. */
static void
notify_if_unfocused (StudioTrainView *self, const char *title, const char *body)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *window_app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;
  GApplication *app = window_app != NULL ? G_APPLICATION (window_app) : g_application_get_default ();
  g_autoptr (GNotification) notification = NULL;
  g_autofree char *id = NULL;

  if (app == NULL || (GTK_IS_WINDOW (root) && gtk_window_is_active (GTK_WINDOW (root))))
    return;
  if (self->project != NULL)
    id = g_strconcat ("run-ended:", studio_project_get_folder (self->project), NULL);
  else
    id = g_strdup ("run-ended");
  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  if (self->project != NULL)
    g_notification_set_default_action_and_target (notification, "app.show-training", "s",
                                                  studio_project_get_folder (self->project));
  /* One notification per project: runs in two windows must not replace each other's. */
  g_application_send_notification (app, id, notification);
}

/* The article: a loss that does not go down calls for a higher rank or more epochs. */
static void
check_convergence (StudioTrainView *self)
{
  guint n = studio_loss_plot_get_n_points (self->loss_plot);
  guint k;
  double first = 0, last = 0;

  if (n < 20)
    return;
  k = n / 10;
  for (guint i = 0; i < k; i++)
    {
      first += studio_loss_plot_get_smoothed (self->loss_plot, i);
      last += studio_loss_plot_get_smoothed (self->loss_plot, n - 1 - i);
    }
  if (isfinite (first) && isfinite (last) && last >= first * 0.95)
    studio_config_panel_show_advice (self->config_panel, STUDIO_ADVICE_NOT_CONVERGING);
}

static void
on_progress (StudioTrainView *self, JsonObject *o)
{
  double step = number (o, "step"), total = number (o, "total"), epoch = number (o, "epoch");
  double loss = number (o, "loss"), lr = number (o, "lr"), it_s = number (o, "it_s");
  double eta = number (o, "eta_s"), elapsed = number (o, "elapsed_s");
  double used = number (o, "memory_used"), mem_total = number (o, "memory_total");
  const char *device = json_object_get_string_member_with_default (o, "device", NULL);
  g_autofree char *text = NULL;

  text = g_strdup_printf (_("%.0f of %.0f"), step, total);
  gtk_label_set_text (self->step_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? CLAMP (step / total, 0, 1) : 0);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf (_("Step %.0f of %.0f"), step, total);
  gtk_progress_bar_set_text (self->progress_bar, text);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf ("%.0f", epoch);
  gtk_label_set_text (self->epoch_label, text);
  g_clear_pointer (&text, g_free);
  text = isfinite (it_s) ? (it_s >= 1 || it_s == 0 ? g_strdup_printf (_("%.2f it/s"), it_s)
                                                   : g_strdup_printf (_("%.1f s/it"), 1 / it_s))
                         : g_strdup ("–");
  gtk_label_set_text (self->speed_label, text);
  g_clear_pointer (&text, g_free);
  text = format_duration (elapsed);
  gtk_label_set_text (self->elapsed_label, text);
  g_clear_pointer (&text, g_free);
  text = format_duration (eta);
  gtk_label_set_text (self->eta_label, text);
  g_clear_pointer (&text, g_free);
  text = isfinite (loss) ? g_strdup_printf ("%.4g", loss) : g_strdup ("–");
  gtk_label_set_text (self->loss_label, text);
  g_clear_pointer (&text, g_free);
  if (device != NULL)
    gtk_label_set_text (self->device_label, device);
  if (isfinite (used) && used >= 0)
    {
      g_autofree char *u = g_format_size ((guint64) used);
      g_autofree char *t = isfinite (mem_total) && mem_total > 0 ? g_format_size ((guint64) mem_total) : NULL;
      text = t != NULL ? g_strdup_printf (_("%s of %s"), u, t) : g_strdup (u);
      gtk_label_set_text (self->memory_label, text);
      g_clear_pointer (&text, g_free);
    }
  if (isfinite (step))
    studio_loss_plot_append (self->loss_plot, step, loss, lr);
}

static void
on_done (StudioTrainView *self, JsonObject *o)
{
  const char *status = json_object_get_string_member_with_default (o, "status", "");

  if (g_str_equal (status, "completed"))
    {
      set_state_text (self, _("Training finished"));
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      notify_if_unfocused (self, _("Training finished"), _("The LoRA is ready in the Samples view."));
      check_convergence (self);
    }
  else if (g_str_equal (status, "stopped"))
    set_state_text (self, _("Training stopped"));
  else if (g_str_equal (status, "cancelled"))
    set_state_text (self, _("Training cancelled"));
  else
    {
      set_state_text (self, _("Training failed"));
      notify_if_unfocused (self, _("Training failed"),
                           self->error_text != NULL ? self->error_text : _("See the Train view."));
      if (self->error_text == NULL)
        show_error (self, _("The run failed without saying why; the engine log below may tell."), TRUE);
      else
        show_error (self, self->error_text, TRUE);
    }
  finish_run (self);
}

static void
describe_inspect_result (StudioTrainView *self, JsonObject *o)
{
  JsonObject *data = json_object_has_member (o, "data") ? json_object_get_object_member (o, "data") : NULL;
  g_autoptr (GList) members = data != NULL ? json_object_get_members (data) : NULL;
  GString *text = g_string_new (NULL);

  /* The engine's fields (architecture, precision, size, ...) as "name: value". */
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (data, l->data);
      g_autofree char *value = NULL;

      if (JSON_NODE_HOLDS_VALUE (node))
        value = json_node_get_value_type (node) == G_TYPE_STRING ? g_strdup (json_node_get_string (node))
                                                                 : json_to_string (node, FALSE);
      else
        continue;
      g_string_append_printf (text, "%s%s: %s", text->len ? " · " : "", (char *) l->data, value);
    }
  studio_config_panel_set_engine_model_info (self->config_panel, self->inspect_path, text->str);
  g_string_free (text, TRUE);
}

static void
on_engine_event (StudioEngineClient *engine, StudioEvent *event, StudioTrainView *self)
{
  JsonObject *o = event->object;
  gboolean ours = self->train_id != NULL && g_strcmp0 (event->id, self->train_id) == 0;

  switch (event->kind)
    {
    case STUDIO_EVENT_HELLO:
      {
        JsonArray *devices = json_object_has_member (o, "devices") ? json_object_get_array_member (o, "devices") : NULL;
        if (devices != NULL && json_array_get_length (devices) > 0)
          {
            JsonObject *d = json_array_get_object_element (devices, 0);
            gtk_label_set_text (self->device_label,
                                json_object_get_string_member_with_default (d, "name", "–"));
            gtk_widget_set_tooltip_text (GTK_WIDGET (self->device_label),
                                         json_object_get_string_member_with_default (o, "cuda_unavailable", NULL));
          }
        break;
      }
    case STUDIO_EVENT_STATE:
      {
        const char *state = json_object_get_string_member_with_default (o, "state", "");
        if (self->train_id == NULL)
          break;
        self->paused = g_str_equal (state, "paused");
        if (g_str_equal (state, "running"))
          set_state_text (self, _("Training"));
        else if (self->paused)
          set_state_text (self, _("Paused"));
        else if (g_str_equal (state, "stopping"))
          set_state_text (self, _("Stopping after this step…"));
        update_actions (self);
        break;
      }
    case STUDIO_EVENT_PROGRESS:
      if (ours)
        on_progress (self, o);
      break;
    case STUDIO_EVENT_SAMPLE:
      if (self->run_dir != NULL && (ours || self->train_id == NULL))
        {
          const char *path = json_object_get_string_member_with_default (o, "path", NULL);
          if (ours && path != NULL)
            studio_run_add_sample_index (self->run_dir, json_object_get_int_member_with_default (o, "step", 0),
                                         path, json_object_get_string_member_with_default (o, "prompt", ""),
                                         NULL);
          g_signal_emit (self, signals[SIGNAL_SAMPLE_ADDED], 0, self->run_dir);
        }
      break;
    case STUDIO_EVENT_CHECKPOINT:
      if (ours)
        {
          g_autofree char *text = g_strdup_printf (_("checkpoint saved at step %lld: %s"),
                                                   (long long) json_object_get_int_member_with_default (o, "step", 0),
                                                   json_object_get_string_member_with_default (o, "path", ""));
          append_log (self, text);
        }
      break;
    case STUDIO_EVENT_LOG:
      {
        g_autofree char *text = g_strdup_printf ("[%s] %s",
                                                 json_object_get_string_member_with_default (o, "level", "info"),
                                                 json_object_get_string_member_with_default (o, "message", ""));
        append_log (self, text);
        break;
      }
    case STUDIO_EVENT_ERROR:
      {
        const char *code = json_object_get_string_member_with_default (o, "code", "");
        const char *message = json_object_get_string_member_with_default (o, "message", "");

        if (self->inspect_id != NULL && g_strcmp0 (event->id, self->inspect_id) == 0)
          {
            g_autofree char *text = g_str_equal (code, "not-implemented")
              ? g_strdup (_("lora-engine cannot inspect models yet: shown is what the file itself says"))
              : g_strdup_printf (_("lora-engine inspect: %s"), message);
            studio_config_panel_set_engine_model_info (self->config_panel, self->inspect_path, text);
            g_clear_pointer (&self->inspect_id, g_free);
            break;
          }
        {
          g_autofree char *line = g_strdup_printf ("[error %s] %s", code, message);
          append_log (self, line);
        }
        if (ours || event->id == NULL)
          {
            g_free (self->last_error_code);
            self->last_error_code = g_strdup (code);
            if (g_str_equal (code, "out-of-memory"))
              studio_config_panel_show_advice (self->config_panel, STUDIO_ADVICE_OUT_OF_MEMORY);
            if (ours)
              show_error (self, message, FALSE);
          }
        break;
      }
    case STUDIO_EVENT_RESULT:
      if (self->inspect_id != NULL && g_strcmp0 (event->id, self->inspect_id) == 0)
        {
          describe_inspect_result (self, o);
          g_clear_pointer (&self->inspect_id, g_free);
        }
      break;
    case STUDIO_EVENT_DONE:
      if (ours)
        on_done (self, o);
      break;
    case STUDIO_N_EVENTS:
    default:
      break;
    }
  g_signal_emit (self, signals[SIGNAL_ENGINE_EVENT], 0, event);
}

static void
on_engine_log (StudioEngineClient *engine, const char *line, StudioTrainView *self)
{
  append_log (self, line);
}

static void
on_engine_failed (StudioEngineClient *engine, GError *error, StudioTrainView *self)
{
  if (g_error_matches (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION))
    {
      self->engine_refused = TRUE;
      set_state_text (self, _("Engine refused"));
      show_error (self, error->message, FALSE);
    }
  else
    {
      /* Whatever the engine had written is on disk; the config was never its to lose. */
      set_state_text (self, self->train_id != NULL ? _("The engine stopped during the run")
                                                   : _("The engine stopped"));
      show_error (self, error->message, TRUE);
    }
  if (self->train_id != NULL)
    {
      notify_if_unfocused (self, _("Training failed"), error->message);
      finish_run (self);
    }
  update_actions (self);
}

static void
on_engine_exited (StudioEngineClient *engine, StudioTrainView *self)
{
  GCallback callback = self->shutdown_callback;

  if (self->train_id != NULL)
    finish_run (self);
  g_clear_pointer (&self->inspect_id, g_free);
  g_signal_handlers_disconnect_by_data (engine, self);
  if (engine == self->engine)
    g_clear_object (&self->engine);
  update_actions (self);
  if (callback != NULL)
    {
      self->shutdown_callback = NULL;
      ((void (*) (gpointer)) callback) (self->shutdown_data);
    }
}

static void on_inspect_model (StudioConfigPanel *panel, const char *path, StudioTrainView *self);

gboolean
studio_train_view_ensure_engine (StudioTrainView *self, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), FALSE);
  if (self->engine != NULL && studio_engine_client_is_running (self->engine))
    return TRUE;
  g_clear_object (&self->engine);
  self->engine_refused = FALSE;
  self->engine = studio_engine_client_new ();
  g_signal_connect (self->engine, "event", G_CALLBACK (on_engine_event), self);
  g_signal_connect (self->engine, "log", G_CALLBACK (on_engine_log), self);
  g_signal_connect (self->engine, "failed", G_CALLBACK (on_engine_failed), self);
  g_signal_connect (self->engine, "exited", G_CALLBACK (on_engine_exited), self);
  if (!studio_engine_client_start (self->engine, NULL, error))
    {
      g_signal_handlers_disconnect_by_data (self->engine, self);
      g_clear_object (&self->engine);
      return FALSE;
    }
  /* The engine is up anyway: let it tell what the base model is. */
  {
    StudioConfig *config = studio_config_panel_get_config (self->config_panel);
    if (config != NULL && config->base_model != NULL)
      on_inspect_model (self->config_panel, config->base_model, self);
  }
  return TRUE;
}

char *
studio_train_view_send (StudioTrainView *self, const char *cmd, JsonObject *args)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  /* Requests written before hello wait in the pipe; the engine reads them after it. */
  if (!studio_train_view_ensure_engine (self, NULL))
    return NULL;
  return studio_engine_client_send (self->engine, cmd, args);
}

static void
on_inspect_model (StudioConfigPanel *panel, const char *path, StudioTrainView *self)
{
  g_autoptr (JsonObject) args = json_object_new ();

  /* Asking the engine costs a process start; only do it when one runs anyway. */
  if (self->engine == NULL || !studio_engine_client_is_running (self->engine) || self->engine_refused)
    {
      g_free (self->inspect_path);
      self->inspect_path = g_strdup (path);
      return;
    }
  json_object_set_string_member (args, "path", path);
  g_free (self->inspect_path);
  self->inspect_path = g_strdup (path);
  g_free (self->inspect_id);
  self->inspect_id = studio_train_view_send (self, "inspect", args);
}

/* Starts training with CONFIG_PATH in RUN_DIR, continuing from RESUME when not NULL. */
static gboolean
begin_run (StudioTrainView *self, const char *run_dir, const char *config_path,
           const char *resume, GError **error)
{
  g_autoptr (JsonObject) args = json_object_new ();
  g_autofree char *log_path = g_build_filename (run_dir, STUDIO_RUN_LOG_NAME, NULL);
  g_autoptr (GFile) log_file = g_file_new_for_path (log_path);

  if (!studio_train_view_ensure_engine (self, error))
    return FALSE;
  clear_error (self);
  g_free (self->run_dir);
  self->run_dir = g_strdup (run_dir);
  g_clear_object (&self->run_log);
  self->run_log = G_OUTPUT_STREAM (g_file_append_to (log_file, G_FILE_CREATE_NONE, NULL, NULL));

  studio_loss_plot_clear (self->loss_plot);
  if (resume != NULL)
    studio_train_view_show_run (self, run_dir);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));

  json_object_set_string_member (args, "config", config_path);
  if (resume != NULL)
    json_object_set_string_member (args, "resume", resume);
  g_free (self->train_id);
  self->train_id = studio_train_view_send (self, "train", args);
  self->paused = FALSE;
  set_state_text (self, resume != NULL ? _("Resuming…") : _("Starting…"));
  update_actions (self);
  g_signal_emit (self, signals[SIGNAL_RUN_STARTED], 0, run_dir);
  return self->train_id != NULL;
}

gboolean
studio_train_view_start (StudioTrainView *self, GError **error)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *run_config_path = NULL;
  g_autofree char *log_dir = NULL;
  g_autoptr (StudioConfig) run_config = NULL;

  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), FALSE);
  if (self->project == NULL || self->train_id != NULL)
    return FALSE;
  if (!studio_config_panel_flush (self->config_panel, error))
    return FALSE;

  /* The run's own copy of the config, with its folder as output_dir, so that runs never
   * overwrite each other and each keeps the config it ran with. */
  run_config = studio_config_load (studio_project_get_config_path (self->project), error);
  if (run_config == NULL)
    return FALSE;
  run_dir = studio_project_create_run_dir (self->project, NULL, error);
  if (run_dir == NULL)
    return FALSE;
  log_dir = g_build_filename (run_dir, "logs", NULL);
  run_config_path = g_build_filename (run_dir, "config.yaml", NULL);
  if (!studio_config_set (run_config, "output_dir", run_dir, error)
      || !studio_config_set (run_config, "log_dir", log_dir, error)
      || !studio_config_save (run_config, run_config_path, error))
    return FALSE;
  return begin_run (self, run_dir, run_config_path, NULL, error);
}

gboolean
studio_train_view_resume_last (StudioTrainView *self, GError **error)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *config_path = NULL;

  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), FALSE);
  if (self->project == NULL || self->train_id != NULL)
    return FALSE;
  checkpoint = find_resumable_checkpoint (self, &run_dir);
  if (checkpoint == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("No run of this project has a checkpoint to resume from; start a new run"));
      return FALSE;
    }
  config_path = g_build_filename (run_dir, "config.yaml", NULL);
  return begin_run (self, run_dir, config_path, checkpoint, error);
}

static void
send_simple (StudioTrainView *self, const char *cmd, JsonObject *args)
{
  g_free (studio_train_view_send (self, cmd, args));
}

void
studio_train_view_pause (StudioTrainView *self)
{
  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  if (self->train_id != NULL)
    send_simple (self, "pause", NULL);
}

void
studio_train_view_resume (StudioTrainView *self)
{
  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  if (self->train_id != NULL)
    send_simple (self, "resume", NULL);
}

void
studio_train_view_stop (StudioTrainView *self, gboolean save_checkpoint)
{
  g_autoptr (JsonObject) args = json_object_new ();

  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  if (self->train_id == NULL)
    return;
  json_object_set_boolean_member (args, "save_checkpoint", save_checkpoint);
  send_simple (self, "stop", args);
  set_state_text (self, _("Stopping after this step…"));
}

void
studio_train_view_show_run (StudioTrainView *self, const char *run_dir)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) loss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) lr = g_array_new (FALSE, FALSE, sizeof (double));

  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  if (self->train_id != NULL && g_strcmp0 (run_dir, self->run_dir) != 0)
    return;   /* the live run keeps the curve */
  studio_loss_plot_clear (self->loss_plot);
  studio_run_read_metrics (run_dir, steps, loss, lr, NULL);
  for (guint i = 0; i < steps->len; i++)
    studio_loss_plot_append (self->loss_plot, g_array_index (steps, double, i),
                             g_array_index (loss, double, i), g_array_index (lr, double, i));
  if (self->train_id == NULL)
    {
      g_autofree char *name = g_path_get_basename (run_dir);
      g_autofree char *text = g_strdup_printf (_("Run %s"), name);
      char *dir = g_strdup (run_dir);   /* RUN_DIR may be self->run_dir */
      g_free (self->run_dir);
      self->run_dir = dir;
      set_state_text (self, text);
    }
}

void
studio_train_view_shutdown (StudioTrainView *self, GCallback callback, gpointer user_data)
{
  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  if (self->engine == NULL || !studio_engine_client_is_running (self->engine))
    {
      if (callback != NULL)
        ((void (*) (gpointer)) callback) (user_data);
      return;
    }
  self->shutdown_callback = callback;
  self->shutdown_data = user_data;
  set_state_text (self, _("Stopping the engine…"));
  studio_engine_client_shutdown (self->engine, SHUTDOWN_TIMEOUT_MS);
}

/* --- actions and dialogs ---------------------------------------------------------- */

static void
show_action_error (StudioTrainView *self, GError *error)
{
  set_state_text (self, _("Could not start"));
  show_error (self, error->message, FALSE);
}

static void
start_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);
  g_autoptr (GError) error = NULL;

  if (!studio_train_view_start (self, &error) && error != NULL)
    show_action_error (self, error);
}

static void
pause_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  studio_train_view_pause (STUDIO_TRAIN_VIEW (widget));
}

static void
resume_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  studio_train_view_resume (STUDIO_TRAIN_VIEW (widget));
}

/* Ctrl+Space: one key pauses a running run and resumes a paused one, like the button. */
static void
pause_toggle_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);

  if (self->paused)
    studio_train_view_resume (self);
  else
    studio_train_view_pause (self);
}

static void
resume_checkpoint_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);
  g_autoptr (GError) error = NULL;

  if (!studio_train_view_resume_last (self, &error) && error != NULL)
    show_action_error (self, error);
}

static void
on_stop_response (AdwMessageDialog *dialog, const char *response, StudioTrainView *self)
{
  if (g_str_equal (response, "save"))
    studio_train_view_stop (self, TRUE);
  else if (g_str_equal (response, "discard"))
    studio_train_view_stop (self, FALSE);
}

static void
stop_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _("Stop Training?"),
                                              _("Save a checkpoint first to be able to resume this run later."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Keep Training"),
                                    "discard", _("Stop _Without Saving"),
                                    "save", _("_Save and Stop"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_stop_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
close_after_shutdown (gpointer user_data)
{
  StudioTrainView *self = user_data;

  if (self->window != NULL)
    {
      self->close_confirmed = TRUE;
      gtk_window_close (self->window);
    }
  g_object_unref (self);
}

static void
on_quit_response (AdwMessageDialog *dialog, const char *response, StudioTrainView *self)
{
  if (g_str_equal (response, "quit"))
    studio_train_view_shutdown (self, G_CALLBACK (close_after_shutdown), g_object_ref (self));
}

/* Closing the window during a run asks first, then stops the engine cleanly (a
 * checkpoint is saved) before the window goes. */
static gboolean
on_window_close_request (GtkWindow *window, StudioTrainView *self)
{
  GtkWidget *dialog;

  if (self->close_confirmed)
    return FALSE;
  if (self->train_id == NULL)
    {
      /* No run: the engine (if any) just ends with the window. */
      if (self->engine != NULL)
        studio_engine_client_shutdown (self->engine, 2000);
      return FALSE;
    }
  dialog = adw_message_dialog_new (window, _("Stop Training and Close?"),
                                   _("The run is stopped after the current step and a checkpoint "
                                     "is saved, so it can be resumed later."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Keep Training"),
                                    "quit", _("_Stop and Close"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "quit",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_quit_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static void
studio_train_view_root (GtkWidget *widget)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (studio_train_view_parent_class)->root (widget);
  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root))
    {
      self->window = GTK_WINDOW (root);
      self->close_handler = g_signal_connect (root, "close-request",
                                              G_CALLBACK (on_window_close_request), self);
    }
}

static void
studio_train_view_unroot (GtkWidget *widget)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (widget);

  if (self->window != NULL)
    g_clear_signal_handler (&self->close_handler, self->window);
  self->window = NULL;
  GTK_WIDGET_CLASS (studio_train_view_parent_class)->unroot (widget);
}

static void
on_dismiss_clicked (GtkButton *button, StudioTrainView *self)
{
  clear_error (self);
}

static void
on_smoothing_changed (GtkAdjustment *adjustment, StudioTrainView *self)
{
  studio_loss_plot_set_smoothing (self->loss_plot, gtk_adjustment_get_value (adjustment));
}

static void
on_reset_zoom_clicked (GtkButton *button, StudioTrainView *self)
{
  studio_loss_plot_reset_zoom (self->loss_plot);
}

/* --- public ---------------------------------------------------------------------- */

void
studio_train_view_set_project (StudioTrainView *self, StudioProject *project)
{
  g_return_if_fail (STUDIO_IS_TRAIN_VIEW (self));
  g_return_if_fail (STUDIO_IS_PROJECT (project));

  g_set_object (&self->project, project);
  studio_config_panel_set_project (self->config_panel, project);
  clear_error (self);
  studio_loss_plot_clear (self->loss_plot);
  g_clear_pointer (&self->run_dir, g_free);
  set_state_text (self, _("Ready to train"));
  update_actions (self);
}

StudioConfigPanel *
studio_train_view_get_config_panel (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->config_panel;
}

StudioLossPlot *
studio_train_view_get_loss_plot (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->loss_plot;
}

StudioEngineClient *
studio_train_view_get_engine (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->engine;
}

gboolean
studio_train_view_is_training (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), FALSE);
  return self->train_id != NULL;
}

const char *
studio_train_view_get_state_text (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->state_text;
}

const char *
studio_train_view_get_error (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->error_text;
}

const char *
studio_train_view_get_error_log (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->error_log;
}

gboolean
studio_train_view_get_resume_offered (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), FALSE);
  return self->resume_offered;
}

const char *
studio_train_view_get_run_dir (StudioTrainView *self)
{
  g_return_val_if_fail (STUDIO_IS_TRAIN_VIEW (self), NULL);
  return self->run_dir;
}

static void
studio_train_view_dispose (GObject *object)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (object);

  if (self->engine != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->engine, self);
      studio_engine_client_shutdown (self->engine, 2000);
      g_clear_object (&self->engine);
    }
  if (self->run_log != NULL)
    {
      g_output_stream_close (self->run_log, NULL, NULL);
      g_clear_object (&self->run_log);
    }
  g_clear_object (&self->project);
  G_OBJECT_CLASS (studio_train_view_parent_class)->dispose (object);
}

static void
studio_train_view_finalize (GObject *object)
{
  StudioTrainView *self = STUDIO_TRAIN_VIEW (object);

  g_free (self->train_id);
  g_free (self->inspect_id);
  g_free (self->inspect_path);
  g_free (self->run_dir);
  g_free (self->state_text);
  g_free (self->error_text);
  g_free (self->error_log);
  g_free (self->last_error_code);
  G_OBJECT_CLASS (studio_train_view_parent_class)->finalize (object);
}

static void
studio_train_view_class_init (StudioTrainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_train_view_dispose;
  object_class->finalize = studio_train_view_finalize;
  widget_class->root = studio_train_view_root;
  widget_class->unroot = studio_train_view_unroot;

  /* Every engine event (StudioEvent*), after the view handled it. */
  signals[SIGNAL_ENGINE_EVENT] = g_signal_new ("engine-event", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_RUN_STARTED] = g_signal_new ("run-started", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_RUN_FINISHED] = g_signal_new ("run-finished", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_SAMPLE_ADDED] = g_signal_new ("sample-added", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_activated);
  gtk_widget_class_install_action (widget_class, "train.pause", NULL, pause_activated);
  gtk_widget_class_install_action (widget_class, "train.resume", NULL, resume_activated);
  gtk_widget_class_install_action (widget_class, "train.stop", NULL, stop_activated);
  gtk_widget_class_install_action (widget_class, "train.pause-toggle", NULL, pause_toggle_activated);
  gtk_widget_class_install_action (widget_class, "train.resume-checkpoint", NULL,
                                   resume_checkpoint_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "train.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, GDK_CONTROL_MASK,
                                       "train.pause-toggle", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period, GDK_CONTROL_MASK,
                                       "train.stop", NULL);

  g_type_ensure (STUDIO_TYPE_CONFIG_PANEL);
  g_type_ensure (STUDIO_TYPE_LOSS_PLOT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-train-view.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, config_panel);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, state_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, start_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, pause_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, stop_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, resume_checkpoint_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, step_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, epoch_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, speed_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, elapsed_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, eta_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, device_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, memory_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, loss_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, error_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, error_log_label);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, dismiss_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, offer_resume_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, loss_plot);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, smoothing_adjustment);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, reset_zoom_button);
  gtk_widget_class_bind_template_child (widget_class, StudioTrainView, log_view);
}

static void
studio_train_view_init (StudioTrainView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->dismiss_button, "clicked", G_CALLBACK (on_dismiss_clicked), self);
  g_signal_connect (self->smoothing_adjustment, "value-changed", G_CALLBACK (on_smoothing_changed), self);
  g_signal_connect (self->reset_zoom_button, "clicked", G_CALLBACK (on_reset_zoom_clicked), self);
  g_signal_connect (self->config_panel, "inspect-model", G_CALLBACK (on_inspect_model), self);
  studio_loss_plot_set_smoothing (self->loss_plot, gtk_adjustment_get_value (self->smoothing_adjustment));
  set_state_text (self, _("Ready to train"));
  update_actions (self);
}
