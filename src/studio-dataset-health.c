/* studio-dataset-health.c: the Dataset view's health numbers (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-dataset-health.h"

void
studio_dataset_health_free (StudioDatasetHealth *health)
{
  if (health == NULL)
    return;
  g_free (health->aspects);
  g_hash_table_unref (health->duplicates);
  g_free (health);
}

typedef struct { int w, h; } Size;

static int
compare_area (gconstpointer a, gconstpointer b)
{
  const Size *x = a, *y = b;
  gint64 ax = (gint64) x->w * x->h, ay = (gint64) y->w * y->h;
  return ax < ay ? -1 : ax > ay ? 1 : 0;
}

/* The usual name of W:H: reduced by the gcd when small ("3:2"), else the nearest
 * common ratio within 2 % ("≈16:9"), else the decimal ("1.43:1"). */
static char *
aspect_name (int w, int h)
{
  static const int common[][2] = { {1, 1}, {4, 3}, {3, 4}, {3, 2}, {2, 3}, {16, 9}, {9, 16},
                                   {5, 4}, {4, 5}, {21, 9}, {2, 1}, {1, 2} };
  int a = w, b = h;
  while (b != 0) { int t = a % b; a = b; b = t; }
  if (w / a <= 21 && h / a <= 21)
    return g_strdup_printf ("%d:%d", w / a, h / a);
  for (guint i = 0; i < G_N_ELEMENTS (common); i++)
    {
      double r = (double) w / h, c = (double) common[i][0] / common[i][1];
      if (ABS (r - c) / c < 0.02)
        return g_strdup_printf ("≈%d:%d", common[i][0], common[i][1]);
    }
  return g_strdup_printf ("%.2f:1", (double) w / h);
}

typedef struct { char *name; guint count; } Aspect;

static int
compare_aspect (gconstpointer a, gconstpointer b)
{
  const Aspect *x = *(Aspect **) a, *y = *(Aspect **) b;
  return x->count != y->count ? (x->count > y->count ? -1 : 1) : strcmp (x->name, y->name);
}

static void
aspect_free (Aspect *aspect)
{
  g_free (aspect->name);
  g_free (aspect);
}

gboolean
studio_dataset_health_item_has_warning (StudioDatasetHealth *health, StudioDatasetItem *item,
                                        int min_side)
{
  StudioItemFlags flags = studio_dataset_item_get_flags (item);
  int w = studio_dataset_item_get_width (item), h = studio_dataset_item_get_height (item);

  if (flags & ~STUDIO_ITEM_NO_CAPTION)
    return TRUE;
  if (min_side > 0 && MIN (w, h) < min_side)
    return TRUE;
  return health != NULL && g_hash_table_contains (health->duplicates, studio_dataset_item_get_path (item));
}

StudioDatasetHealth *
studio_dataset_health_compute (GListModel *items, int min_side, GHashTable *hashes)
{
  StudioDatasetHealth *health = g_new0 (StudioDatasetHealth, 1);
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (Size));
  g_autoptr (GHashTable) aspects = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                          (GDestroyNotify) aspect_free);
  g_autoptr (GHashTable) first_of_hash = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  guint n = g_list_model_get_n_items (items);
  GString *text = g_string_new (NULL);

  health->duplicates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  health->n_images = n;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
      const char *path = studio_dataset_item_get_path (item);
      const char *hash = hashes ? g_hash_table_lookup (hashes, path) : NULL;
      Size size = { studio_dataset_item_get_width (item), studio_dataset_item_get_height (item) };

      if (!studio_dataset_item_has_flag (item, STUDIO_ITEM_NO_CAPTION))
        health->n_captioned++;
      if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
        {
          health->n_unreadable++;
          continue;
        }
      if (size.w <= 0 || size.h <= 0)
        continue;
      if (min_side > 0 && MIN (size.w, size.h) < min_side)
        health->n_small++;
      g_array_append_val (sizes, size);
      {
        char *name = aspect_name (size.w, size.h);
        Aspect *aspect = g_hash_table_lookup (aspects, name);
        if (aspect == NULL)
          {
            aspect = g_new0 (Aspect, 1);
            aspect->name = name;
            g_hash_table_insert (aspects, aspect->name, aspect);
          }
        else
          g_free (name);
        aspect->count++;
      }
      if (hash != NULL)
        {
          const char *first = g_hash_table_lookup (first_of_hash, hash);
          if (first == NULL)
            g_hash_table_insert (first_of_hash, (gpointer) hash, (gpointer) path);
          else
            {
              health->n_duplicates++;
              g_hash_table_add (health->duplicates, g_strdup (first));
              g_hash_table_add (health->duplicates, g_strdup (path));
            }
        }
    }

  if (sizes->len > 0)
    {
      g_array_sort (sizes, compare_area);
      health->min_width = g_array_index (sizes, Size, 0).w;
      health->min_height = g_array_index (sizes, Size, 0).h;
      health->median_width = g_array_index (sizes, Size, sizes->len / 2).w;
      health->median_height = g_array_index (sizes, Size, sizes->len / 2).h;
    }

  {
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, aspects);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_ptr_array_add (sorted, value);
    g_ptr_array_sort (sorted, compare_aspect);
    for (guint i = 0; i < sorted->len && i < 4; i++)
      {
        Aspect *aspect = sorted->pdata[i];
        g_string_append_printf (text, "%s%s × %u", i ? ", " : "", aspect->name, aspect->count);
      }
    if (sorted->len > 4)
      g_string_append (text, ", …");
  }
  health->aspects = g_string_free (text, FALSE);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
      if (studio_dataset_health_item_has_warning (health, item, min_side))
        health->n_warnings++;
    }
  return health;
}

static void
hash_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GStrv paths = data;
  GHashTable *hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      char *hash = studio_image_hash_file (paths[i], NULL);
      if (hash != NULL)
        g_hash_table_insert (hashes, g_strdup (paths[i]), hash);
    }
  if (g_task_return_error_if_cancelled (task))
    g_hash_table_unref (hashes);
  else
    g_task_return_pointer (task, hashes, (GDestroyNotify) g_hash_table_unref);
}

void
studio_dataset_hash_async (GStrv paths, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_task_data (task, g_strdupv (paths), (GDestroyNotify) g_strfreev);
  /* Low priority: thumbnails of what is on screen matter more. */
  g_task_set_priority (task, G_PRIORITY_LOW);
  g_task_run_in_thread (task, hash_thread);
}

GHashTable *
studio_dataset_hash_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
