/* studio-dataset-view-monitor.c: StudioDatasetView's folder monitor: images added,
 * changed, renamed or removed in the dataset folder by another program (or by our own
 * imports and saves) show in the grid, in batches. */
#include "config.h"

#include "studio-dataset-view-private.h"

/* Events of one file operation arrive in bursts: handle them together. */
#define MONITOR_DELAY_MS 150

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
  _studio_dataset_view_update_grid_page (self);
  _studio_dataset_view_schedule_health (self);
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

void
_studio_dataset_view_watch_folder (StudioDatasetView *self)
{
  g_autoptr (GFile) folder = g_file_new_for_path (studio_dataset_get_folder (self->dataset));
  g_autoptr (GError) error = NULL;

  self->monitor = g_file_monitor_directory (folder, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_folder_changed), self);
  else
    g_warning ("Not watching %s: %s", studio_dataset_get_folder (self->dataset), error->message);
}

void
_studio_dataset_view_unwatch_folder (StudioDatasetView *self)
{
  if (self->monitor != NULL)
    {
      g_file_monitor_cancel (self->monitor);
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_hash_table_remove_all (self->monitor_added);
  g_hash_table_remove_all (self->monitor_removed);
}
