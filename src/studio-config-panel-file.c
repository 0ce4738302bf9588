/* studio-config-panel-file.c: StudioConfigPanel and config.yaml on disk: the debounced
 * atomic save, edits made elsewhere picked up through the file monitor, and the banner
 * that shows a conflict (or an unreadable file) and resolves it. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-config-panel-private.h"

#define SAVE_DELAY_MS 400
#define MONITOR_DELAY_MS 150

char *
_studio_config_panel_read_disk (StudioConfigPanel *self)
{
  char *text = NULL;

  if (self->config == NULL || self->config->path == NULL
      || !g_file_get_contents (self->config->path, &text, NULL, NULL))
    return NULL;
  return text;
}

void
_studio_config_panel_show_banner (StudioConfigPanel *self, const char *text, gboolean conflict)
{
  g_free (self->banner_text);
  self->banner_text = g_strdup (text);
  self->conflict = conflict;
  if (text != NULL)
    gtk_label_set_text (self->banner_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->reload_button), text != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->keep_button), text != NULL);
  gtk_revealer_set_reveal_child (self->banner_revealer, text != NULL);
}

/* The banner when config.yaml changed on disk under edits not yet saved. */
static void
show_conflict (StudioConfigPanel *self)
{
  _studio_config_panel_show_banner (self, _("config.yaml was changed by another program while you "
                                            "were editing it here. Nothing was overwritten: use the "
                                            "file on disk, or keep the values shown here (the file "
                                            "is then replaced)."), TRUE);
}

/* Writes the panel's values unless the file changed on disk since we last saw it:
 * then the user decides (the banner), and nothing of either version is lost. */
gboolean
_studio_config_panel_save_now (StudioConfigPanel *self, gboolean force, GError **error)
{
  g_autofree char *on_disk = NULL;

  g_clear_handle_id (&self->save_timeout, g_source_remove);
  if (self->config == NULL || !self->dirty)
    return TRUE;
  on_disk = _studio_config_panel_read_disk (self);
  if (!force && g_strcmp0 (on_disk, self->disk_text) != 0)
    {
      show_conflict (self);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("config.yaml changed on disk while it was edited here; resolve the conflict first"));
      return FALSE;
    }
  if (!studio_config_save (self->config, self->config->path, error))
    {
      _studio_config_panel_show_banner (self, (error && *error) ? (*error)->message
                                                                : _("config.yaml could not be saved"),
                                        FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->reload_button), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->keep_button), FALSE);
      return FALSE;
    }
  g_free (self->disk_text);
  self->disk_text = _studio_config_panel_read_disk (self);
  self->dirty = FALSE;
  _studio_config_panel_show_banner (self, NULL, FALSE);
  return TRUE;
}

static gboolean
save_timeout_cb (gpointer user_data)
{
  StudioConfigPanel *self = user_data;

  self->save_timeout = 0;
  _studio_config_panel_save_now (self, FALSE, NULL);
  return G_SOURCE_REMOVE;
}

void
_studio_config_panel_schedule_save (StudioConfigPanel *self)
{
  self->dirty = TRUE;
  if (self->conflict)
    return;
  g_clear_handle_id (&self->save_timeout, g_source_remove);
  self->save_timeout = g_timeout_add (SAVE_DELAY_MS, save_timeout_cb, self);
}

gboolean
studio_config_panel_flush (StudioConfigPanel *self, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  if (self->conflict)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("config.yaml changed on disk while it was edited here; resolve the conflict first"));
      return FALSE;
    }
  return _studio_config_panel_save_now (self, FALSE, error);
}

/* Copies LOADED into the project's config object, which other views hold. */
static gboolean
take_values (StudioConfigPanel *self, StudioConfig *loaded, GError **error)
{
  const char *task = g_hash_table_lookup (loaded->values, "task_type");

  if (!studio_config_set (self->config, "task_type", task, error))
    return FALSE;
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      if (g_str_equal (k->name, "task_type"))
        continue;
      if (g_hash_table_contains (loaded->explicit_keys, k->name))
        {
          if (!studio_config_set (self->config, k->name,
                                  g_hash_table_lookup (loaded->values, k->name), error))
            return FALSE;
        }
      else
        studio_config_reset (self->config, k->name);
    }
  return TRUE;
}

static void
reload_from_disk (StudioConfigPanel *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioConfig) loaded = NULL;

  if (self->config == NULL || self->config->path == NULL)
    return;
  loaded = studio_config_load (self->config->path, &error);
  if (loaded == NULL || !take_values (self, loaded, &error))
    {
      g_autofree char *text = g_strdup_printf (_("config.yaml was changed on disk and cannot be "
                                                 "used: %s. The values shown here are kept; fix "
                                                 "the file, or keep these values to replace it."),
                                               error->message);
      _studio_config_panel_show_banner (self, text, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->reload_button), FALSE);
      self->dirty = TRUE;
      return;
    }
  g_free (self->disk_text);
  self->disk_text = _studio_config_panel_read_disk (self);
  self->dirty = FALSE;
  _studio_config_panel_show_banner (self, NULL, FALSE);
  _studio_config_panel_update_all_rows (self);
  _studio_config_panel_describe_model (self);
  _studio_config_panel_emit_changed (self);
}

void
studio_config_panel_resolve_conflict (StudioConfigPanel *self, gboolean use_disk)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  if (use_disk)
    reload_from_disk (self);
  else
    {
      self->dirty = TRUE;
      _studio_config_panel_save_now (self, TRUE, NULL);
    }
}

static gboolean
monitor_timeout_cb (gpointer user_data)
{
  StudioConfigPanel *self = user_data;
  g_autofree char *on_disk = _studio_config_panel_read_disk (self);

  self->monitor_timeout = 0;
  if (on_disk == NULL || g_strcmp0 (on_disk, self->disk_text) == 0)
    return G_SOURCE_REMOVE;   /* our own save, or the file is mid-replace */
  if (self->dirty)
    {
      g_clear_handle_id (&self->save_timeout, g_source_remove);
      show_conflict (self);
    }
  else
    reload_from_disk (self);
  return G_SOURCE_REMOVE;
}

void
_studio_config_panel_on_file_changed (GFileMonitor *monitor, GFile *file, GFile *other,
                                      GFileMonitorEvent event, StudioConfigPanel *self)
{
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED || event == G_FILE_MONITOR_EVENT_DELETED)
    return;
  g_clear_handle_id (&self->monitor_timeout, g_source_remove);
  self->monitor_timeout = g_timeout_add (MONITOR_DELAY_MS, monitor_timeout_cb, self);
}

