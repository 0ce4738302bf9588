/* studio-train-view-status.c: what StudioTrainView shows of a run: the actions that
 * apply, the state line, progress numbers, the engine log, the error report, the
 * advice when the loss does not go down, and a desktop notification when a run ends
 * while the window is not in front. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "studio-train-view-private.h"

#define LOG_VIEW_MAX_LINES 2000
#define ERROR_LOG_LINES 8

void
_studio_train_view_update_actions (StudioTrainView *self)
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

void
_studio_train_view_set_state_text (StudioTrainView *self, const char *text)
{
  g_free (self->state_text);
  self->state_text = g_strdup (text);
  gtk_label_set_text (self->state_label, text);
}

void
_studio_train_view_append_log (StudioTrainView *self, const char *line)
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

/* The error report: what happened, the engine's last words, and a way on. */
void
_studio_train_view_show_error (StudioTrainView *self, const char *message, gboolean with_log)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *checkpoint = _studio_train_view_find_resumable_checkpoint (self, &run_dir);
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

void
_studio_train_view_clear_error (StudioTrainView *self)
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

/* A run that ends while the user looks elsewhere is worth a desktop notification;
 * clicking it (app.show-training) raises this project's window on the Train view. */
void
_studio_train_view_notify_if_unfocused (StudioTrainView *self, const char *title, const char *body)
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
void
_studio_train_view_check_convergence (StudioTrainView *self)
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

void
_studio_train_view_on_progress (StudioTrainView *self, JsonObject *o)
{
  double step = number (o, "step"), total = number (o, "total"), epoch = number (o, "epoch");
  double loss = number (o, "loss"), lr = number (o, "lr"), it_s = number (o, "it_s");
  double eta = number (o, "eta_s"), elapsed = number (o, "elapsed_s");
  double used = number (o, "memory_used"), mem_total = number (o, "memory_total");
  const char *device = json_object_get_string_member_with_default (o, "device", NULL);
  g_autofree char *text = NULL;

  self->progress_seen = TRUE;
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

