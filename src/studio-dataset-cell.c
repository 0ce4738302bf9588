/* studio-dataset-cell.c: StudioDatasetCell (see the header). No tooltips here: in GTK
 * 4.8 setting one queries the pointer from the display server, a round trip per cell
 * that stalled fast scrolling; the name is on screen and is the picture's alt text. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-dataset-cell.h"

struct _StudioDatasetCell
{
  GtkWidget parent_instance;

  GtkWidget  *box;
  GtkPicture *picture;
  GtkWidget  *no_caption_badge;
  GtkWidget  *small_badge;
  GtkWidget  *unreadable_badge;
  GtkLabel   *name_label;
  GtkLabel   *size_label;

  StudioDatasetItem *item;
  GCancellable      *cancellable;
  gulong             notify_id;
  int                min_side;
  gboolean           has_thumbnail;
};

G_DEFINE_FINAL_TYPE (StudioDatasetCell, studio_dataset_cell, GTK_TYPE_WIDGET)

GtkWidget *
studio_dataset_cell_new (void)
{
  return g_object_new (STUDIO_TYPE_DATASET_CELL, NULL);
}

static void
update_badges (StudioDatasetCell *self)
{
  StudioDatasetItem *item = self->item;
  int w = studio_dataset_item_get_width (item), h = studio_dataset_item_get_height (item);
  gboolean unreadable = studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE);

  gtk_widget_set_visible (self->no_caption_badge,
                          studio_dataset_item_has_flag (item, STUDIO_ITEM_NO_CAPTION));
  gtk_widget_set_visible (self->unreadable_badge, unreadable);
  gtk_widget_set_visible (self->small_badge,
                          !unreadable && self->min_side > 0 && MIN (w, h) < self->min_side);
}

static void
thumbnail_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  StudioDatasetCell *self;

  texture = studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the cell was unbound or rebound: USER_DATA may be gone */
  self = user_data;
  if (texture != NULL)
    gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  self->has_thumbnail = TRUE;
  g_clear_object (&self->cancellable);
}

void
studio_dataset_cell_unbind (StudioDatasetCell *self)
{
  g_return_if_fail (STUDIO_IS_DATASET_CELL (self));

  /* Cancelled, the request leaves the worker queue: scrolling fast past 5,000
   * images decodes only the ones the user stops at. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->item != NULL)
    g_clear_signal_handler (&self->notify_id, self->item);
  g_clear_object (&self->item);
  gtk_picture_set_paintable (self->picture, NULL);
  self->has_thumbnail = FALSE;
}

void
studio_dataset_cell_bind (StudioDatasetCell *self, StudioDatasetItem *item,
                          StudioThumbnailLoader *loader, int size, int min_side)
{
  g_autofree char *pixels = NULL;
  GdkTexture *texture;
  const char *path;

  g_return_if_fail (STUDIO_IS_DATASET_CELL (self));

  studio_dataset_cell_unbind (self);
  if (item == NULL)
    return;

  self->item = g_object_ref (item);
  self->min_side = min_side;
  path = studio_dataset_item_get_path (item);
  gtk_widget_set_size_request (GTK_WIDGET (self->picture), size, size);
  gtk_label_set_label (self->name_label, studio_dataset_item_get_name (item));
  gtk_picture_set_alternative_text (self->picture, studio_dataset_item_get_name (item));
  if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
    pixels = g_strdup (_("unreadable"));
  else
    /* TRANSLATORS: an image's size in pixels, "1024 × 768" */
    pixels = g_strdup_printf (_("%d × %d"), studio_dataset_item_get_width (item),
                              studio_dataset_item_get_height (item));
  gtk_label_set_label (self->size_label, pixels);
  update_badges (self);
  /* Captions change under the cell (editor, batch tools): the badge follows. */
  self->notify_id = g_signal_connect_swapped (item, "notify::flags", G_CALLBACK (update_badges), self);

  if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
    {
      self->has_thumbnail = TRUE;
      return;
    }
  texture = studio_thumbnail_loader_lookup (loader, path, size);
  if (texture != NULL)
    {
      gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
      self->has_thumbnail = TRUE;
      return;
    }
  self->cancellable = g_cancellable_new ();
  studio_thumbnail_loader_load (loader, path, size, self->cancellable, thumbnail_loaded, self);
}

gboolean
studio_dataset_cell_has_thumbnail (StudioDatasetCell *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_CELL (self), FALSE);
  return self->has_thumbnail;
}

static void
studio_dataset_cell_dispose (GObject *object)
{
  StudioDatasetCell *self = STUDIO_DATASET_CELL (object);

  studio_dataset_cell_unbind (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), STUDIO_TYPE_DATASET_CELL);
  G_OBJECT_CLASS (studio_dataset_cell_parent_class)->dispose (object);
}

static void
studio_dataset_cell_class_init (StudioDatasetCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_dataset_cell_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-dataset-cell.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioDatasetCell, name)
  BIND (box);
  BIND (picture);
  BIND (no_caption_badge);
  BIND (small_badge);
  BIND (unreadable_badge);
  BIND (name_label);
  BIND (size_label);
#undef BIND
}

static void
studio_dataset_cell_init (StudioDatasetCell *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
