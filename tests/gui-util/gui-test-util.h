/* gui-test-util.h: what the GUI tests under Xvfb share: the private home folder, the app
 * under test and the run without a display, running the main loop until a condition
 * holds (a few common conditions too), template children, app windows, screenshots for
 * people to look at, and copying and deleting folders. */
#pragma once

#include <gtk/gtk.h>

#include "studio-application.h"
#include "studio-window.h"

G_BEGIN_DECLS

typedef gboolean (*Condition) (gpointer data);

/* TRUE when DISPLAY or WAYLAND_DISPLAY is set (xvfb-run sets DISPLAY). */
gboolean gui_test_have_display (void);

/* Registers PATH as a test that skips, saying to run under xvfb-run. */
void gui_test_add_no_display_skip (const char *path);

/* A g_test_log_set_fatal_handler handler: Xvfb has no session bus and GTK warns
 * about it, which is no failure of the app; every other warning stays fatal. */
gboolean gui_test_ignore_session_bus (const char *domain, GLogLevelFlags level,
                                      const char *message, gpointer data);

/* Runs the main loop until COND holds or TIMEOUT_MS pass; FALSE on timeout. */
gboolean gui_test_wait_until (Condition cond, gpointer data, guint timeout_ms);

/* Runs the main loop for MS so pending layout and frames happen. */
void gui_test_settle (guint ms);

/* WIDGET's template child NAME, of WIDGET's own type; asserts that it exists. */
GtkWidget *gui_test_child (gpointer widget, const char *name);

/* The first toplevel window of TYPE, or NULL. */
GtkWindow *gui_test_find_toplevel (GType type);

/* A new StudioWindow of APP at WIDTH x HEIGHT, presented and mapped. */
StudioWindow *gui_test_new_window (StudioApplication *app, int width, int height);

/* APP's first window that has a project open, or NULL. */
StudioWindow *gui_test_find_project_window (StudioApplication *app);

/* A Condition: APP (a StudioApplication) has a window with a project open. */
gboolean gui_test_has_project_window (gpointer app);

/* Conditions on a StudioTrainView: no run is going on; its engine has gone (the run's
 * process ended and was let go). */
gboolean gui_test_not_training (gpointer train_view);
gboolean gui_test_engine_gone (gpointer train_view);

/* Destroys every window of APP, then lets the main loop settle. */
void gui_test_close_all_windows (GtkApplication *app);

/* Emits WIDGET's drop target's drop signal with FILES (GFiles) as a file manager's drop
 * delivers them (a GdkFileList); returns whether the target accepted them. */
gboolean gui_test_drop_files (GtkWidget *widget, GSList *files);

/* Renders WIDGET into $STUDIO_ARTIFACTS_DIR/NAME (a PNG). The try variant returns FALSE
 * when there is no folder, the widget has no size, no frame came in 2 s or the file
 * cannot be written; gui_test_save_screenshot asserts that it worked. */
gboolean gui_test_try_save_screenshot (GtkWidget *widget, const char *name);
void gui_test_save_screenshot (GtkWidget *widget, const char *name);

/* Deletes FILE and, for a folder, everything below it (symlinks are not followed). */
void gui_test_delete_tree (GFile *file);

/* Copies the folder FROM with everything below it to TO (made with its parents). */
void gui_test_copy_tree (const char *from, const char *to);

/* A private home for the test: a new folder PREFIX-XXXXXX in the temporary folder, which
 * XDG_DATA_HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME then name (call it before GLib reads
 * them). Not G_TEST_OPTION_ISOLATE_DIRS: that also hides the icon themes and the MIME
 * database. Returns the folder (for gui_test_delete_tree) and its path in *PATH (free
 * with g_free). */
GFile *gui_test_private_home (const char *prefix, char **path);

/* g_test_init, with gui_test_ignore_session_bus as the fatal-log handler. */
void gui_test_init (int *argc, char ***argv);

/* Where there is no display: registers PATH as a skip, runs the tests, deletes HOME (the
 * private home, may be NULL) and returns g_test_run's status for main to return. */
int gui_test_run_without_display (const char *path, GFile *home);

/* The app under test: a StudioApplication that handles open, is not unique (tests run
 * side by side) and is registered, drawn by the cairo renderer (the same pixels on
 * every machine, no GL needed under Xvfb). */
StudioApplication *gui_test_new_app (void);

G_END_DECLS
