/* studio-train-view-run.c: a StudioTrainView run's life: its folder and config copy,
 * the train request (new or resumed from the newest checkpoint), pause, resume, stop,
 * the end of a run, showing a finished run's curve, and shutting the engine down. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-run-data.h"
#include "studio-train-view-private.h"

#define SHUTDOWN_TIMEOUT_MS 15000

char *
_studio_train_view_find_resumable_checkpoint (StudioTrainView *self, char **out_run_dir)
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

void
_studio_train_view_finish_run (StudioTrainView *self)
{
  g_autofree char *run_dir = g_strdup (self->run_dir);

  g_clear_pointer (&self->train_id, g_free);
  self->paused = FALSE;
  /* A run that ended before its first step must not go on saying “Starting…”. */
  if (!self->progress_seen)
    gtk_progress_bar_set_text (self->progress_bar, _("No step was run"));
  if (self->run_log != NULL)
    {
      g_output_stream_close (self->run_log, NULL, NULL);
      g_clear_object (&self->run_log);
    }
  _studio_train_view_update_actions (self);
  if (run_dir != NULL)
    _studio_train_view_emit (self, SIGNAL_RUN_FINISHED, run_dir);
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
  _studio_train_view_clear_error (self);
  g_free (self->run_dir);
  self->run_dir = g_strdup (run_dir);
  g_clear_object (&self->run_log);
  self->run_log = G_OUTPUT_STREAM (g_file_append_to (log_file, G_FILE_CREATE_NONE, NULL, NULL));

  studio_loss_plot_clear (self->loss_plot);
  if (resume != NULL)
    studio_train_view_show_run (self, run_dir);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
  self->progress_seen = FALSE;

  json_object_set_string_member (args, "config", config_path);
  if (resume != NULL)
    json_object_set_string_member (args, "resume", resume);
  g_free (self->train_id);
  self->train_id = studio_train_view_send (self, "train", args);
  self->paused = FALSE;
  _studio_train_view_set_state_text (self, resume != NULL ? _("Resuming…") : _("Starting…"));
  _studio_train_view_update_actions (self);
  _studio_train_view_emit (self, SIGNAL_RUN_STARTED, run_dir);
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
  checkpoint = _studio_train_view_find_resumable_checkpoint (self, &run_dir);
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
  _studio_train_view_set_state_text (self, _("Stopping after this step…"));
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
      _studio_train_view_set_state_text (self, text);
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
  _studio_train_view_set_state_text (self, _("Stopping the engine…"));
  studio_engine_client_shutdown (self->engine, SHUTDOWN_TIMEOUT_MS);
}

