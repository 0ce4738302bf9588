/* test-dataset-view.c: the Dataset view under Xvfb, in a real window: the grid and
 * its thumbnails, a synthesised file-manager drop (images imported, a non-image
 * refused and reported), caption editing that writes the sidecar, navigation and
 * zoom through the window's actions, batch replace that changes exactly what its
 * preview showed and one Undo, filters, the folder monitor, trash, and the welcome
 * page making a project of dropped image files. Screenshots of the grid and the
 * editor go to $STUDIO_ARTIFACTS_DIR. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-application.h"
#include "studio-batch-dialog.h"
#include "studio-dataset-cell.h"
#include "studio-dataset-view.h"
#include "studio-project-view.h"
#include "studio-window.h"

#include "dsview-test.h"
#include "gui-test-util.h"

static StudioApplication *app;
static char *home;

static char *
read_text (const char *path)
{
  char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return data;
}

static gboolean
not_importing (gpointer data)
{
  return !studio_dataset_view_get_importing (data);
}

static guint wanted_count;

static gboolean
dataset_has_wanted_count (gpointer data)
{
  StudioDataset *dataset = studio_dataset_view_get_dataset (data);
  return dataset != NULL && g_list_model_get_n_items (G_LIST_MODEL (dataset)) == wanted_count;
}

/* Every cell on screen shows its thumbnail. */
static gboolean
thumbnails_shown (gpointer data)
{
  GtkWidget *grid = data;
  guint cells = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (grid); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *cell = gtk_widget_get_first_child (c);
      if (!STUDIO_IS_DATASET_CELL (cell))
        continue;
      cells++;
      if (studio_dataset_cell_get_paintable (STUDIO_DATASET_CELL (cell)) == NULL)
        return FALSE;
    }
  return cells > 0;
}

typedef struct {
  const char *path;
  const char *text;
} FileWait;

static gboolean
file_has_text (gpointer data)
{
  FileWait *wait = data;
  g_autofree char *text = read_text (wait->path);
  return g_strcmp0 (text, wait->text) == 0;
}

static char *project_dir;
static char *dataset_dir;

static StudioWindow *
open_test_project (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioProject) project = NULL;
  const char *names[] = { "shape-01-red-circle.png", "shape-02-purple-square.png",
                          "shape-03-blue-triangle.png" };
  const char *captions[] = { "a red circle on yellow", "a purple square on grey", NULL };

  project_dir = g_build_filename (home, "shapes-project", NULL);
  project = studio_project_create (project_dir, STUDIO_TASK_IMAGE_LORA, NULL, &error);
  g_assert_no_error (error);
  dataset_dir = g_strdup (studio_project_get_dataset_dir (project));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      copy_demo_image (names[i], dataset_dir, NULL);
      if (captions[i] != NULL)
        {
          g_autofree char *stem = g_strndup (names[i], strlen (names[i]) - 4);
          g_autofree char *txt_name = g_strconcat (stem, ".txt", NULL);
          g_autofree char *txt = g_build_filename (dataset_dir, txt_name, NULL);
          g_assert_true (g_file_set_contents (txt, captions[i], -1, NULL));
        }
    }

  return open_project_window (app, project_dir, 1100, 760);
}

static void
test_grid_and_editor (void)
{
  StudioWindow *window = open_test_project ();
  StudioDatasetView *view = dataset_view (window);
  StudioDataset *dataset = studio_dataset_view_get_dataset (view);
  GtkWidget *grid = gui_test_child (view, "grid");
  StudioCaptionEditor *editor = studio_dataset_view_get_editor (view);
  GtkTextBuffer *buffer;
  g_autofree char *sidecar = g_build_filename (dataset_dir, "shape-03-blue-triangle.txt", NULL);
  int size;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (dataset)), ==, 3);
  g_assert_cmpstr (studio_dataset_view_get_images_text (view), ==, "3 images");
  g_assert_true (gtk_widget_get_visible (gui_test_child (view, "no_caption_button")));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gui_test_child (view, "no_caption_button"))), ==,
                   "1 without caption");
  g_assert_true (gui_test_wait_until (thumbnails_shown, grid, 15000));

  /* The health header's "without caption" shows exactly that group. */
  g_signal_emit_by_name (gui_test_child (view, "no_caption_button"), "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (studio_dataset_view_get_visible (view)), ==, 1);
  g_signal_emit_by_name (gui_test_child (view, "images_button"), "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (studio_dataset_view_get_visible (view)), ==, 3);
  /* Search in captions. */
  studio_dataset_view_set_filter (view, STUDIO_DATASET_FILTER_ALL, "PURPLE");
  g_assert_cmpuint (g_list_model_get_n_items (studio_dataset_view_get_visible (view)), ==, 1);
  studio_dataset_view_set_filter (view, STUDIO_DATASET_FILTER_ALL, NULL);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "dataset-grid.png");

  /* Select the third image and type its caption: it lands in its sidecar by itself. */
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 2, TRUE);
  g_assert_nonnull (studio_caption_editor_get_item (editor));
  g_assert_cmpstr (studio_dataset_item_get_name (studio_caption_editor_get_item (editor)), ==,
                   "shape-03-blue-triangle.png");
  buffer = gtk_text_view_get_buffer (studio_caption_editor_get_text_view (editor));
  gtk_widget_grab_focus (GTK_WIDGET (studio_caption_editor_get_text_view (editor)));
  gtk_text_buffer_set_text (buffer, "a blue triangle, stripes", -1);
  g_assert_false (g_file_test (sidecar, G_FILE_TEST_EXISTS));   /* debounced, not yet */
  {
    FileWait wait = { sidecar, "a blue triangle, stripes" };
    g_assert_true (gui_test_wait_until (file_has_text, &wait, 5000));
  }
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "24 characters"));
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "/ 75 tokens"));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "dataset-editor.png");

  /* Alt+Left/Right are the window's previous/next-image; the text keeps the focus. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  g_assert_cmpstr (studio_dataset_item_get_name (studio_caption_editor_get_item (editor)), ==,
                   "shape-02-purple-square.png");
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (studio_caption_editor_get_text_view (editor))));
  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  g_assert_cmpstr (studio_dataset_item_get_name (studio_caption_editor_get_item (editor)), ==,
                   "shape-03-blue-triangle.png");
  {
    g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.next-image");
    g_assert_true (g_strv_contains ((const char *const *) accels, "<Alt>Right"));
  }
  gtk_text_buffer_set_text (buffer, "edited then left", -1);
  g_action_group_activate_action (G_ACTION_GROUP (window), "previous-image", NULL);
  /* Leaving an image saves its pending edit at once. */
  {
    g_autofree char *text = read_text (sidecar);
    g_assert_cmpstr (text, ==, "edited then left");
  }

  /* Zoom: Ctrl+plus makes thumbnails larger. */
  size = studio_dataset_view_get_thumbnail_size (view);
  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-in", NULL);
  g_assert_cmpint (studio_dataset_view_get_thumbnail_size (view), >, size);
  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-out", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-out", NULL);
  g_assert_cmpint (studio_dataset_view_get_thumbnail_size (view), <, size);
  g_assert_true (gui_test_wait_until (thumbnails_shown, grid, 15000));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_drop_import (void)
{
  StudioWindow *window = open_test_project ();
  StudioDatasetView *view = dataset_view (window);
  g_autofree char *src = g_build_filename (home, "to-drop", NULL);
  g_autofree char *pdf = g_build_filename (src, "paper.pdf", NULL);
  g_autofree char *caption_txt = g_build_filename (src, "star.txt", NULL);
  GSList *files = NULL;
  g_auto (GStrv) refused = NULL;
  const char *drop[] = { "star.png", "ring.png", "paper.pdf", "star.txt" };

  g_assert_cmpint (g_mkdir_with_parents (src, 0755), ==, 0);
  copy_demo_image ("shape-04-green-star.png", src, "star.png");
  copy_demo_image ("shape-05-yellow-ring.png", src, "ring.png");
  g_assert_true (g_file_set_contents (pdf, "%PDF-1.4 not an image", -1, NULL));
  g_assert_true (g_file_set_contents (caption_txt, "a green star", -1, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (drop); i++)
    {
      g_autofree char *path = g_build_filename (src, drop[i], NULL);
      files = g_slist_append (files, g_file_new_for_path (path));
    }
  g_assert_true (gui_test_drop_files (GTK_WIDGET (view), files));
  g_slist_free_full (files, g_object_unref);

  wanted_count = 5;
  g_assert_true (gui_test_wait_until (not_importing, view, 15000));
  g_assert_true (gui_test_wait_until (dataset_has_wanted_count, view, 5000));
  g_assert_nonnull (studio_dataset_lookup (studio_dataset_view_get_dataset (view), "star.png"));
  /* The caption dropped with the image came along. */
  g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (studio_dataset_view_get_dataset (view),
                                                                           "star.png")), ==, "a green star");
  refused = studio_dataset_view_dup_last_refused (view);
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_strv_length (refused), ==, 1);
  g_assert_nonnull (strstr (refused[0], "paper.pdf"));
  {
    g_autofree char *copied_pdf = g_build_filename (dataset_dir, "paper.pdf", NULL);
    g_assert_false (g_file_test (copied_pdf, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpstr (studio_dataset_view_get_images_text (view), ==, "5 images");

  /* The same drop again: all duplicates, nothing new. */
  files = g_slist_append (NULL, g_file_new_for_path (src));
  g_assert_true (gui_test_drop_files (GTK_WIDGET (view), files));
  g_slist_free_full (files, g_object_unref);
  g_assert_true (gui_test_wait_until (not_importing, view, 15000));
  gui_test_settle (400);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (studio_dataset_view_get_dataset (view))), ==, 5);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "dataset-after-drop.png");

  /* The details of the refusal are one click away, in a dialog. */
  gtk_widget_activate_action (GTK_WIDGET (view), "dataset.import-details", NULL);
  gui_test_settle (200);
  {
    GListModel *toplevels = gtk_window_get_toplevels ();
    gboolean found = FALSE;
    for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
      {
        g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);
        if (ADW_IS_MESSAGE_DIALOG (item))
          {
            g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (item)), "paper.pdf"));
            gtk_window_destroy (GTK_WINDOW (item));
            found = TRUE;
            break;
          }
      }
    g_assert_true (found);
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_batch_replace_and_undo (void)
{
  StudioWindow *window = open_test_project ();
  StudioDatasetView *view = dataset_view (window);
  g_autoptr (GListModel) scope = studio_dataset_view_dup_batch_scope (view);
  StudioBatchDialog *dialog;
  GPtrArray *changes;
  g_autofree char *circle = g_build_filename (dataset_dir, "shape-01-red-circle.txt", NULL);
  g_autofree char *square = g_build_filename (dataset_dir, "shape-02-purple-square.txt", NULL);
  g_autofree char *triangle = g_build_filename (dataset_dir, "shape-03-blue-triangle.txt", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (scope), ==, 3);
  dialog = studio_batch_dialog_new (GTK_WINDOW (window), STUDIO_BATCH_REPLACE, scope, "all");
  gtk_window_present (GTK_WINDOW (dialog));
  studio_batch_dialog_set_fields (dialog, "a (\\w+) circle", "one \\1 disc", TRUE);
  changes = studio_batch_dialog_get_changes (dialog);
  g_assert_nonnull (changes);
  /* The preview lists the one caption that changes. */
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpstr (((StudioBatchChange *) changes->pdata[0])->after, ==, "one red disc on yellow");
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (dialog), "dataset-batch-preview.png");

  g_assert_true (studio_dataset_view_apply_batch (view, changes, &error));
  g_assert_no_error (error);
  gtk_window_destroy (GTK_WINDOW (dialog));
  {
    g_autofree char *c = read_text (circle), *s = read_text (square), *t = read_text (triangle);
    g_assert_cmpstr (c, ==, "one red disc on yellow");
    g_assert_cmpstr (s, ==, "a purple square on grey");
    g_assert_null (t);   /* never captioned, untouched */
  }

  /* One Undo reverts the whole batch (through the action the toast and button use). */
  gtk_widget_activate_action (GTK_WIDGET (view), "dataset.undo", NULL);
  {
    g_autofree char *c = read_text (circle);
    g_assert_cmpstr (c, ==, "a red circle on yellow");
  }

  /* A trigger word over the two selected images only. */
  gtk_selection_model_select_range (studio_dataset_view_get_selection (view), 1, 2, TRUE);
  {
    g_autoptr (GListModel) selected = studio_dataset_view_dup_batch_scope (view);
    StudioBatchOp op = { STUDIO_BATCH_ADD_PREFIX, "sks", NULL };
    g_autoptr (GPtrArray) prefix = studio_batch_preview (&op, selected, &error);

    g_assert_cmpuint (g_list_model_get_n_items (selected), ==, 2);
    g_assert_cmpuint (prefix->len, ==, 2);
    g_assert_true (studio_dataset_view_apply_batch (view, prefix, &error));
    g_autofree char *c = read_text (circle), *s = read_text (square), *t = read_text (triangle);
    g_assert_cmpstr (c, ==, "a red circle on yellow");
    g_assert_cmpstr (s, ==, "sks, a purple square on grey");
    g_assert_cmpstr (t, ==, "sks");
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_folder_monitor_and_trash (void)
{
  StudioWindow *window = open_test_project ();
  StudioDatasetView *view = dataset_view (window);
  g_autofree char *added = g_build_filename (dataset_dir, "shape-06-orange-diamond.png", NULL);
  g_autofree char *circle = g_build_filename (dataset_dir, "shape-01-red-circle.png", NULL);
  g_autofree char *trashed = g_build_filename (g_get_user_data_dir (), "Trash", "files",
                                               "shape-01-red-circle.png", NULL);

  /* A file manager copies an image in: it shows up. */
  copy_demo_image ("shape-06-orange-diamond.png", dataset_dir, NULL);
  wanted_count = 4;
  g_assert_true (gui_test_wait_until (dataset_has_wanted_count, view, 10000));
  /* ... and deletes it: it goes. */
  g_assert_cmpint (g_unlink (added), ==, 0);
  wanted_count = 3;
  g_assert_true (gui_test_wait_until (dataset_has_wanted_count, view, 10000));

  /* Moving to the trash never deletes. */
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 0, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (view), "dataset.trash", NULL);
  wanted_count = 2;
  g_assert_true (gui_test_wait_until (dataset_has_wanted_count, view, 5000));
  g_assert_false (g_file_test (circle, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (trashed, G_FILE_TEST_IS_REGULAR));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* Image files (not a folder) dropped on the welcome page become a new project whose
 * dataset holds copies of them. */
static void
test_welcome_drop_images (void)
{
  StudioWindow *window = gui_test_new_window (app, 1100, 760);
  g_autofree char *src = g_build_filename (home, "loose-images", NULL);
  g_autofree char *a = g_build_filename (src, "one.png", NULL);
  g_autofree char *b = g_build_filename (src, "two.png", NULL);
  GSList *files = NULL;
  StudioDatasetView *view;

  g_assert_cmpint (g_mkdir_with_parents (src, 0755), ==, 0);
  copy_demo_image ("shape-07-red-circle.png", src, "one.png");
  copy_demo_image ("shape-08-purple-square.png", src, "two.png");
  files = g_slist_append (files, g_file_new_for_path (a));
  files = g_slist_append (files, g_file_new_for_path (b));
  g_assert_true (gui_test_drop_files (gui_test_child (window, "welcome_page"), files));
  g_slist_free_full (files, g_object_unref);

  g_assert_true (gui_test_wait_until (gui_test_has_project_window, app, 15000));
  view = dataset_view (window);
  g_assert_true (gui_test_wait_until (view_ready, view, 15000));
  wanted_count = 2;
  g_assert_true (gui_test_wait_until (dataset_has_wanted_count, view, 15000));
  /* Copies: the originals stay where they were. */
  g_assert_true (g_file_test (a, G_FILE_TEST_IS_REGULAR));
  {
    StudioDataset *dataset = studio_dataset_view_get_dataset (view);
    g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (dataset), 0);
    g_assert_false (g_str_has_prefix (studio_dataset_item_get_path (item), src));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
reset_project (void)
{
  if (project_dir != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (project_dir);
      gui_test_delete_tree (file);
      g_clear_pointer (&project_dir, g_free);
      g_clear_pointer (&dataset_dir, g_free);
    }
}

static void
run_fresh (gconstpointer data)
{
  reset_project ();
  ((GTestFunc) data) ();
}

int
main (int argc, char **argv)
{
  int status;

  /* Private user folders (projects, trash, thumbnail cache). */
  g_autoptr (GFile) home_file = gui_test_private_home ("studio-dsview", &home);
  {
    /* Where projects of dropped images go: Documents, per the user-dirs file. */
    g_autofree char *dirs = g_build_filename (home, "user-dirs.dirs", NULL);
    g_autofree char *line = g_strdup_printf ("XDG_DOCUMENTS_DIR=\"%s/Documents\"\n", home);
    g_assert_true (g_file_set_contents (dirs, line, -1, NULL));
  }

  gui_test_init (&argc, &argv);

  if (!gui_test_have_display ())
    return gui_test_run_without_display ("/dataset-view/gui", home_file);

  app = gui_test_new_app ();

  g_test_add_data_func ("/dataset-view/gui/grid-and-editor", test_grid_and_editor, run_fresh);
  g_test_add_data_func ("/dataset-view/gui/drop-import", test_drop_import, run_fresh);
  g_test_add_data_func ("/dataset-view/gui/batch-replace-undo", test_batch_replace_and_undo, run_fresh);
  g_test_add_data_func ("/dataset-view/gui/folder-monitor-trash", test_folder_monitor_and_trash, run_fresh);
  g_test_add_data_func ("/dataset-view/gui/welcome-drop-images", test_welcome_drop_images, run_fresh);
  status = g_test_run ();
  reset_project ();
  g_object_unref (app);
  gui_test_delete_tree (home_file);
  return status;
}
