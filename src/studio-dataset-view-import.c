/* studio-dataset-view-import.c: StudioDatasetView's import: files dropped on the view
 * or chosen with Add Images are copied into the dataset folder (queued until the
 * dataset is loaded), with progress and Cancel; the files it refused are remembered
 * for the Details dialog. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-dataset-import.h"
#include "studio-dataset-view-private.h"

/* GCopyFunc for g_slist_copy_deep. */
static gpointer
copy_object (gconstpointer object, gpointer user_data)
{
  return g_object_ref ((gpointer) object);
}

GStrv
studio_dataset_view_dup_last_refused (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return g_strdupv (self->last_refused);
}

static void
import_progress (guint done, guint total, gpointer user_data)
{
  StudioDatasetView *self = user_data;
  g_autofree char *text = g_strdup_printf (_("Importing %u of %u files…"), done, total);

  gtk_progress_bar_set_fraction (self->progress_bar, total ? (double) done / total : 0.0);
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
on_cancel_import (StudioDatasetView *self)
{
  g_cancellable_cancel (self->import_cancellable);
}

static void
import_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioDatasetView) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioImportResult) imported = studio_dataset_import_finish (result, &error);
  g_autoptr (GString) message = g_string_new (NULL);
  gboolean captions = FALSE;

  g_clear_object (&self->import_cancellable);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  _studio_dataset_view_notify_importing (self);
  if (imported == NULL)
    {
      _studio_dataset_view_toast (self, error->message);
      return;
    }
  if (self->dataset == NULL)
    return;

  for (guint i = 0; i < imported->imported->len; i++)
    {
      StudioImportedFile *file = imported->imported->pdata[i];
      g_autofree char *name = g_path_get_basename (file->path);
      StudioDatasetItem *item = studio_dataset_lookup (self->dataset, name);

      /* The folder monitor may have been first. */
      if (item == NULL)
        item = studio_dataset_add_file (self->dataset, file->path, NULL);
      if (item != NULL && file->caption != NULL &&
          g_strcmp0 (studio_dataset_item_get_caption (item), file->caption) != 0)
        {
          studio_dataset_set_caption (self->dataset, item, file->caption);
          captions = TRUE;
        }
    }
  if (captions && !studio_dataset_save (self->dataset, &error))
    _studio_dataset_view_toast (self, error->message);

  g_string_printf (message, ngettext ("%u image imported", "%u images imported",
                                      imported->imported->len), imported->imported->len);
  if (imported->duplicates > 0)
    g_string_append_printf (message, ngettext (", %u duplicate skipped", ", %u duplicates skipped",
                                               imported->duplicates), imported->duplicates);
  if (imported->renamed > 0)
    g_string_append_printf (message, ngettext (", %u renamed", ", %u renamed", imported->renamed),
                            imported->renamed);
  if (imported->cancelled)
    g_string_append (message, _(" (cancelled)"));

  g_clear_pointer (&self->last_refused, g_strfreev);
  if (imported->refused->len > 0)
    {
      AdwToast *refused;
      g_ptr_array_add (imported->refused, NULL);
      self->last_refused = g_strdupv ((char **) imported->refused->pdata);
      g_ptr_array_remove_index (imported->refused, imported->refused->len - 1);
      g_string_append_printf (message, ngettext ("; %u file refused: not an image",
                                                 "; %u files refused: not images",
                                                 imported->refused->len), imported->refused->len);
      refused = adw_toast_new (message->str);
      adw_toast_set_button_label (refused, _("_Details"));
      adw_toast_set_action_name (refused, "dataset.import-details");
      adw_toast_set_timeout (refused, 10);
      adw_toast_overlay_add_toast (self->toast_overlay, refused);
    }
  else
    _studio_dataset_view_toast (self, message->str);
  _studio_dataset_view_update_grid_page (self);
  _studio_dataset_view_schedule_health (self);   /* the new files' hashes */
  _studio_dataset_view_show_health (self);
  if (self->pending_import != NULL)
    _studio_dataset_view_start_import (self);
}

void
_studio_dataset_view_start_import (StudioDatasetView *self)
{
  GSList *files;

  if (self->dataset == NULL || self->import_cancellable != NULL || self->pending_import == NULL)
    return;
  files = g_steal_pointer (&self->pending_import);
  self->import_cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_progress_bar_set_text (self->progress_bar, _("Looking at the files…"));
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  studio_dataset_import_async (studio_dataset_get_folder (self->dataset), files,
                               self->import_cancellable, import_progress, self,
                               import_done, g_object_ref (self));
  g_slist_free_full (files, g_object_unref);
}

void
studio_dataset_view_import (StudioDatasetView *self, GSList *files)
{
  g_return_if_fail (STUDIO_IS_DATASET_VIEW (self));

  self->pending_import = g_slist_concat (self->pending_import,
                                         g_slist_copy_deep (files, copy_object, NULL));
  _studio_dataset_view_notify_importing (self);
  _studio_dataset_view_start_import (self);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, gpointer user_data)
{
  StudioDatasetView *self = user_data;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST) || self->dataset == NULL)
    return FALSE;
  studio_dataset_view_import (self, gdk_file_list_get_files (g_value_get_boxed (value)));
  return TRUE;
}

static void
chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  StudioDatasetView *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      GSList *list = NULL;

      for (guint i = g_list_model_get_n_items (files); i > 0; i--)
        list = g_slist_prepend (list, g_list_model_get_item (files, i - 1));
      studio_dataset_view_import (self, list);
      g_slist_free_full (list, g_object_unref);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
add_images_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_filter_add_mime_type (filter, "image/webp");
  chooser = gtk_file_chooser_native_new (_("Add Images"),
                                         GTK_WINDOW (gtk_widget_get_root (widget)),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Add"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), g_object_ref (widget));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
_studio_dataset_view_init_import (StudioDatasetView *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}

void
_studio_dataset_view_class_init_import (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_import);
  gtk_widget_class_install_action (widget_class, "dataset.add-images", NULL, add_images_activated);
}
