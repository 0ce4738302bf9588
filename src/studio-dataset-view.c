/* studio-dataset-view.c: StudioDatasetView (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-auto-caption-dialog.h"
#include "studio-batch-dialog.h"
#include "studio-caption-editor.h"
#include "studio-dataset-cell.h"
#include "studio-dataset-health.h"
#include "studio-dataset-import.h"
#include "studio-dataset-view.h"
#include "studio-project-view.h"
#include "studio-thumbnail-loader.h"
#include "studio-train-view.h"

static const int zoom_sizes[] = { 96, 128, 160, 208, 256 };
#define DEFAULT_ZOOM 2
/* The most columns the grid shows, on the widest window at the smallest zoom. */
#define MAX_COLUMNS 24
/* Events of one file operation arrive in bursts: handle them together. */
#define MONITOR_DELAY_MS 150
#define HEALTH_DELAY_MS 300

struct _StudioDatasetView
{
  AdwBin parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkStack        *stack;
  AdwStatusPage   *error_page;
  GtkButton       *images_button;
  GtkButton       *no_caption_button;
  GtkButton       *warnings_button;
  GtkButton       *small_button;
  GtkButton       *duplicates_button;
  GtkButton       *unreadable_button;
  GtkLabel        *resolution_label;
  GtkLabel        *aspects_label;
  GtkLabel        *store_label;
  GtkDropDown     *filter_dropdown;
  GtkSearchEntry  *search_entry;
  GtkListBox      *tags_list;
  GtkPopover      *tags_popover;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkStack        *grid_stack;
  GtkGridView     *grid;
  StudioCaptionEditor *editor;

  StudioProject         *project;
  StudioDataset         *dataset;
  StudioThumbnailLoader *loader;
  GtkFilterListModel    *filtered;
  GtkCustomFilter       *filter;
  GtkMultiSelection     *selection;
  GCancellable          *cancellable;      /* load and hashing of this dataset */
  GFileMonitor          *monitor;
  GHashTable            *monitor_added;    /* paths to (re)probe */
  GHashTable            *monitor_removed;
  guint                  monitor_source;
  guint                  health_source;
  GHashTable            *hashes;           /* path -> content hash */
  StudioDatasetHealth   *health;

  int                    zoom;
  int                    min_side;         /* training resolution, 0: unknown */
  StudioDatasetFilter    filter_mode;
  char                  *search;           /* casefolded */

  GPtrArray             *undo;             /* StudioBatchChange* of the last batch */
  GSList                *pending_import;   /* GFile*, until the dataset is loaded */
  GCancellable          *import_cancellable;
  GStrv                  last_refused;
  GStrv                  auto_captioned;   /* names the last Auto Caption wrote */
  GStrv                  caption_warnings; /* its skipped images, in the engine's words */
  gboolean               loading;
  gboolean               health_current;   /* self->health counts the items as they are */
  guint                  fit_tick;     /* tick callback on the grid, see fit_max_columns */
};

G_DEFINE_FINAL_TYPE (StudioDatasetView, studio_dataset_view, ADW_TYPE_BIN)

enum { PROP_0, PROP_LOADING, PROP_IMPORTING, N_PROPS };
static GParamSpec *properties[N_PROPS];

/* GCopyFunc for g_slist_copy_deep. */
static gpointer
copy_object (gconstpointer object, gpointer user_data)
{
  return g_object_ref ((gpointer) object);
}

static void schedule_health (StudioDatasetView *self);
static void start_import (StudioDatasetView *self);

static void
toast (StudioDatasetView *self, const char *message)
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

int
studio_dataset_view_get_thumbnail_size (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), 0);
  return zoom_sizes[self->zoom];
}

const char *
studio_dataset_view_get_images_text (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return gtk_button_get_label (self->images_button);
}

GStrv
studio_dataset_view_dup_last_refused (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return g_strdupv (self->last_refused);
}

/* Filtering */

static gboolean
filter_item (gpointer object, gpointer user_data)
{
  StudioDatasetView *self = user_data;
  StudioDatasetItem *item = object;
  int w = studio_dataset_item_get_width (item), h = studio_dataset_item_get_height (item);
  gboolean unreadable = studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE);

  switch (self->filter_mode)
    {
    case STUDIO_DATASET_FILTER_ALL:
      break;
    case STUDIO_DATASET_FILTER_NO_CAPTION:
      if (!studio_dataset_item_has_flag (item, STUDIO_ITEM_NO_CAPTION))
        return FALSE;
      break;
    case STUDIO_DATASET_FILTER_WARNINGS:
      if (!studio_dataset_health_item_has_warning (self->health, item, self->min_side))
        return FALSE;
      break;
    case STUDIO_DATASET_FILTER_DUPLICATES:
      if (self->health == NULL ||
          !g_hash_table_contains (self->health->duplicates, studio_dataset_item_get_path (item)))
        return FALSE;
      break;
    case STUDIO_DATASET_FILTER_UNREADABLE:
      if (!unreadable)
        return FALSE;
      break;
    case STUDIO_DATASET_FILTER_SMALL:
      if (unreadable || self->min_side <= 0 || MIN (w, h) >= self->min_side)
        return FALSE;
      break;
    }
  if (self->search != NULL && *self->search != '\0')
    {
      const char *caption = studio_dataset_item_get_caption (item);
      g_autofree char *folded = caption ? g_utf8_casefold (caption, -1) : NULL;
      if (folded == NULL || strstr (folded, self->search) == NULL)
        return FALSE;
    }
  return TRUE;
}

static void
update_grid_page (StudioDatasetView *self)
{
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  guint all = self->dataset ? g_list_model_get_n_items (G_LIST_MODEL (self->dataset)) : 0;

  gtk_stack_set_visible_child_name (self->grid_stack, shown > 0 ? "grid" : all > 0 ? "no-match" : "empty");
}

static void
refilter (StudioDatasetView *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_grid_page (self);
}

void
studio_dataset_view_set_filter (StudioDatasetView *self, StudioDatasetFilter filter,
                                const char *search)
{
  g_return_if_fail (STUDIO_IS_DATASET_VIEW (self));

  /* The widgets' handlers do the filtering, so that what they show stays true. */
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), search ? search : "");
  gtk_drop_down_set_selected (self->filter_dropdown, filter);
  self->filter_mode = filter;
  g_free (self->search);
  self->search = search && *search ? g_utf8_casefold (search, -1) : NULL;
  refilter (self);
}

static void
on_filter_selected (StudioDatasetView *self)
{
  self->filter_mode = gtk_drop_down_get_selected (self->filter_dropdown);
  refilter (self);
}

static void
on_search_changed (StudioDatasetView *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  g_free (self->search);
  self->search = *text ? g_utf8_casefold (text, -1) : NULL;
  refilter (self);
}

static void
on_health_clicked (GtkButton *button, StudioDatasetView *self)
{
  StudioDatasetFilter filter = STUDIO_DATASET_FILTER_ALL;

  if (button == self->no_caption_button)
    filter = STUDIO_DATASET_FILTER_NO_CAPTION;
  else if (button == self->warnings_button)
    filter = STUDIO_DATASET_FILTER_WARNINGS;
  else if (button == self->small_button)
    filter = STUDIO_DATASET_FILTER_SMALL;
  else if (button == self->duplicates_button)
    filter = STUDIO_DATASET_FILTER_DUPLICATES;
  else if (button == self->unreadable_button)
    filter = STUDIO_DATASET_FILTER_UNREADABLE;
  studio_dataset_view_set_filter (self, filter, NULL);
}

/* Health */

static void
set_count_button (GtkButton *button, guint n, const char *one, const char *many)
{
  g_autofree char *label = g_strdup_printf (ngettext (one, many, n), n);
  gtk_button_set_label (button, label);
  gtk_widget_set_visible (GTK_WIDGET (button), n > 0);
}

static void
show_health (StudioDatasetView *self)
{
  StudioDatasetHealth *h;
  g_autofree char *images = NULL;

  g_clear_pointer (&self->health, studio_dataset_health_free);
  if (self->dataset == NULL)
    return;
  self->health = studio_dataset_health_compute (G_LIST_MODEL (self->dataset), self->min_side,
                                                self->hashes);
  h = self->health;
  self->health_current = TRUE;

  images = g_strdup_printf (ngettext ("%u image", "%u images", h->n_images), h->n_images);
  gtk_button_set_label (self->images_button, images);
  set_count_button (self->no_caption_button, h->n_images - h->n_captioned,
                    N_("%u without caption"), N_("%u without caption"));
  set_count_button (self->warnings_button, h->n_warnings, N_("%u with warnings"), N_("%u with warnings"));
  set_count_button (self->small_button, h->n_small, N_("%u too small"), N_("%u too small"));
  set_count_button (self->duplicates_button, h->n_duplicates, N_("%u duplicate"), N_("%u duplicates"));
  set_count_button (self->unreadable_button, h->n_unreadable, N_("%u unreadable"), N_("%u unreadable"));
  if (h->min_width > 0)
    {
      /* TRANSLATORS: "smallest 512 × 512, median 1024 × 1024" */
      g_autofree char *text = g_strdup_printf (_("smallest %d × %d, median %d × %d"),
                                               h->min_width, h->min_height,
                                               h->median_width, h->median_height);
      gtk_label_set_label (self->resolution_label, text);
    }
  else
    gtk_label_set_label (self->resolution_label, "");
  gtk_label_set_label (self->aspects_label, h->aspects);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->aspects_label), _("Aspect ratios"));

  if (studio_dataset_get_caption_store (self->dataset) == STUDIO_CAPTION_STORE_CSV)
    {
      g_autofree char *csv = g_path_get_basename (studio_dataset_get_metadata_path (self->dataset));
      /* TRANSLATORS: "20 of 24 captioned, in metadata.csv" */
      g_autofree char *text = g_strdup_printf (_("%u of %u captioned, in %s"), h->n_captioned,
                                               h->n_images, csv);
      gtk_label_set_label (self->store_label, text);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("%u of %u captioned, in .txt files"),
                                               h->n_captioned, h->n_images);
      gtk_label_set_label (self->store_label, text);
    }
  /* Groups that depend on the numbers (duplicates, warnings) follow them. */
  if (self->filter_mode == STUDIO_DATASET_FILTER_DUPLICATES ||
      self->filter_mode == STUDIO_DATASET_FILTER_WARNINGS)
    refilter (self);
}

static void
hashes_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioDatasetView) self = user_data;
  g_autoptr (GHashTable) hashes = studio_dataset_hash_finish (result, NULL);
  GHashTableIter iter;
  gpointer key, value;

  if (hashes == NULL || self->dataset == NULL)
    return;
  g_hash_table_iter_init (&iter, hashes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_steal (&iter);
      g_hash_table_replace (self->hashes, key, value);
    }
  show_health (self);
}

static gboolean
health_timeout (gpointer data)
{
  StudioDatasetView *self = data;
  g_autoptr (GStrvBuilder) missing = g_strv_builder_new ();
  g_auto (GStrv) paths = NULL;
  guint n, n_missing = 0;

  self->health_source = 0;
  if (self->dataset == NULL)
    return G_SOURCE_REMOVE;
  /* Opening a dataset computes the health at once and schedules this for the hashes
   * only: on 10,000 images a second count is a 10 to 20 ms block. */
  if (!self->health_current)
    show_health (self);

  /* Only new or changed files are hashed again. */
  n = g_list_model_get_n_items (G_LIST_MODEL (self->dataset));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (self->dataset), i);
      const char *path = studio_dataset_item_get_path (item);
      if (!g_hash_table_contains (self->hashes, path) &&
          !studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
        {
          g_strv_builder_add (missing, path);
          n_missing++;
        }
    }
  if (n_missing > 0)
    {
      paths = g_strv_builder_end (missing);
      studio_dataset_hash_async (paths, self->cancellable, hashes_ready, g_object_ref (self));
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_health (StudioDatasetView *self)
{
  self->health_current = FALSE;
  if (self->health_source == 0)
    self->health_source = g_timeout_add (HEALTH_DELAY_MS, health_timeout, self);
}

/* Grid */

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
static void
fit_max_columns (StudioDatasetView *self)
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
  fit_max_columns (self);
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
  fit_max_columns (self);
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

/* Batch edits */

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
  schedule_health (self);
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
        toast (self, error->message);
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
    toast (STUDIO_DATASET_VIEW (widget), error->message);
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
      toast (self, _("Select the images to move to the trash"));
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
    toast (self, error->message);
  else
    {
      g_autofree char *message = g_strdup_printf (ngettext ("%u image moved to the trash",
                                                            "%u images moved to the trash",
                                                            trashed), trashed);
      toast (self, message);
    }
  if (!studio_dataset_save (self->dataset, &error) && error != NULL)
    toast (self, error->message);
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
      toast (self, csv ? _("Captions are already stored in a CSV file")
                       : _("Captions are already stored in .txt files"));
      return;
    }
  studio_caption_editor_flush (self->editor, NULL);
  if (!studio_dataset_convert (self->dataset, store, NULL, &error))
    {
      toast (self, error->message);
      return;
    }
  /* The config follows, so that training reads the store the captions are in. */
  config = studio_project_get_config (self->project);
  if (csv)
    studio_config_set (config, "metadata_path", studio_dataset_get_metadata_path (self->dataset), &error);
  else
    studio_config_reset (config, "metadata_path");
  if (error != NULL || !studio_project_save_config (self->project, &error))
    toast (self, error->message);
  else
    toast (self, csv ? _("Captions copied to metadata.csv; the .txt files are kept")
                     : _("Captions copied to .txt files; metadata.csv is kept"));
  show_health (self);
}

/* Import */

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
refused_details_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
show_refused (StudioDatasetView *self)
{
  g_autofree char *body = g_strjoinv ("\n", self->last_refused);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                              _("Files Not Imported"), body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  g_signal_connect (dialog, "response", G_CALLBACK (refused_details_response), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
details_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  if (self->last_refused != NULL)
    show_refused (self);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMPORTING]);
  if (imported == NULL)
    {
      toast (self, error->message);
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
    toast (self, error->message);

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
    toast (self, message->str);
  update_grid_page (self);
  schedule_health (self);   /* the new files' hashes */
  show_health (self);
  if (self->pending_import != NULL)
    start_import (self);
}

static void
start_import (StudioDatasetView *self)
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMPORTING]);
  start_import (self);
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

/* Auto Caption */

static void
caption_details_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (self->caption_warnings == NULL)
    return;
  body = g_strjoinv ("\n", self->caption_warnings);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Images Not Captioned"), body);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  g_signal_connect (dialog, "response", G_CALLBACK (refused_details_response), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

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
  refilter (self);
  show_health (self);
  schedule_health (self);

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
      toast (self, message->str);
      return;
    }
  g_string_append (message, _("Check them by hand and add what makes your subject unique."));
  result = adw_toast_new (message->str);
  adw_toast_set_button_label (result, _("_Review"));
  adw_toast_set_action_name (result, "dataset.review-captions");
  adw_toast_set_timeout (result, 15);
  adw_toast_overlay_add_toast (self->toast_overlay, result);
}

/* TRUE while this project's Train view runs training: captioning waits for the run,
 * as the engine's `serve` answers `busy`, rather than share the device with it. */
static gboolean
training_in_progress (StudioDatasetView *self)
{
  GtkWidget *project_view = gtk_widget_get_ancestor (GTK_WIDGET (self), STUDIO_TYPE_PROJECT_VIEW);
  GtkWidget *train = NULL;

  if (project_view != NULL)
    train = adw_view_stack_get_child_by_name (studio_project_view_get_stack (STUDIO_PROJECT_VIEW (project_view)),
                                              "train");
  return train != NULL && STUDIO_IS_TRAIN_VIEW (train) && studio_train_view_is_training (STUDIO_TRAIN_VIEW (train));
}

static void
auto_caption_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  StudioDatasetView *self = STUDIO_DATASET_VIEW (widget);
  g_autoptr (GError) error = NULL;
  StudioAutoCaptionDialog *dialog;

  if (self->dataset == NULL)
    return;
  if (training_in_progress (self))
    {
      toast (self, _("The engine is training: wait until the run ends to caption the images"));
      return;
    }
  /* The engine merges the store as it is on disk: the user's last keystrokes go first. */
  if (!studio_caption_editor_flush (self->editor, &error) ||
      (studio_dataset_is_dirty (self->dataset) && !studio_dataset_save (self->dataset, &error)))
    {
      toast (self, error->message);
      return;
    }
  dialog = studio_auto_caption_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->dataset);
  g_signal_connect_object (dialog, "finished", G_CALLBACK (auto_caption_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Folder monitor */

static gboolean
monitor_timeout (gpointer data)
{
  StudioDatasetView *self = data;
  GHashTableIter iter;
  gpointer key, value;

  self->monitor_source = 0;
  if (self->dataset == NULL)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, self->monitor_removed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autofree char *name = g_path_get_basename (key);
      StudioDatasetItem *item = studio_dataset_lookup (self->dataset, name);
      if (item != NULL && !g_file_test (key, G_FILE_TEST_EXISTS))
        {
          if (item == studio_caption_editor_get_item (self->editor))
            studio_caption_editor_set_item (self->editor, NULL, NULL, NULL);
          studio_dataset_remove_item (self->dataset, item);
        }
      g_hash_table_remove (self->hashes, key);
    }
  g_hash_table_remove_all (self->monitor_removed);

  g_hash_table_iter_init (&iter, self->monitor_added);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *name = g_path_get_basename (key);
      gboolean changed = GPOINTER_TO_INT (value);
      StudioDatasetItem *item = studio_dataset_lookup (self->dataset, name);

      if (!g_file_test (key, G_FILE_TEST_IS_REGULAR) || (item != NULL && !changed))
        continue;
      /* A changed image gets a fresh thumbnail (the disk cache key has its mtime). */
      g_hash_table_remove (self->hashes, key);
      studio_thumbnail_loader_forget (self->loader, key);
      if (item == studio_caption_editor_get_item (self->editor) && item != NULL)
        studio_caption_editor_set_item (self->editor, NULL, NULL, NULL);
      studio_dataset_add_file (self->dataset, key, NULL);
    }
  g_hash_table_remove_all (self->monitor_added);
  update_grid_page (self);
  schedule_health (self);
  return G_SOURCE_REMOVE;
}

static void
on_folder_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                   gpointer user_data)
{
  StudioDatasetView *self = user_data;
  g_autofree char *base = g_file_get_basename (file);
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *other_path = other ? g_file_get_path (other) : NULL;
  g_autofree char *other_base = other ? g_file_get_basename (other) : NULL;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
      if (base[0] != '.' && studio_image_has_image_extension (base))
        g_hash_table_insert (self->monitor_added, g_steal_pointer (&path), GINT_TO_POINTER (FALSE));
      break;
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
      if (base[0] != '.' && studio_image_has_image_extension (base))
        g_hash_table_insert (self->monitor_added, g_steal_pointer (&path), GINT_TO_POINTER (TRUE));
      break;
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      if (studio_image_has_image_extension (base))
        g_hash_table_add (self->monitor_removed, g_steal_pointer (&path));
      break;
    case G_FILE_MONITOR_EVENT_RENAMED:
      if (studio_image_has_image_extension (base))
        g_hash_table_add (self->monitor_removed, g_steal_pointer (&path));
      /* Our own imports and atomic saves arrive this way: hidden name -> real name. */
      if (other_path != NULL && other_base[0] != '.' && studio_image_has_image_extension (other_base))
        g_hash_table_insert (self->monitor_added, g_steal_pointer (&other_path), GINT_TO_POINTER (TRUE));
      break;
    default:
      return;
    }
  if (self->monitor_source == 0)
    self->monitor_source = g_timeout_add (MONITOR_DELAY_MS, monitor_timeout, self);
}

/* Loading */

static void
clear_dataset (StudioDatasetView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->monitor != NULL)
    {
      g_file_monitor_cancel (self->monitor);
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_clear_handle_id (&self->health_source, g_source_remove);
  g_hash_table_remove_all (self->monitor_added);
  g_hash_table_remove_all (self->monitor_removed);
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
  g_autoptr (GFile) folder = g_file_new_for_path (studio_dataset_get_folder (dataset));
  g_autoptr (GError) error = NULL;

  self->dataset = g_object_ref (dataset);
  fit_max_columns (self);   /* before the cells are made for the new items */
  gtk_filter_list_model_set_model (self->filtered, G_LIST_MODEL (dataset));
  g_signal_connect_object (dataset, "items-changed", G_CALLBACK (schedule_health), self,
                           G_CONNECT_SWAPPED);
  self->monitor = g_file_monitor_directory (folder, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_folder_changed), self);
  else
    g_warning ("Not watching %s: %s", studio_dataset_get_folder (dataset), error->message);

  schedule_health (self);   /* hashes, for duplicates */
  show_health (self);
  update_grid_page (self);
  gtk_stack_set_visible_child_name (self->stack, "dataset");
  start_import (self);
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
  gtk_widget_class_bind_template_callback (widget_class, on_health_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_tags_popover_show);
  gtk_widget_class_bind_template_callback (widget_class, on_tag_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_import);

  gtk_widget_class_install_action (widget_class, "dataset.previous-image", NULL, previous_image_activated);
  gtk_widget_class_install_action (widget_class, "dataset.next-image", NULL, next_image_activated);
  gtk_widget_class_install_action (widget_class, "dataset.zoom-in", NULL, zoom_in_activated);
  gtk_widget_class_install_action (widget_class, "dataset.zoom-out", NULL, zoom_out_activated);
  gtk_widget_class_install_action (widget_class, "dataset.add-images", NULL, add_images_activated);
  gtk_widget_class_install_action (widget_class, "dataset.trash", NULL, trash_activated);
  gtk_widget_class_install_action (widget_class, "dataset.undo", NULL, undo_activated);
  gtk_widget_class_install_action (widget_class, "dataset.batch", "s", batch_activated);
  gtk_widget_class_install_action (widget_class, "dataset.caption-store", "s", caption_store_activated);
  gtk_widget_class_install_action (widget_class, "dataset.import-details", NULL, details_activated);
  gtk_widget_class_install_action (widget_class, "dataset.auto-caption", NULL, auto_caption_activated);
  gtk_widget_class_install_action (widget_class, "dataset.auto-caption-details", NULL, caption_details_activated);
  gtk_widget_class_install_action (widget_class, "dataset.review-captions", NULL, review_captions_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "dataset.auto-caption", NULL);
}

static void
studio_dataset_view_init (StudioDatasetView *self)
{
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->monitor_added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->monitor_removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->loader = g_object_ref (studio_thumbnail_loader_get_default ());
  self->zoom = DEFAULT_ZOOM;

  self->filter = gtk_custom_filter_new (filter_item, self, NULL);
  self->filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (self->filter));
  self->selection = gtk_multi_selection_new (G_LIST_MODEL (g_object_ref (self->filtered)));
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));
  install_factory (self);
  /* The grid's width is known once allocated: its horizontal adjustment changes then. */
  fit_max_columns (self);
  g_signal_connect_object (gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (self->grid)), "changed",
                           G_CALLBACK (on_grid_width_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_swapped (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->filtered, "items-changed", G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->filter_dropdown, "notify::selected", G_CALLBACK (on_filter_selected), self);
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.undo", FALSE);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}
