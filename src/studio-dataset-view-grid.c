/* studio-dataset-view-grid.c: StudioDatasetView's image grid: cells bound to the
 * thumbnail loader, zoom, the columns that fit, the selection shown in the caption
 * editor, and moving to the previous or next image. */
#include "config.h"

#include "studio-dataset-cell.h"
#include "studio-dataset-view-private.h"

#define LARGEST_ZOOM 256
static const int zoom_sizes[] = { 96, 128, 160, 208, LARGEST_ZOOM };
/* Every grid thumbnail is one the loader caches as a fast JPEG. */
G_STATIC_ASSERT (LARGEST_ZOOM <= STUDIO_THUMBNAIL_LOSSY_MAX_SIZE);
#define DEFAULT_ZOOM 2
/* The most columns the grid shows, on the widest window at the smallest zoom. */
#define MAX_COLUMNS 24

int
studio_dataset_view_get_thumbnail_size (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), 0);
  return zoom_sizes[self->zoom];
}

static void
setup_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  gtk_list_item_set_child (list_item, studio_dataset_cell_new ());
}

static void
bind_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  StudioDatasetView *self = user_data;
  StudioDatasetCell *cell = STUDIO_DATASET_CELL (gtk_list_item_get_child (list_item));

  studio_dataset_cell_bind (cell, gtk_list_item_get_item (list_item), self->loader,
                            zoom_sizes[self->zoom], self->min_side);
}

static void
unbind_cell (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  studio_dataset_cell_unbind (STUDIO_DATASET_CELL (gtk_list_item_get_child (list_item)));
}

static void
install_factory (StudioDatasetView *self)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell), self);
  gtk_grid_view_set_factory (self->grid, factory);
}

/* GTK 4.8's GtkGridView keeps max-columns × 30 rows of cells alive, built, bound and
 * allocated on every frame, whatever fits on screen: with max-columns at 24 that was 720
 * cells for the 30 or so visible, and building them was most of the block when a large
 * dataset was first shown (profiled). A column is never narrower than its thumbnail, so
 * a width over the thumbnail size bounds the columns that fit: as the limit it costs no
 * column. The grid's own width is known once it has been allocated (its horizontal
 * adjustment changes then); before that the view's width less the editor's minimum
 * bounds it, so that the first layout already has its columns. */
void
_studio_dataset_view_fit_max_columns (StudioDatasetView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->grid));
  guint columns;

  if (width <= 0)
    {
      /* The editor beside the grid never shrinks below its minimum. */
      int editor_min = 0;
      if (gtk_widget_get_visible (GTK_WIDGET (self->editor)))
        gtk_widget_measure (GTK_WIDGET (self->editor), GTK_ORIENTATION_HORIZONTAL, -1,
                            &editor_min, NULL, NULL, NULL);
      width = gtk_widget_get_width (GTK_WIDGET (self)) - editor_min;
    }
  columns = width > 0 ? CLAMP (width / zoom_sizes[self->zoom], 1, MAX_COLUMNS) : MAX_COLUMNS;
  if (gtk_grid_view_get_max_columns (self->grid) != columns)
    gtk_grid_view_set_max_columns (self->grid, columns);
}

static gboolean
fit_max_columns_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  StudioDatasetView *self = data;

  self->fit_tick = 0;
  _studio_dataset_view_fit_max_columns (self);
  return G_SOURCE_REMOVE;
}

/* The adjustment changes inside the grid's own allocation, where a new max-columns trips
 * GTK 4.8's grid ("row_height >= 0" assertion): it is applied before the next frame's
 * layout instead. */
static void
on_grid_width_changed (StudioDatasetView *self)
{
  if (self->fit_tick == 0)
    self->fit_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->grid), fit_max_columns_tick,
                                                   self, NULL);
}

static void
set_zoom (StudioDatasetView *self, int zoom)
{
  zoom = CLAMP (zoom, 0, (int) G_N_ELEMENTS (zoom_sizes) - 1);
  if (zoom == self->zoom)
    return;
  self->zoom = zoom;
  /* A new factory rebinds every cell at the new size. */
  install_factory (self);
  _studio_dataset_view_fit_max_columns (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.zoom-in",
                                 zoom < (int) G_N_ELEMENTS (zoom_sizes) - 1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.zoom-out", zoom > 0);
}

/* Selection and the editor */

static StudioDatasetItem *
first_selected (StudioDatasetView *self, guint *position)
{
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));

  if (gtk_bitset_is_empty (selected))
    return NULL;
  *position = gtk_bitset_get_minimum (selected);
  return g_list_model_get_item (G_LIST_MODEL (self->filtered), *position);
}

static void
on_selection_changed (StudioDatasetView *self)
{
  guint position;
  g_autoptr (StudioDatasetItem) item = first_selected (self, &position);

  studio_caption_editor_set_item (self->editor, self->dataset, item, self->loader);
}

static gboolean
find_position (GListModel *model, gpointer item, guint *position)
{
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GObject) other = g_list_model_get_item (model, i);
      if (other == item)
        {
          *position = i;
          return TRUE;
        }
    }
  return FALSE;
}

static void
navigate (StudioDatasetView *self, int delta)
{
  StudioDatasetItem *current = studio_caption_editor_get_item (self->editor);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  guint position = 0;
  int target;

  if (n == 0)
    return;
  if (current == NULL || !find_position (G_LIST_MODEL (self->filtered), current, &position))
    target = 0;
  else
    target = CLAMP ((int) position + delta, 0, (int) n - 1);
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), target, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (self->grid), "list.scroll-to-item", "u", (guint) target);
}

static void
previous_image_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  navigate (STUDIO_DATASET_VIEW (widget), -1);
}

static void
next_image_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  navigate (STUDIO_DATASET_VIEW (widget), 1);
}

static void
zoom_in_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  set_zoom (self, self->zoom + 1);
}

static void
zoom_out_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  set_zoom (self, self->zoom - 1);
}

void
_studio_dataset_view_init_grid (StudioDatasetView *self)
{
  self->zoom = DEFAULT_ZOOM;
  self->selection = gtk_multi_selection_new (G_LIST_MODEL (g_object_ref (self->filtered)));
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));
  install_factory (self);
  /* The grid's width is known once allocated: its horizontal adjustment changes then. */
  _studio_dataset_view_fit_max_columns (self);
  g_signal_connect_object (gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (self->grid)), "changed",
                           G_CALLBACK (on_grid_width_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_swapped (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->filtered, "items-changed", G_CALLBACK (on_selection_changed), self);
}

void
_studio_dataset_view_class_init_grid (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "dataset.previous-image", NULL, previous_image_activated);
  gtk_widget_class_install_action (widget_class, "dataset.next-image", NULL, next_image_activated);
  gtk_widget_class_install_action (widget_class, "dataset.zoom-in", NULL, zoom_in_activated);
  gtk_widget_class_install_action (widget_class, "dataset.zoom-out", NULL, zoom_out_activated);
}
