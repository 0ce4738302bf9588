/* studio-config-panel-model-info.c: StudioConfigPanel's "What the base model is" row:
 * a look at the file itself off the main thread, and the request that lets the
 * engine (`lora-engine inspect`) add what it knows. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-config-panel-model.h"
#include "studio-config-panel-private.h"

static void
describe_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  g_task_return_pointer (task, studio_describe_model_path (data), g_free);
}

static void
described (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *text = g_task_propagate_pointer (G_TASK (result), NULL);
  const char *path = g_task_get_task_data (G_TASK (result));

  if (text != NULL)
    studio_config_panel_set_model_info (STUDIO_CONFIG_PANEL (source), path, text);
}

void
_studio_config_panel_describe_model (StudioConfigPanel *self)
{
  const char *path = self->config != NULL ? self->config->base_model : NULL;
  g_autoptr (GTask) task = NULL;

  g_clear_pointer (&self->engine_info, g_free);
  if (path == NULL)
    {
      studio_config_panel_set_model_info (self, NULL, _("No base model chosen yet"));
      return;
    }
  task = g_task_new (self, self->cancellable, described, NULL);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, describe_thread);
  /* The engine can say more (architecture, precision) when it implements inspect. */
  _studio_config_panel_emit_inspect_model (self, path);
}

void
_studio_config_panel_show_model_info (StudioConfigPanel *self)
{
  g_autofree char *text = NULL;

  if (self->engine_info != NULL && self->model_info != NULL)
    text = g_strdup_printf ("%s\n%s", self->model_info, self->engine_info);
  else
    text = g_strdup (self->model_info != NULL ? self->model_info : self->engine_info);
  adw_action_row_set_subtitle (self->model_info_row, text != NULL ? text : "");
}
