/* studio-dataset-view-batch.c: StudioDatasetView's edits of many captions or files at
 * once: the batch dialog and its one Undo, the tags popover, moving images to the
 * trash, and converting between the two caption stores. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-batch-dialog.h"
#include "studio-dataset-view-private.h"

GListModel *
studio_dataset_view_dup_batch_scope (StudioDatasetView *self)
{
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  GListStore *store;
  GtkBitsetIter iter;
  guint position;

  if (gtk_bitset_get_size (selected) < 2)
    return g_object_ref (G_LIST_MODEL (self->filtered));
  store = g_list_store_new (STUDIO_TYPE_DATASET_ITEM);
  for (gboolean ok = gtk_bitset_iter_init_first (&iter, selected, &position); ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr (GObject) item = g_list_model_get_item (G_LIST_MODEL (self->filtered), position);
      g_list_store_append (store, item);
    }
  return G_LIST_MODEL (store);
}

static gboolean
save_dataset (StudioDatasetView *self, GError **error)
{
  if (!studio_dataset_save (self->dataset, error))
    return FALSE;
  studio_caption_editor_reload (self->editor);
  _studio_dataset_view_schedule_health (self);
  return TRUE;
}

gboolean
studio_dataset_view_apply_batch (StudioDatasetView *self, GPtrArray *changes, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), FALSE);
  g_return_val_if_fail (self->dataset != NULL, FALSE);

  /* The editor's pending keystrokes belong before the batch, not after it. */
  studio_caption_editor_flush (self->editor, NULL);
  studio_batch_commit (self->dataset, changes);
  g_clear_pointer (&self->undo, g_ptr_array_unref);
  self->undo = g_ptr_array_ref (changes);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.undo", TRUE);
  return save_dataset (self, error);
}

gboolean
studio_dataset_view_undo_batch (StudioDatasetView *self, GError **error)
{
  g_autoptr (GPtrArray) changes = NULL;

  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), FALSE);
  if (self->undo == NULL || self->dataset == NULL)
    return TRUE;
  studio_caption_editor_flush (self->editor, NULL);
  changes = g_steal_pointer (&self->undo);
  studio_batch_undo (self->dataset, changes);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.undo", FALSE);
  return save_dataset (self, error);
}

static void
batch_response (StudioBatchDialog *dialog, const char *response, gpointer user_data)
{
  StudioDatasetView *self = user_data;
  GPtrArray *changes = studio_batch_dialog_get_changes (dialog);
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "apply") == 0 && changes != NULL && changes->len > 0)
    {
      g_autofree char *message = NULL;
      guint n = changes->len;

      if (!studio_dataset_view_apply_batch (self, changes, &error))
        _studio_dataset_view_toast (self, error->message);
      else
        {
          message = g_strdup_printf (ngettext ("%u caption changed", "%u captions changed", n), n);
          AdwToast *done = adw_toast_new (message);
          adw_toast_set_button_label (done, _("_Undo"));
          adw_toast_set_action_name (done, "dataset.undo");
          adw_toast_overlay_add_toast (self->toast_overlay, done);
        }
    }
  g_object_unref (self);
}

static void
batch_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  const char *which = g_variant_get_string (param, NULL);
  StudioBatchKind kind = STUDIO_BATCH_REPLACE;
  g_autoptr (GListModel) scope = NULL;
  g_autofree char *scope_text = NULL;
  StudioBatchDialog *dialog;
  guint n;

  if (self->dataset == NULL)
    return;
  if (g_str_equal (which, "prefix"))
    kind = STUDIO_BATCH_ADD_PREFIX;
  else if (g_str_equal (which, "suffix"))
    kind = STUDIO_BATCH_ADD_SUFFIX;
  else if (g_str_equal (which, "remove-tag"))
    kind = STUDIO_BATCH_REMOVE_TAG;

  scope = studio_dataset_view_dup_batch_scope (self);
  n = g_list_model_get_n_items (scope);
  scope_text = g_strdup_printf (ngettext ("Applies to %u image shown or selected.",
                                          "Applies to the %u images shown or selected.", n), n);
  dialog = studio_batch_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), kind, scope, scope_text);
  g_signal_connect (dialog, "response", G_CALLBACK (batch_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
undo_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  g_autoptr (GError) error = NULL;

  if (!studio_dataset_view_undo_batch (STUDIO_DATASET_VIEW (widget), &error))
    _studio_dataset_view_toast (STUDIO_DATASET_VIEW (widget), error->message);
}

/* Tags */

static void
on_tags_popover_show (StudioDatasetView *self)
{
  GtkWidget *row;
  g_autoptr (GPtrArray) tags = NULL;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->tags_list))) != NULL)
    gtk_list_box_remove (self->tags_list, row);
  if (self->dataset == NULL)
    return;
  tags = studio_batch_tag_frequencies (G_LIST_MODEL (self->dataset));
  for (guint i = 0; i < tags->len && i < 300; i++)
    {
      StudioTagCount *tag = tags->pdata[i];
      GtkWidget *item = adw_action_row_new ();
      g_autofree char *count = g_strdup_printf ("%u", tag->count);
      GtkWidget *label = gtk_label_new (count);

      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_add_css_class (label, "dim-label");
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (item), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (item), tag->tag);
      adw_action_row_add_suffix (ADW_ACTION_ROW (item), label);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (item), TRUE);
      gtk_widget_set_tooltip_text (item, _("Show the images with this tag"));
      gtk_list_box_append (self->tags_list, item);
    }
}

static void
on_tag_activated (StudioDatasetView *self, GtkListBoxRow *row)
{
  const char *tag = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));

  gtk_popover_popdown (self->tags_popover);
  studio_dataset_view_set_filter (self, STUDIO_DATASET_FILTER_ALL, tag);
}

/* Trash */

static void
trash_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  g_autoptr (GtkBitset) selected = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  GtkBitsetIter iter;
  guint position, trashed = 0;

  if (self->dataset == NULL)
    return;
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean ok = gtk_bitset_iter_init_first (&iter, selected, &position); ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (self->filtered), position));
  if (items->len == 0)
    {
      _studio_dataset_view_toast (self, _("Select the images to move to the trash"));
      return;
    }
  studio_caption_editor_flush (self->editor, NULL);
  studio_caption_editor_set_item (self->editor, NULL, NULL, NULL);

  for (guint i = 0; i < items->len; i++)
    {
      StudioDatasetItem *item = items->pdata[i];
      g_autoptr (GFile) file = g_file_new_for_path (studio_dataset_item_get_path (item));
      g_autofree char *sidecar_path = studio_dataset_item_dup_sidecar_path (item);
      g_autoptr (GFile) sidecar = g_file_new_for_path (sidecar_path);
      const char *caption = studio_dataset_item_get_caption (item);

      /* The caption goes to the trash with its image, so restoring both loses
       * nothing; with metadata.csv it is written beside the image first. */
      if (studio_dataset_get_caption_store (self->dataset) == STUDIO_CAPTION_STORE_CSV &&
          caption != NULL && !g_file_query_exists (sidecar, NULL))
        g_file_set_contents (sidecar_path, caption, -1, NULL);
      if (!g_file_trash (file, NULL, error ? NULL : &error))
        continue;
      if (g_file_query_exists (sidecar, NULL))
        g_file_trash (sidecar, NULL, NULL);
      studio_dataset_remove_item (self->dataset, item);
      trashed++;
    }
  if (error != NULL)
    _studio_dataset_view_toast (self, error->message);
  else
    {
      g_autofree char *message = g_strdup_printf (ngettext ("%u image moved to the trash",
                                                            "%u images moved to the trash",
                                                            trashed), trashed);
      _studio_dataset_view_toast (self, message);
    }
  if (!studio_dataset_save (self->dataset, &error) && error != NULL)
    _studio_dataset_view_toast (self, error->message);
}

/* Caption store */

static void
caption_store_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  gboolean csv = g_str_equal (g_variant_get_string (param, NULL), "csv");
  StudioCaptionStore store = csv ? STUDIO_CAPTION_STORE_CSV : STUDIO_CAPTION_STORE_SIDECAR;
  g_autoptr (GError) error = NULL;
  StudioConfig *config;

  if (self->dataset == NULL || self->project == NULL)
    return;
  if (studio_dataset_get_caption_store (self->dataset) == store)
    {
      _studio_dataset_view_toast (self, csv ? _("Captions are already stored in a CSV file")
                                            : _("Captions are already stored in .txt files"));
      return;
    }
  studio_caption_editor_flush (self->editor, NULL);
  if (!studio_dataset_convert (self->dataset, store, NULL, &error))
    {
      _studio_dataset_view_toast (self, error->message);
      return;
    }
  /* The config follows, so that training reads the store the captions are in. */
  config = studio_project_get_config (self->project);
  if (csv)
    studio_config_set (config, "metadata_path", studio_dataset_get_metadata_path (self->dataset), &error);
  else
    studio_config_reset (config, "metadata_path");
  if (error != NULL || !studio_project_save_config (self->project, &error))
    _studio_dataset_view_toast (self, error->message);
  else
    _studio_dataset_view_toast (self, csv ? _("Captions copied to metadata.csv; the .txt files are kept")
                                          : _("Captions copied to .txt files; metadata.csv is kept"));
  _studio_dataset_view_show_health (self);
}

void
_studio_dataset_view_class_init_batch (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_tags_popover_show);
  gtk_widget_class_bind_template_callback (widget_class, on_tag_activated);
  gtk_widget_class_install_action (widget_class, "dataset.trash", NULL, trash_activated);
  gtk_widget_class_install_action (widget_class, "dataset.undo", NULL, undo_activated);
  gtk_widget_class_install_action (widget_class, "dataset.batch", "s", batch_activated);
  gtk_widget_class_install_action (widget_class, "dataset.caption-store", "s", caption_store_activated);
}
