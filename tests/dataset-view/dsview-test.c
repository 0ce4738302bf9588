/* dsview-test.c: what the Dataset view's GUI tests share (see dsview-test.h). */
#include "config.h"

#include "dsview-test.h"

#include "gui-test-util.h"
#include "studio-project-view.h"

StudioDatasetView *
dataset_view (StudioWindow *window)
{
  GtkWidget *view = gui_test_child (window, "project_view");
  return studio_project_view_get_dataset_view (STUDIO_PROJECT_VIEW (view));
}

gboolean
view_ready (gpointer data)
{
  StudioDatasetView *view = data;
  return !studio_dataset_view_get_loading (view) && studio_dataset_view_get_dataset (view) != NULL;
}

StudioWindow *
open_project_window (StudioApplication *app, const char *dir, int width, int height)
{
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  StudioWindow *window = gui_test_new_window (app, width, height);

  studio_window_open_project (window, folder);
  g_assert_true (gui_test_wait_until ((Condition) studio_window_has_project, window, 15000));
  g_assert_true (gui_test_wait_until (view_ready, dataset_view (window), 15000));
  return window;
}

void
copy_demo_image (const char *name, const char *dest_dir, const char *dest_name)
{
  g_autofree char *src = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset", name, NULL);
  g_autofree char *dest = g_build_filename (dest_dir, dest_name ? dest_name : name, NULL);
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dest, data, len, NULL));
}
