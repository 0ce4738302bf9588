/* studio-dataset-view-filter.c: StudioDatasetView's filter: the group chosen in the
 * filter menu or by a health button, and the caption search, over the dataset's items;
 * and the grid page that says when nothing is left to show. */
#include "config.h"

#include <string.h>

#include "studio-dataset-view-private.h"

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

void
_studio_dataset_view_update_grid_page (StudioDatasetView *self)
{
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  guint all = self->dataset ? g_list_model_get_n_items (G_LIST_MODEL (self->dataset)) : 0;

  gtk_stack_set_visible_child_name (self->grid_stack, shown > 0 ? "grid" : all > 0 ? "no-match" : "empty");
}

void
_studio_dataset_view_refilter (StudioDatasetView *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  _studio_dataset_view_update_grid_page (self);
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
  _studio_dataset_view_refilter (self);
}

static void
on_filter_selected (StudioDatasetView *self)
{
  self->filter_mode = gtk_drop_down_get_selected (self->filter_dropdown);
  _studio_dataset_view_refilter (self);
}

static void
on_search_changed (StudioDatasetView *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  g_free (self->search);
  self->search = *text ? g_utf8_casefold (text, -1) : NULL;
  _studio_dataset_view_refilter (self);
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

void
_studio_dataset_view_init_filter (StudioDatasetView *self)
{
  self->filter = gtk_custom_filter_new (filter_item, self, NULL);
  self->filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (self->filter));
  g_signal_connect_swapped (self->filter_dropdown, "notify::selected", G_CALLBACK (on_filter_selected), self);
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
}

void
_studio_dataset_view_class_init_filter (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_health_clicked);
}
