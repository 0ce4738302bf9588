/* studio-train-view-engine.c: StudioTrainView's engine: starting the subprocess,
 * sending requests, and handling what it says (events, log lines, failure, exit),
 * including the model description that `inspect` answers. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-run-data.h"
#include "studio-train-view-private.h"

static void
on_done (StudioTrainView *self, JsonObject *o)
{
  const char *status = json_object_get_string_member_with_default (o, "status", "");

  if (g_str_equal (status, "completed"))
    {
      _studio_train_view_set_state_text (self, _("Training finished"));
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      _studio_train_view_notify_if_unfocused (self, _("Training finished"),
                                              _("The LoRA is ready in the Samples view."));
      _studio_train_view_check_convergence (self);
    }
  else if (g_str_equal (status, "stopped"))
    _studio_train_view_set_state_text (self, _("Training stopped"));
  else if (g_str_equal (status, "cancelled"))
    _studio_train_view_set_state_text (self, _("Training cancelled"));
  else
    {
      _studio_train_view_set_state_text (self, _("Training failed"));
      _studio_train_view_notify_if_unfocused (self, _("Training failed"),
                                              self->error_text != NULL ? self->error_text
                                                                       : _("See the Train view."));
      if (self->error_text == NULL)
        _studio_train_view_show_error (self, _("The run failed without saying why; the engine log "
                                               "below may tell."), TRUE);
      else
        _studio_train_view_show_error (self, self->error_text, TRUE);
    }
  _studio_train_view_finish_run (self);
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
          _studio_train_view_set_state_text (self, _("Training"));
        else if (self->paused)
          _studio_train_view_set_state_text (self, _("Paused"));
        else if (g_str_equal (state, "stopping"))
          _studio_train_view_set_state_text (self, _("Stopping after this step…"));
        _studio_train_view_update_actions (self);
        break;
      }
    case STUDIO_EVENT_PROGRESS:
      if (ours)
        _studio_train_view_on_progress (self, o);
      break;
    case STUDIO_EVENT_SAMPLE:
      if (self->run_dir != NULL && (ours || self->train_id == NULL))
        {
          const char *path = json_object_get_string_member_with_default (o, "path", NULL);
          if (ours && path != NULL)
            studio_run_add_sample_index (self->run_dir, json_object_get_int_member_with_default (o, "step", 0),
                                         path, json_object_get_string_member_with_default (o, "prompt", ""),
                                         NULL);
          _studio_train_view_emit (self, SIGNAL_SAMPLE_ADDED, self->run_dir);
        }
      break;
    case STUDIO_EVENT_CHECKPOINT:
      if (ours)
        {
          g_autofree char *text = g_strdup_printf (_("checkpoint saved at step %lld: %s"),
                                                   (long long) json_object_get_int_member_with_default (o, "step", 0),
                                                   json_object_get_string_member_with_default (o, "path", ""));
          _studio_train_view_append_log (self, text);
        }
      break;
    case STUDIO_EVENT_LOG:
      {
        g_autofree char *text = g_strdup_printf ("[%s] %s",
                                                 json_object_get_string_member_with_default (o, "level", "info"),
                                                 json_object_get_string_member_with_default (o, "message", ""));
        _studio_train_view_append_log (self, text);
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
          _studio_train_view_append_log (self, line);
        }
        if (ours || event->id == NULL)
          {
            g_free (self->last_error_code);
            self->last_error_code = g_strdup (code);
            if (g_str_equal (code, "out-of-memory"))
              studio_config_panel_show_advice (self->config_panel, STUDIO_ADVICE_OUT_OF_MEMORY);
            if (ours)
              _studio_train_view_show_error (self, message, FALSE);
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
  _studio_train_view_emit (self, SIGNAL_ENGINE_EVENT, event);
}

static void
on_engine_log (StudioEngineClient *engine, const char *line, StudioTrainView *self)
{
  _studio_train_view_append_log (self, line);
}

static void
on_engine_failed (StudioEngineClient *engine, GError *error, StudioTrainView *self)
{
  if (g_error_matches (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION))
    {
      self->engine_refused = TRUE;
      _studio_train_view_set_state_text (self, _("Engine refused"));
      _studio_train_view_show_error (self, error->message, FALSE);
    }
  else
    {
      /* Whatever the engine had written is on disk; the config was never its to lose. */
      _studio_train_view_set_state_text (self, self->train_id != NULL
                                               ? _("The engine stopped during the run")
                                               : _("The engine stopped"));
      _studio_train_view_show_error (self, error->message, TRUE);
    }
  if (self->train_id != NULL)
    {
      _studio_train_view_notify_if_unfocused (self, _("Training failed"), error->message);
      _studio_train_view_finish_run (self);
    }
  _studio_train_view_update_actions (self);
}

static void
on_engine_exited (StudioEngineClient *engine, StudioTrainView *self)
{
  GCallback callback = self->shutdown_callback;

  if (self->train_id != NULL)
    _studio_train_view_finish_run (self);
  g_clear_pointer (&self->inspect_id, g_free);
  g_signal_handlers_disconnect_by_data (engine, self);
  if (engine == self->engine)
    g_clear_object (&self->engine);
  _studio_train_view_update_actions (self);
  if (callback != NULL)
    {
      self->shutdown_callback = NULL;
      ((void (*) (gpointer)) callback) (self->shutdown_data);
    }
}

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
      _studio_train_view_on_inspect_model (self->config_panel, config->base_model, self);
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

void
_studio_train_view_on_inspect_model (StudioConfigPanel *panel, const char *path, StudioTrainView *self)
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

