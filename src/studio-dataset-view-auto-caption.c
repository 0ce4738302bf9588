/* studio-dataset-view-auto-caption.c: StudioDatasetView's Auto Caption: opens the
 * dialog (unless the project is training), reports what it wrote, kept and skipped,
 * and selects the new captions for review. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-auto-caption-dialog.h"
#include "studio-dataset-view-private.h"
#include "studio-project-view.h"
#include "studio-samples-view.h"
#include "studio-train-view.h"

/* Shows every image and selects the ones Auto Caption wrote, the first in the editor,
 * so that the user reads and completes them: CLIP only knows its list of tags. */
static void
review_captions_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  GListModel *shown = G_LIST_MODEL (self->filtered);
  g_autoptr (GtkBitset) selected = gtk_bitset_new_empty ();
  g_autoptr (GtkBitset) all = NULL;
  guint n;

  if (self->auto_captioned == NULL || self->dataset == NULL)
    return;
  studio_dataset_view_set_filter (self, STUDIO_DATASET_FILTER_ALL, NULL);
  n = g_list_model_get_n_items (shown);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (shown, i);
      if (g_strv_contains ((const char * const *) self->auto_captioned, studio_dataset_item_get_name (item)))
        gtk_bitset_add (selected, i);
    }
  if (gtk_bitset_is_empty (selected))
    return;
  all = gtk_bitset_new_range (0, n);
  gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), selected, all);
  gtk_widget_activate_action (GTK_WIDGET (self->grid), "list.scroll-to-item", "u",
                              gtk_bitset_get_minimum (selected));
  gtk_widget_grab_focus (GTK_WIDGET (studio_caption_editor_get_text_view (self->editor)));
}

static void
auto_caption_finished (StudioAutoCaptionDialog *dialog, StudioDatasetView *self)
{
  GPtrArray *captioned = studio_auto_caption_dialog_get_captioned (dialog);
  guint written = captioned->len, kept = studio_auto_caption_dialog_get_kept (dialog);
  g_autofree char *written_text = g_strdup_printf (ngettext ("%u caption written", "%u captions written",
                                                             written), written);
  g_autofree char *kept_text = g_strdup_printf (ngettext ("%u kept", "%u kept", kept), kept);
  g_autoptr (GString) message = g_string_new (NULL);
  AdwToast *result;

  g_strfreev (self->auto_captioned);
  g_ptr_array_add (captioned, NULL);
  self->auto_captioned = g_strdupv ((char **) captioned->pdata);
  g_ptr_array_remove_index (captioned, captioned->len - 1);
  g_strfreev (self->caption_warnings);
  self->caption_warnings = studio_auto_caption_dialog_dup_warnings (dialog);

  /* The engine wrote the store; the editor shows what it holds now, not its old text. */
  studio_caption_editor_reload (self->editor);
  _studio_dataset_view_refilter (self);
  _studio_dataset_view_show_health (self);
  _studio_dataset_view_schedule_health (self);

  g_string_printf (message, "%s, %s", written_text, kept_text);
  if (studio_auto_caption_dialog_get_status (dialog) == STUDIO_AUTO_CAPTION_CANCELLED)
    g_string_append (message, _(" (cancelled)"));
  if (self->caption_warnings != NULL)
    {
      guint skipped = g_strv_length (self->caption_warnings);
      g_string_append_printf (message, ngettext ("; %u image skipped", "; %u images skipped", skipped),
                              skipped);
      result = adw_toast_new (message->str);
      adw_toast_set_button_label (result, _("_Details"));
      adw_toast_set_action_name (result, "dataset.auto-caption-details");
      adw_toast_set_timeout (result, 10);
      adw_toast_overlay_add_toast (self->toast_overlay, result);
      if (written == 0)
        return;
      g_string_truncate (message, 0);
    }
  else if (written > 0)
    g_string_append (message, ". ");
  if (written == 0)
    {
      _studio_dataset_view_toast (self, message->str);
      return;
    }
  g_string_append (message, _("Check them by hand and add what makes your subject unique."));
  result = adw_toast_new (message->str);
  adw_toast_set_button_label (result, _("_Review"));
  adw_toast_set_action_name (result, "dataset.review-captions");
  adw_toast_set_timeout (result, 15);
  adw_toast_overlay_add_toast (self->toast_overlay, result);
}

/* The project's page NAME ("train", "samples"), or NULL outside a project window. */
static GtkWidget *
project_page (StudioDatasetView *self, const char *name)
{
  GtkWidget *project_view = gtk_widget_get_ancestor (GTK_WIDGET (self), STUDIO_TYPE_PROJECT_VIEW);

  if (project_view == NULL)
    return NULL;
  return adw_view_stack_get_child_by_name (studio_project_view_get_stack (STUDIO_PROJECT_VIEW (project_view)),
                                           name);
}

/* What keeps the engine busy, as a message, or NULL when it is free: captioning waits
 * for a training run or a sample being drawn, as the engine's `serve` answers `busy`,
 * rather than share the device (and its memory) with it. */
static const char *
engine_busy_with (StudioDatasetView *self)
{
  GtkWidget *train = project_page (self, "train");
  GtkWidget *samples = project_page (self, "samples");

  if (train != NULL && STUDIO_IS_TRAIN_VIEW (train) && studio_train_view_is_training (STUDIO_TRAIN_VIEW (train)))
    return _("The engine is training: wait until the run ends to caption the images");
  if (samples != NULL && STUDIO_IS_SAMPLES_VIEW (samples) &&
      studio_samples_view_is_generating (STUDIO_SAMPLES_VIEW (samples)))
    return _("The engine is drawing a sample: wait until it is done to caption the images");
  return NULL;
}

static void
auto_caption_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  g_autoptr (GError) error = NULL;
  StudioAutoCaptionDialog *dialog;
  const char *busy;

  if (self->dataset == NULL)
    return;
  busy = engine_busy_with (self);
  if (busy != NULL)
    {
      _studio_dataset_view_toast (self, busy);
      return;
    }
  /* The engine merges the store as it is on disk: the user's last keystrokes go first. */
  if (!studio_caption_editor_flush (self->editor, &error) ||
      (studio_dataset_is_dirty (self->dataset) && !studio_dataset_save (self->dataset, &error)))
    {
      _studio_dataset_view_toast (self, error->message);
      return;
    }
  dialog = studio_auto_caption_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->dataset);
  g_signal_connect_object (dialog, "finished", G_CALLBACK (auto_caption_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_studio_dataset_view_class_init_auto_caption (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "dataset.auto-caption", NULL, auto_caption_activated);
  gtk_widget_class_install_action (widget_class, "dataset.review-captions", NULL, review_captions_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "dataset.auto-caption", NULL);
}
