/* studio-project.c: StudioProject and the recent-projects list (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-project.h"

G_DEFINE_QUARK (studio-project-error-quark, studio_project_error)

struct _StudioProject
{
  GObject parent_instance;

  char         *folder;
  char         *name;
  char         *config_path;
  StudioConfig *config;
};

G_DEFINE_TYPE (StudioProject, studio_project, G_TYPE_OBJECT)

void
studio_run_free (StudioRun *run)
{
  if (run == NULL)
    return;
  g_free (run->name);
  g_free (run->path);
  g_clear_pointer (&run->started, g_date_time_unref);
  g_free (run);
}

static void
studio_project_finalize (GObject *object)
{
  StudioProject *self = STUDIO_PROJECT (object);

  g_free (self->folder);
  g_free (self->name);
  g_free (self->config_path);
  g_clear_pointer (&self->config, studio_config_free);
  G_OBJECT_CLASS (studio_project_parent_class)->finalize (object);
}

static void
studio_project_class_init (StudioProjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = studio_project_finalize;
}

static void
studio_project_init (StudioProject *self)
{
}

static StudioProject *
project_new (const char *folder, StudioConfig *config)
{
  StudioProject *self = g_object_new (STUDIO_TYPE_PROJECT, NULL);
  self->folder = g_strdup (folder);
  self->name = g_path_get_basename (folder);
  self->config_path = g_build_filename (folder, STUDIO_PROJECT_CONFIG_NAME, NULL);
  self->config = config;
  return self;
}

static gboolean
make_folder (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int err = errno;
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_IO,
                   _("Cannot create the folder “%s”: %s"), path, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

StudioProject *
studio_project_create (const char *folder, StudioTaskType task, const char *dataset_dir,
                       GError **error)
{
  g_return_val_if_fail (folder != NULL, NULL);

  g_autofree char *abs = g_canonicalize_filename (folder, NULL);
  g_autofree char *config_path = g_build_filename (abs, STUDIO_PROJECT_CONFIG_NAME, NULL);
  g_autofree char *runs = g_build_filename (abs, STUDIO_PROJECT_RUNS_NAME, NULL);
  g_autofree char *data = dataset_dir ? g_canonicalize_filename (dataset_dir, abs)
                                      : g_build_filename (abs, STUDIO_PROJECT_DATASET_NAME, NULL);
  g_autoptr (GError) local_error = NULL;

  if (g_file_test (abs, G_FILE_TEST_EXISTS) && !g_file_test (abs, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_IO,
                   _("“%s” is a file; choose a folder for the project"), abs);
      return NULL;
    }
  if (g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      /* Never overwrite a config someone wrote: they meant to open it. */
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_EXISTS,
                   _("“%s” is already a project (it holds config.yaml); open it instead"), abs);
      return NULL;
    }
  if (!make_folder (abs, error) || !make_folder (data, error) || !make_folder (runs, error))
    return NULL;

  g_autoptr (StudioConfig) config = studio_config_new_default (task);
  if (!studio_config_set (config, "train_data_dir", data, &local_error) ||
      !studio_config_save (config, config_path, &local_error))
    {
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_IO,
                   _("Cannot write the project's config.yaml: %s"), local_error->message);
      return NULL;
    }
  return project_new (abs, g_steal_pointer (&config));
}

StudioProject *
studio_project_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  g_autofree char *folder = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_test (abs, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_NOT_FOUND,
                   _("The project folder “%s” does not exist (moved or deleted?)"), abs);
      return NULL;
    }
  if (g_file_test (abs, G_FILE_TEST_IS_DIR))
    folder = g_steal_pointer (&abs);
  else
    folder = g_path_get_dirname (abs);

  g_autofree char *config_path = g_build_filename (folder, STUDIO_PROJECT_CONFIG_NAME, NULL);
  if (!g_file_test (config_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_NOT_PROJECT,
                   _("“%s” is not a LoRA Studio project: it holds no config.yaml. Create a "
                   "new project to train on a folder of images"), folder);
      return NULL;
    }

  StudioConfig *config = studio_config_load (config_path, &local_error);
  if (config == NULL)
    {
      g_set_error_literal (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_CONFIG,
                           local_error->message);
      return NULL;
    }
  return project_new (folder, config);
}

const char *
studio_project_get_folder (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return self->folder;
}

const char *
studio_project_get_name (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return self->name;
}

const char *
studio_project_get_config_path (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return self->config_path;
}

StudioConfig *
studio_project_get_config (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return self->config;
}

const char *
studio_project_get_dataset_dir (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return self->config->train_data_dir;
}

char *
studio_project_dup_runs_dir (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);
  return g_build_filename (self->folder, STUDIO_PROJECT_RUNS_NAME, NULL);
}

gboolean
studio_project_save_config (StudioProject *self, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), FALSE);
  return studio_config_save (self->config, self->config_path, error);
}

/* "20261129-141500-..." -> local time; NULL when the name does not start so. */
static GDateTime *
parse_run_timestamp (const char *name)
{
  int y, mo, d, h, mi, s;
  if (strlen (name) < 15 ||
      sscanf (name, "%4d%2d%2d-%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) != 6)
    return NULL;
  return g_date_time_new_local (y, mo, d, h, mi, s);
}

static int
compare_runs_newest_first (gconstpointer a, gconstpointer b)
{
  const StudioRun *x = *(StudioRun **) a;
  const StudioRun *y = *(StudioRun **) b;
  int c = g_date_time_compare (y->started, x->started);
  return c != 0 ? c : strcmp (y->name, x->name);
}

GPtrArray *
studio_project_list_runs (StudioProject *self)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);

  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_run_free);
  g_autofree char *dir = studio_project_dup_runs_dir (self);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;

  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      GStatBuf st;

      if (entry[0] == '.' || g_stat (path, &st) != 0 || !S_ISDIR (st.st_mode))
        continue;

      StudioRun *run = g_new0 (StudioRun, 1);
      run->name = g_strdup (entry);
      run->path = g_steal_pointer (&path);
      run->started = parse_run_timestamp (entry);
      if (run->started == NULL)
        run->started = g_date_time_new_from_unix_local (st.st_mtime);

      g_autofree char *image = g_build_filename (run->path, "pytorch_lora_weights.safetensors", NULL);
      g_autofree char *text = g_build_filename (run->path, "adapter_model.safetensors", NULL);
      run->has_result = g_file_test (image, G_FILE_TEST_EXISTS) || g_file_test (text, G_FILE_TEST_EXISTS);
      g_ptr_array_add (runs, run);
    }
  g_ptr_array_sort (runs, compare_runs_newest_first);
  return runs;
}

char *
studio_project_create_run_dir (StudioProject *self, const char *label, GError **error)
{
  g_return_val_if_fail (STUDIO_IS_PROJECT (self), NULL);

  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autoptr (GString) name = g_string_new (stamp);
  g_autofree char *runs = studio_project_dup_runs_dir (self);

  if (label != NULL && *label != '\0')
    {
      /* A folder name that every file manager and shell handles. */
      g_string_append_c (name, '-');
      for (const char *p = label; *p; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);
          if (g_unichar_isalnum (c))
            g_string_append_unichar (name, c);
          else if (name->str[name->len - 1] != '-')
            g_string_append_c (name, '-');
        }
      while (name->str[name->len - 1] == '-')
        g_string_truncate (name, name->len - 1);
    }

  /* Two runs started within a second get distinct folders. */
  g_autofree char *path = g_build_filename (runs, name->str, NULL);
  for (int i = 2; g_file_test (path, G_FILE_TEST_EXISTS); i++)
    {
      g_free (path);
      g_autofree char *numbered = g_strdup_printf ("%s-%d", name->str, i);
      path = g_build_filename (runs, numbered, NULL);
    }
  if (!make_folder (path, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* Recent projects */

char **
studio_recent_projects_get (GSettings *settings)
{
  g_auto (GStrv) stored = g_settings_get_strv (settings, "recent-projects");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = 0;

  for (guint i = 0; stored[i] != NULL && n < STUDIO_RECENT_PROJECTS_MAX; i++)
    {
      if (g_hash_table_contains (seen, stored[i]) || !g_file_test (stored[i], G_FILE_TEST_IS_DIR))
        continue;
      g_hash_table_add (seen, stored[i]);
      g_strv_builder_add (builder, stored[i]);
      n++;
    }
  return g_strv_builder_end (builder);
}

static void
store_recent (GSettings *settings, const char *first, const char *drop)
{
  g_auto (GStrv) stored = g_settings_get_strv (settings, "recent-projects");
  g_autoptr (GPtrArray) list = g_ptr_array_new ();

  if (first != NULL)
    g_ptr_array_add (list, (gpointer) first);
  for (guint i = 0; stored[i] != NULL && list->len < STUDIO_RECENT_PROJECTS_MAX; i++)
    {
      gboolean dup = FALSE;
      for (guint j = 0; j < list->len; j++)
        dup = dup || strcmp (g_ptr_array_index (list, j), stored[i]) == 0;
      if (!dup && g_strcmp0 (stored[i], drop) != 0)
        g_ptr_array_add (list, stored[i]);
    }
  g_ptr_array_add (list, NULL);
  g_settings_set_strv (settings, "recent-projects", (const char *const *) list->pdata);
}

void
studio_recent_projects_add (GSettings *settings, const char *folder)
{
  g_return_if_fail (G_IS_SETTINGS (settings) && folder != NULL);
  g_autofree char *abs = g_canonicalize_filename (folder, NULL);
  store_recent (settings, abs, NULL);
}

void
studio_recent_projects_remove (GSettings *settings, const char *folder)
{
  g_return_if_fail (G_IS_SETTINGS (settings) && folder != NULL);
  g_autofree char *abs = g_canonicalize_filename (folder, NULL);
  store_recent (settings, NULL, abs);
}
