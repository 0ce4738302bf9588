/* studio-application.c: StudioApplication: app actions and their accelerators,
 * command-line handling (`lora-studio FOLDER`, `--demo`), settings, About window. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-application.h"
#include "studio-demo.h"
#include "studio-resources.h"
#include "studio-window.h"

struct _StudioApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  gboolean   settings_looked_up;
};

G_DEFINE_FINAL_TYPE (StudioApplication, studio_application, ADW_TYPE_APPLICATION)

StudioApplication *
studio_application_new (void)
{
  return g_object_new (STUDIO_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/lorastudio/LoraStudio",
                       NULL);
}

GSettings *
studio_application_get_settings (StudioApplication *self)
{
  g_return_val_if_fail (STUDIO_IS_APPLICATION (self), NULL);

  if (!self->settings_looked_up)
    {
      GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
      g_autoptr (GSettingsSchema) schema = NULL;

      self->settings_looked_up = TRUE;
      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
#ifdef STUDIO_UNINSTALLED_DATADIR
      /* Run from the build tree: the schema is compiled there, not installed. */
      if (schema == NULL)
        {
          g_autoptr (GSettingsSchemaSource) build_source =
            g_settings_schema_source_new_from_directory (STUDIO_UNINSTALLED_DATADIR, source,
                                                         FALSE, NULL);
          if (build_source != NULL)
            schema = g_settings_schema_source_lookup (build_source, APP_ID, FALSE);
        }
#endif
      if (schema != NULL)
        self->settings = g_settings_new_full (schema, NULL, NULL);
      else
        g_warning ("GSettings schema %s not found: window size and recent projects "
                   "will not be remembered", APP_ID);
    }
  return self->settings;
}

static StudioWindow *
find_welcome_window (StudioApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (STUDIO_IS_WINDOW (l->data) && !studio_window_has_project (l->data))
      return l->data;
  return NULL;
}

/* The window a menu action applies to: the active one, or a new one. */
static StudioWindow *
get_target_window (StudioApplication *self)
{
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (STUDIO_IS_WINDOW (active))
    return STUDIO_WINDOW (active);
  return studio_window_new (self);
}

void
studio_application_open_project (StudioApplication *self, GFile *folder)
{
  StudioWindow *window;

  g_return_if_fail (STUDIO_IS_APPLICATION (self));
  g_return_if_fail (G_IS_FILE (folder));

  window = find_welcome_window (self);
  if (window == NULL)
    window = studio_window_new (self);
  studio_window_open_project (window, folder);
  gtk_window_present (GTK_WINDOW (window));
}

static void
demo_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioApplication) self = user_data;
  g_autoptr (GFile) folder = NULL;
  g_autoptr (GError) error = NULL;

  folder = studio_demo_prepare_finish (result, &error);
  if (folder == NULL)
    {
      StudioWindow *window = get_target_window (self);
      gtk_window_present (GTK_WINDOW (window));
      studio_window_show_error (window, _("Cannot open the demo project"), error->message);
    }
  else
    studio_application_open_project (self, folder);

  g_application_release (G_APPLICATION (self));
}

void
studio_application_open_demo (StudioApplication *self)
{
  g_return_if_fail (STUDIO_IS_APPLICATION (self));

  /* Keep the app alive while the copy runs, even with no window yet. */
  g_application_hold (G_APPLICATION (self));
  studio_demo_prepare_async (NULL, demo_prepared, g_object_ref (self));
}

static void
new_project_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  StudioWindow *window = get_target_window (user_data);

  gtk_window_present (GTK_WINDOW (window));
  studio_window_choose_project_folder (window, TRUE);
}

static void
open_project_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  StudioWindow *window = get_target_window (user_data);

  gtk_window_present (GTK_WINDOW (window));
  studio_window_choose_project_folder (window, FALSE);
}

static void
open_demo_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  studio_application_open_demo (user_data);
}

/* The app icon arrives with the desktop files (shipping issue); until it is installed
 * (or when running from the build tree) a generic icon beats a broken-image one. */
const char *
studio_application_get_icon_name (void)
{
  GdkDisplay *display = gdk_display_get_default ();

  if (display != NULL && gtk_icon_theme_has_icon (gtk_icon_theme_get_for_display (display), APP_ID))
    return APP_ID;
  return "applications-graphics-symbolic";
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  StudioApplication *self = user_data;
  static const char *developers[] = { "The LoRA Studio developers", NULL };
  GtkWindow *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("LoRA Studio"),
                        "application-icon", studio_application_get_icon_name (),
                        "version", PACKAGE_VERSION,
                        "developer-name", _("The LoRA Studio developers"),
                        "developers", developers,
                        "comments", _("Turn a folder of images or lines of text into a LoRA adapter"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", "© 2026 The LoRA Studio developers",
                        /* TRANSLATORS: your name(s), one per line, to be credited */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (about);
}

static void
help_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  /* Yelp shows the guide installed under help/ (in the user's language). */
  gtk_show_uri (window, "help:lora-studio", GDK_CURRENT_TIME);
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  /* Closing each window lets it save its size first. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));

  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

/* A finished run's notification: raise the window of the project in FOLDER (the
 * parameter) and show its Train view; a window closed since opens the project again. */
static void
show_training_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  StudioApplication *self = user_data;
  g_autoptr (GFile) folder = g_file_new_for_path (g_variant_get_string (param, NULL));

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      GFile *project;

      if (!STUDIO_IS_WINDOW (l->data))
        continue;
      project = studio_window_get_project_folder (l->data);
      if (project != NULL && g_file_equal (project, folder))
        {
          g_action_group_activate_action (G_ACTION_GROUP (l->data), "show-train", NULL);
          gtk_window_present (l->data);
          return;
        }
    }
  studio_application_open_project (self, folder);
}

static const GActionEntry app_actions[] = {
  { "new-project", new_project_activated, NULL, NULL, NULL, { 0 } },
  { "open-project", open_project_activated, NULL, NULL, NULL, { 0 } },
  { "open-demo", open_demo_activated, NULL, NULL, NULL, { 0 } },
  { "about", about_activated, NULL, NULL, NULL, { 0 } },
  { "help", help_activated, NULL, NULL, NULL, { 0 } },
  { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
  { "show-training", show_training_activated, "s", NULL, NULL, { 0 } },
};

static void
studio_application_startup (GApplication *app)
{
  GtkApplication *gtk_app = GTK_APPLICATION (app);
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.new-project", { "<Control>n", NULL } },
    { "app.open-project", { "<Control>o", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "app.help", { "F1", NULL } },
    { "win.show-dataset", { "<Alt>1", NULL } },
    { "win.show-train", { "<Alt>2", NULL } },
    { "win.show-samples", { "<Alt>3", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  G_APPLICATION_CLASS (studio_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (gtk_app, accels[i].action, accels[i].accels);
}

static void
studio_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (studio_window_new (STUDIO_APPLICATION (app)));
  gtk_window_present (window);
}

static void
studio_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  for (int i = 0; i < n_files; i++)
    studio_application_open_project (STUDIO_APPLICATION (app), files[i]);
}

static int
studio_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  g_autoptr (GError) error = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("lora-studio %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_contains (options, "demo"))
    {
      /* Activating the action reaches the running instance when there is one. */
      if (!g_application_register (app, NULL, &error))
        {
          g_printerr ("lora-studio: %s\n", error->message);
          return 1;
        }
      g_action_group_activate_action (G_ACTION_GROUP (app), "open-demo", NULL);
      if (g_application_get_is_remote (app))
        return 0;
      /* Go on: activate shows the welcome page until the demo copy is ready. */
    }

  return G_APPLICATION_CLASS (studio_application_parent_class)->handle_local_options (app, options);
}

static void
studio_application_dispose (GObject *object)
{
  StudioApplication *self = STUDIO_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (studio_application_parent_class)->dispose (object);
}

static void
studio_application_class_init (StudioApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = studio_application_dispose;
  app_class->startup = studio_application_startup;
  app_class->activate = studio_application_activate;
  app_class->open = studio_application_open;
  app_class->handle_local_options = studio_application_handle_local_options;
}

static void
studio_application_init (StudioApplication *self)
{
  static const GOptionEntry entries[] = {
    { "demo", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Open the demo project"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };

  /* Referencing the resource keeps its object file (and the constructor that
   * registers it) in binaries linking the static library. */
  (void) studio_get_resource ();
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
}
