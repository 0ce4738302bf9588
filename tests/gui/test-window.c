/* test-window.c: the GUI under Xvfb: the welcome page, opening the demo project (its
 * user copy, its Dataset view, the Train view's config panel and model info, the Samples
 * view), the view actions, making a project of a folder of images, and the remembered window size.
 * Screenshots of each view go to $STUDIO_ARTIFACTS_DIR for people to look at. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "studio-application.h"
#include "studio-samples-view.h"
#include "studio-train-view.h"
#include "studio-window.h"

#include "gui-test-util.h"

static StudioApplication *app;

static gboolean
has_model_info (gpointer panel)
{
  return studio_config_panel_get_model_info (panel) != NULL;
}

static GtkWidget *
project_part (StudioWindow *window, const char *type_name, const char *name)
{
  GtkWidget *view = gui_test_child (window, "project_view");
  return gui_test_child (view, name);
}

static gboolean
stack_shows (gpointer data)
{
  GtkStack *stack = data;
  const char *wanted = g_object_get_data (G_OBJECT (stack), "wanted");
  return g_strcmp0 (gtk_stack_get_visible_child_name (stack), wanted) == 0;
}

static gboolean
wait_for_stack (GtkWidget *stack, const char *name)
{
  g_object_set_data_full (G_OBJECT (stack), "wanted", g_strdup (name), g_free);
  return gui_test_wait_until (stack_shows, stack, 15000);
}

static gboolean
has_children (gpointer widget)
{
  return gtk_widget_get_first_child (widget) != NULL;
}

static gboolean
has_message_dialog (gpointer data)
{
  return gui_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

static void
test_welcome_page (void)
{
  StudioWindow *window = gui_test_new_window (app, 1000, 720);
  GtkWidget *main_stack = gui_test_child (window, "main_stack");

  g_assert_false (studio_window_has_project (window));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (main_stack)), ==, "welcome");
  /* No project: the view actions do nothing and are off. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "show-train"));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "welcome.png");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_demo_project (void)
{
  StudioWindow *window;
  GtkWidget *dataset, *config, *runs, *view_stack, *thumbnails;
  g_autofree char *user_config = g_build_filename (g_get_user_data_dir (), "lora-studio", "demo",
                                                   "config.yaml", NULL);

  gui_test_new_window (app, 1000, 720);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-demo", NULL);
  g_assert_true (gui_test_wait_until (gui_test_has_project_window, app, 15000));
  window = gui_test_find_project_window (app);

  /* The user edits a copy, never the shipped demo. */
  g_assert_true (g_file_test (user_config, G_FILE_TEST_IS_REGULAR));

  dataset = project_part (window, "StudioProjectView", "dataset_view");
  g_assert_true (wait_for_stack (gui_test_child (dataset, "stack"), "dataset"));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gui_test_child (dataset, "images_button"))),
                   ==, "24 images");
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (gui_test_child (dataset, "store_label"))),
                   ==, "24 of 24 captioned, in metadata.csv");
  thumbnails = gui_test_child (dataset, "grid");
  g_assert_true (gui_test_wait_until (has_children, thumbnails, 15000));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "dataset.png");

  view_stack = project_part (window, "StudioProjectView", "stack");
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-train", NULL);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (view_stack)), ==, "train");
  config = project_part (window, "StudioProjectView", "train_view");
  {
    /* The Train view's config panel shows the demo's values and says what its base
     * model (the tiny one `lora-engine fixture` makes) is. */
    StudioConfigPanel *panel = studio_train_view_get_config_panel (STUDIO_TRAIN_VIEW (config));
    g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (studio_config_panel_get_control (panel, "lora_rank"))),
                       ==, 16);
    g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (studio_config_panel_get_control (panel, "learning_rate"))),
                       ==, 1e-4);
    g_assert_true (gui_test_wait_until (has_model_info, panel, 5000));
    g_assert_cmpstr (studio_config_panel_get_model_info (panel), !=, "No base model chosen yet");
  }
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "train.png");

  g_action_group_activate_action (G_ACTION_GROUP (window), "show-samples", NULL);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (view_stack)), ==, "samples");
  runs = project_part (window, "StudioProjectView", "samples_view");
  g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, runs, 5000));
  g_assert_cmpuint (studio_samples_view_get_n_runs (STUDIO_SAMPLES_VIEW (runs)), ==, 0);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "samples.png");

  g_action_group_activate_action (G_ACTION_GROUP (window), "show-dataset", NULL);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (view_stack)), ==, "dataset");

  /* The copy is the project and nothing else (no build leftovers): its config, its
   * dataset and the tiny base model the build wrote, so the demo trains as it is. */
  {
    g_autofree char *demo_dir = g_path_get_dirname (user_config);
    g_autoptr (GDir) dir = g_dir_open (demo_dir, 0, NULL);
    const char *name;
    guint n = 0;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_assert_true (g_str_equal (name, "config.yaml") || g_str_equal (name, "dataset")
                       || g_str_equal (name, "models"));
        n++;
      }
    g_assert_cmpuint (n, ==, 3);
    g_autofree char *model_index = g_build_filename (demo_dir, "models", "sd15-tiny",
                                                     "model_index.json", NULL);
    g_assert_true (g_file_test (model_index, G_FILE_TEST_IS_REGULAR));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));

  /* Opening the demo made it a recent project, listed on the next welcome page. */
  {
    StudioWindow *welcome = gui_test_new_window (app, 1000, 720);
    GtkWidget *page = gui_test_child (welcome, "welcome_page");
    GtkWidget *list = gui_test_child (page, "recent_list");
    GtkWidget *row = gtk_widget_get_first_child (list);
    g_autofree char *demo_dir = g_path_get_dirname (user_config);

    g_assert_nonnull (row);
    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "demo");
    g_assert_cmpstr (g_variant_get_string (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (row)), NULL),
                     ==, demo_dir);
    gui_test_settle (300);
    gui_test_save_screenshot (GTK_WIDGET (welcome), "welcome-recent.png");

    /* Activating the row opens the project. */
    g_assert_true (gtk_widget_activate (row));
    g_assert_true (gui_test_wait_until ((Condition) studio_window_has_project, welcome, 15000));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_accelerators (void)
{
  static const char *expected[][2] = {
    { "app.new-project", "<Control>n" },
    { "app.open-project", "<Control>o" },
    { "app.quit", "<Control>q" },
    { "app.help", "F1" },
    { "win.show-dataset", "<Alt>1" },
    { "win.show-train", "<Alt>2" },
    { "win.show-samples", "<Alt>3" },
    { "win.show-help-overlay", "<Control>question" },
  };
  StudioWindow *window = gui_test_new_window (app, 1000, 720);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                     expected[i][0]);
      g_assert_true (g_strv_contains ((const char *const *) accels, expected[i][1]));
    }
  /* The shortcuts window comes from gtk/help-overlay.ui in our resources. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_about_window (void)
{
  AdwAboutWindow *about;

  gui_test_new_window (app, 1000, 720);
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  gui_test_settle (300);
  about = (AdwAboutWindow *) gui_test_find_toplevel (ADW_TYPE_ABOUT_WINDOW);
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "LoRA Studio");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  gui_test_save_screenshot (GTK_WIDGET (about), "about.png");
  gtk_window_destroy (GTK_WINDOW (about));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* A folder of images dropped on the window becomes a project whose dataset is that
 * folder: the same call the drop target makes. */
static void
test_folder_becomes_project (void)
{
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "my-shapes", NULL);
  g_autofree char *shipped = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                               NULL);
  const char *names[] = { "shape-01-red-circle.png", "shape-04-green-star.png" };
  g_autoptr (GFile) file = NULL;
  StudioWindow *window = gui_test_new_window (app, 1000, 720);
  GtkWidget *dataset;
  g_autofree char *config_path = g_build_filename (folder, "config.yaml", NULL);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *src = g_build_filename (shipped, names[i], NULL);
      g_autofree char *dest = g_build_filename (folder, names[i], NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      g_assert_true (g_file_set_contents (dest, data, len, NULL));
    }

  file = g_file_new_for_path (folder);
  {
    /* Drive the welcome page's drop target as a file manager's drop would. */
    GSList *files = g_slist_append (NULL, file);

    g_assert_true (gui_test_drop_files (gui_test_child (window, "welcome_page"), files));
    g_slist_free (files);
  }
  g_assert_true (gui_test_wait_until ((Condition) studio_window_has_project, window, 15000));
  g_assert_true (g_file_test (config_path, G_FILE_TEST_IS_REGULAR));

  dataset = project_part (window, "StudioProjectView", "dataset_view");
  g_assert_true (wait_for_stack (gui_test_child (dataset, "stack"), "dataset"));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gui_test_child (dataset, "images_button"))),
                   ==, "2 images");
  /* Nothing captioned them: the health header says so. */
  g_assert_true (gtk_widget_get_visible (gui_test_child (dataset, "no_caption_button")));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "dropped-folder.png");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* Opening something that is not a project says so and leaves the welcome page. */
static void
test_open_not_a_project (void)
{
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "not-a-project", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (folder);
  StudioWindow *window = gui_test_new_window (app, 1000, 720);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  studio_window_open_project (window, file);
  g_assert_true (gui_test_wait_until (has_message_dialog, NULL, 15000));
  {
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (gui_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
    g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Cannot open the project");
    /* The body is the project library's message, which names the folder. */
    g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "not-a-project"));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  g_assert_false (studio_window_has_project (window));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_window_size_remembered (void)
{
  GSettings *settings = studio_application_get_settings (app);
  StudioWindow *window;
  int width, height;

  g_assert_nonnull (settings);
  window = gui_test_new_window (app, 1000, 720);
  gtk_window_set_default_size (GTK_WINDOW (window), 812, 604);
  gui_test_settle (200);
  gtk_window_close (GTK_WINDOW (window));
  gui_test_settle (100);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 812);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 604);

  window = studio_window_new (app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 812);
  g_assert_cmpint (height, ==, 604);
  gtk_window_destroy (GTK_WINDOW (window));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

int
main (int argc, char **argv)
{
  g_autofree char *home = NULL;
  int status;

  /* Private user folders (the demo copy lands in XDG_DATA_HOME). */
  g_autoptr (GFile) home_file = gui_test_private_home ("studio-gui", &home);

  gui_test_init (&argc, &argv);

  if (!gui_test_have_display ())
    return gui_test_run_without_display ("/gui/window", home_file);

  app = gui_test_new_app ();

  g_test_add_func ("/gui/welcome-page", test_welcome_page);
  g_test_add_func ("/gui/demo-project", test_demo_project);
  g_test_add_func ("/gui/accelerators", test_accelerators);
  g_test_add_func ("/gui/about-window", test_about_window);
  g_test_add_func ("/gui/folder-becomes-project", test_folder_becomes_project);
  g_test_add_func ("/gui/open-not-a-project", test_open_not_a_project);
  g_test_add_func ("/gui/window-size-remembered", test_window_size_remembered);
  status = g_test_run ();

  g_clear_object (&app);
  gui_test_delete_tree (home_file);
  return status;
}
