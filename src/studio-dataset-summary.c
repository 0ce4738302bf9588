/* studio-dataset-summary.c: StudioDatasetSummary: scans the dataset with StudioDataset
 * (a GTask thread), shows counts and problems, then decodes the first thumbnails in
 * another worker so the counts never wait for pixels. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-dataset.h"
#include "studio-dataset-summary.h"

#define MAX_THUMBNAILS 12
#define THUMBNAIL_SIZE 96
#define MAX_PROBLEM_ROWS 5

struct _StudioDatasetSummary
{
  AdwBin parent_instance;

  GtkStack            *stack;
  AdwStatusPage       *error_page;
  AdwActionRow        *images_row;
  AdwActionRow        *captioned_row;
  AdwActionRow        *folder_row;
  AdwPreferencesGroup *problems_group;
  GtkListBox          *problems_list;
  AdwPreferencesGroup *thumbnails_group;
  GtkFlowBox          *thumbnails;

  GCancellable        *cancellable;
  gboolean             loading;
};

G_DEFINE_FINAL_TYPE (StudioDatasetSummary, studio_dataset_summary, ADW_TYPE_BIN)

enum { PROP_0, PROP_LOADING, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
set_loading (StudioDatasetSummary *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

gboolean
studio_dataset_summary_get_loading (StudioDatasetSummary *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_SUMMARY (self), FALSE);
  return self->loading;
}

static void
remove_all (GtkWidget *container, void (*remove) (gpointer, GtkWidget *))
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (container)) != NULL)
    remove (container, child);
}

static void
restart (StudioDatasetSummary *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
}

void
studio_dataset_summary_set_loading (StudioDatasetSummary *self)
{
  g_return_if_fail (STUDIO_IS_DATASET_SUMMARY (self));

  restart (self);
  gtk_stack_set_visible_child_name (self->stack, "loading");
  set_loading (self, TRUE);
}

typedef struct {
  GdkTexture *texture;
  char       *name;      /* the file name, read by screen readers */
} Thumbnail;

static void
thumbnail_free (Thumbnail *thumbnail)
{
  g_object_unref (thumbnail->texture);
  g_free (thumbnail->name);
  g_free (thumbnail);
}

static void
thumbnails_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GStrv paths = task_data;
  GPtrArray *thumbnails = g_ptr_array_new_with_free_func ((GDestroyNotify) thumbnail_free);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GdkPixbuf) pixbuf = NULL;

      if (g_cancellable_is_cancelled (cancellable))
        break;
      /* Unreadable images have no thumbnail; the warnings say why. */
      pixbuf = gdk_pixbuf_new_from_file_at_scale (paths[i], THUMBNAIL_SIZE, THUMBNAIL_SIZE,
                                                  TRUE, NULL);
      if (pixbuf != NULL)
        {
          Thumbnail *thumbnail = g_new0 (Thumbnail, 1);
          thumbnail->texture = gdk_texture_new_for_pixbuf (pixbuf);
          thumbnail->name = g_path_get_basename (paths[i]);
          g_ptr_array_add (thumbnails, thumbnail);
        }
    }
  g_task_return_pointer (task, thumbnails, (GDestroyNotify) g_ptr_array_unref);
}

static void
thumbnails_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioDatasetSummary *self = STUDIO_DATASET_SUMMARY (source);
  g_autoptr (GPtrArray) thumbnails = g_task_propagate_pointer (G_TASK (result), NULL);

  if (thumbnails == NULL)
    return;
  for (guint i = 0; i < thumbnails->len; i++)
    {
      Thumbnail *thumbnail = thumbnails->pdata[i];
      GtkWidget *picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (thumbnail->texture));

      gtk_picture_set_alternative_text (GTK_PICTURE (picture), thumbnail->name);
      gtk_widget_set_tooltip_text (picture, thumbnail->name);

      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
      gtk_widget_set_size_request (picture, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
      gtk_flow_box_append (self->thumbnails, picture);
    }
}

static void
show_dataset (StudioDatasetSummary *self, StudioDataset *dataset)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (dataset));
  guint n_captioned = studio_dataset_get_n_captioned (dataset);
  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (dataset);
  g_autofree char *count = NULL;
  g_autofree char *captioned = NULL;
  g_autofree char *folder = g_filename_display_name (studio_dataset_get_folder (dataset));
  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();
  g_auto (GStrv) path_list = NULL;
  g_autoptr (GTask) task = NULL;

  count = g_strdup_printf (ngettext ("%u image", "%u images", n_items), n_items);
  adw_action_row_set_subtitle (self->images_row, count);
  if (studio_dataset_get_caption_store (dataset) == STUDIO_CAPTION_STORE_CSV)
    {
      g_autofree char *csv = g_path_get_basename (studio_dataset_get_metadata_path (dataset));
      /* TRANSLATORS: "20 of 24, in metadata.csv" */
      captioned = g_strdup_printf (_("%u of %u, in %s"), n_captioned, n_items, csv);
    }
  else
    captioned = g_strdup_printf (_("%u of %u, in .txt files beside the images"),
                                 n_captioned, n_items);
  adw_action_row_set_subtitle (self->captioned_row, captioned);
  adw_action_row_set_subtitle (self->folder_row, folder);

  remove_all (GTK_WIDGET (self->problems_list), (void (*) (gpointer, GtkWidget *)) gtk_list_box_remove);
  for (guint i = 0; i < problems->len && i < MAX_PROBLEM_ROWS; i++)
    {
      StudioDatasetProblem *problem = problems->pdata[i];
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

      gtk_widget_add_css_class (icon, "warning");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), problem->message);
      gtk_list_box_append (self->problems_list, row);
    }
  if (problems->len > MAX_PROBLEM_ROWS)
    {
      guint more = problems->len - MAX_PROBLEM_ROWS;
      g_autofree char *text = g_strdup_printf (ngettext ("and %u more warning", "and %u more warnings",
                                                         more), more);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
      gtk_list_box_append (self->problems_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->problems_group), problems->len > 0);

  remove_all (GTK_WIDGET (self->thumbnails), (void (*) (gpointer, GtkWidget *)) gtk_flow_box_remove);
  for (guint i = 0; i < n_items && i < MAX_THUMBNAILS; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (dataset), i);
      g_strv_builder_add (paths, studio_dataset_item_get_path (item));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->thumbnails_group), n_items > 0);
  path_list = g_strv_builder_end (paths);

  task = g_task_new (self, self->cancellable, thumbnails_loaded, NULL);
  g_task_set_task_data (task, g_steal_pointer (&path_list), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, thumbnails_thread);

  gtk_stack_set_visible_child_name (self->stack, "summary");
}

static void
show_error (StudioDatasetSummary *self, const char *message)
{
  adw_status_page_set_description (self->error_page, message);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
dataset_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioDatasetSummary) self = user_data;
  g_autoptr (StudioDataset) dataset = NULL;
  g_autoptr (GError) error = NULL;

  dataset = studio_dataset_load_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (dataset == NULL)
    show_error (self, error->message);
  else
    show_dataset (self, dataset);
  set_loading (self, FALSE);
}

void
studio_dataset_summary_set_config (StudioDatasetSummary *self, const StudioConfig *config)
{
  g_return_if_fail (STUDIO_IS_DATASET_SUMMARY (self));
  g_return_if_fail (config != NULL);

  restart (self);
  if (config->train_data_dir == NULL)
    {
      show_error (self, _("config.yaml names no dataset folder: set train_data_dir to the "
                          "folder of training images."));
      set_loading (self, FALSE);
      return;
    }

  gtk_stack_set_visible_child_name (self->stack, "loading");
  set_loading (self, TRUE);
  studio_dataset_load_async (config->train_data_dir,
                             config->metadata_path ? STUDIO_CAPTION_STORE_CSV
                                                   : STUDIO_CAPTION_STORE_SIDECAR,
                             config->metadata_path,
                             STUDIO_DATASET_LOAD_ALLOW_EMPTY,
                             self->cancellable, dataset_loaded, g_object_ref (self));
}

static void
studio_dataset_summary_get_property (GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec)
{
  StudioDatasetSummary *self = STUDIO_DATASET_SUMMARY (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
studio_dataset_summary_dispose (GObject *object)
{
  StudioDatasetSummary *self = STUDIO_DATASET_SUMMARY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_dataset_summary_parent_class)->dispose (object);
}

static void
studio_dataset_summary_class_init (StudioDatasetSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = studio_dataset_summary_get_property;
  object_class->dispose = studio_dataset_summary_dispose;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-dataset-summary.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioDatasetSummary, name)
  BIND (stack);
  BIND (error_page);
  BIND (images_row);
  BIND (captioned_row);
  BIND (folder_row);
  BIND (problems_group);
  BIND (problems_list);
  BIND (thumbnails_group);
  BIND (thumbnails);
#undef BIND
}

static void
studio_dataset_summary_init (StudioDatasetSummary *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
