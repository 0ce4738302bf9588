/* studio-dataset.c: StudioDataset, images and captions of a folder (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-atomic-file.h"
#include "studio-csv.h"
#include "studio-dataset.h"

G_DEFINE_QUARK (studio-dataset-error-quark, studio_dataset_error)

struct _StudioDataset
{
  GObject parent_instance;

  char              *folder;
  StudioCaptionStore store;
  char              *metadata_path;   /* absolute; NULL for sidecars */

  GPtrArray  *items;        /* StudioDatasetItem*, sorted by name */
  GHashTable *by_name;      /* name -> item (borrowed) */
  GHashTable *csv_names;    /* item -> the file name as the CSV spelled it */
  GPtrArray  *orphan_rows;  /* StudioCsvRow* naming no image: kept when saving */
  GPtrArray  *problems;     /* StudioDatasetProblem* found by the load */
  GHashTable *dirty;        /* set of items whose caption changed */
  gboolean    csv_dirty;    /* a caption was removed: the CSV needs rewriting */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE (StudioDataset, studio_dataset, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

void
studio_dataset_problem_free (StudioDatasetProblem *problem)
{
  if (problem == NULL)
    return;
  g_free (problem->file);
  g_free (problem->message);
  g_free (problem);
}

static void
add_problem (GPtrArray *problems, StudioProblemKind kind, const char *file, guint line,
             const char *message)
{
  StudioDatasetProblem *problem = g_new0 (StudioDatasetProblem, 1);
  problem->kind = kind;
  problem->file = g_strdup (file);
  problem->line = line;
  problem->message = g_strdup (message);
  g_ptr_array_add (problems, problem);
}

/* GListModel */

static GType
list_model_get_item_type (GListModel *model)
{
  return STUDIO_TYPE_DATASET_ITEM;
}

static guint
list_model_get_n_items (GListModel *model)
{
  return STUDIO_DATASET (model)->items->len;
}

static gpointer
list_model_get_item (GListModel *model, guint position)
{
  StudioDataset *self = STUDIO_DATASET (model);
  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = list_model_get_item_type;
  iface->get_n_items = list_model_get_n_items;
  iface->get_item = list_model_get_item;
}

static void
studio_dataset_finalize (GObject *object)
{
  StudioDataset *self = STUDIO_DATASET (object);

  g_free (self->folder);
  g_free (self->metadata_path);
  g_hash_table_unref (self->by_name);
  g_hash_table_unref (self->csv_names);
  g_hash_table_unref (self->dirty);
  g_ptr_array_unref (self->items);
  g_ptr_array_unref (self->orphan_rows);
  g_ptr_array_unref (self->problems);
  G_OBJECT_CLASS (studio_dataset_parent_class)->finalize (object);
}

static void
studio_dataset_class_init (StudioDatasetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = studio_dataset_finalize;
}

static void
studio_dataset_init (StudioDataset *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->csv_names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->dirty = g_hash_table_new (NULL, NULL);
  self->orphan_rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);
  self->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_dataset_problem_free);
}

/* Captions never end in line breaks: editors add one to sidecars, and dropping it
 * everywhere lets CSV -> sidecars -> CSV come back identical. */
static char *
normalise_caption (const char *caption)
{
  if (caption == NULL)
    return NULL;
  gsize n = strlen (caption);
  while (n > 0 && (caption[n - 1] == '\n' || caption[n - 1] == '\r'))
    n--;
  return g_strndup (caption, n);
}

static int
compare_items (gconstpointer a, gconstpointer b)
{
  StudioDatasetItem *x = *(StudioDatasetItem **) a;
  StudioDatasetItem *y = *(StudioDatasetItem **) b;
  g_autofree char *kx = g_utf8_collate_key_for_filename (studio_dataset_item_get_name (x), -1);
  g_autofree char *ky = g_utf8_collate_key_for_filename (studio_dataset_item_get_name (y), -1);
  int c = strcmp (kx, ky);
  return c != 0 ? c : strcmp (studio_dataset_item_get_name (x), studio_dataset_item_get_name (y));
}

static gboolean
is_hidden (const char *name)
{
  return name[0] == '.';
}

static gboolean
has_extension (const char *name, const char *ext)
{
  const char *dot = strrchr (name, '.');
  return dot != NULL && g_ascii_strcasecmp (dot + 1, ext) == 0;
}

/* Path without its extension, to pair images with sidecars. */
static char *
strip_extension (const char *path)
{
  const char *base = strrchr (path, '/');
  const char *dot = strrchr (base ? base + 1 : path, '.');
  return dot ? g_strndup (path, dot - path) : g_strdup (path);
}

/* Probes PATH; an item for usable and for broken images, NULL (and a problem) for
 * files that are no image of ours. */
static StudioDatasetItem *
probe_file (const char *path, const char *name, gboolean full, GPtrArray *problems,
            GError **error)
{
  StudioImageInfo info;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (StudioDatasetItem) item = NULL;

  if (studio_image_probe (path, full ? STUDIO_PROBE_FULL_DECODE : STUDIO_PROBE_CHEAP,
                          &info, &local_error))
    {
      item = _studio_dataset_item_new (path, name);
      _studio_dataset_item_set_info (item, &info);
      if (!studio_image_extension_matches (info.format, name))
        {
          g_autofree char *message =
            g_strdup_printf ("“%s” is a %s image despite its name; it is used as it "
                             "is (renaming it avoids surprises in other tools)",
                             name, studio_image_format_name (info.format));
          _studio_dataset_item_add_flags (item, STUDIO_ITEM_EXTENSION_MISMATCH);
          _studio_dataset_item_add_message (item, message);
          add_problem (problems, STUDIO_PROBLEM_EXTENSION_MISMATCH, name, 0, message);
        }
      return g_steal_pointer (&item);
    }

  if (g_error_matches (local_error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_NOT_IMAGE))
    {
      /* Only a file that claims to be an image is worth a word; README, notes and
       * the like are none of our business. */
      if (studio_image_has_image_extension (name))
        add_problem (problems, STUDIO_PROBLEM_NOT_AN_IMAGE, name, 0, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (g_error_matches (local_error, STUDIO_IMAGE_ERROR, STUDIO_IMAGE_ERROR_UNSUPPORTED))
    {
      add_problem (problems, STUDIO_PROBLEM_UNSUPPORTED, name, 0, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  /* Truncated, corrupt or unreadable: keep it visible, flagged, so that the user
   * finds it in the grid; training skips it. */
  item = _studio_dataset_item_new (path, name);
  info.format = studio_image_format_name (info.format) ? info.format : STUDIO_IMAGE_FORMAT_UNKNOWN;
  info.width = info.height = 0;
  _studio_dataset_item_set_info (item, &info);
  _studio_dataset_item_add_flags (item, STUDIO_ITEM_UNREADABLE);
  _studio_dataset_item_add_message (item, local_error->message);
  add_problem (problems, STUDIO_PROBLEM_UNREADABLE, name, 0, local_error->message);
  return g_steal_pointer (&item);
}

typedef struct {
  StudioDataset *self;
  gboolean       recursive;
  gboolean       full;
  GPtrArray     *sidecars;     /* relative names of .txt files */
  guint          not_images;
  GCancellable  *cancellable;
} ScanState;

static gboolean
scan_folder (ScanState *state, const char *dir, const char *prefix, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local_error);
  const char *entry;

  if (d == NULL)
    {
      g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_IO,
                   _("Cannot list the dataset folder: %s"), local_error->message);
      return FALSE;
    }

  while ((entry = g_dir_read_name (d)) != NULL)
    {
      if (g_cancellable_set_error_if_cancelled (state->cancellable, error))
        return FALSE;
      if (is_hidden (entry))
        continue;

      g_autofree char *path = g_build_filename (dir, entry, NULL);
      g_autofree char *name = prefix ? g_strconcat (prefix, "/", entry, NULL) : g_strdup (entry);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (state->recursive && !scan_folder (state, path, name, error))
            return FALSE;
          continue;
        }
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      if (has_extension (entry, "txt"))
        {
          g_ptr_array_add (state->sidecars, g_steal_pointer (&name));
          continue;
        }
      if (state->self->metadata_path && strcmp (path, state->self->metadata_path) == 0)
        continue;

      StudioDatasetItem *item = probe_file (path, name, state->full, state->self->problems, NULL);
      if (item == NULL)
        {
          if (studio_image_has_image_extension (entry))
            state->not_images++;
          continue;
        }
      g_ptr_array_add (state->self->items, item);
    }
  return TRUE;
}

/* Reads a sidecar caption; FALSE (and a problem) when the file is not text we can
 * keep, in which case the item is marked so that save never overwrites it. */
static gboolean
read_sidecar (StudioDataset *self, StudioDatasetItem *item, const char *sidecar_path,
              GPtrArray *problems)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *text;

  if (!g_file_get_contents (sidecar_path, &data, &len, &error))
    {
      g_autofree char *message = g_strdup_printf ("Cannot read the caption of “%s”: %s",
                                                  studio_dataset_item_get_name (item),
                                                  error->message);
      _studio_dataset_item_add_flags (item, STUDIO_ITEM_CAPTION_INVALID);
      _studio_dataset_item_add_message (item, message);
      add_problem (problems, STUDIO_PROBLEM_INVALID_CAPTION, studio_dataset_item_get_name (item),
                   0, message);
      return FALSE;
    }
  if (!g_utf8_validate (data, len, NULL))
    {
      g_autofree char *message =
        g_strdup_printf ("The caption file “%s” is not UTF-8 text; save it as UTF-8 in a "
                         "text editor (it is left untouched until then)", sidecar_path);
      _studio_dataset_item_add_flags (item, STUDIO_ITEM_CAPTION_INVALID);
      _studio_dataset_item_add_message (item, message);
      add_problem (problems, STUDIO_PROBLEM_INVALID_CAPTION, studio_dataset_item_get_name (item),
                   0, message);
      return FALSE;
    }
  text = data;
  if (len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    text += 3;
  g_autofree char *caption = normalise_caption (text);
  _studio_dataset_item_set_caption (item, caption);
  return TRUE;
}

static void
load_sidecars (StudioDataset *self, GPtrArray *sidecar_names)
{
  g_autoptr (GHashTable) image_stems = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < self->items->len; i++)
    {
      StudioDatasetItem *item = g_ptr_array_index (self->items, i);
      g_autofree char *sidecar = studio_dataset_item_dup_sidecar_path (item);

      g_hash_table_add (image_stems, strip_extension (studio_dataset_item_get_name (item)));
      if (g_file_test (sidecar, G_FILE_TEST_EXISTS))
        read_sidecar (self, item, sidecar, self->problems);
    }

  for (guint i = 0; i < sidecar_names->len; i++)
    {
      const char *name = g_ptr_array_index (sidecar_names, i);
      g_autofree char *stem = strip_extension (name);
      if (!g_hash_table_contains (image_stems, stem))
        {
          g_autofree char *message =
            g_strdup_printf ("The caption file “%s” belongs to no image (no image named "
                             "“%s” with a JPEG, PNG, WebP or BMP extension)", name, stem);
          add_problem (self->problems, STUDIO_PROBLEM_ORPHAN_CAPTION, name, 0, message);
        }
    }
}

/* The item a CSV row names: "cat.png", "./cat.png", "sub/cat.png" or an absolute
 * path inside the folder; a bare file name also matches an image in a subfolder when
 * exactly one has that name. */
static StudioDatasetItem *
match_row (StudioDataset *self, GHashTable *by_basename, const char *filename)
{
  g_autofree char *key = NULL;
  StudioDatasetItem *item;

  if (g_path_is_absolute (filename))
    {
      gsize n = strlen (self->folder);
      if (strncmp (filename, self->folder, n) != 0 || filename[n] != '/')
        return NULL;
      key = g_strdup (filename + n + 1);
    }
  else
    {
      const char *p = filename;
      while (g_str_has_prefix (p, "./"))
        p += 2;
      key = g_strdup (p);
    }
  g_strdelimit (key, "\\", '/');

  item = g_hash_table_lookup (self->by_name, key);
  if (item == NULL && strchr (key, '/') == NULL)
    {
      item = g_hash_table_lookup (by_basename, key);
      if (item == GINT_TO_POINTER (1))   /* several images share that name */
        item = NULL;
    }
  return item;
}

static gboolean
load_csv (StudioDataset *self, GError **error)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GHashTable) by_basename = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) row_of_item = g_hash_table_new (NULL, NULL);

  if (!g_file_test (self->metadata_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *message =
        g_strdup_printf ("The caption file “%s” does not exist yet; it is created when "
                         "you save captions", self->metadata_path);
      add_problem (self->problems, STUDIO_PROBLEM_NO_CAPTION_FILE, self->metadata_path, 0, message);
      return TRUE;
    }
  rows = studio_csv_load (self->metadata_path, error);
  if (rows == NULL)
    return FALSE;

  for (guint i = 0; i < self->items->len; i++)
    {
      StudioDatasetItem *item = g_ptr_array_index (self->items, i);
      const char *name = studio_dataset_item_get_name (item);
      const char *base = strrchr (name, '/');
      base = base ? base + 1 : name;
      g_hash_table_insert (by_basename, (gpointer) base,
                           g_hash_table_contains (by_basename, base) ? GINT_TO_POINTER (1) : item);
    }

  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *row = g_ptr_array_index (rows, i);
      StudioDatasetItem *item = match_row (self, by_basename, row->filename);

      if (item == NULL)
        {
          g_autofree char *message =
            g_strdup_printf ("“%s” line %u names “%s”, which is not an image in the "
                             "dataset folder; the row is kept", self->metadata_path,
                             row->line, row->filename);
          add_problem (self->problems, STUDIO_PROBLEM_ORPHAN_CAPTION, row->filename,
                       row->line, message);
          g_ptr_array_add (self->orphan_rows, g_ptr_array_steal_index (rows, i));
          i--;
          continue;
        }
      if (g_hash_table_contains (row_of_item, item))
        {
          g_autofree char *message =
            g_strdup_printf ("“%s” line %u captions “%s” again (first on line %u); the "
                             "first caption is used and saving drops the repeat",
                             self->metadata_path, row->line, row->filename,
                             GPOINTER_TO_UINT (g_hash_table_lookup (row_of_item, item)));
          add_problem (self->problems, STUDIO_PROBLEM_DUPLICATE_ROW,
                       studio_dataset_item_get_name (item), row->line, message);
          continue;
        }
      g_hash_table_insert (row_of_item, item, GUINT_TO_POINTER (row->line));
      g_hash_table_insert (self->csv_names, item, g_strdup (row->filename));
      g_autofree char *caption = normalise_caption (row->prompt);
      _studio_dataset_item_set_caption (item, caption);
    }
  return TRUE;
}

static char *
resolve_metadata_path (const char *folder, StudioCaptionStore store, const char *metadata_path)
{
  if (store != STUDIO_CAPTION_STORE_CSV)
    return NULL;
  if (metadata_path == NULL)
    return g_build_filename (folder, "metadata.csv", NULL);
  if (g_path_is_absolute (metadata_path))
    return g_canonicalize_filename (metadata_path, NULL);
  return g_canonicalize_filename (metadata_path, folder);
}

static void
index_items (StudioDataset *self)
{
  g_hash_table_remove_all (self->by_name);
  for (guint i = 0; i < self->items->len; i++)
    {
      StudioDatasetItem *item = g_ptr_array_index (self->items, i);
      g_hash_table_insert (self->by_name, (gpointer) studio_dataset_item_get_name (item), item);
    }
}

StudioDataset *
studio_dataset_load (const char *folder, StudioCaptionStore store, const char *metadata_path,
                     StudioDatasetLoadFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (StudioDataset) self = NULL;
  g_autoptr (GPtrArray) sidecars = g_ptr_array_new_with_free_func (g_free);
  ScanState state = { 0 };

  g_return_val_if_fail (folder != NULL, NULL);

  if (!g_file_test (folder, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_NOT_FOUND,
                   _("The dataset folder “%s” does not exist; create it or set "
                   "train_data_dir to the folder that holds your images"), folder);
      return NULL;
    }
  if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_NOT_FOLDER,
                   _("“%s” is a file, not a folder; the dataset is the folder that holds "
                   "the images"), folder);
      return NULL;
    }

  self = g_object_new (STUDIO_TYPE_DATASET, NULL);
  self->folder = g_canonicalize_filename (folder, NULL);
  self->store = store;
  self->metadata_path = resolve_metadata_path (self->folder, store, metadata_path);

  state.self = self;
  state.recursive = (flags & STUDIO_DATASET_LOAD_RECURSIVE) != 0;
  state.full = (flags & STUDIO_DATASET_LOAD_FULL_DECODE) != 0;
  state.sidecars = sidecars;
  state.cancellable = cancellable;
  if (!scan_folder (&state, self->folder, NULL, error))
    return NULL;

  if (self->items->len == 0 && !(flags & STUDIO_DATASET_LOAD_ALLOW_EMPTY))
    {
      if (state.not_images > 0)
        g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_EMPTY,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "The dataset folder “%s” holds no usable images: %u file "
                                  "named like an image is not JPEG, PNG, WebP or BMP",
                                  "The dataset folder “%s” holds no usable images: %u files "
                                  "named like images are not JPEG, PNG, WebP or BMP",
                                  state.not_images),
                     self->folder, state.not_images);
      else
        g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_EMPTY,
                     _("The dataset folder “%s” holds no images; add JPEG, PNG, WebP or "
                     "BMP files to it"), self->folder);
      return NULL;
    }

  g_ptr_array_sort (self->items, compare_items);
  index_items (self);

  if (store == STUDIO_CAPTION_STORE_CSV)
    {
      if (!load_csv (self, error))
        return NULL;
    }
  else
    load_sidecars (self, sidecars);

  return g_steal_pointer (&self);
}

typedef struct {
  char                  *folder;
  StudioCaptionStore     store;
  char                  *metadata_path;
  StudioDatasetLoadFlags flags;
} LoadArgs;

static void
load_args_free (LoadArgs *args)
{
  g_free (args->folder);
  g_free (args->metadata_path);
  g_free (args);
}

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LoadArgs *args = data;
  GError *error = NULL;
  StudioDataset *self = studio_dataset_load (args->folder, args->store, args->metadata_path,
                                             args->flags, cancellable, &error);
  if (self == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, self, g_object_unref);
}

void
studio_dataset_load_async (const char *folder, StudioCaptionStore store,
                           const char *metadata_path, StudioDatasetLoadFlags flags,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  LoadArgs *args = g_new0 (LoadArgs, 1);

  args->folder = g_strdup (folder);
  args->store = store;
  args->metadata_path = g_strdup (metadata_path);
  args->flags = flags;
  g_task_set_source_tag (task, studio_dataset_load_async);
  g_task_set_task_data (task, args, (GDestroyNotify) load_args_free);
  g_task_run_in_thread (task, load_thread);
}

StudioDataset *
studio_dataset_load_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
studio_dataset_get_folder (StudioDataset *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), NULL);
  return self->folder;
}

StudioCaptionStore
studio_dataset_get_caption_store (StudioDataset *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), STUDIO_CAPTION_STORE_SIDECAR);
  return self->store;
}

const char *
studio_dataset_get_metadata_path (StudioDataset *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), NULL);
  return self->metadata_path;
}

guint
studio_dataset_get_n_captioned (StudioDataset *self)
{
  guint n = 0;
  g_return_val_if_fail (STUDIO_IS_DATASET (self), 0);
  for (guint i = 0; i < self->items->len; i++)
    if (!studio_dataset_item_has_flag (g_ptr_array_index (self->items, i), STUDIO_ITEM_NO_CAPTION))
      n++;
  return n;
}

StudioDatasetItem *
studio_dataset_lookup (StudioDataset *self, const char *name)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), NULL);
  return g_hash_table_lookup (self->by_name, name);
}

void
studio_dataset_set_caption (StudioDataset *self, StudioDatasetItem *item, const char *caption)
{
  g_return_if_fail (STUDIO_IS_DATASET (self));
  g_return_if_fail (STUDIO_IS_DATASET_ITEM (item));

  g_autofree char *normalised = normalise_caption (caption);
  if (g_strcmp0 (normalised, studio_dataset_item_get_caption (item)) == 0)
    return;
  _studio_dataset_item_set_caption (item, normalised);
  if (normalised != NULL)
    g_hash_table_add (self->dirty, item);
  else
    self->csv_dirty = TRUE;
}

gboolean
studio_dataset_is_dirty (StudioDataset *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), FALSE);
  return self->csv_dirty || g_hash_table_size (self->dirty) > 0;
}

static gboolean
write_csv (StudioDataset *self, const char *path, gboolean keep_orphans, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);

  for (guint i = 0; i < self->items->len; i++)
    {
      StudioDatasetItem *item = g_ptr_array_index (self->items, i);
      const char *caption = studio_dataset_item_get_caption (item);
      const char *csv_name = g_hash_table_lookup (self->csv_names, item);

      if (caption == NULL)
        continue;
      g_ptr_array_add (rows, studio_csv_row_new (csv_name ? csv_name : studio_dataset_item_get_name (item),
                                                 caption, 0));
    }
  if (keep_orphans)
    for (guint i = 0; i < self->orphan_rows->len; i++)
      {
        StudioCsvRow *row = g_ptr_array_index (self->orphan_rows, i);
        g_ptr_array_add (rows, studio_csv_row_new (row->filename, row->prompt, row->line));
      }
  return studio_csv_save (path, rows, error);
}

static gboolean
write_sidecar (StudioDatasetItem *item, GError **error)
{
  g_autofree char *path = studio_dataset_item_dup_sidecar_path (item);
  const char *caption = studio_dataset_item_get_caption (item);
  g_autoptr (GError) local_error = NULL;

  if (!studio_atomic_write (path, caption, strlen (caption), &local_error))
    {
      g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_IO,
                   _("Cannot save the caption of “%s”: %s"), studio_dataset_item_get_name (item),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
studio_dataset_save (StudioDataset *self, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), FALSE);

  if (!studio_dataset_is_dirty (self))
    return TRUE;

  if (self->store == STUDIO_CAPTION_STORE_CSV)
    {
      if (!write_csv (self, self->metadata_path, TRUE, error))
        return FALSE;
      g_hash_table_remove_all (self->dirty);
      self->csv_dirty = FALSE;
      return TRUE;
    }

  /* Sidecars: write each changed one; on a failure go on with the others (a full
   * disk may still take the small ones) and report the first. */
  GError *first = NULL;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, self->dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (write_sidecar (key, first ? NULL : &first))
        g_hash_table_iter_remove (&iter);
    }
  self->csv_dirty = FALSE;
  if (first != NULL)
    {
      g_propagate_error (error, first);
      return FALSE;
    }
  return TRUE;
}

gboolean
studio_dataset_convert (StudioDataset *self, StudioCaptionStore store, const char *metadata_path,
                        GError **error)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), FALSE);

  g_autofree char *target = resolve_metadata_path (self->folder, store, metadata_path);

  if (store == STUDIO_CAPTION_STORE_CSV)
    {
      /* Rows the old CSV could not match stay with their own file: only a CSV to CSV
       * move carries them along. */
      if (!write_csv (self, target, self->store == STUDIO_CAPTION_STORE_CSV, error))
        return FALSE;
    }
  else
    {
      for (guint i = 0; i < self->items->len; i++)
        {
          StudioDatasetItem *item = g_ptr_array_index (self->items, i);
          if (studio_dataset_item_get_caption (item) == NULL ||
              studio_dataset_item_has_flag (item, STUDIO_ITEM_CAPTION_INVALID))
            continue;
          if (!write_sidecar (item, error))
            return FALSE;
        }
    }

  self->store = store;
  g_free (self->metadata_path);
  self->metadata_path = g_steal_pointer (&target);
  if (store != STUDIO_CAPTION_STORE_CSV)
    g_ptr_array_set_size (self->orphan_rows, 0);
  g_hash_table_remove_all (self->dirty);
  self->csv_dirty = FALSE;
  return TRUE;
}

StudioDatasetItem *
studio_dataset_add_file (StudioDataset *self, const char *path, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), NULL);

  g_autofree char *abs = g_canonicalize_filename (path, self->folder);
  gsize n = strlen (self->folder);
  if (strncmp (abs, self->folder, n) != 0 || abs[n] != '/')
    {
      g_set_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_IO,
                   _("“%s” is not inside the dataset folder “%s”; copy it there first"),
                   abs, self->folder);
      return NULL;
    }
  const char *name = abs + n + 1;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_dataset_problem_free);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (StudioDatasetItem) item = probe_file (abs, name, FALSE, problems, &local_error);
  if (item == NULL)
    {
      g_set_error_literal (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_IO,
                           local_error ? local_error->message : _("Not an image"));
      return NULL;
    }

  StudioDatasetItem *old = g_hash_table_lookup (self->by_name, name);
  if (old != NULL)
    {
      /* A changed file keeps its caption. */
      if (studio_dataset_item_get_caption (old) != NULL)
        _studio_dataset_item_set_caption (item, studio_dataset_item_get_caption (old));
      char *csv_name = g_strdup (g_hash_table_lookup (self->csv_names, old));
      if (csv_name)
        g_hash_table_insert (self->csv_names, item, csv_name);
      studio_dataset_remove_item (self, old);
    }
  else if (self->store == STUDIO_CAPTION_STORE_SIDECAR)
    {
      g_autofree char *sidecar = studio_dataset_item_dup_sidecar_path (item);
      if (g_file_test (sidecar, G_FILE_TEST_EXISTS))
        read_sidecar (self, item, sidecar, self->problems);
    }
  else
    {
      /* A row that named a missing image finds its image now. */
      for (guint i = 0; i < self->orphan_rows->len; i++)
        {
          StudioCsvRow *row = g_ptr_array_index (self->orphan_rows, i);
          const char *p = row->filename;
          while (g_str_has_prefix (p, "./"))
            p += 2;
          if (strcmp (p, name) == 0)
            {
              g_autofree char *caption = normalise_caption (row->prompt);
              _studio_dataset_item_set_caption (item, caption);
              g_hash_table_insert (self->csv_names, item, g_strdup (row->filename));
              g_ptr_array_remove_index (self->orphan_rows, i);
              break;
            }
        }
    }
  g_ptr_array_extend_and_steal (self->problems, g_steal_pointer (&problems));

  guint pos = 0;
  while (pos < self->items->len && compare_items (&g_ptr_array_index (self->items, pos), &item) < 0)
    pos++;
  g_ptr_array_insert (self->items, pos, g_object_ref (item));
  g_hash_table_insert (self->by_name, (gpointer) studio_dataset_item_get_name (item), item);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
  return item;
}

void
studio_dataset_remove_item (StudioDataset *self, StudioDatasetItem *item)
{
  guint pos;

  g_return_if_fail (STUDIO_IS_DATASET (self));
  if (!g_ptr_array_find (self->items, item, &pos))
    return;
  if (g_hash_table_lookup (self->by_name, studio_dataset_item_get_name (item)) == item)
    g_hash_table_remove (self->by_name, studio_dataset_item_get_name (item));
  g_hash_table_remove (self->dirty, item);
  if (g_hash_table_remove (self->csv_names, item))
    self->csv_dirty = TRUE;
  g_ptr_array_remove_index (self->items, pos);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
}

GPtrArray *
studio_dataset_get_problems (StudioDataset *self)
{
  g_return_val_if_fail (STUDIO_IS_DATASET (self), NULL);

  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_dataset_problem_free);
  for (guint i = 0; i < self->items->len; i++)
    {
      StudioDatasetItem *item = g_ptr_array_index (self->items, i);
      if (studio_dataset_item_has_flag (item, STUDIO_ITEM_NO_CAPTION) &&
          !studio_dataset_item_has_flag (item, STUDIO_ITEM_CAPTION_INVALID))
        {
          g_autofree char *message =
            g_strdup_printf ("“%s” has no caption", studio_dataset_item_get_name (item));
          add_problem (out, STUDIO_PROBLEM_NO_CAPTION, studio_dataset_item_get_name (item), 0,
                       message);
        }
    }
  for (guint i = 0; i < self->problems->len; i++)
    {
      StudioDatasetProblem *p = g_ptr_array_index (self->problems, i);
      /* Findings about images that have left the model are stale. */
      if (p->kind != STUDIO_PROBLEM_ORPHAN_CAPTION && p->kind != STUDIO_PROBLEM_NO_CAPTION_FILE &&
          p->kind != STUDIO_PROBLEM_NOT_AN_IMAGE && p->kind != STUDIO_PROBLEM_UNSUPPORTED &&
          !g_hash_table_contains (self->by_name, p->file))
        continue;
      add_problem (out, p->kind, p->file, p->line, p->message);
    }
  return out;
}
