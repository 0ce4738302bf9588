/* studio-samples-view.c: StudioSamplesView: listing runs and loading samples in worker
 * threads (folders are read and PNGs decoded off the main thread), building the gallery,
 * comparison and large view, Generate through the Train view's engine, and the run
 * actions (curve, folder, snippet, export). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "studio-run-data.h"
#include "studio-samples-view.h"

#define TILE_SIZE 160

typedef struct {
  char     *path;
  char     *title;
  char     *subtitle;
} RunInfo;

typedef struct {
  GPtrArray *items;      /* StudioSampleItem* */
  GPtrArray *textures;   /* GdkTexture* or NULL, parallel to items */
} SampleLoad;

struct _StudioSamplesView
{
  AdwBin parent_instance;

  GtkListBox    *runs_list;
  GtkLabel      *run_title;
  GtkButton     *curve_button, *folder_button, *snippet_button, *export_button;
  GtkDropDown   *compare_a, *compare_b;
  GtkToggleButton *compare_button;
  GtkLabel      *status_label;
  GtkStack      *stack;
  GtkBox        *gallery;
  GtkGrid       *compare_grid;
  GtkButton     *back_button;
  GtkPicture    *large_picture;
  GtkLabel      *large_caption;
  GtkEntry      *prompt_entry, *negative_entry;
  GtkSpinButton *seed_spin;
  GtkAdjustment *strength_adjustment;
  GtkDropDown   *checkpoint_dropdown;
  GtkButton     *generate_button;

  StudioProject   *project;
  StudioTrainView *train;
  GPtrArray       *runs;          /* RunInfo* */
  char            *run_dir;       /* selected */
  GPtrArray       *items;         /* StudioSampleItem* of the selected run */
  GPtrArray       *textures;
  GArray          *steps;         /* gint64, newest first */
  GPtrArray       *weights;       /* char* paths for checkpoint_dropdown */
  GPtrArray       *generated;     /* StudioSampleItem* */
  GPtrArray       *generated_textures;
  GHashTable      *generate_ids;  /* request ids in flight */
  char            *status;
  guint            serial;        /* drops stale thread results */
  guint            loads_in_flight;
  GCancellable    *cancellable;
};

G_DEFINE_FINAL_TYPE (StudioSamplesView, studio_samples_view, ADW_TYPE_BIN)

static void load_samples (StudioSamplesView *self);

static void
run_info_free (RunInfo *info)
{
  g_free (info->path);
  g_free (info->title);
  g_free (info->subtitle);
  g_free (info);
}

static void
texture_unref (gpointer texture)
{
  if (texture != NULL)
    g_object_unref (texture);
}

static void
sample_load_free (SampleLoad *load)
{
  g_ptr_array_unref (load->items);
  g_ptr_array_unref (load->textures);
  g_free (load);
}

static void
set_status (StudioSamplesView *self, const char *text)
{
  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
}

/* --- runs ------------------------------------------------------------------------ */

static void
list_runs_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  StudioProject *project = data;
  g_autoptr (GPtrArray) runs = studio_project_list_runs (project);
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify) run_info_free);

  for (guint i = 0; i < runs->len; i++)
    {
      StudioRun *run = g_ptr_array_index (runs, i);
      RunInfo *info = g_new0 (RunInfo, 1);
      double loss = studio_run_final_loss (run->path);
      g_autofree char *date = run->started != NULL ? g_date_time_format (run->started, "%e %b %Y %H:%M")
                                                   : g_strdup ("");
      g_autofree char *lora = studio_run_find_lora (run->path);

      info->path = g_strdup (run->path);
      info->title = g_strdup (run->name);
      if (isfinite (loss))
        info->subtitle = g_strdup_printf (_("final loss %.4g · %s%s"), loss, g_strstrip (date),
                                          lora != NULL ? _(" · LoRA ready") : "");
      else
        info->subtitle = g_strdup_printf (_("no steps logged · %s"), g_strstrip (date));
      g_ptr_array_add (infos, info);
    }
  g_task_return_pointer (task, infos, (GDestroyNotify) g_ptr_array_unref);
}

static void
runs_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioSamplesView *self = STUDIO_SAMPLES_VIEW (source);
  GPtrArray *infos = g_task_propagate_pointer (G_TASK (result), NULL);
  GtkWidget *child;
  gboolean keep = FALSE;

  self->loads_in_flight--;
  if (infos == NULL || GPOINTER_TO_UINT (user_data) != self->serial)
    {
      if (infos != NULL)
        g_ptr_array_unref (infos);
      return;
    }
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  self->runs = infos;
  /* rows only: the placeholder is a child too and stays */
  while ((child = GTK_WIDGET (gtk_list_box_get_row_at_index (self->runs_list, 0))) != NULL)
    gtk_list_box_remove (self->runs_list, child);
  for (guint i = 0; i < infos->len; i++)
    {
      RunInfo *info = g_ptr_array_index (infos, i);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), info->title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), info->subtitle);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "run-dir", g_strdup (info->path), g_free);
      gtk_list_box_append (self->runs_list, row);
      if (g_strcmp0 (info->path, self->run_dir) == 0)
        {
          gtk_list_box_select_row (self->runs_list, GTK_LIST_BOX_ROW (row));
          keep = TRUE;
        }
    }
  if (!keep)
    {
      /* The newest run is what people look at first. */
      g_autofree char *first = infos->len > 0
        ? g_strdup (((RunInfo *) g_ptr_array_index (infos, 0))->path) : NULL;
      studio_samples_view_select_run (self, first);
    }
  else
    studio_samples_view_select_run (self, self->run_dir);
}

void
studio_samples_view_refresh (StudioSamplesView *self)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (STUDIO_IS_SAMPLES_VIEW (self));
  if (self->project == NULL)
    return;
  self->loads_in_flight++;
  task = g_task_new (self, self->cancellable, runs_listed, GUINT_TO_POINTER (++self->serial));
  g_task_set_task_data (task, g_object_ref (self->project), g_object_unref);
  g_task_run_in_thread (task, list_runs_thread);
}

/* --- samples --------------------------------------------------------------------- */

static void
load_samples_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  const char *run_dir = data;
  SampleLoad *load = g_new0 (SampleLoad, 1);

  load->items = studio_run_list_samples (run_dir);
  load->textures = g_ptr_array_new_with_free_func (texture_unref);
  for (guint i = 0; i < load->items->len; i++)
    {
      StudioSampleItem *item = g_ptr_array_index (load->items, i);
      GdkTexture *texture = NULL;

      /* A broken PNG is shown as a missing picture, not an error. */
      if (item->text == NULL)
        texture = gdk_texture_new_from_filename (item->path, NULL);
      g_ptr_array_add (load->textures, texture);
    }
  g_task_return_pointer (task, load, (GDestroyNotify) sample_load_free);
}

static void
clear_box (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_BOX (box))
        gtk_box_remove (GTK_BOX (box), child);
      else if (GTK_IS_GRID (box))
        gtk_grid_remove (GTK_GRID (box), child);
      else
        gtk_widget_unparent (child);
    }
}

static void
on_tile_clicked (GtkButton *button, StudioSamplesView *self)
{
  studio_samples_view_show_large (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index")));
}

static GtkWidget *
make_tile (StudioSamplesView *self, StudioSampleItem *item, GdkTexture *texture, int index)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *caption = gtk_label_new (item->prompt);
  g_autofree char *label = item->step >= 0
    ? g_strdup_printf (_("Sample at step %lld: %s"), (long long) item->step, item->prompt)
    : g_strdup_printf (_("Generated sample: %s"), item->prompt);

  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (caption), item->text != NULL ? 60 : 22);
  gtk_label_set_lines (GTK_LABEL (caption), 2);
  gtk_label_set_ellipsize (GTK_LABEL (caption), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "caption");

  if (item->text != NULL)
    {
      /* Text runs: the prompt, then what the model wrote. */
      GtkWidget *text = gtk_label_new (item->text);
      gtk_label_set_wrap (GTK_LABEL (text), TRUE);
      gtk_label_set_selectable (GTK_LABEL (text), TRUE);
      gtk_label_set_xalign (GTK_LABEL (text), 0);
      gtk_label_set_max_width_chars (GTK_LABEL (text), 80);
      gtk_widget_add_css_class (caption, "heading");
      gtk_box_append (GTK_BOX (box), caption);
      gtk_box_append (GTK_BOX (box), text);
      gtk_widget_add_css_class (box, "card");
      gtk_widget_set_margin_start (caption, 8);
      gtk_widget_set_margin_top (caption, 6);
      gtk_widget_set_margin_start (text, 8);
      gtk_widget_set_margin_end (text, 8);
      gtk_widget_set_margin_bottom (text, 8);
      gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      return box;
    }
  else
    {
      GtkWidget *picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
      GtkWidget *button = gtk_button_new ();

      gtk_widget_set_size_request (picture, TILE_SIZE, TILE_SIZE);
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_box_append (GTK_BOX (box), picture);
      gtk_box_append (GTK_BOX (box), caption);
      gtk_button_set_child (GTK_BUTTON (button), box);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, item->prompt);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      g_object_set_data (G_OBJECT (button), "index", GINT_TO_POINTER (index));
      if (index >= 0)
        g_signal_connect (button, "clicked", G_CALLBACK (on_tile_clicked), self);
      return button;
    }
}

static GtkWidget *
section (StudioSamplesView *self, const char *title)
{
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *flow = gtk_flow_box_new ();

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (self->gallery, label);
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), FALSE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 12);
  gtk_box_append (self->gallery, flow);
  return flow;
}

static void
build_gallery (StudioSamplesView *self)
{
  GtkWidget *flow = NULL;
  gint64 step = G_MININT64;
  g_autoptr (GtkStringList) step_names = gtk_string_list_new (NULL);

  clear_box (GTK_WIDGET (self->gallery));
  g_array_set_size (self->steps, 0);

  if (self->generated->len > 0)
    {
      flow = section (self, _("Generated"));
      for (guint i = self->generated->len; i > 0; i--)
        gtk_flow_box_append (GTK_FLOW_BOX (flow),
                             make_tile (self, g_ptr_array_index (self->generated, i - 1),
                                        g_ptr_array_index (self->generated_textures, i - 1), -1));
    }
  for (guint i = 0; i < self->items->len; i++)
    {
      StudioSampleItem *item = g_ptr_array_index (self->items, i);

      if (item->step != step)
        {
          g_autofree char *title = g_strdup_printf (_("Step %lld"), (long long) item->step);
          step = item->step;
          flow = section (self, title);
          g_array_append_val (self->steps, step);
          gtk_string_list_append (step_names, title);
        }
      gtk_flow_box_append (GTK_FLOW_BOX (flow),
                           make_tile (self, item, g_ptr_array_index (self->textures, i), (int) i));
    }
  gtk_drop_down_set_model (self->compare_a, G_LIST_MODEL (step_names));
  gtk_drop_down_set_model (self->compare_b, G_LIST_MODEL (step_names));
  if (self->steps->len > 1)
    gtk_drop_down_set_selected (self->compare_b, 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_button), self->steps->len > 1);
  gtk_stack_set_visible_child_name (self->stack, self->items->len + self->generated->len > 0
                                                 ? "gallery" : "empty");
}

static void
samples_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioSamplesView *self = STUDIO_SAMPLES_VIEW (source);
  SampleLoad *load = g_task_propagate_pointer (G_TASK (result), NULL);

  self->loads_in_flight--;
  if (load == NULL || GPOINTER_TO_UINT (user_data) != self->serial)
    {
      if (load != NULL)
        sample_load_free (load);
      return;
    }
  g_ptr_array_unref (self->items);
  g_ptr_array_unref (self->textures);
  self->items = g_ptr_array_ref (load->items);
  self->textures = g_ptr_array_ref (load->textures);
  sample_load_free (load);
  gtk_toggle_button_set_active (self->compare_button, FALSE);
  build_gallery (self);
}

static void
fill_weights (StudioSamplesView *self)
{
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  g_autofree char *lora = self->run_dir != NULL ? studio_run_find_lora (self->run_dir) : NULL;
  g_autofree char *dir_path = self->run_dir != NULL ? g_build_filename (self->run_dir, "checkpoints", NULL) : NULL;
  g_autoptr (GDir) dir = dir_path != NULL ? g_dir_open (dir_path, 0, NULL) : NULL;
  g_autoptr (GPtrArray) checkpoints = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_ptr_array_set_size (self->weights, 0);
  if (lora != NULL)
    {
      gtk_string_list_append (names, _("Final LoRA"));
      g_ptr_array_add (self->weights, g_strdup (lora));
    }
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "step-"))
      g_ptr_array_add (checkpoints, g_strdup (name));
  g_ptr_array_sort (checkpoints, (GCompareFunc) g_strcmp0);
  for (guint i = checkpoints->len; i > 0; i--)
    {
      const char *ck = g_ptr_array_index (checkpoints, i - 1);
      g_autofree char *ck_path = g_build_filename (dir_path, ck, NULL);
      /* the engine writes the run's LoRA file into each checkpoint; one written by an
       * older engine holds only training state, which cannot be drawn with */
      char *ck_lora = studio_run_find_lora (ck_path);
      g_autofree char *label = NULL;

      if (ck_lora == NULL)
        continue;
      label = g_strdup_printf (_("Checkpoint %s"), ck);
      gtk_string_list_append (names, label);
      g_ptr_array_add (self->weights, ck_lora);
    }
  gtk_string_list_append (names, _("Base model only"));
  g_ptr_array_add (self->weights, NULL);
  gtk_drop_down_set_model (self->checkpoint_dropdown, G_LIST_MODEL (names));
}

static void
load_samples (StudioSamplesView *self)
{
  g_autoptr (GTask) task = NULL;

  fill_weights (self);
  if (self->run_dir == NULL)
    {
      g_ptr_array_set_size (self->items, 0);
      build_gallery (self);
      return;
    }
  self->loads_in_flight++;
  task = g_task_new (self, self->cancellable, samples_loaded, GUINT_TO_POINTER (self->serial));
  g_task_set_task_data (task, g_strdup (self->run_dir), g_free);
  g_task_run_in_thread (task, load_samples_thread);
}

void
studio_samples_view_select_run (StudioSamplesView *self, const char *run_dir)
{
  g_autofree char *name = NULL;

  g_return_if_fail (STUDIO_IS_SAMPLES_VIEW (self));
  if (run_dir != self->run_dir)
    {
      g_free (self->run_dir);
      self->run_dir = g_strdup (run_dir);
    }
  name = run_dir != NULL ? g_path_get_basename (run_dir) : NULL;
  gtk_label_set_text (self->run_title, name != NULL ? name : _("No runs yet"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->curve_button), run_dir != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->folder_button), run_dir != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->snippet_button), run_dir != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), run_dir != NULL);
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->runs_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (GTK_IS_LIST_BOX_ROW (row)
        && g_strcmp0 (g_object_get_data (G_OBJECT (row), "run-dir"), run_dir) == 0)
      gtk_list_box_select_row (self->runs_list, GTK_LIST_BOX_ROW (row));
  self->serial++;
  load_samples (self);
}

static void
on_run_selected (GtkListBox *list, GtkListBoxRow *row, StudioSamplesView *self)
{
  const char *dir = row != NULL ? g_object_get_data (G_OBJECT (row), "run-dir") : NULL;

  if (dir != NULL && g_strcmp0 (dir, self->run_dir) != 0)
    studio_samples_view_select_run (self, dir);
}

/* --- large view and comparison ---------------------------------------------------- */

void
studio_samples_view_show_large (StudioSamplesView *self, guint index)
{
  StudioSampleItem *item;
  g_autofree char *caption = NULL;

  g_return_if_fail (STUDIO_IS_SAMPLES_VIEW (self));
  if (index >= self->items->len)
    return;
  item = g_ptr_array_index (self->items, index);
  gtk_picture_set_paintable (self->large_picture, g_ptr_array_index (self->textures, index));
  caption = g_strdup_printf (_("Step %lld · %s"), (long long) item->step, item->prompt);
  gtk_label_set_text (self->large_caption, caption);
  gtk_stack_set_visible_child_name (self->stack, "large");
}

gboolean
studio_samples_view_compare (StudioSamplesView *self, gint64 step_a, gint64 step_b)
{
  gint64 steps[2] = { step_a, step_b };
  int rows[2] = { 1, 1 };

  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), FALSE);
  clear_box (GTK_WIDGET (self->compare_grid));
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *title = g_strdup_printf (_("Step %lld"), (long long) steps[c]);
      GtkWidget *label = gtk_label_new (title);
      gtk_widget_add_css_class (label, "heading");
      gtk_grid_attach (self->compare_grid, label, c, 0, 1, 1);
    }
  /* The same prompts line up in one row: items of a step keep the prompt order. */
  for (guint i = 0; i < self->items->len; i++)
    {
      StudioSampleItem *item = g_ptr_array_index (self->items, i);
      for (int c = 0; c < 2; c++)
        if (item->step == steps[c])
          {
            GtkWidget *tile = make_tile (self, item, g_ptr_array_index (self->textures, i), (int) i);
            if (GTK_IS_BUTTON (tile))
              {
                GtkWidget *picture = gtk_widget_get_first_child (gtk_button_get_child (GTK_BUTTON (tile)));
                gtk_widget_set_size_request (picture, 2 * TILE_SIZE, 2 * TILE_SIZE);
              }
            gtk_grid_attach (self->compare_grid, tile, c, rows[c]++, 1, 1);
          }
    }
  if (rows[0] == 1 && rows[1] == 1)
    return FALSE;
  gtk_stack_set_visible_child_name (self->stack, "compare");
  return TRUE;
}

static void
on_compare_toggled (GtkToggleButton *button, StudioSamplesView *self)
{
  guint a = gtk_drop_down_get_selected (self->compare_a);
  guint b = gtk_drop_down_get_selected (self->compare_b);

  if (!gtk_toggle_button_get_active (button))
    {
      gtk_stack_set_visible_child_name (self->stack, self->items->len + self->generated->len > 0
                                                     ? "gallery" : "empty");
      return;
    }
  if (a >= self->steps->len || b >= self->steps->len)
    return;
  studio_samples_view_compare (self, g_array_index (self->steps, gint64, a),
                               g_array_index (self->steps, gint64, b));
}

static void
on_compare_changed (GtkDropDown *dropdown, GParamSpec *pspec, StudioSamplesView *self)
{
  if (gtk_toggle_button_get_active (self->compare_button))
    on_compare_toggled (self->compare_button, self);
}

static void
on_back_clicked (GtkButton *button, StudioSamplesView *self)
{
  gtk_stack_set_visible_child_name (self->stack, "gallery");
}

/* --- run actions ---------------------------------------------------------------- */

char *
studio_samples_view_copy_snippet (StudioSamplesView *self)
{
  char *snippet;
  g_autofree char *status = NULL;

  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  if (self->run_dir == NULL)
    return NULL;
  snippet = studio_run_prompt_snippet (self->run_dir, 0.8);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), snippet);
  status = g_strdup_printf (_("Copied %s"), snippet);
  set_status (self, status);
  return snippet;
}

char *
studio_samples_view_export_to (StudioSamplesView *self, const char *folder, GError **error)
{
  char *path;
  g_autofree char *status = NULL;

  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  if (self->run_dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("Select a run first"));
      return NULL;
    }
  path = studio_run_export_lora (self->run_dir, folder, error);
  if (path == NULL)
    {
      set_status (self, error != NULL && *error != NULL ? (*error)->message : NULL);
      return NULL;
    }
  status = g_strdup_printf (_("Exported to %s"), path);
  set_status (self, status);
  return path;
}

static void
on_snippet_clicked (GtkButton *button, StudioSamplesView *self)
{
  g_free (studio_samples_view_copy_snippet (self));
}

static void
on_export_response (GtkNativeDialog *dialog, int response, StudioSamplesView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = folder != NULL ? g_file_get_path (folder) : NULL;
      g_autoptr (GError) error = NULL;
      if (path != NULL)
        g_free (studio_samples_view_export_to (self, path, &error));
    }
  g_object_unref (dialog);
}

static void
on_export_clicked (GtkButton *button, StudioSamplesView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Export the LoRA to a Folder"),
                                 GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export"), _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_folder_clicked (GtkButton *button, StudioSamplesView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr (GFile) file = NULL;
  g_autofree char *uri = NULL;

  if (self->run_dir == NULL)
    return;
  file = g_file_new_for_path (self->run_dir);
  uri = g_file_get_uri (file);
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
on_curve_clicked (GtkButton *button, StudioSamplesView *self)
{
  if (self->run_dir == NULL || self->train == NULL)
    return;
  studio_train_view_show_run (self->train, self->run_dir);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-train", NULL);
}

/* --- Generate ------------------------------------------------------------------ */

char *
studio_samples_view_generate (StudioSamplesView *self, const char *prompt, const char *negative,
                              gint64 seed, double strength, const char *weights, GError **error)
{
  g_autoptr (JsonObject) args = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *config = NULL;
  g_autofree char *out = NULL;
  g_autofree char *lora = NULL;
  StudioConfig *project_config;
  char *id;

  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  if (self->train == NULL || self->project == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("No project is open"));
      return NULL;
    }
  if (prompt == NULL || *prompt == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Write a prompt first"));
      return NULL;
    }
  project_config = studio_project_get_config (self->project);
  if (self->run_dir != NULL)
    {
      g_autofree char *samples = g_build_filename (self->run_dir, "samples", NULL);
      config = g_build_filename (self->run_dir, "config.yaml", NULL);
      lora = weights != NULL ? g_strdup (weights) : studio_run_find_lora (self->run_dir);
      g_mkdir_with_parents (samples, 0755);
      out = g_strdup_printf ("%s/generated-%s.%s", samples, stamp,
                             project_config->task_type == STUDIO_TASK_TEXT_GENERATION ? "txt" : "png");
    }
  else
    config = g_strdup (studio_project_get_config_path (self->project));

  json_object_set_string_member (args, "prompt", prompt);
  if (negative != NULL && *negative != '\0')
    json_object_set_string_member (args, "negative_prompt", negative);
  json_object_set_string_member (args, "config", config);
  if (lora != NULL)
    json_object_set_string_member (args, "lora", lora);
  json_object_set_double_member (args, "weight", strength);
  json_object_set_int_member (args, "seed", seed);
  if (out != NULL)
    json_object_set_string_member (args, "out", out);

  id = studio_train_view_send (self->train, "sample", args);
  if (id == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The training engine could not be started; the Train view says why"));
      return NULL;
    }
  g_hash_table_add (self->generate_ids, g_strdup (id));
  set_status (self, _("Generating…"));
  return id;
}

gboolean
studio_samples_view_is_generating (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), FALSE);
  /* an engine that died mid-sample never answers: without it nothing is being drawn */
  return g_hash_table_size (self->generate_ids) > 0 && self->train != NULL &&
         studio_train_view_get_engine (self->train) != NULL;
}

static void
on_generate_clicked (GtkButton *button, StudioSamplesView *self)
{
  g_autoptr (GError) error = NULL;
  guint i = gtk_drop_down_get_selected (self->checkpoint_dropdown);
  const char *weights = i < self->weights->len ? g_ptr_array_index (self->weights, i) : NULL;
  g_autofree char *id = studio_samples_view_generate (self,
                                                      gtk_editable_get_text (GTK_EDITABLE (self->prompt_entry)),
                                                      gtk_editable_get_text (GTK_EDITABLE (self->negative_entry)),
                                                      (gint64) gtk_spin_button_get_value (self->seed_spin),
                                                      gtk_adjustment_get_value (self->strength_adjustment),
                                                      weights, &error);
  if (id == NULL)
    set_status (self, error->message);
}

static void
add_generated (StudioSamplesView *self, const char *path, const char *prompt)
{
  StudioSampleItem *item = g_new0 (StudioSampleItem, 1);

  item->step = -1;
  item->path = g_strdup (path);
  item->prompt = g_strdup (prompt != NULL ? prompt : "");
  if (g_str_has_suffix (path, ".txt"))
    {
      g_autofree char *raw = NULL;
      if (g_file_get_contents (path, &raw, NULL, NULL))
        item->text = g_utf8_make_valid (raw, -1);
      else
        item->text = g_strdup (_("(the text file could not be read)"));
      g_ptr_array_add (self->generated_textures, NULL);
    }
  else
    g_ptr_array_add (self->generated_textures, gdk_texture_new_from_filename (path, NULL));
  g_ptr_array_add (self->generated, item);
  build_gallery (self);
}

static void
on_engine_event (StudioTrainView *train, StudioEvent *event, StudioSamplesView *self)
{
  JsonObject *o = event->object;

  if (event->id == NULL || !g_hash_table_contains (self->generate_ids, event->id))
    return;
  switch (event->kind)
    {
    case STUDIO_EVENT_SAMPLE:
      add_generated (self, json_object_get_string_member_with_default (o, "path", ""),
                     json_object_get_string_member_with_default (o, "prompt", ""));
      set_status (self, _("Sample generated"));
      break;
    case STUDIO_EVENT_ERROR:
      {
        const char *code = json_object_get_string_member_with_default (o, "code", "");
        g_autofree char *text = g_str_equal (code, "not-implemented")
          ? g_strdup (_("This lora-engine cannot draw samples yet"))
          : g_strdup (json_object_get_string_member_with_default (o, "message", ""));
        set_status (self, text);
        g_hash_table_remove (self->generate_ids, event->id);
        break;
      }
    case STUDIO_EVENT_DONE:
      {
        /* During a run the previews come as the run's sample events (the gallery
         * shows them) and only done answers this request: it ends "Generating…" too. */
        const char *status = json_object_get_string_member_with_default (o, "status", "");
        if (g_str_equal (status, "completed"))
          set_status (self, _("Sample generated"));
        else if (g_str_equal (status, "cancelled"))
          set_status (self, _("Generation cancelled"));
        else if (g_strcmp0 (self->status, _("Generating…")) == 0)
          set_status (self, _("Generation failed; the Train view's log says why"));
        g_hash_table_remove (self->generate_ids, event->id);
        break;
      }
    default:
      break;
    }
}

static void
on_run_started (StudioTrainView *train, const char *run_dir, StudioSamplesView *self)
{
  g_free (self->run_dir);
  self->run_dir = g_strdup (run_dir);
  studio_samples_view_refresh (self);
}

static void
on_run_changed (StudioTrainView *train, const char *run_dir, StudioSamplesView *self)
{
  if (g_strcmp0 (run_dir, self->run_dir) == 0)
    {
      self->serial++;
      load_samples (self);
    }
}

static void
on_run_finished (StudioTrainView *train, const char *run_dir, StudioSamplesView *self)
{
  studio_samples_view_refresh (self);
}

/* --- public -------------------------------------------------------------------- */

void
studio_samples_view_set_project (StudioSamplesView *self, StudioProject *project)
{
  g_return_if_fail (STUDIO_IS_SAMPLES_VIEW (self));
  g_set_object (&self->project, project);
  g_clear_pointer (&self->run_dir, g_free);
  g_ptr_array_set_size (self->generated, 0);
  g_ptr_array_set_size (self->generated_textures, 0);
  studio_samples_view_select_run (self, NULL);
  studio_samples_view_refresh (self);
}

void
studio_samples_view_set_train_view (StudioSamplesView *self, StudioTrainView *train)
{
  g_return_if_fail (STUDIO_IS_SAMPLES_VIEW (self));
  if (self->train != NULL)
    g_signal_handlers_disconnect_by_data (self->train, self);
  g_set_object (&self->train, train);
  if (train == NULL)
    return;
  g_signal_connect (train, "engine-event", G_CALLBACK (on_engine_event), self);
  g_signal_connect (train, "run-started", G_CALLBACK (on_run_started), self);
  g_signal_connect (train, "sample-added", G_CALLBACK (on_run_changed), self);
  g_signal_connect (train, "run-finished", G_CALLBACK (on_run_finished), self);
}

gboolean
studio_samples_view_is_loaded (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), FALSE);
  return self->loads_in_flight == 0;
}

guint
studio_samples_view_get_n_runs (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), 0);
  return self->runs != NULL ? self->runs->len : 0;
}

const char *
studio_samples_view_get_run_subtitle (StudioSamplesView *self, guint i)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  if (self->runs == NULL || i >= self->runs->len)
    return NULL;
  return ((RunInfo *) g_ptr_array_index (self->runs, i))->subtitle;
}

const char *
studio_samples_view_get_run (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return self->run_dir;
}

GPtrArray *
studio_samples_view_get_items (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return self->items;
}

GArray *
studio_samples_view_get_steps (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return self->steps;
}

const char *
studio_samples_view_get_page (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

GPtrArray *
studio_samples_view_get_generated (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return self->generated;
}

const char *
studio_samples_view_get_status (StudioSamplesView *self)
{
  g_return_val_if_fail (STUDIO_IS_SAMPLES_VIEW (self), NULL);
  return self->status;
}

static void
studio_samples_view_dispose (GObject *object)
{
  StudioSamplesView *self = STUDIO_SAMPLES_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->train != NULL)
    g_signal_handlers_disconnect_by_data (self->train, self);
  g_clear_object (&self->train);
  g_clear_object (&self->project);
  G_OBJECT_CLASS (studio_samples_view_parent_class)->dispose (object);
}

static void
studio_samples_view_finalize (GObject *object)
{
  StudioSamplesView *self = STUDIO_SAMPLES_VIEW (object);

  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_ptr_array_unref (self->items);
  g_ptr_array_unref (self->textures);
  g_ptr_array_unref (self->generated_textures);
  g_ptr_array_unref (self->generated);
  g_ptr_array_unref (self->weights);
  g_array_unref (self->steps);
  g_hash_table_unref (self->generate_ids);
  g_free (self->run_dir);
  g_free (self->status);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_samples_view_parent_class)->finalize (object);
}

static void
studio_samples_view_class_init (StudioSamplesViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_samples_view_dispose;
  object_class->finalize = studio_samples_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-samples-view.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, runs_list);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, run_title);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, curve_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, folder_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, snippet_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, export_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, compare_a);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, compare_b);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, compare_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, status_label);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, stack);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, gallery);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, compare_grid);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, back_button);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, large_picture);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, large_caption);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, prompt_entry);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, negative_entry);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, strength_adjustment);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, checkpoint_dropdown);
  gtk_widget_class_bind_template_child (widget_class, StudioSamplesView, generate_button);
}

static void
studio_samples_view_init (StudioSamplesView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_sample_item_free);
  self->textures = g_ptr_array_new_with_free_func (texture_unref);
  self->generated = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_sample_item_free);
  self->generated_textures = g_ptr_array_new_with_free_func (texture_unref);
  self->weights = g_ptr_array_new_with_free_func (g_free);
  self->steps = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->generate_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();

  /* An empty sidebar under its heading looked unfinished: say what will be there. */
  {
    GtkWidget *placeholder = gtk_label_new (_("Each training run of this project appears here"));
    gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
    gtk_label_set_justify (GTK_LABEL (placeholder), GTK_JUSTIFY_CENTER);
    gtk_widget_set_margin_top (placeholder, 18);
    gtk_widget_set_margin_bottom (placeholder, 18);
    gtk_widget_set_margin_start (placeholder, 12);
    gtk_widget_set_margin_end (placeholder, 12);
    gtk_widget_add_css_class (placeholder, "dim-label");
    gtk_list_box_set_placeholder (self->runs_list, placeholder);
  }
  g_signal_connect (self->runs_list, "row-selected", G_CALLBACK (on_run_selected), self);
  g_signal_connect (self->compare_button, "toggled", G_CALLBACK (on_compare_toggled), self);
  g_signal_connect (self->compare_a, "notify::selected", G_CALLBACK (on_compare_changed), self);
  g_signal_connect (self->compare_b, "notify::selected", G_CALLBACK (on_compare_changed), self);
  g_signal_connect (self->back_button, "clicked", G_CALLBACK (on_back_clicked), self);
  g_signal_connect (self->snippet_button, "clicked", G_CALLBACK (on_snippet_clicked), self);
  g_signal_connect (self->export_button, "clicked", G_CALLBACK (on_export_clicked), self);
  g_signal_connect (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked), self);
  g_signal_connect (self->curve_button, "clicked", G_CALLBACK (on_curve_clicked), self);
  g_signal_connect (self->generate_button, "clicked", G_CALLBACK (on_generate_clicked), self);
  studio_samples_view_select_run (self, NULL);
}
