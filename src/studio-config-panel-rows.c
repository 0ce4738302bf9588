/* studio-config-panel-rows.c: StudioConfigPanel's rows, one per key of the key table:
 * the control the key's type calls for, its help as subtitle, validation through
 * studio_config_set with the message inline, file and folder choosers, and reset to
 * the default. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "studio-config-panel-private.h"

void
_studio_config_panel_key_row_free (KeyRow *row)
{
  g_free (row->error);
  g_free (row);
}

static guint
task_bit (StudioConfig *config)
{
  return config->task_type == STUDIO_TASK_TEXT_GENERATION ? STUDIO_KEY_TEXT : STUDIO_KEY_IMAGE;
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

void
_studio_config_panel_set_row_error (KeyRow *row, const char *message)
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

gboolean
_studio_config_panel_commit (KeyRow *row, const char *text)
{
  StudioConfigPanel *self = row->panel;
  g_autoptr (GError) error = NULL;
  gboolean task_changed;

  if (row->updating || self->config == NULL)
    return TRUE;
  task_changed = g_str_equal (row->key->name, "task_type");
  if (!studio_config_set (self->config, row->key->name, text, &error))
    {
      _studio_config_panel_set_row_error (row, error->message);
      return FALSE;
    }
  _studio_config_panel_set_row_error (row, NULL);
  if (task_changed)
    _studio_config_panel_update_all_rows (self);
  else
    {
      gtk_widget_set_visible (row->reset, g_hash_table_contains (self->config->explicit_keys,
                                                                 row->key->name));
    }
  if (g_str_equal (row->key->name, "base_model"))
    _studio_config_panel_describe_model (self);
  _studio_config_panel_schedule_save (self);
  _studio_config_panel_emit_changed (self);
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
  _studio_config_panel_commit (row, text);
}

static void
on_switch_active (GtkSwitch *sw, GParamSpec *pspec, KeyRow *row)
{
  _studio_config_panel_commit (row, gtk_switch_get_active (sw) ? "true" : "false");
}

/* Choice rows show their value whole: AdwComboRow's own label ellipsizes it first when
 * the row is narrow, and “image-…” or “text-ge…” says nothing; the subtitle wraps instead. */
static void
setup_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
}

static void
bind_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkStringObject *choice = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (choice));
}

static GtkListItemFactory *
choice_label_factory (void)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_choice_label), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_choice_label), NULL);
  return factory;
}

static void
on_combo_selected (AdwComboRow *combo, GParamSpec *pspec, KeyRow *row)
{
  guint i = adw_combo_row_get_selected (combo);

  if (row->key->choices != NULL && i != GTK_INVALID_LIST_POSITION)
    _studio_config_panel_commit (row, row->key->choices[i]);
}

static void
on_entry_activate (GtkEntry *entry, KeyRow *row)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  _studio_config_panel_commit (row, *text ? text : NULL);
}

static void
on_entry_leave (GtkEventControllerFocus *focus, KeyRow *row)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row->control));
  const char *now = g_hash_table_lookup (row->panel->config->values, row->key->name);

  if (g_strcmp0 (text, now ? now : "") != 0)
    _studio_config_panel_commit (row, *text ? text : NULL);
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
      _studio_config_panel_commit (row, NULL);
      return;
    }
  json_node_set_array (node, array);
  flow = json_to_string (node, FALSE);
  _studio_config_panel_commit (row, flow);
}

static void
on_reset_clicked (GtkButton *button, KeyRow *row)
{
  StudioConfigPanel *self = row->panel;

  studio_config_reset (self->config, row->key->name);
  _studio_config_panel_set_row_error (row, NULL);
  _studio_config_panel_update_all_rows (self);
  if (g_str_equal (row->key->name, "base_model"))
    _studio_config_panel_describe_model (self);
  _studio_config_panel_schedule_save (self);
  _studio_config_panel_emit_changed (self);
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
        _studio_config_panel_commit (row, path);
    }
  g_object_unref (dialog);
}

/* A folder button carries "choose-folder": base_model's row has a file and a folder
 * button, a diffusers or Hugging Face model being a folder. */
static void
on_choose_clicked (GtkButton *button, KeyRow *row)
{
  gboolean folder = g_object_get_data (G_OBJECT (button), "choose-folder") != NULL;
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

KeyRow *
_studio_config_panel_make_row (StudioConfigPanel *self, const StudioConfigKey *key)
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
        g_autoptr (GtkListItemFactory) factory = choice_label_factory ();
        row->row = adw_combo_row_new ();
        adw_combo_row_set_factory (ADW_COMBO_ROW (row->row), factory);
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
        /* at least this much of the name stays: beside a long subtitle an ellipsized
         * label shrank to “s… y” */
        gtk_label_set_width_chars (GTK_LABEL (row->path_label), 9);
        gtk_label_set_ellipsize (GTK_LABEL (row->path_label), PANGO_ELLIPSIZE_MIDDLE);
        gtk_widget_add_css_class (row->path_label, "dim-label");
        adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->path_label);
        if (is_folder_key (key))
          {
            g_object_ref_sink (file_button);
            g_object_unref (file_button);
            row->control = icon_button ("folder-open-symbolic", _("Choose a folder"));
            g_object_set_data (G_OBJECT (row->control), "choose-folder", GINT_TO_POINTER (TRUE));
            g_signal_connect (row->control, "clicked", G_CALLBACK (on_choose_clicked), row);
          }
        else
          {
            row->control = file_button;
            g_signal_connect (row->control, "clicked", G_CALLBACK (on_choose_clicked), row);
            if (g_str_equal (key->name, "base_model"))
              {
                /* A diffusers or Hugging Face model is a folder, a checkpoint a file. */
                GtkWidget *folder = icon_button ("folder-open-symbolic", _("Choose a model folder"));
                g_object_set_data (G_OBJECT (folder), "choose-folder", GINT_TO_POINTER (TRUE));
                g_signal_connect (folder, "clicked", G_CALLBACK (on_choose_clicked), row);
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
void
_studio_config_panel_update_row (StudioConfigPanel *self, KeyRow *row)
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

void
_studio_config_panel_update_all_rows (StudioConfigPanel *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->config == NULL)
    return;
  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    _studio_config_panel_update_row (self, value);
}

