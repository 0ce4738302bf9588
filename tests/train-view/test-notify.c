/* test-notify.c: the desktop notification a run sends when it ends while its window is
 * not focused, end to end: the app registered on a private session bus (meson runs this
 * under dbus-run-session), a fake org.gtk.Notifications service in this process, a
 * StudioWindow with a copy of the demo project and the stand-in engines under Xvfb.
 * A finished run notifies while another window has the focus, not while its own has it;
 * a failed run and a dead engine notify with the error; clicking the notification
 * (ActivateAction, as GNOME Shell does) raises the window on the Train view, or opens
 * the project again when its window was closed since. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-project-view.h"
#include "studio-train-view.h"

#include "fake-notification-server.h"
#include "gui-test-util.h"

static StudioApplication      *app;
static FakeNotificationServer *server;
static char                   *tmp_root;

typedef struct {
  StudioWindow      *window;
  StudioProjectView *project_view;
  StudioTrainView   *train;
  GtkWindow         *other;    /* another window that takes the focus, or NULL */
  char              *folder;
} Fixture;

static void
use_engine (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, name, NULL);
  g_setenv ("LORA_ENGINE", path, TRUE);
}

static gboolean
window_active (gpointer window)
{
  return gtk_window_is_active (window);
}

static gboolean
focus_elsewhere (gpointer data)
{
  Fixture *f = data;
  return !gtk_window_is_active (GTK_WINDOW (f->window)) && gtk_window_is_active (f->other);
}

static gboolean
flag_set (gpointer flag)
{
  return *(gboolean *) flag;
}

static gboolean
has_notifications (gpointer n)
{
  return fake_notification_server_get_received (server)->len >= GPOINTER_TO_UINT (n);
}

/* A window of the app (as `lora-studio FOLDER` opens it) on a copy of the demo project,
 * presented and focused. */
static void
fixture_open (Fixture *f, const char *name)
{
  g_autofree char *shipped = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", NULL);
  g_autoptr (GFile) folder = NULL;

  f->folder = g_build_filename (tmp_root, name, NULL);
  gui_test_copy_tree (shipped, f->folder);
  folder = g_file_new_for_path (f->folder);
  f->window = gui_test_new_window (app, 1000, 700);
  studio_window_open_project (f->window, folder);
  g_assert_true (gui_test_wait_until ((Condition) studio_window_has_project, f->window, 10000));
  f->project_view = STUDIO_PROJECT_VIEW (gui_test_child (f->window, "project_view"));
  f->train = STUDIO_TRAIN_VIEW (gui_test_child (f->project_view, "train_view"));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "show-train", NULL);
  /* Without a window manager GTK gives a presented window the X input focus itself. */
  g_assert_true (gui_test_wait_until (window_active, f->window, 5000));
  g_ptr_array_set_size (fake_notification_server_get_received (server), 0);
}

/* The user switches to another application's window. */
static void
fixture_look_elsewhere (Fixture *f)
{
  f->other = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_title (f->other, "Another application");
  gtk_window_set_default_size (f->other, 400, 300);
  gtk_window_present (f->other);
  g_assert_true (gui_test_wait_until (focus_elsewhere, f, 5000));
}

static void
fixture_close_windows (Fixture *f)
{
  studio_train_view_shutdown (f->train, NULL, NULL);
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f->train, 20000));
  if (f->other != NULL)
    gtk_window_destroy (f->other);
  gtk_window_destroy (GTK_WINDOW (f->window));
  f->other = NULL;
  f->window = NULL;
  gui_test_settle (50);
}

static void
fixture_close (Fixture *f)
{
  g_autoptr (GFile) root = g_file_new_for_path (f->folder);

  if (f->window != NULL)
    fixture_close_windows (f);
  gui_test_close_all_windows (GTK_APPLICATION (app));
  gui_test_delete_tree (root);
  g_free (f->folder);
}

static void
run_to_end (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (studio_train_view_start (f->train, &error));
  g_assert_no_error (error);
  g_assert_true (gui_test_wait_until (gui_test_not_training, f->train, 20000));
}

/* The one notification that arrived, after waiting for it. */
static FakeNotification *
the_notification (void)
{
  GPtrArray *received = fake_notification_server_get_received (server);

  g_assert_true (gui_test_wait_until (has_notifications, GUINT_TO_POINTER (1), 5000));
  gui_test_settle (100);
  g_assert_cmpuint (received->len, ==, 1);
  return received->pdata[0];
}

/* Its default action is app.show-training for this project's folder. */
static void
assert_opens_this_project (Fixture *f, FakeNotification *n)
{
  g_assert_cmpstr (n->app_id, ==, APP_ID);
  g_assert_cmpstr (n->default_action, ==, "app.show-training");
  g_assert_nonnull (n->default_target);
  g_assert_true (g_variant_is_of_type (n->default_target, G_VARIANT_TYPE_STRING));
  g_assert_cmpstr (g_variant_get_string (n->default_target, NULL), ==, f->folder);
}

static const char *
visible_view (Fixture *f)
{
  return adw_view_stack_get_visible_child_name (studio_project_view_get_stack (f->project_view));
}

static void
test_finished_unfocused (void)
{
  Fixture f = { 0 };
  FakeNotification *n;
  gboolean answered = FALSE;

  use_engine ("standin-train.sh");
  g_setenv ("STANDIN_STEPS", "10", TRUE);
  fixture_open (&f, "finished-unfocused");
  fixture_look_elsewhere (&f);
  run_to_end (&f);
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training finished");

  n = the_notification ();
  /* Keyed by project, so two windows' runs do not replace each other's notification. */
  g_assert_true (g_str_has_prefix (n->id, "run-ended:"));
  g_assert_true (g_str_has_suffix (n->id, f.folder));
  g_assert_cmpstr (n->title, ==, "Training finished");
  g_assert_cmpstr (n->body, ==, "The LoRA is ready in the Samples view.");
  assert_opens_this_project (&f, n);

  /* Meanwhile the user went to the Dataset view; the click brings back the Train view
   * in front, in focus. */
  g_action_group_activate_action (G_ACTION_GROUP (f.window), "show-dataset", NULL);
  g_assert_cmpstr (visible_view (&f), ==, "dataset");
  fake_notification_server_activate (server, n, &answered);
  g_assert_true (gui_test_wait_until (flag_set, &answered, 5000));
  g_assert_cmpstr (visible_view (&f), ==, "train");
  g_assert_true (gui_test_wait_until (window_active, f.window, 5000));
  g_assert_false (gtk_window_is_active (f.other));
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 1);

  g_unsetenv ("STANDIN_STEPS");
  fixture_close (&f);
}

static void
test_finished_focused (void)
{
  Fixture f = { 0 };
  g_autoptr (GNotification) marker = g_notification_new ("marker");
  FakeNotification *n;

  use_engine ("standin-train.sh");
  g_setenv ("STANDIN_STEPS", "10", TRUE);
  fixture_open (&f, "finished-focused");
  run_to_end (&f);
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training finished");
  g_assert_true (gtk_window_is_active (GTK_WINDOW (f.window)));

  /* The app's messages reach the service in order: when a marker sent now arrives
   * alone, the run sent nothing before it. */
  g_application_send_notification (G_APPLICATION (app), "marker", marker);
  n = the_notification ();
  g_assert_cmpstr (n->id, ==, "marker");
  g_application_withdraw_notification (G_APPLICATION (app), "marker");

  g_unsetenv ("STANDIN_STEPS");
  fixture_close (&f);
}

static void
test_failed_unfocused (void)
{
  Fixture f = { 0 };
  FakeNotification *n;
  gboolean answered = FALSE;

  use_engine ("standin-fail.sh");
  fixture_open (&f, "failed-unfocused");
  fixture_look_elsewhere (&f);
  run_to_end (&f);
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training failed");

  n = the_notification ();
  g_assert_cmpstr (n->title, ==, "Training failed");
  /* The engine's own words, the same the view shows. */
  g_assert_cmpstr (n->body, ==, "image 7 of the dataset cannot be read: truncated PNG");
  g_assert_cmpstr (n->body, ==, studio_train_view_get_error (f.train));
  assert_opens_this_project (&f, n);

  fake_notification_server_activate (server, n, &answered);
  g_assert_true (gui_test_wait_until (flag_set, &answered, 5000));
  g_assert_true (gui_test_wait_until (window_active, f.window, 5000));
  g_assert_cmpstr (visible_view (&f), ==, "train");

  /* With the window closed since, the click opens the project again. */
  fixture_close_windows (&f);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  fake_notification_server_activate (server, n, &answered);
  g_assert_true (gui_test_wait_until (flag_set, &answered, 5000));
  g_assert_true (gui_test_wait_until (gui_test_has_project_window, app, 10000));
  {
    StudioWindow *window = gui_test_find_project_window (app);
    g_autofree char *path = g_file_get_path (studio_window_get_project_folder (window));
    g_assert_cmpstr (path, ==, f.folder);
  }
  fixture_close (&f);
}

static void
test_engine_died_unfocused (void)
{
  Fixture f = { 0 };
  FakeNotification *n;

  use_engine ("standin-crash.sh");
  fixture_open (&f, "died-unfocused");
  fixture_look_elsewhere (&f);
  run_to_end (&f);

  n = the_notification ();
  g_assert_cmpstr (n->title, ==, "Training failed");
  /* What the view says: the engine stopped unexpectedly, with its exit status. */
  g_assert_cmpstr (n->body, ==, studio_train_view_get_error (f.train));
  g_assert_nonnull (strstr (n->body, "137"));
  assert_opens_this_project (&f, n);
  fixture_close (&f);
}

static void
test_no_private_bus (void)
{
  g_test_skip ("dbus-run-session is not installed (package dbus-daemon): the notification "
               "tests need a private session bus");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_autoptr (GFile) root = gui_test_private_home ("notify", &tmp_root);

  gui_test_init (&argc, &argv);

  if (!gui_test_have_display ())
    gui_test_add_no_display_skip ("/notify");
  else if (g_getenv ("STUDIO_TEST_PRIVATE_BUS") == NULL)
    g_test_add_func ("/notify/private-bus", test_no_private_bus);
  else
    {
      g_setenv ("GSK_RENDERER", "cairo", TRUE);
      /* The service is up before GLib picks a notification backend (once, on the first
       * notification), so org.gtk.Notifications is the one it picks. */
      server = fake_notification_server_new (&error);
      g_assert_no_error (error);
      app = studio_application_new ();
      g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
      g_assert_no_error (error);
      g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));

      g_test_add_func ("/notify/finished-unfocused", test_finished_unfocused);
      g_test_add_func ("/notify/finished-focused", test_finished_focused);
      g_test_add_func ("/notify/failed-unfocused", test_failed_unfocused);
      g_test_add_func ("/notify/engine-died-unfocused", test_engine_died_unfocused);
    }
  status = g_test_run ();
  g_clear_object (&app);
  g_clear_pointer (&server, fake_notification_server_free);
  gui_test_delete_tree (root);
  g_free (tmp_root);
  return status;
}
