/* studio-config-panel.c: StudioConfigPanel: rows made from the key table, validation
 * through studio_config_set (the loader's own checks), the debounced atomic save, the
 * file monitor that picks up edits made elsewhere, and the conflict banner. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "studio-config-panel-model.h"
#include "studio-config-panel.h"

#define SAVE_DELAY_MS 400
#define MONITOR_DELAY_MS 150

typedef struct {
  StudioConfigPanel     *panel;
  const StudioConfigKey *key;
  GtkWidget *row;
  GtkWidget *control;
  GtkWidget *reset;
  GtkWidget *path_label;   /* PATH rows */
  char      *error;
  gboolean   updating;     /* set while code, not the user, changes the control */
} KeyRow;

struct _StudioConfigPanel
{
  AdwBin parent_instance;

  GtkRevealer           *banner_revealer;
  GtkLabel              *banner_label;
  GtkButton             *reload_button;
  GtkButton             *keep_button;
  AdwPreferencesPage    *page;
  AdwPreferencesGroup   *preset_group;
  AdwPreferencesGroup   *advice_group;

  AdwPreferencesGroup   *groups[STUDIO_KEY_GROUP_SAMPLES + 1];
  GHashTable            *rows;           /* key name -> KeyRow* */
  AdwActionRow          *model_info_row;
  AdwExpanderRow        *advice_rows[STUDIO_N_ADVICE];
  gboolean               advice_shown[STUDIO_N_ADVICE];

  StudioProject *project;
  StudioConfig  *config;        /* the project's, edited in place */
  char          *disk_text;     /* config.yaml as last loaded or saved by us */
  gboolean       dirty;         /* edits not yet on disk */
  gboolean       conflict;
  char          *banner_text;
  guint          save_timeout;
  guint          monitor_timeout;
  GFileMonitor  *monitor;
  GCancellable  *cancellable;
  char          *model_info;      /* from the file itself */
  char          *engine_info;     /* from `lora-engine inspect`, or why there is none */
};

enum { SIGNAL_CHANGED, SIGNAL_INSPECT_MODEL, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioConfigPanel, studio_config_panel, ADW_TYPE_BIN)

static void update_all_rows (StudioConfigPanel *self);
static void describe_model (StudioConfigPanel *self);

static void
key_row_free (KeyRow *row)
{
  g_free (row->error);
  g_free (row);
}

static guint
task_bit (StudioConfig *config)
{
  return config->task_type == STUDIO_TASK_TEXT_GENERATION ? STUDIO_KEY_TEXT : STUDIO_KEY_IMAGE;
}

static char *
read_disk (StudioConfigPanel *self)
{
  char *text = NULL;

  if (self->config == NULL || self->config->path == NULL
      || !g_file_get_contents (self->config->path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
show_banner (StudioConfigPanel *self, const char *text, gboolean conflict)
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

/* Writes the panel's values unless the file changed on disk since we last saw it:
 * then the user decides (the banner), and nothing of either version is lost. */
static gboolean
save_now (StudioConfigPanel *self, gboolean force, GError **error)
{
  g_autofree char *on_disk = NULL;

  g_clear_handle_id (&self->save_timeout, g_source_remove);
  if (self->config == NULL || !self->dirty)
    return TRUE;
  on_disk = read_disk (self);
  if (!force && g_strcmp0 (on_disk, self->disk_text) != 0)
    {
      show_banner (self, _("config.yaml was changed by another program while you were editing it "
                           "here. Nothing was overwritten: use the file on disk, or keep the values "
                           "shown here (the file is then replaced)."), TRUE);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("config.yaml changed on disk while it was edited here; resolve the conflict first"));
      return FALSE;
    }
  if (!studio_config_save (self->config, self->config->path, error))
    {
      show_banner (self, (error && *error) ? (*error)->message : _("config.yaml could not be saved"),
                   FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->reload_button), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->keep_button), FALSE);
      return FALSE;
    }
  g_free (self->disk_text);
  self->disk_text = read_disk (self);
  self->dirty = FALSE;
  show_banner (self, NULL, FALSE);
  return TRUE;
}

static gboolean
save_timeout_cb (gpointer user_data)
{
  StudioConfigPanel *self = user_data;

  self->save_timeout = 0;
  save_now (self, FALSE, NULL);
  return G_SOURCE_REMOVE;
}

static void
schedule_save (StudioConfigPanel *self)
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
  return save_now (self, FALSE, error);
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
      show_banner (self, text, TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->reload_button), FALSE);
      self->dirty = TRUE;
      return;
    }
  g_free (self->disk_text);
  self->disk_text = read_disk (self);
  self->dirty = FALSE;
  show_banner (self, NULL, FALSE);
  update_all_rows (self);
  describe_model (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
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
      save_now (self, TRUE, NULL);
    }
}

static gboolean
monitor_timeout_cb (gpointer user_data)
{
  StudioConfigPanel *self = user_data;
  g_autofree char *on_disk = read_disk (self);

  self->monitor_timeout = 0;
  if (on_disk == NULL || g_strcmp0 (on_disk, self->disk_text) == 0)
    return G_SOURCE_REMOVE;   /* our own save, or the file is mid-replace */
  if (self->dirty)
    {
      g_clear_handle_id (&self->save_timeout, g_source_remove);
      show_banner (self, _("config.yaml was changed by another program while you were editing it "
                           "here. Nothing was overwritten: use the file on disk, or keep the values "
                           "shown here (the file is then replaced)."), TRUE);
    }
  else
    reload_from_disk (self);
  return G_SOURCE_REMOVE;
}

static void
on_file_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                 StudioConfigPanel *self)
{
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED || event == G_FILE_MONITOR_EVENT_DELETED)
    return;
  g_clear_handle_id (&self->monitor_timeout, g_source_remove);
  self->monitor_timeout = g_timeout_add (MONITOR_DELAY_MS, monitor_timeout_cb, self);
}

/* --- rows --------------------------------------------------------------------- */

static void
set_subtitle (KeyRow *row, const char *text)
{
  if (ADW_IS_EXPANDER_ROW (row->row))
    adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row->row), text);
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row->row), text);
}

static void
set_row_error (KeyRow *row, const char *message)
{
  g_free (row->error);
  row->error = g_strdup (message);
  if (message != NULL)
    {
      g_autofree char *text = g_strdup_printf ("⚠ %s", message);
      set_subtitle (row, text);
      gtk_widget_add_css_class (row->row, "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->control),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
      gtk_accessible_update_state (GTK_ACCESSIBLE (row->control),
                                   GTK_ACCESSIBLE_STATE_INVALID, GTK_ACCESSIBLE_INVALID_TRUE, -1);
    }
  else
    {
      set_subtitle (row, _(row->key->help));
      gtk_widget_remove_css_class (row->row, "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->control),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, _(row->key->help), -1);
      gtk_accessible_reset_state (GTK_ACCESSIBLE (row->control), GTK_ACCESSIBLE_STATE_INVALID);
    }
}

static gboolean
commit (KeyRow *row, const char *text)
{
  StudioConfigPanel *self = row->panel;
  g_autoptr (GError) error = NULL;
  gboolean task_changed;

  if (row->updating || self->config == NULL)
    return TRUE;
  task_changed = g_str_equal (row->key->name, "task_type");
  if (!studio_config_set (self->config, row->key->name, text, &error))
    {
      set_row_error (row, error->message);
      return FALSE;
    }
  set_row_error (row, NULL);
  if (task_changed)
    update_all_rows (self);
  else
    {
      gtk_widget_set_visible (row->reset, g_hash_table_contains (self->config->explicit_keys,
                                                                 row->key->name));
    }
  if (g_str_equal (row->key->name, "base_model"))
    describe_model (self);
  schedule_save (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

static char *
number_text (const StudioConfigKey *key, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (key->type == STUDIO_VALUE_INT)
    return g_strdup_printf ("%.0f", value);
  g_ascii_formatd (buf, sizeof buf, "%.6g", value);
  return g_strdup (buf);
}

static void
on_spin_changed (GtkSpinButton *spin, KeyRow *row)
{
  g_autofree char *text = number_text (row->key, gtk_spin_button_get_value (spin));
  commit (row, text);
}

static void
on_switch_active (GtkSwitch *sw, GParamSpec *pspec, KeyRow *row)
{
  commit (row, gtk_switch_get_active (sw) ? "true" : "false");
}

static void
on_combo_selected (AdwComboRow *combo, GParamSpec *pspec, KeyRow *row)
{
  guint i = adw_combo_row_get_selected (combo);

  if (row->key->choices != NULL && i != GTK_INVALID_LIST_POSITION)
    commit (row, row->key->choices[i]);
}

static void
on_entry_activate (GtkEntry *entry, KeyRow *row)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  commit (row, *text ? text : NULL);
}

static void
on_entry_leave (GtkEventControllerFocus *focus, KeyRow *row)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row->control));
  const char *now = g_hash_table_lookup (row->panel->config->values, row->key->name);

  if (g_strcmp0 (text, now ? now : "") != 0)
    commit (row, *text ? text : NULL);
}

/* One prompt per line becomes a YAML flow sequence of JSON strings (valid YAML). */
static void
on_prompts_apply (GtkButton *button, KeyRow *row)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (row->control));
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  g_autofree char *flow = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      json_array_add_string_element (array, lines[i]);
  if (json_array_get_length (array) == 0)
    {
      commit (row, NULL);
      return;
    }
  json_node_set_array (node, array);
  flow = json_to_string (node, FALSE);
  commit (row, flow);
}

static void
on_reset_clicked (GtkButton *button, KeyRow *row)
{
  StudioConfigPanel *self = row->panel;

  studio_config_reset (self->config, row->key->name);
  set_row_error (row, NULL);
  update_all_rows (self);
  if (g_str_equal (row->key->name, "base_model"))
    describe_model (self);
  schedule_save (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
is_folder_key (const StudioConfigKey *key)
{
  return g_str_equal (key->name, "train_data_dir") || g_str_equal (key->name, "output_dir")
         || g_str_equal (key->name, "log_dir") || g_str_equal (key->name, "tokenizer_path");
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, KeyRow *row)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        commit (row, path);
    }
  g_object_unref (dialog);
}

static void
choose_path (KeyRow *row, gboolean folder)
{
  GtkRoot *root = gtk_widget_get_root (row->row);
  g_autofree char *title = g_strdup_printf (_("Choose %s"), _(row->key->title));
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                        : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Select"), _("_Cancel"));
  const char *current = g_hash_table_lookup (row->panel->config->values, row->key->name);

  if (current != NULL && g_path_is_absolute (current))
    {
      g_autofree char *dir = folder ? g_strdup (current) : g_path_get_dirname (current);
      g_autoptr (GFile) start = g_file_new_for_path (dir);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), start, NULL);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), row);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_choose_file (GtkButton *button, KeyRow *row)
{
  choose_path (row, FALSE);
}

static void
on_choose_folder (GtkButton *button, KeyRow *row)
{
  choose_path (row, TRUE);
}

static GtkWidget *
icon_button (const char *icon, const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_add_css_class (button, "flat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  tooltip, -1);
  return button;
}

static GtkWidget *
make_spin (const StudioConfigKey *key)
{
  /* The adjustment is wider than the key's range on purpose: the config library, not
   * the spin button, decides what is valid, and says why inline. */
  gboolean is_int = key->type == STUDIO_VALUE_INT;
  double small = key->default_value != NULL ? g_ascii_strtod (key->default_value, NULL) : 1;
  int digits = is_int ? 0 : (fabs (small) > 0 && fabs (small) < 0.01 ? 7 : 3);
  double step = is_int ? 1 : (fabs (small) > 0 && fabs (small) < 0.01 ? fabs (small) / 10 : 0.01);
  GtkAdjustment *adj = gtk_adjustment_new (0, -1e12, 1e12, step, step * 10, 0);
  GtkWidget *spin = gtk_spin_button_new (adj, step, digits);

  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), FALSE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 10);
  return spin;
}

static KeyRow *
make_row (StudioConfigPanel *self, const StudioConfigKey *key)
{
  KeyRow *row = g_new0 (KeyRow, 1);
  g_autofree char *values_text = studio_config_key_values_text (key);
  const char *title = _(key->title);

  row->panel = self;
  row->key = key;

  switch (key->type)
    {
    case STUDIO_VALUE_ENUM:
      {
        GtkStringList *list = gtk_string_list_new ((const char *const *) key->choices);
        row->row = adw_combo_row_new ();
        adw_combo_row_set_model (ADW_COMBO_ROW (row->row), G_LIST_MODEL (list));
        g_object_unref (list);
        row->control = row->row;
        g_signal_connect (row->row, "notify::selected", G_CALLBACK (on_combo_selected), row);
        break;
      }
    case STUDIO_VALUE_BOOL:
      row->row = adw_action_row_new ();
      row->control = gtk_switch_new ();
      gtk_widget_set_valign (row->control, GTK_ALIGN_CENTER);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->control);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row->row), row->control);
      g_signal_connect (row->control, "notify::active", G_CALLBACK (on_switch_active), row);
      break;
    case STUDIO_VALUE_INT:
    case STUDIO_VALUE_NUMBER:
      row->row = adw_action_row_new ();
      row->control = make_spin (key);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->control);
      g_signal_connect (row->control, "value-changed", G_CALLBACK (on_spin_changed), row);
      break;
    case STUDIO_VALUE_PATH:
      {
        GtkWidget *file_button = icon_button ("document-open-symbolic", _("Choose a file"));
        row->row = adw_action_row_new ();
        row->path_label = gtk_label_new (NULL);
        /* The file's name fits a narrow panel; the whole path is the tooltip. */
        gtk_label_set_max_width_chars (GTK_LABEL (row->path_label), 16);
        gtk_label_set_ellipsize (GTK_LABEL (row->path_label), PANGO_ELLIPSIZE_MIDDLE);
        gtk_widget_add_css_class (row->path_label, "dim-label");
        adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->path_label);
        if (is_folder_key (key))
          {
            g_object_ref_sink (file_button);
            g_object_unref (file_button);
            row->control = icon_button ("folder-open-symbolic", _("Choose a folder"));
            g_signal_connect (row->control, "clicked", G_CALLBACK (on_choose_folder), row);
          }
        else
          {
            row->control = file_button;
            g_signal_connect (row->control, "clicked", G_CALLBACK (on_choose_file), row);
            if (g_str_equal (key->name, "base_model"))
              {
                /* A diffusers or Hugging Face model is a folder, a checkpoint a file. */
                GtkWidget *folder = icon_button ("folder-open-symbolic", _("Choose a model folder"));
                g_signal_connect (folder, "clicked", G_CALLBACK (on_choose_folder), row);
                adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), folder);
                gtk_accessible_update_property (GTK_ACCESSIBLE (folder), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                _("Choose a model folder"), -1);
              }
          }
        adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->control);
        break;
      }
    case STUDIO_VALUE_SAMPLE_PROMPTS:
      {
        GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
        GtkWidget *apply = gtk_button_new_with_mnemonic (_("_Apply Prompts"));
        row->row = adw_expander_row_new ();
        row->control = gtk_text_view_new ();
        gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (row->control), GTK_WRAP_WORD_CHAR);
        gtk_widget_set_size_request (row->control, -1, 80);
        gtk_widget_add_css_class (row->control, "card");
        gtk_widget_set_margin_start (box, 12);
        gtk_widget_set_margin_end (box, 12);
        gtk_widget_set_margin_top (box, 6);
        gtk_widget_set_margin_bottom (box, 6);
        gtk_widget_set_halign (apply, GTK_ALIGN_END);
        gtk_box_append (GTK_BOX (box), row->control);
        gtk_box_append (GTK_BOX (box), apply);
        adw_expander_row_add_row (ADW_EXPANDER_ROW (row->row), box);
        g_signal_connect (apply, "clicked", G_CALLBACK (on_prompts_apply), row);
        break;
      }
    case STUDIO_VALUE_STRING:
    case STUDIO_VALUE_STRING_LIST:
    default:
      {
        GtkEventController *focus = gtk_event_controller_focus_new ();
        row->row = adw_action_row_new ();
        row->control = gtk_entry_new ();
        gtk_widget_set_valign (row->control, GTK_ALIGN_CENTER);
        gtk_editable_set_width_chars (GTK_EDITABLE (row->control), 18);
        adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->control);
        g_signal_connect (row->control, "activate", G_CALLBACK (on_entry_activate), row);
        g_signal_connect (focus, "leave", G_CALLBACK (on_entry_leave), row);
        gtk_widget_add_controller (row->control, focus);
        break;
      }
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row->row), FALSE);
  if (ADW_IS_EXPANDER_ROW (row->row))
    adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row->row), _(key->help));
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row->row), _(key->help));
  gtk_widget_set_tooltip_text (row->row, values_text);
  if (row->control != row->row)
    gtk_accessible_update_property (GTK_ACCESSIBLE (row->control),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, _(key->help), -1);

  row->reset = icon_button ("edit-undo-symbolic", _("Reset to the default"));
  {
    g_autofree char *label = g_strdup_printf (_("Reset %s to the default"), title);
    gtk_accessible_update_property (GTK_ACCESSIBLE (row->reset), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    label, -1);
  }
  g_signal_connect (row->reset, "clicked", G_CALLBACK (on_reset_clicked), row);
  if (ADW_IS_EXPANDER_ROW (row->row))
    adw_expander_row_add_action (ADW_EXPANDER_ROW (row->row), row->reset);
  else
    adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->reset);
  return row;
}

/* Shows the config's value of ROW's key in its control, without committing it. */
static void
update_row (StudioConfigPanel *self, KeyRow *row)
{
  const char *value = g_hash_table_lookup (self->config->values, row->key->name);
  gboolean applies = (row->key->tasks & task_bit (self->config)) != 0;

  gtk_widget_set_visible (row->row, applies);
  gtk_widget_set_visible (row->reset, g_hash_table_contains (self->config->explicit_keys,
                                                             row->key->name));
  row->updating = TRUE;
  switch (row->key->type)
    {
    case STUDIO_VALUE_ENUM:
      for (guint i = 0; row->key->choices[i] != NULL; i++)
        if (g_strcmp0 (row->key->choices[i], value) == 0)
          adw_combo_row_set_selected (ADW_COMBO_ROW (row->row), i);
      break;
    case STUDIO_VALUE_BOOL:
      gtk_switch_set_active (GTK_SWITCH (row->control), g_strcmp0 (value, "true") == 0);
      break;
    case STUDIO_VALUE_INT:
    case STUDIO_VALUE_NUMBER:
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (row->control),
                                 value != NULL ? g_ascii_strtod (value, NULL) : 0);
      break;
    case STUDIO_VALUE_PATH:
      {
        g_autofree char *shown = value != NULL ? g_path_get_basename (value) : g_strdup (_("not set"));
        gtk_label_set_text (GTK_LABEL (row->path_label), shown);
        gtk_widget_set_tooltip_text (row->path_label, value);
        break;
      }
    case STUDIO_VALUE_SAMPLE_PROMPTS:
      {
        GString *text = g_string_new (NULL);
        for (guint i = 0; i < self->config->sample_prompts->len; i++)
          {
            StudioSamplePrompt *p = g_ptr_array_index (self->config->sample_prompts, i);
            g_string_append_printf (text, "%s%s", i ? "\n" : "", p->prompt);
          }
        gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (row->control)),
                                  text->str, -1);
        g_string_free (text, TRUE);
        break;
      }
    case STUDIO_VALUE_STRING:
    case STUDIO_VALUE_STRING_LIST:
    default:
      gtk_editable_set_text (GTK_EDITABLE (row->control), value != NULL ? value : "");
      break;
    }
  row->updating = FALSE;
}

static void
update_all_rows (StudioConfigPanel *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->config == NULL)
    return;
  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    update_row (self, value);
}

/* --- base model ---------------------------------------------------------------- */

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

static void
describe_model (StudioConfigPanel *self)
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
  g_signal_emit (self, signals[SIGNAL_INSPECT_MODEL], 0, path);
}

static void
show_model_info (StudioConfigPanel *self)
{
  g_autofree char *text = NULL;

  if (self->engine_info != NULL && self->model_info != NULL)
    text = g_strdup_printf ("%s\n%s", self->model_info, self->engine_info);
  else
    text = g_strdup (self->model_info != NULL ? self->model_info : self->engine_info);
  adw_action_row_set_subtitle (self->model_info_row, text != NULL ? text : "");
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
  show_model_info (self);
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
  show_model_info (self);
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

/* --- presets and advice -------------------------------------------------------- */

gboolean
studio_config_panel_apply_preset (StudioConfigPanel *self, const char *id)
{
  const StudioConfigPreset *preset = studio_config_preset_lookup (id);
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  if (preset == NULL || self->config == NULL)
    return FALSE;
  if (!studio_config_preset_apply (preset, self->config, &error))
    g_warning ("preset %s: %s", id, error->message);
  update_all_rows (self);
  schedule_save (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return error == NULL;
}

static void
on_preset_clicked (GtkButton *button, StudioConfigPanel *self)
{
  studio_config_panel_apply_preset (self, g_object_get_data (G_OBJECT (button), "preset"));
}

static void
on_advice_clicked (GtkButton *button, StudioConfigPanel *self)
{
  StudioAdvice advice = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "advice"));
  g_autoptr (GError) error = NULL;

  if (self->config == NULL)
    return;
  if (!studio_advice_apply (advice, self->config, &error))
    g_warning ("advice: %s", error->message);
  update_all_rows (self);
  schedule_save (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
studio_config_panel_show_advice (StudioConfigPanel *self, StudioAdvice advice)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  g_return_if_fail (advice < STUDIO_N_ADVICE);
  self->advice_shown[advice] = TRUE;
  gtk_widget_add_css_class (GTK_WIDGET (self->advice_rows[advice]), "accent");
  adw_expander_row_set_expanded (self->advice_rows[advice], TRUE);
}

gboolean
studio_config_panel_get_advice_shown (StudioConfigPanel *self, StudioAdvice advice)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  return advice < STUDIO_N_ADVICE && self->advice_shown[advice];
}

static void
build_static_rows (StudioConfigPanel *self)
{
  GtkWidget *presets = adw_expander_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (presets), _("Presets"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (presets),
                                 _("Character, style, low VRAM or text LoRA: proven values to start from"));
  adw_preferences_group_add (self->preset_group, presets);
  for (const StudioConfigPreset *p = studio_config_presets (); p->id != NULL; p++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_with_label (_("Apply"));
      g_autofree char *label = g_strdup_printf (_("Apply the %s preset"), _(p->title));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(p->title));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _(p->description));
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      g_object_set_data (G_OBJECT (button), "preset", (gpointer) p->id);
      g_signal_connect (button, "clicked", G_CALLBACK (on_preset_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (presets), row);
    }

  for (int g = STUDIO_KEY_GROUP_MODEL; g <= STUDIO_KEY_GROUP_SAMPLES; g++)
    {
      self->groups[g] = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
      adw_preferences_group_set_title (self->groups[g], studio_config_group_title (g));
      adw_preferences_page_add (self->page, self->groups[g]);
    }
  self->advice_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->advice_group, _("When a Run Goes Wrong"));
  adw_preferences_group_set_description (self->advice_group, _("The usual fixes, from the LoRA training guide; a run that hits one of these opens it."));
  adw_preferences_page_add (self->page, self->advice_group);
  for (guint a = 0; a < STUDIO_N_ADVICE; a++)
    {
      GtkWidget *row = adw_expander_row_new ();
      GtkWidget *body = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_with_label (_("Apply"));
      g_autofree char *label = g_strdup_printf (_("Apply the advice for: %s"), studio_advice_title (a));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), studio_advice_title (a));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (body), studio_advice_body (a));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (body), FALSE);
      adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (body), FALSE);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      g_object_set_data (G_OBJECT (button), "advice", GUINT_TO_POINTER (a));
      g_signal_connect (button, "clicked", G_CALLBACK (on_advice_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (body), button);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), body);
      adw_preferences_group_add (self->advice_group, row);
      self->advice_rows[a] = ADW_EXPANDER_ROW (row);
    }

  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      KeyRow *row = make_row (self, k);
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
  show_banner (self, NULL, FALSE);
  g_free (self->disk_text);
  self->disk_text = read_disk (self);

  file = g_file_new_for_path (studio_project_get_config_path (project));
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_file_changed), self);

  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->rows);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      set_row_error (value, NULL);
  }
  update_all_rows (self);
  describe_model (self);
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
  if (!commit (row, text))
    return FALSE;
  update_row (self, row);
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
    save_now (self, FALSE, NULL);
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
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) key_row_free);
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self->reload_button, "clicked", G_CALLBACK (on_reload_clicked), self);
  g_signal_connect (self->keep_button, "clicked", G_CALLBACK (on_keep_clicked), self);
  build_static_rows (self);
}
