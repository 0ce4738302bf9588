/* studio-dataset-import.c: the import of dropped or chosen files (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-dataset-image.h"
#include "studio-dataset-import.h"

/* GCopyFunc for g_slist_copy_deep. */
static gpointer
copy_object (gconstpointer object, gpointer user_data)
{
  return g_object_ref ((gpointer) object);
}

void
studio_import_result_free (StudioImportResult *result)
{
  if (result == NULL)
    return;
  g_ptr_array_unref (result->imported);
  g_ptr_array_unref (result->refused);
  g_free (result);
}

static void
imported_file_free (StudioImportedFile *file)
{
  g_free (file->path);
  g_free (file->caption);
  g_free (file);
}

static gboolean
is_txt (const char *name)
{
  const char *dot = strrchr (name, '.');
  return dot != NULL && g_ascii_strcasecmp (dot, ".txt") == 0;
}

/* "dir/cat.png" -> "dir/cat" */
static char *
strip_extension (const char *path)
{
  const char *base = strrchr (path, '/');
  const char *dot = strrchr (base ? base + 1 : path, '.');
  return dot ? g_strndup (path, dot - path) : g_strdup (path);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/* Every regular file under FILES, folders walked recursively, hidden ones skipped
 * (a file manager's .thumbnails and the like are no training data). */
static void
collect (GFile *file, GPtrArray *paths, GCancellable *cancellable)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *base = g_file_get_basename (file);

  if (path == NULL || g_cancellable_is_cancelled (cancellable) || base == NULL || base[0] == '.')
    return;
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      /* Sorted, so that the renamed copies come out in a predictable order. */
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        {
          g_autoptr (GFile) child = g_file_get_child (file, names->pdata[i]);
          collect (child, paths, cancellable);
        }
      return;
    }
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_ptr_array_add (paths, g_steal_pointer (&path));
}

/* Hashes of the images already in FOLDER (top level, where imports go). */
static void
hash_folder (const char *folder, GHashTable *hashes, GCancellable *cancellable)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL && !g_cancellable_is_cancelled (cancellable))
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);
      if (name[0] == '.' || !studio_image_has_image_extension (name) ||
          !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      char *hash = studio_image_hash_file (path, NULL);
      if (hash != NULL)
        g_hash_table_add (hashes, hash);
    }
}

/* A free name in FOLDER for BASENAME: itself, else "stem-2.ext", "stem-3.ext", ...
 * TAKEN holds names given out in this import whose sidecars count too. */
static char *
free_name (const char *folder, const char *basename, GHashTable *taken)
{
  g_autofree char *stem = strip_extension (basename);
  const char *ext = basename + strlen (stem);

  for (guint n = 1;; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup (basename) : g_strdup_printf ("%s-%u%s", stem, n, ext);
      g_autofree char *name_stem = strip_extension (name);
      g_autofree char *path = g_build_filename (folder, name, NULL);
      g_autofree char *txt_name = g_strconcat (name_stem, ".txt", NULL);
      g_autofree char *txt = g_build_filename (folder, txt_name, NULL);

      /* A stem whose .txt exists belongs to some other image's caption. */
      if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (txt, G_FILE_TEST_EXISTS) &&
          !g_hash_table_contains (taken, name_stem))
        {
          g_hash_table_add (taken, g_steal_pointer (&name_stem));
          return g_steal_pointer (&name);
        }
    }
}

static gboolean
copy_file (const char *from, const char *to, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) src = g_file_new_for_path (from);
  g_autoptr (GFile) dest = g_file_new_for_path (to);
  g_autofree char *dir = g_path_get_dirname (to);
  g_autofree char *base = g_path_get_basename (to);
  g_autofree char *tmp_name = g_strdup_printf (".%s.import-tmp", base);
  g_autofree char *tmp_path = g_build_filename (dir, tmp_name, NULL);
  g_autoptr (GFile) tmp = g_file_new_for_path (tmp_path);

  /* Copied under a hidden name and renamed: the folder monitor and a crash never
   * see half an image under the real name. */
  if (!g_file_copy (src, tmp, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, error))
    {
      g_file_delete (tmp, NULL, NULL);
      return FALSE;
    }
  if (!g_file_move (tmp, dest, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
    {
      g_file_delete (tmp, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

static char *
read_caption (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL) || !g_utf8_validate (data, len, NULL))
    return NULL;
  const char *text = g_str_has_prefix (data, "\xEF\xBB\xBF") ? data + 3 : data;
  gsize n = strlen (text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
    n--;
  return g_strndup (text, n);
}

StudioImportResult *
studio_dataset_import (const char *folder, GSList *files, GCancellable *cancellable,
                       StudioImportProgress progress, gpointer progress_data, GError **error)
{
  g_autoptr (StudioImportResult) result = g_new0 (StudioImportResult, 1);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) sidecars = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  result->imported = g_ptr_array_new_with_free_func ((GDestroyNotify) imported_file_free);
  result->refused = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The dataset folder “%s” does not exist; check train_data_dir in "
                     "config.yaml"), folder);
      return NULL;
    }

  for (GSList *l = files; l != NULL; l = l->next)
    collect (l->data, paths, cancellable);
  /* Captions go with the image whose stem they share, in the same source folder. */
  for (guint i = 0; i < paths->len; i++)
    if (is_txt (paths->pdata[i]))
      {
        char *stem = strip_extension (paths->pdata[i]);
        g_hash_table_insert (sidecars, stem, paths->pdata[i]);
      }
  hash_folder (folder, hashes, cancellable);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autofree char *base = g_path_get_basename (path);
      g_autoptr (GError) local_error = NULL;
      StudioImageInfo info;

      if (progress)
        progress (i, paths->len, progress_data);
      if (g_cancellable_is_cancelled (cancellable))
        {
          result->cancelled = TRUE;
          break;
        }
      if (is_txt (path))
        {
          g_autofree char *stem = strip_extension (path);
          /* A text file that captions none of the dropped images is no image. */
          gboolean has_image = FALSE;
          for (guint j = 0; j < paths->len && !has_image; j++)
            if (j != i && !is_txt (paths->pdata[j]))
              {
                g_autofree char *other = strip_extension (paths->pdata[j]);
                has_image = strcmp (other, stem) == 0;
              }
          if (!has_image)
            g_ptr_array_add (result->refused,
                             g_strdup_printf (_("%s: a text file that captions none of the "
                                                "dropped images"), base));
          continue;
        }

      if (!studio_image_probe (path, STUDIO_PROBE_CHEAP, &info, &local_error) &&
          (g_error_matches (local_error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_NOT_IMAGE) ||
           g_error_matches (local_error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNSUPPORTED) ||
           g_error_matches (local_error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_IO)))
        {
          /* Broken JPEGs are still images: they are copied and flagged in the grid. */
          g_ptr_array_add (result->refused, g_strdup_printf ("%s: %s", base, local_error->message));
          continue;
        }

      g_autofree char *hash = studio_image_hash_file (path, NULL);
      if (hash != NULL && g_hash_table_contains (hashes, hash))
        {
          result->duplicates++;
          continue;
        }

      g_autofree char *name = free_name (folder, base, taken);
      g_autofree char *dest = g_build_filename (folder, name, NULL);
      g_autoptr (GError) copy_error = NULL;
      if (!copy_file (path, dest, cancellable, &copy_error))
        {
          if (g_error_matches (copy_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              result->cancelled = TRUE;
              break;
            }
          g_ptr_array_add (result->refused, g_strdup_printf ("%s: %s", base, copy_error->message));
          continue;
        }
      if (strcmp (name, base) != 0)
        result->renamed++;
      if (hash != NULL)
        g_hash_table_add (hashes, g_steal_pointer (&hash));

      StudioImportedFile *file = g_new0 (StudioImportedFile, 1);
      g_autofree char *stem = strip_extension (path);
      const char *sidecar = g_hash_table_lookup (sidecars, stem);
      file->path = g_steal_pointer (&dest);
      if (sidecar != NULL)
        file->caption = read_caption (sidecar);
      g_ptr_array_add (result->imported, file);
    }
  if (progress && !result->cancelled)
    progress (paths->len, paths->len, progress_data);
  return g_steal_pointer (&result);
}

typedef struct {
  char                *folder;
  GSList              *files;
  StudioImportProgress progress;
  gpointer             progress_data;
  GMainContext        *context;
  gint                 pending;     /* progress reports queued: at most one at a time */
} ImportArgs;

static void
import_args_free (ImportArgs *args)
{
  g_free (args->folder);
  g_slist_free_full (args->files, g_object_unref);
  g_main_context_unref (args->context);
  g_free (args);
}

typedef struct {
  GTask *task;
  guint  done, total;
} ProgressReport;

static gboolean
deliver_progress (gpointer data)
{
  ProgressReport *report = data;
  ImportArgs *args = g_task_get_task_data (report->task);

  g_atomic_int_set (&args->pending, 0);
  args->progress (report->done, report->total, args->progress_data);
  return G_SOURCE_REMOVE;
}

static void
report_free (ProgressReport *report)
{
  g_object_unref (report->task);
  g_free (report);
}

static void
thread_progress (guint done, guint total, gpointer data)
{
  GTask *task = data;
  ImportArgs *args = g_task_get_task_data (task);

  /* Drop reports while one is still queued, so a fast import cannot flood the
   * main loop; the last one always goes through. */
  if (done != total && !g_atomic_int_compare_and_exchange (&args->pending, 0, 1))
    return;
  ProgressReport *report = g_new0 (ProgressReport, 1);
  report->task = g_object_ref (task);
  report->done = done;
  report->total = total;
  g_main_context_invoke_full (args->context, G_PRIORITY_DEFAULT, deliver_progress, report,
                              (GDestroyNotify) report_free);
}

static void
import_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ImportArgs *args = data;
  GError *error = NULL;
  StudioImportResult *result = studio_dataset_import (args->folder, args->files, cancellable,
                                                      args->progress ? thread_progress : NULL,
                                                      task, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) studio_import_result_free);
}

void
studio_dataset_import_async (const char *folder, GSList *files, GCancellable *cancellable,
                             StudioImportProgress progress, gpointer progress_data,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ImportArgs *args = g_new0 (ImportArgs, 1);

  args->folder = g_strdup (folder);
  args->files = g_slist_copy_deep (files, copy_object, NULL);
  args->progress = progress;
  args->progress_data = progress_data;
  args->context = g_main_context_ref_thread_default ();
  g_task_set_source_tag (task, studio_dataset_import_async);
  /* A cancelled import still returns what it copied, so the grid shows it. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, args, (GDestroyNotify) import_args_free);
  g_task_run_in_thread (task, import_thread);
}

StudioImportResult *
studio_dataset_import_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
