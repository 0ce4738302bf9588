/* studio-dataset-view.c: StudioDatasetView (see the header): the class, its properties,
 * loading a project's dataset, and the Details dialog of the import and Auto Caption
 * toasts; the other parts are listed in studio-dataset-view-private.h. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-caption-editor.h"
#include "studio-dataset-view-private.h"

G_DEFINE_FINAL_TYPE (StudioDatasetView, studio_dataset_view, ADW_TYPE_BIN)

enum { PROP_0, PROP_LOADING, PROP_IMPORTING, N_PROPS };
static GParamSpec *properties[N_PROPS];

void
_studio_dataset_view_toast (StudioDatasetView *self, const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

static void
set_loading (StudioDatasetView *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

gboolean
studio_dataset_view_get_loading (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), FALSE);
  return self->loading;
}

gboolean
studio_dataset_view_get_importing (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), FALSE);
  return self->import_cancellable != NULL || self->pending_import != NULL;
}

StudioDataset *
studio_dataset_view_get_dataset (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return self->dataset;
}

GListModel *
studio_dataset_view_get_visible (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return G_LIST_MODEL (self->filtered);
}

GtkSelectionModel *
studio_dataset_view_get_selection (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return GTK_SELECTION_MODEL (self->selection);
}

StudioCaptionEditor *
studio_dataset_view_get_editor (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return self->editor;
}

void
_studio_dataset_view_notify_importing (StudioDatasetView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMPORTING]);
}

static void
details_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* dataset.import-details and dataset.auto-caption-details, the Details button of the
 * toasts that end an import or an Auto Caption: what was refused or skipped, and why. */
static void
details_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  gboolean import = g_str_equal (name, "dataset.import-details");
  GStrv lines = import ? self->last_refused : self->caption_warnings;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (lines == NULL)
    return;
  body = g_strjoinv ("\n", lines);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   import ? _("Files Not Imported") : _("Images Not Captioned"), body);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  g_signal_connect (dialog, "response", G_CALLBACK (details_response), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Loading */

static void
clear_dataset (StudioDatasetView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  _studio_dataset_view_unwatch_folder (self);
  g_clear_handle_id (&self->health_source, g_source_remove);
  g_hash_table_remove_all (self->hashes);
  g_clear_pointer (&self->undo, g_ptr_array_unref);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.undo", FALSE);
  studio_caption_editor_set_item (self->editor, NULL, NULL, NULL);
  gtk_filter_list_model_set_model (self->filtered, NULL);
  g_clear_object (&self->dataset);
  g_clear_pointer (&self->health, studio_dataset_health_free);
}

static void
show_dataset (StudioDatasetView *self, StudioDataset *dataset)
{
  self->dataset = g_object_ref (dataset);
  _studio_dataset_view_fit_max_columns (self);   /* before the cells are made for the new items */
  gtk_filter_list_model_set_model (self->filtered, G_LIST_MODEL (dataset));
  g_signal_connect_object (dataset, "items-changed",
                           G_CALLBACK (_studio_dataset_view_schedule_health), self, G_CONNECT_SWAPPED);
  _studio_dataset_view_watch_folder (self);

  _studio_dataset_view_schedule_health (self);   /* hashes, for duplicates */
  _studio_dataset_view_show_health (self);
  _studio_dataset_view_update_grid_page (self);
  gtk_stack_set_visible_child_name (self->stack, "dataset");
  _studio_dataset_view_start_import (self);
}

static void
dataset_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioDatasetView) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioDataset) dataset = studio_dataset_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (dataset == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
    }
  else
    show_dataset (self, dataset);
  set_loading (self, FALSE);
}

void
studio_dataset_view_set_project (StudioDatasetView *self, StudioProject *project)
{
  StudioConfig *config;

  g_return_if_fail (STUDIO_IS_DATASET_VIEW (self));
  g_return_if_fail (STUDIO_IS_PROJECT (project));

  clear_dataset (self);
  g_set_object (&self->project, project);
  studio_caption_editor_set_project (self->editor, project);
  self->cancellable = g_cancellable_new ();
  config = studio_project_get_config (project);
  self->min_side = (int) studio_config_get_int (config, "resolution");

  if (config->train_data_dir == NULL)
    {
      adw_status_page_set_description (self->error_page,
                                       _("config.yaml names no dataset folder: set train_data_dir "
                                         "to the folder of training images."));
      gtk_stack_set_visible_child_name (self->stack, "error");
      set_loading (self, FALSE);
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "loading");
  set_loading (self, TRUE);
  studio_dataset_load_async (studio_project_get_dataset_dir (project),
                             config->metadata_path ? STUDIO_CAPTION_STORE_CSV
                                                   : STUDIO_CAPTION_STORE_SIDECAR,
                             config->metadata_path, STUDIO_DATASET_LOAD_ALLOW_EMPTY,
                             self->cancellable, dataset_loaded, g_object_ref (self));
}

static void
studio_dataset_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_IMPORTING:
      g_value_set_boolean (value, studio_dataset_view_get_importing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
studio_dataset_view_dispose (GObject *object)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (object);

  if (self->editor != NULL)
    studio_caption_editor_flush (self->editor, NULL);
  g_cancellable_cancel (self->import_cancellable);
  g_clear_object (&self->import_cancellable);
  if (self->filtered != NULL)
    clear_dataset (self);
  if (self->fit_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->grid), self->fit_tick);
  self->fit_tick = 0;
  g_slist_free_full (g_steal_pointer (&self->pending_import), g_object_unref);
  g_clear_object (&self->project);
  g_clear_object (&self->selection);
  g_clear_object (&self->filtered);
  G_OBJECT_CLASS (studio_dataset_view_parent_class)->dispose (object);
}

static void
studio_dataset_view_finalize (GObject *object)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (object);

  g_hash_table_unref (self->monitor_added);
  g_hash_table_unref (self->monitor_removed);
  g_hash_table_unref (self->hashes);
  g_free (self->search);
  g_strfreev (self->last_refused);
  g_strfreev (self->auto_captioned);
  g_strfreev (self->caption_warnings);
  g_clear_object (&self->loader);
  G_OBJECT_CLASS (studio_dataset_view_parent_class)->finalize (object);
}

static void
studio_dataset_view_class_init (StudioDatasetViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = studio_dataset_view_get_property;
  object_class->dispose = studio_dataset_view_dispose;
  object_class->finalize = studio_dataset_view_finalize;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IMPORTING] =
    g_param_spec_boolean ("importing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (STUDIO_TYPE_CAPTION_EDITOR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-dataset-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioDatasetView, name)
  BIND (toast_overlay);
  BIND (stack);
  BIND (error_page);
  BIND (images_button);
  BIND (no_caption_button);
  BIND (warnings_button);
  BIND (small_button);
  BIND (duplicates_button);
  BIND (unreadable_button);
  BIND (resolution_label);
  BIND (aspects_label);
  BIND (store_label);
  BIND (filter_dropdown);
  BIND (search_entry);
  BIND (tags_list);
  BIND (tags_popover);
  BIND (progress_revealer);
  BIND (progress_bar);
  BIND (grid_stack);
  BIND (grid);
  BIND (editor);
#undef BIND
  /* Each part installs its actions and binds its template callbacks. */
  _studio_dataset_view_class_init_filter (widget_class);
  _studio_dataset_view_class_init_grid (widget_class);
  _studio_dataset_view_class_init_batch (widget_class);
  _studio_dataset_view_class_init_import (widget_class);
  _studio_dataset_view_class_init_auto_caption (widget_class);
  gtk_widget_class_install_action (widget_class, "dataset.import-details", NULL, details_activated);
  gtk_widget_class_install_action (widget_class, "dataset.auto-caption-details", NULL, details_activated);
}

static void
studio_dataset_view_init (StudioDatasetView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->monitor_added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->monitor_removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->loader = g_object_ref (studio_thumbnail_loader_get_default ());

  _studio_dataset_view_init_filter (self);
  _studio_dataset_view_init_grid (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.undo", FALSE);
  _studio_dataset_view_init_import (self);
}
