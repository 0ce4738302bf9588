/* studio-train-view.c: StudioTrainView (see the header): the class, its signals, the
 * project it trains and what it tells; the other parts are listed in
 * studio-train-view-private.h. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-train-view-private.h"

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioTrainView, studio_train_view, ADW_TYPE_BIN)

void
_studio_train_view_emit (StudioTrainView *self, StudioTrainViewSignal signal, gconstpointer arg)
{
  g_signal_emit (self, signals[signal], 0, arg);
}

/* --- actions and dialogs ---------------------------------------------------------- */

static void
show_action_error (StudioTrainView *self, GError *error)
{
  _studio_train_view_set_state_text (self, _("Could not start"));
  _studio_train_view_show_error (self, error->message, FALSE);
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
                                              G_CALLBACK (_studio_train_view_on_window_close_request),
                                              self);
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
  _studio_train_view_clear_error (self);
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
  _studio_train_view_clear_error (self);
  studio_loss_plot_clear (self->loss_plot);
  g_clear_pointer (&self->run_dir, g_free);
  _studio_train_view_set_state_text (self, _("Ready to train"));
  _studio_train_view_update_actions (self);
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
  g_signal_connect (self->config_panel, "inspect-model",
                    G_CALLBACK (_studio_train_view_on_inspect_model), self);
  studio_loss_plot_set_smoothing (self->loss_plot, gtk_adjustment_get_value (self->smoothing_adjustment));
  _studio_train_view_set_state_text (self, _("Ready to train"));
  _studio_train_view_update_actions (self);
}
