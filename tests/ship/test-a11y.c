/* test-a11y.c: every control of every view can be used without a mouse and without
 * sight. Under Xvfb it opens the welcome page and the demo project, and walks the widget
 * tree of the welcome page and of the Dataset, Train and Samples views: each button,
 * entry, spin button, switch, check button, scale and drop-down needs an accessible name
 * (its own label, a label child, GTK_ACCESSIBLE_PROPERTY_LABEL or a labelled-by
 * relation) and must be reachable with Tab (focusable, no ancestor refusing focus).
 * It also checks that F1 opens help:lora-studio through app.help.
 *
 * With $STUDIO_EXPECT_TRANSLATED set (the zh_CN run), it also checks that no visible
 * label or button of those views is left in English, and saves screenshots of each
 * view to $STUDIO_ARTIFACTS_DIR for people to look at. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "studio-application.h"
#include "studio-dataset-view.h"
#include "studio-window.h"

#include "gui-test-util.h"

static StudioApplication *app;

static gboolean
nonempty (const char *text)
{
  return text != NULL && *text != '\0';
}

/* The text of the first label inside WIDGET (a button's GtkLabel or AdwButtonContent). */
static const char *
inner_label (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      const char *text;
      if (GTK_IS_LABEL (c) && nonempty (gtk_label_get_text (GTK_LABEL (c))))
        return gtk_label_get_text (GTK_LABEL (c));
      if ((text = inner_label (c)) != NULL)
        return text;
    }
  return NULL;
}

static gboolean
has_accessible_name (GtkWidget *widget)
{
  if (gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL) ||
      gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;
  if (GTK_IS_BUTTON (widget) && nonempty (gtk_button_get_label (GTK_BUTTON (widget))))
    return TRUE;
  if (GTK_IS_CHECK_BUTTON (widget) && nonempty (gtk_check_button_get_label (GTK_CHECK_BUTTON (widget))))
    return TRUE;
  if (GTK_IS_MENU_BUTTON (widget) && nonempty (gtk_menu_button_get_label (GTK_MENU_BUTTON (widget))))
    return TRUE;
  /* A visible text inside a button names it (GTK computes the name from its content). */
  if ((GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget)) && inner_label (widget) != NULL)
    return TRUE;
  return FALSE;
}

static gboolean
is_control (GtkWidget *widget)
{
  return GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) || GTK_IS_ENTRY (widget) ||
         GTK_IS_SEARCH_ENTRY (widget) || GTK_IS_PASSWORD_ENTRY (widget) ||
         GTK_IS_SPIN_BUTTON (widget) || GTK_IS_SWITCH (widget) || GTK_IS_CHECK_BUTTON (widget) ||
         GTK_IS_DROP_DOWN (widget) || GTK_IS_SCALE (widget) || GTK_IS_COMBO_BOX (widget) ||
         (GTK_IS_TEXT_VIEW (widget) && gtk_text_view_get_editable (GTK_TEXT_VIEW (widget)));
}

/* Parts of composite widgets that GTK and libadwaita name themselves: the window
 * buttons, the halves of spin buttons and drop-downs, a menu button's toggle. */
static gboolean
is_internal (GtkWidget *widget)
{
  for (GtkWidget *p = gtk_widget_get_parent (widget); p; p = gtk_widget_get_parent (p))
    if (GTK_IS_WINDOW_CONTROLS (p) || GTK_IS_SPIN_BUTTON (p) || GTK_IS_DROP_DOWN (p) ||
        GTK_IS_MENU_BUTTON (p) || GTK_IS_POPOVER (p) || ADW_IS_TAB_BAR (p) ||
        g_str_equal (G_OBJECT_TYPE_NAME (p), "AdwViewSwitcher"))
      return TRUE;
  /* AdwExpanderRow's own enable switch: libadwaita 1.2 gives it no name, and an app
   * cannot reach it to add one; Orca reads the row's title next to it. */
  if (GTK_IS_SWITCH (widget) && gtk_widget_get_ancestor (widget, ADW_TYPE_EXPANDER_ROW) != NULL &&
      g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)), "enable_switch") == 0)
    return TRUE;
  return FALSE;
}

static gboolean
any_focusable (GtkWidget *widget)
{
  if (gtk_widget_get_focusable (widget))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (any_focusable (c))
      return TRUE;
  return FALSE;
}

static gboolean
reachable (GtkWidget *widget)
{
  for (GtkWidget *p = widget; p; p = gtk_widget_get_parent (p))
    if (!gtk_widget_get_can_focus (p))
      return FALSE;
  return any_focusable (widget);
}

static char *
describe (GtkWidget *widget)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  GString *path = g_string_new (NULL);

  /* The named ancestors (template children) say where a widget is. */
  for (GtkWidget *p = widget; p; p = gtk_widget_get_parent (p))
    {
      const char *id = gtk_buildable_get_buildable_id (GTK_BUILDABLE (p));
      if (id != NULL && !g_str_has_prefix (id, "___object"))
        g_ptr_array_add (parts, (gpointer) id);
      else if (p == widget)
        g_ptr_array_add (parts, (gpointer) G_OBJECT_TYPE_NAME (p));
    }
  for (guint i = parts->len; i > 0; i--)
    g_string_append_printf (path, "%s%s", (char *) parts->pdata[i - 1], i > 1 ? " > " : "");
  return g_string_free (path, FALSE);
}

static void
audit (GtkWidget *widget, GPtrArray *problems, guint *n_checked)
{
  /* What the user can see now: the visible page of each stack, not the hidden ones
   * (their labels are filled when they are shown). */
  if (!gtk_widget_get_mapped (widget))
    return;
  if (is_control (widget) && !is_internal (widget))
    {
      g_autofree char *where = describe (widget);
      (*n_checked)++;
      if (!has_accessible_name (widget))
        g_ptr_array_add (problems, g_strdup_printf ("%s (%s) has no accessible name",
                                                    where, G_OBJECT_TYPE_NAME (widget)));
      if (!reachable (widget))
        g_ptr_array_add (problems, g_strdup_printf ("%s (%s) cannot be reached with the keyboard",
                                                    where, G_OBJECT_TYPE_NAME (widget)));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    audit (c, problems, n_checked);
}

static void
assert_accessible (GtkWidget *root, const char *what)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  guint n_checked = 0;

  audit (root, problems, &n_checked);
  g_test_message ("%s: %u controls checked", what, n_checked);
  g_assert_cmpuint (n_checked, >, 0);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("%s: %s", what, (char *) problems->pdata[i]);
  if (problems->len > 0)
    g_error ("%s: %u controls without an accessible name or keyboard access (listed above)",
             what, problems->len);
}

/* In the translated run: a visible text with Latin words and no CJK character is
 * an untranslated string, unless it is a name or a value that stays as it is. */
static gboolean
looks_untranslated (const char *text)
{
  static const char *kept[] = { "LoRA Studio", "LoRA", "AdamW", "Adam", "SGD", "cosine",
                                "constant", "linear", "image-lora", "text-generation",
                                "metadata.csv", "config.yaml", "demo", "alpha", "Alpha", "Dropout",
                                "Adam beta 1", "Adam beta 2", "Adam epsilon", "Min-SNR gamma",
                                "CLIP skip", NULL };
  gboolean latin_word = FALSE;
  int run = 0;

  if (!nonempty (text))
    return FALSE;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_get_script (c) == G_UNICODE_SCRIPT_HAN)
        return FALSE;
      run = g_ascii_isalpha (c) ? run + 1 : 0;
      if (run >= 3)
        latin_word = TRUE;
    }
  if (!latin_word || g_strv_contains (kept, text))
    return FALSE;
  /* File names, paths, numbers with units and the like. */
  if (strchr (text, '/') || strchr (text, '.') || strchr (text, '_') || strchr (text, ':'))
    return FALSE;
  return TRUE;
}

static void
find_english (GtkWidget *widget, GPtrArray *found)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && looks_untranslated (gtk_label_get_text (GTK_LABEL (widget))))
    {
      /* Captions, file names and values the user wrote are data, not strings. */
      GtkWidget *p;
      for (p = widget; p; p = gtk_widget_get_parent (p))
        if (GTK_IS_FLOW_BOX_CHILD (p) || GTK_IS_TEXT_VIEW (p) || GTK_IS_LIST_BOX_ROW (p) ||
            GTK_IS_GRID_VIEW (p) || GTK_IS_LIST_VIEW (p))
          break;
      if (p == NULL || (ADW_IS_ACTION_ROW (p) && (gtk_widget_has_css_class (widget, "title") ||
                                             gtk_widget_has_css_class (widget, "subtitle"))))
        g_ptr_array_add (found, g_strdup (gtk_label_get_text (GTK_LABEL (widget))));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    find_english (c, found);
}

static void
check_translated (GtkWidget *root, const char *what)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  if (g_getenv ("STUDIO_EXPECT_TRANSLATED") == NULL)
    return;
  find_english (root, found);
  for (guint i = 0; i < found->len; i++)
    g_test_message ("%s: untranslated: “%s”", what, (char *) found->pdata[i]);
  if (found->len > 0)
    g_error ("%s: %u strings are not translated (listed above)", what, found->len);
}

static void
test_welcome_page (void)
{
  StudioWindow *window = gui_test_new_window (app, 1000, 720);

  gui_test_settle (300);
  assert_accessible (GTK_WIDGET (window), "welcome page");
  check_translated (GTK_WIDGET (window), "welcome page");
  gui_test_try_save_screenshot (GTK_WIDGET (window), "welcome.png");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static gboolean
has_message_dialog (gpointer data)
{
  return gui_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

static gboolean
dataset_loaded (gpointer view)
{
  GListModel *visible = studio_dataset_view_get_visible (view);
  return !studio_dataset_view_get_loading (view) && visible != NULL &&
         g_list_model_get_n_items (visible) > 0;
}

/* The parts of the Dataset view that appear on demand: the caption editor of a
 * selected image and a batch dialog. */
static void
check_dataset_parts (StudioWindow *window)
{
  GtkWidget *view = gui_test_child (gui_test_child (window, "project_view"), "dataset_view");
  GtkWindow *dialog;

  g_assert_true (STUDIO_IS_DATASET_VIEW (view));
  g_assert_true (gui_test_wait_until (dataset_loaded, view, 15000));
  g_assert_true (gtk_selection_model_select_item (studio_dataset_view_get_selection (STUDIO_DATASET_VIEW (view)),
                                                  0, TRUE));
  gui_test_settle (500);
  assert_accessible (GTK_WIDGET (window), "caption editor");
  check_translated (GTK_WIDGET (window), "caption editor");
  gui_test_try_save_screenshot (GTK_WIDGET (window), "caption-editor.png");

  g_assert_true (gtk_widget_activate_action (view, "dataset.batch", "s", "replace"));
  g_assert_true (gui_test_wait_until (has_message_dialog, NULL, 5000));
  dialog = gui_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, dialog, 5000));
  gui_test_settle (300);
  assert_accessible (GTK_WIDGET (dialog), "find and replace dialog");
  check_translated (GTK_WIDGET (dialog), "find and replace dialog");
  gui_test_try_save_screenshot (GTK_WIDGET (dialog), "batch-dialog.png");
  gtk_window_destroy (dialog);
  gui_test_settle (100);
}

static void
test_project_views (void)
{
  static const char *views[][2] = {
    { "show-dataset", "dataset" }, { "show-train", "train" }, { "show-samples", "samples" },
  };
  StudioWindow *window;

  gui_test_new_window (app, 1000, 720);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-demo", NULL);
  g_assert_true (gui_test_wait_until (gui_test_has_project_window, app, 15000));
  window = gui_test_find_project_window (app);
  gui_test_settle (1500);   /* the dataset, its thumbnails and the config load off the main thread */

  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_autofree char *png = g_strconcat (views[i][1], ".png", NULL);
      g_action_group_activate_action (G_ACTION_GROUP (window), views[i][0], NULL);
      gui_test_settle (800);
      assert_accessible (GTK_WIDGET (window), views[i][1]);
      check_translated (GTK_WIDGET (window), views[i][1]);
      gui_test_try_save_screenshot (GTK_WIDGET (window), png);
    }
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-dataset", NULL);
  check_dataset_parts (window);
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_help_action (void)
{
  g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.help");

  /* F1 and the menu's Help item both reach app.help, which shows help:lora-studio. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "help"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (app), "help"));
  g_assert_true (g_strv_contains ((const char *const *) accels, "F1"));
}

int
main (int argc, char **argv)
{
  g_autofree char *home = NULL;

  g_autoptr (GFile) home_file = gui_test_private_home ("studio-a11y", &home);
  /* The test AT context records accessible properties so that they can be read back. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);

  /* Translations from the build tree (<builddir>/po/LANG/LC_MESSAGES), as main.c does
   * with the installed ones. */
  setlocale (LC_ALL, "");
  if (g_getenv ("STUDIO_LOCALEDIR") != NULL)
    bindtextdomain (GETTEXT_PACKAGE, g_getenv ("STUDIO_LOCALEDIR"));
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_init (&argc, &argv, NULL);
  /* Warnings (Xvfb's missing session services, a view's markup) are the GUI test's
   * business; here only criticals stop the walk. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  if (g_getenv ("STUDIO_EXPECT_TRANSLATED") != NULL &&
      g_str_equal (_("Welcome to LoRA Studio"), "Welcome to LoRA Studio"))
    {
      /* Without the locale or the catalogue nothing could be checked. */
      g_test_skip ("zh_CN catalogue or locale not available");
      return g_test_run ();
    }

  if (!gui_test_have_display ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return g_test_run ();
    }

  app = gui_test_new_app ();

  g_test_add_func ("/a11y/help-action", test_help_action);
  g_test_add_func ("/a11y/welcome-page", test_welcome_page);
  g_test_add_func ("/a11y/project-views", test_project_views);
  {
    int status = g_test_run ();
    g_clear_object (&app);
    return status;
  }
}
