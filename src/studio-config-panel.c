/* studio-config-panel.c: StudioConfigPanel (see the header): the class, its signals,
 * the groups of rows it builds once, the project whose config it edits, and what it
 * tells; the other parts are listed in studio-config-panel-private.h. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-config-panel-private.h"

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioConfigPanel, studio_config_panel, ADW_TYPE_BIN)

void
_studio_config_panel_emit_changed (StudioConfigPanel *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
_studio_config_panel_emit_inspect_model (StudioConfigPanel *self, const char *path)
{
  g_signal_emit (self, signals[SIGNAL_INSPECT_MODEL], 0, path);
}

void
studio_config_panel_set_model_info (StudioConfigPanel *self, const char *path, const char *info)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  /* An answer about a file the row no longer names is stale. */
  if (path != NULL && self->config != NULL && g_strcmp0 (path, self->config->base_model) != 0)
    return;
  g_free (self->model_info);
  self->model_info = g_strdup (info);
  _studio_config_panel_show_model_info (self);
}

void
studio_config_panel_set_engine_model_info (StudioConfigPanel *self, const char *path,
                                           const char *info)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  if (path != NULL && self->config != NULL && g_strcmp0 (path, self->config->base_model) != 0)
    return;
  g_free (self->engine_info);
  self->engine_info = g_strdup (info);
  _studio_config_panel_show_model_info (self);
}

const char *
studio_config_panel_get_engine_model_info (StudioConfigPanel *self)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  return self->engine_info;
}

const char *
studio_config_panel_get_model_info (StudioConfigPanel *self)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  return self->model_info;
}

static void
build_static_rows (StudioConfigPanel *self)
{
  for (int g = STUDIO_KEY_GROUP_MODEL; g <= STUDIO_KEY_GROUP_SAMPLES; g++)
    {
      self->groups[g] = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
      adw_preferences_group_set_title (self->groups[g], studio_config_group_title (g));
      adw_preferences_page_add (self->page, self->groups[g]);
    }
  /* The advice group goes after the key groups, at the bottom of the page. */
  _studio_config_panel_build_presets_and_advice (self);

  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      KeyRow *row = _studio_config_panel_make_row (self, k);
      g_hash_table_insert (self->rows, (gpointer) k->name, row);
      adw_preferences_group_add (self->groups[k->group], row->row);
      if (g_str_equal (k->name, "base_model"))
        {
          self->model_info_row = ADW_ACTION_ROW (adw_action_row_new ());
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->model_info_row),
                                         _("What the base model is"));
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self->model_info_row), FALSE);
          adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->model_info_row), FALSE);
          adw_preferences_group_add (self->groups[k->group], GTK_WIDGET (self->model_info_row));
        }
    }
}

/* --- public --------------------------------------------------------------------- */

void
studio_config_panel_set_project (StudioConfigPanel *self, StudioProject *project)
{
  g_autoptr (GFile) file = NULL;

  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  g_return_if_fail (STUDIO_IS_PROJECT (project));

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }
  g_clear_handle_id (&self->save_timeout, g_source_remove);
  g_clear_handle_id (&self->monitor_timeout, g_source_remove);
  g_set_object (&self->project, project);
  self->config = studio_project_get_config (project);
  self->dirty = FALSE;
  _studio_config_panel_show_banner (self, NULL, FALSE);
  g_free (self->disk_text);
  self->disk_text = _studio_config_panel_read_disk (self);

  file = g_file_new_for_path (studio_project_get_config_path (project));
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (_studio_config_panel_on_file_changed), self);

  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->rows);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      _studio_config_panel_set_row_error (value, NULL);
  }
  _studio_config_panel_update_all_rows (self);
  _studio_config_panel_describe_model (self);
}

StudioConfig *
studio_config_panel_get_config (StudioConfigPanel *self)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  return self->config;
}

GtkWidget *
studio_config_panel_get_row (StudioConfigPanel *self, const char *key)
{
  KeyRow *row;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  row = g_hash_table_lookup (self->rows, key);
  return row != NULL ? row->row : NULL;
}

GtkWidget *
studio_config_panel_get_control (StudioConfigPanel *self, const char *key)
{
  KeyRow *row;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  row = g_hash_table_lookup (self->rows, key);
  return row != NULL ? row->control : NULL;
}

const char *
studio_config_panel_get_error (StudioConfigPanel *self, const char *key)
{
  KeyRow *row;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  row = g_hash_table_lookup (self->rows, key);
  return row != NULL ? row->error : NULL;
}

gboolean
studio_config_panel_set_value (StudioConfigPanel *self, const char *key, const char *text)
{
  KeyRow *row;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  row = g_hash_table_lookup (self->rows, key);
  if (row == NULL || self->config == NULL)
    return FALSE;
  if (!_studio_config_panel_commit (row, text))
    return FALSE;
  _studio_config_panel_update_row (self, row);
  return TRUE;
}

gboolean
studio_config_panel_has_conflict (StudioConfigPanel *self)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  return self->conflict;
}

const char *
studio_config_panel_get_banner (StudioConfigPanel *self)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), NULL);
  return self->banner_text;
}

void
studio_config_panel_set_locked (StudioConfigPanel *self, gboolean locked)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !locked);
}

static void
on_reload_clicked (GtkButton *button, StudioConfigPanel *self)
{
  studio_config_panel_resolve_conflict (self, TRUE);
}

static void
on_keep_clicked (GtkButton *button, StudioConfigPanel *self)
{
  studio_config_panel_resolve_conflict (self, FALSE);
}

static void
studio_config_panel_dispose (GObject *object)
{
  StudioConfigPanel *self = STUDIO_CONFIG_PANEL (object);

  /* Edits not yet written are written now, unless that would overwrite another's. */
  if (self->dirty && !self->conflict)
    _studio_config_panel_save_now (self, FALSE, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->save_timeout, g_source_remove);
  g_clear_handle_id (&self->monitor_timeout, g_source_remove);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->project);
  self->config = NULL;
  G_OBJECT_CLASS (studio_config_panel_parent_class)->dispose (object);
}

static void
studio_config_panel_finalize (GObject *object)
{
  StudioConfigPanel *self = STUDIO_CONFIG_PANEL (object);

  g_hash_table_unref (self->rows);
  g_free (self->disk_text);
  g_free (self->banner_text);
  g_free (self->model_info);
  g_free (self->engine_info);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_config_panel_parent_class)->finalize (object);
}

static void
studio_config_panel_class_init (StudioConfigPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_config_panel_dispose;
  object_class->finalize = studio_config_panel_finalize;

  /* The config changed (an edit, a preset, a reload). */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The base model is PATH now: whoever holds the engine may `inspect` it. */
  signals[SIGNAL_INSPECT_MODEL] = g_signal_new ("inspect-model", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-config-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, banner_label);
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, reload_button);
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, keep_button);
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, page);
  gtk_widget_class_bind_template_child (widget_class, StudioConfigPanel, preset_group);
}

static void
studio_config_panel_init (StudioConfigPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) _studio_config_panel_key_row_free);
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self->reload_button, "clicked", G_CALLBACK (on_reload_clicked), self);
  g_signal_connect (self->keep_button, "clicked", G_CALLBACK (on_keep_clicked), self);
  build_static_rows (self);
}
