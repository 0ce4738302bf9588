/* test-project.c: creating and opening projects, their runs, and the recent list in
 * GSettings (memory backend, schema compiled in the build folder). */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "studio-project.h"
#include "test-files.h"

/* A new image-LoRA project in the folder TMP/NAME, which goes to *FOLDER. */
static StudioProject *
create_image_project (const char *tmp, const char *name, char **folder)
{
  g_autoptr (GError) error = NULL;
  *folder = g_build_filename (tmp, name, NULL);
  StudioProject *p = studio_project_create (*folder, STUDIO_TASK_IMAGE_LORA, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static void
test_create_and_open (void)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *folder = NULL;
  g_autoptr (GError) error = NULL;

  g_autoptr (StudioProject) created = create_image_project (tmp, "My Project", &folder);
  g_assert_cmpstr (studio_project_get_folder (created), ==, folder);
  g_assert_cmpstr (studio_project_get_name (created), ==, "My Project");

  g_autofree char *config = g_build_filename (folder, "config.yaml", NULL);
  g_autofree char *dataset = g_build_filename (folder, "dataset", NULL);
  g_autofree char *runs = g_build_filename (folder, "runs", NULL);
  g_assert_true (g_file_test (config, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (dataset, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (runs, G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (studio_project_get_config_path (created), ==, config);
  g_assert_cmpstr (studio_project_get_dataset_dir (created), ==, dataset);

  /* Opening finds the same dataset, from the folder or from its config.yaml. */
  g_autoptr (StudioProject) opened = studio_project_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (studio_project_get_dataset_dir (opened), ==, dataset);
  g_assert_cmpint (studio_project_get_config (opened)->task_type, ==, STUDIO_TASK_IMAGE_LORA);
  g_autoptr (StudioProject) by_file = studio_project_open (config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (studio_project_get_folder (by_file), ==, folder);

  /* The dataset follows the project when the folder moves: the path is relative. */
  g_autofree char *moved = g_build_filename (tmp, "moved", NULL);
  g_assert_cmpint (g_rename (folder, moved), ==, 0);
  g_autoptr (StudioProject) after_move = studio_project_open (moved, &error);
  g_assert_no_error (error);
  g_autofree char *moved_dataset = g_build_filename (moved, "dataset", NULL);
  g_assert_cmpstr (studio_project_get_dataset_dir (after_move), ==, moved_dataset);

  /* Creating over an existing project refuses and leaves it alone. */
  g_autofree char *before = NULL, *after = NULL;
  g_autofree char *moved_config = g_build_filename (moved, "config.yaml", NULL);
  g_assert_true (g_file_get_contents (moved_config, &before, NULL, NULL));
  g_autoptr (StudioProject) again = studio_project_create (moved, STUDIO_TASK_TEXT_GENERATION, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (moved_config, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);
  rm_rf (tmp);
}

static void
test_create_with_existing_images_folder (void)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *images = g_build_filename (tmp, "my pictures", NULL);
  g_autofree char *folder = g_build_filename (tmp, "project", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_mkdir (images, 0755), ==, 0);

  g_autoptr (StudioProject) p = studio_project_create (folder, STUDIO_TASK_TEXT_GENERATION, images, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (studio_project_get_dataset_dir (p), ==, images);
  g_autoptr (StudioProject) opened = studio_project_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (studio_project_get_dataset_dir (opened), ==, images);
  g_assert_cmpint (studio_project_get_config (opened)->task_type, ==, STUDIO_TASK_TEXT_GENERATION);
  rm_rf (tmp);
}

static void
test_open_errors (void)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autoptr (GError) error = NULL;

  g_autoptr (StudioProject) plain = studio_project_open (tmp, &error);
  g_assert_null (plain);
  g_assert_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_NOT_PROJECT);
  g_assert_nonnull (strstr (error->message, "config.yaml"));
  g_assert_nonnull (strstr (error->message, tmp));
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (tmp, "gone", NULL);
  g_autoptr (StudioProject) none = studio_project_open (missing, &error);
  g_assert_null (none);
  g_assert_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autofree char *config = g_build_filename (tmp, "config.yaml", NULL);
  g_assert_true (g_file_set_contents (config, "lora_rnak: 8\n", -1, NULL));
  g_autoptr (StudioProject) broken = studio_project_open (tmp, &error);
  g_assert_null (broken);
  g_assert_error (error, STUDIO_PROJECT_ERROR, STUDIO_PROJECT_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "lora_rnak"));
  rm_rf (tmp);
}

static void
test_runs (void)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *folder = NULL;
  g_autoptr (StudioProject) p = create_image_project (tmp, "p", &folder);
  g_autoptr (GError) error = NULL;

  g_autoptr (GPtrArray) none = studio_project_list_runs (p);
  g_assert_cmpuint (none->len, ==, 0);

  g_autofree char *runs = studio_project_dup_runs_dir (p);
  g_autofree char *old = g_build_filename (runs, "20240101-090000-old", NULL);
  g_autofree char *mid = g_build_filename (runs, "20250601-120000-mid", NULL);
  g_autofree char *odd = g_build_filename (runs, "hand-made", NULL);
  g_assert_cmpint (g_mkdir (old, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (mid, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (odd, 0755), ==, 0);
  /* A folder without a timestamp counts by its modification time. */
  struct utimbuf times = { .actime = 1577836800, .modtime = 1577836800 };   /* 2020-01-01 */
  g_assert_cmpint (utime (odd, &times), ==, 0);
  g_autofree char *weights = g_build_filename (mid, "pytorch_lora_weights.safetensors", NULL);
  g_assert_true (g_file_set_contents (weights, "x", 1, NULL));

  g_autofree char *fresh = studio_project_create_run_dir (p, "First try: rank 8!", &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (fresh, G_FILE_TEST_IS_DIR));
  g_autofree char *fresh_name = g_path_get_basename (fresh);
  g_assert_true (g_str_has_suffix (fresh_name, "-First-try-rank-8"));
  g_assert_cmpuint (strlen (fresh_name), ==, strlen ("20261129-141500-First-try-rank-8"));

  /* Same second, same label: a distinct folder. */
  g_autofree char *twin = studio_project_create_run_dir (p, "First try: rank 8!", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (twin, !=, fresh);

  g_autoptr (GPtrArray) list = studio_project_list_runs (p);
  g_assert_cmpuint (list->len, ==, 5);
  StudioRun *r2 = g_ptr_array_index (list, 2), *r3 = g_ptr_array_index (list, 3),
            *r4 = g_ptr_array_index (list, 4);
  g_assert_cmpstr (r2->name, ==, "20250601-120000-mid");
  g_assert_true (r2->has_result);
  g_assert_cmpstr (r2->path, ==, mid);
  g_assert_cmpstr (r3->name, ==, "20240101-090000-old");
  g_assert_false (r3->has_result);
  g_assert_cmpint (g_date_time_get_year (r3->started), ==, 2024);
  g_assert_cmpstr (r4->name, ==, "hand-made");
  rm_rf (tmp);
}

static GSettings *
new_settings (void)
{
  GSettings *settings = g_settings_new (APP_ID);
  g_settings_reset (settings, "recent-projects");
  return settings;
}

static void
test_recent_projects (void)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autoptr (GSettings) settings = new_settings ();
  char *dirs[12];

  for (int i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("p%02d", i);
      dirs[i] = g_build_filename (tmp, name, NULL);
      g_assert_cmpint (g_mkdir (dirs[i], 0755), ==, 0);
    }

  g_auto (GStrv) empty = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (empty), ==, 0);

  studio_recent_projects_add (settings, dirs[0]);
  studio_recent_projects_add (settings, dirs[1]);
  studio_recent_projects_add (settings, dirs[2]);
  g_auto (GStrv) three = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (three), ==, 3);
  g_assert_cmpstr (three[0], ==, dirs[2]);
  g_assert_cmpstr (three[2], ==, dirs[0]);

  /* Opening an old one moves it to the front, once; a trailing slash is the same folder. */
  g_autofree char *slashed = g_strconcat (dirs[0], "/", NULL);
  studio_recent_projects_add (settings, slashed);
  g_auto (GStrv) moved = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (moved), ==, 3);
  g_assert_cmpstr (moved[0], ==, dirs[0]);
  g_assert_cmpstr (moved[1], ==, dirs[2]);
  g_assert_cmpstr (moved[2], ==, dirs[1]);

  /* Capped at ten, the oldest dropped. */
  for (int i = 3; i < 12; i++)
    studio_recent_projects_add (settings, dirs[i]);
  g_auto (GStrv) stored = g_settings_get_strv (settings, "recent-projects");
  g_assert_cmpuint (g_strv_length (stored), ==, 10);
  g_auto (GStrv) capped = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (capped), ==, 10);
  g_assert_cmpstr (capped[0], ==, dirs[11]);
  g_assert_false (g_strv_contains ((const char *const *) capped, dirs[1]));

  /* A folder that has gone is left out on reading. */
  g_rmdir (dirs[11]);
  g_auto (GStrv) pruned = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (pruned), ==, 9);
  g_assert_cmpstr (pruned[0], ==, dirs[10]);

  studio_recent_projects_remove (settings, dirs[10]);
  g_auto (GStrv) removed = studio_recent_projects_get (settings);
  g_assert_cmpuint (g_strv_length (removed), ==, 8);
  g_assert_false (g_strv_contains ((const char *const *) removed, dirs[10]));

  for (int i = 0; i < 12; i++)
    g_free (dirs[i]);
  rm_rf (tmp);
}

static void
test_schema_keys (void)
{
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  static const char *const keys[] = { "recent-projects", "window-width", "window-height",
                                      "window-maximized", "thumbnail-size", NULL };
  for (guint i = 0; keys[i]; i++)
    g_assert_true (g_settings_schema_has_key (schema, keys[i]));
  g_assert_cmpint (g_settings_get_int (settings, "thumbnail-size"), >=, 64);

  /* Every key has a summary (translatable through the schema's gettext-domain). The
   * compiled schema does not carry summaries, so read the source. */
  g_autofree char *xml_path = g_test_build_filename (G_TEST_DIST, "..", "data",
                                                     APP_ID ".gschema.xml", NULL);
  g_autofree char *xml = NULL;
  g_assert_true (g_file_get_contents (xml_path, &xml, NULL, NULL));
  g_assert_nonnull (strstr (xml, "gettext-domain=\"lora-studio\""));
  g_auto (GStrv) key_chunks = g_strsplit (xml, "<key ", -1);
  g_auto (GStrv) summary_chunks = g_strsplit (xml, "<summary>", -1);
  g_assert_cmpuint (g_strv_length (key_chunks), ==, g_strv_length (summary_chunks));
  g_auto (GStrv) names = g_settings_schema_list_keys (schema);
  g_assert_cmpuint (g_strv_length (names), ==, g_strv_length (key_chunks) - 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/project/create-and-open", test_create_and_open);
  g_test_add_func ("/project/create-with-images-folder", test_create_with_existing_images_folder);
  g_test_add_func ("/project/open-errors", test_open_errors);
  g_test_add_func ("/project/runs", test_runs);
  g_test_add_func ("/project/recent", test_recent_projects);
  g_test_add_func ("/project/schema-keys", test_schema_keys);

  return g_test_run ();
}
