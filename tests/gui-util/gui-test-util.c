/* gui-test-util.c: the helpers the GUI tests share (see gui-test-util.h). */
#include "gui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

#include "studio-train-view.h"

gboolean
gui_test_have_display (void)
{
  return g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL;
}

static void
skip_no_display (void)
{
  g_test_skip ("no display (DISPLAY and WAYLAND_DISPLAY are unset): run under xvfb-run");
}

void
gui_test_add_no_display_skip (const char *path)
{
  g_test_add_func (path, skip_no_display);
}

gboolean
gui_test_ignore_session_bus (const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
  return strstr (message, "session bus") == NULL;
}

gboolean
gui_test_wait_until (Condition cond, gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      /* Nothing to dispatch: sleep a little rather than spin on the CPU the app needs. */
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
  return TRUE;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
gui_test_settle (guint ms)
{
  gui_test_wait_until (never, NULL, ms);
}

GtkWidget *
gui_test_child (gpointer widget, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), G_OBJECT_TYPE (widget), name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

GtkWindow *
gui_test_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* owned by GTK */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (item, type))
        return GTK_WINDOW (item);
    }
  return NULL;
}

StudioWindow *
gui_test_new_window (StudioApplication *app, int width, int height)
{
  StudioWindow *window = studio_window_new (app);

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));
  return window;
}

StudioWindow *
gui_test_find_project_window (StudioApplication *app)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (STUDIO_IS_WINDOW (l->data) && studio_window_has_project (l->data))
      return l->data;
  return NULL;
}

gboolean
gui_test_has_project_window (gpointer app)
{
  return gui_test_find_project_window (app) != NULL;
}

void
gui_test_close_all_windows (GtkApplication *app)
{
  /* A copy: destroying a window removes it from the application's list. */
  GList *windows = g_list_copy (gtk_application_get_windows (app));

  for (GList *l = windows; l; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
  gui_test_settle (50);
}

gboolean
gui_test_drop_files (GtkWidget *widget, GSList *files)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  GtkDropTarget *target = NULL;
  GValue value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && target == NULL; i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (GTK_IS_DROP_TARGET (controller))
        target = GTK_DROP_TARGET (controller);
    }
  g_assert_nonnull (target);
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (files));
  g_signal_emit_by_name (target, "drop", &value, 10.0, 10.0, &accepted);
  g_value_unset (&value);
  return accepted;
}

gboolean
gui_test_try_save_screenshot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("STUDIO_ARTIFACTS_DIR");
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GskRenderer *renderer;

  if (dir == NULL)
    {
      g_test_message ("screenshot %s: STUDIO_ARTIFACTS_DIR is not set", name);
      return FALSE;
    }
  if (width <= 0 || height <= 0)
    {
      g_test_message ("screenshot %s: the widget has no size (%dx%d)", name, width, height);
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (widget);
  /* Between a queued redraw and its frame the widget has no render node yet. */
  for (int tries = 0; tries < 100 && node == NULL; tries++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      if (tries > 0)
        gui_test_settle (20);
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  if (node == NULL)
    {
      g_test_message ("screenshot %s: the widget drew nothing in 2 s", name);
      return FALSE;
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_test_message ("screenshot %s: cannot write %s", name, path);
      return FALSE;
    }
  g_test_message ("screenshot: %s", path);
  return TRUE;
}

void
gui_test_save_screenshot (GtkWidget *widget, const char *name)
{
  g_assert_true (gui_test_try_save_screenshot (widget, name));
}

void
gui_test_delete_tree (GFile *file)
{
  g_autoptr (GFileEnumerator) children =
    g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                               G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFile *child;

  while (children != NULL && g_file_enumerator_iterate (children, NULL, &child, NULL, NULL)
         && child != NULL)
    gui_test_delete_tree (child);
  g_file_delete (file, NULL, NULL);
}

GFile *
gui_test_private_home (const char *prefix, char **path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pattern = g_strconcat (prefix, "-XXXXXX", NULL);
  *path = g_dir_make_tmp (pattern, &error);
  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", *path, TRUE);
  g_setenv ("XDG_CONFIG_HOME", *path, TRUE);
  g_setenv ("XDG_CACHE_HOME", *path, TRUE);
  return g_file_new_for_path (*path);
}

void
gui_test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  g_test_log_set_fatal_handler (gui_test_ignore_session_bus, NULL);
}

int
gui_test_run_without_display (const char *path, GFile *home)
{
  gui_test_add_no_display_skip (path);
  int status = g_test_run ();
  if (home != NULL)
    gui_test_delete_tree (home);
  return status;
}

StudioApplication *
gui_test_new_app (void)
{
  g_autoptr (GError) error = NULL;
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  StudioApplication *app = studio_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  return app;
}

void
gui_test_copy_tree (const char *from, const char *to)
{
  g_autoptr (GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (to, 0755), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      if (g_file_test (src, G_FILE_TEST_IS_DIR))
        gui_test_copy_tree (src, dst);
      else
        {
          g_autofree char *data = NULL;
          gsize len;
          g_assert_true (g_file_get_contents (src, &data, &len, NULL));
          g_assert_true (g_file_set_contents (dst, data, len, NULL));
        }
    }
}

gboolean
gui_test_not_training (gpointer train_view)
{
  return !studio_train_view_is_training (train_view);
}

gboolean
gui_test_engine_gone (gpointer train_view)
{
  return studio_train_view_get_engine (train_view) == NULL;
}
