/* studio-dataset-view-health.c: StudioDatasetView's health summary: the counts on the
 * health buttons, resolution, aspect ratios and caption store line, recounted a moment
 * after the dataset changes, with content hashes (for duplicates) made off the main
 * thread for new files only. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-dataset-view-private.h"

/* Changes come in bursts (an import, a batch): count once they settle. */
#define HEALTH_DELAY_MS 300

const char *
studio_dataset_view_get_images_text (StudioDatasetView *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET_VIEW (self), NULL);
  return gtk_button_get_label (self->images_button);
}

static void
set_count_button (GtkButton *button, guint n, const char *one, const char *many)
{
  g_autofree char *label = g_strdup_printf (ngettext (one, many, n), n);
  gtk_button_set_label (button, label);
  gtk_widget_set_visible (GTK_WIDGET (button), n > 0);
}

void
_studio_dataset_view_show_health (StudioDatasetView *self)
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
    _studio_dataset_view_refilter (self);
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
  _studio_dataset_view_show_health (self);
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
    _studio_dataset_view_show_health (self);

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

void
_studio_dataset_view_schedule_health (StudioDatasetView *self)
{
  self->health_current = FALSE;
  if (self->health_source == 0)
    self->health_source = g_timeout_add (HEALTH_DELAY_MS, health_timeout, self);
}
