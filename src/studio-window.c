/* studio-window.c: StudioWindow: switches between the welcome page and a project's
 * views, owns the window actions (win.show-dataset/-train/-samples), the folder
 * choosers, the folder drop target, and remembers its size. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "studio-project.h"
#include "studio-project-view.h"
#include "studio-welcome-page.h"
#include "studio-window.h"

struct _StudioWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay     *toast_overlay;
  AdwViewSwitcherTitle *switcher_title;
  AdwViewSwitcherBar  *switcher_bar;
  GtkStack            *main_stack;
  StudioWelcomePage   *welcome_page;
  StudioProjectView   *project_view;

  GFile               *project_folder;
  GSList              *pending_import;   /* GFile*: images dropped on the welcome page */
};

G_DEFINE_FINAL_TYPE (StudioWindow, studio_window, ADW_TYPE_APPLICATION_WINDOW)

static GSettings *
get_settings (StudioWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return STUDIO_IS_APPLICATION (app) ? studio_application_get_settings (STUDIO_APPLICATION (app))
                                     : NULL;
}

static void
update_switchers (StudioWindow *self)
{
  gboolean project = self->project_folder != NULL;

  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, project);
  /* The bottom bar takes over when the header is too narrow for the switcher. */
  adw_view_switcher_bar_set_reveal (self->switcher_bar,
                                    project && adw_view_switcher_title_get_title_visible (self->switcher_title));
  for (guint i = 0; i < 3; i++)
    {
      static const char *names[] = { "show-dataset", "show-train", "show-samples" };
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), names[i]);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), project);
    }
}

static void
show_view (StudioWindow *self, const char *name)
{
  if (self->project_folder != NULL)
    studio_project_view_set_visible_view (self->project_view, name);
}

static void
show_dataset_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  show_view (user_data, "dataset");
}

static void
show_train_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  show_view (user_data, "train");
}

static void
show_samples_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  show_view (user_data, "samples");
}

/* Zoom and image navigation belong to the Dataset view; the window holds them so
 * that their accelerators work wherever the focus is (the caption text included). */
static void
dataset_action_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  StudioWindow *self = user_data;
  g_autofree char *name = g_strconcat ("dataset.", g_action_get_name (G_ACTION (action)), NULL);

  if (self->project_folder != NULL)
    gtk_widget_activate_action (GTK_WIDGET (studio_project_view_get_dataset_view (self->project_view)),
                                name, NULL);
}

static void open_recent_activated (GSimpleAction *action, GVariant *param, gpointer user_data);

static const GActionEntry win_actions[] = {
  { "show-dataset", show_dataset_activated, NULL, NULL, NULL, { 0 } },
  { "show-train", show_train_activated, NULL, NULL, NULL, { 0 } },
  { "show-samples", show_samples_activated, NULL, NULL, NULL, { 0 } },
  { "open-recent", open_recent_activated, "s", NULL, NULL, { 0 } },
  { "zoom-in", dataset_action_activated, NULL, NULL, NULL, { 0 } },
  { "zoom-out", dataset_action_activated, NULL, NULL, NULL, { 0 } },
  { "previous-image", dataset_action_activated, NULL, NULL, NULL, { 0 } },
  { "next-image", dataset_action_activated, NULL, NULL, NULL, { 0 } },
};

static const struct { const char *action; const char *accels[4]; } dataset_accels[] = {
  { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL } },
  { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
  { "win.previous-image", { "<Alt>Left", NULL } },
  { "win.next-image", { "<Alt>Right", NULL } },
};

gboolean
studio_window_has_project (StudioWindow *self)
{
  g_return_val_if_fail (STUDIO_IS_WINDOW (self), FALSE);
  return self->project_folder != NULL;
}

GFile *
studio_window_get_project_folder (StudioWindow *self)
{
  g_return_val_if_fail (STUDIO_IS_WINDOW (self), NULL);
  return self->project_folder;
}

void
studio_window_show_toast (StudioWindow *self, const char *message)
{
  g_return_if_fail (STUDIO_IS_WINDOW (self));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

void
studio_window_show_error (StudioWindow *self, const char *heading, const char *body)
{
  GtkWidget *dialog;

  g_return_if_fail (STUDIO_IS_WINDOW (self));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
refresh_recent (StudioWindow *self)
{
  GSettings *settings = get_settings (self);
  g_auto (GStrv) recent = settings ? studio_recent_projects_get (settings) : NULL;

  studio_welcome_page_set_recent (self->welcome_page, (const char *const *) recent);
}

static void
show_project (StudioWindow *self, StudioProject *project)
{
  GSettings *settings = get_settings (self);
  g_autoptr (GFile) folder = g_file_new_for_path (studio_project_get_folder (project));

  g_set_object (&self->project_folder, folder);
  gtk_window_set_title (GTK_WINDOW (self), studio_project_get_name (project));
  adw_view_switcher_title_set_title (self->switcher_title, studio_project_get_name (project));
  studio_project_view_set_project (self->project_view, project);
  studio_project_view_set_visible_view (self->project_view, "dataset");
  gtk_stack_set_visible_child_name (self->main_stack, "project");
  update_switchers (self);

  if (settings != NULL)
    studio_recent_projects_add (settings, studio_project_get_folder (project));
}

typedef struct {
  char    *folder;
  char    *dataset_dir;   /* create only; NULL: FOLDER/dataset */
  gboolean create;
} ProjectRequest;

static void
project_request_free (ProjectRequest *request)
{
  g_free (request->folder);
  g_free (request->dataset_dir);
  g_free (request);
}

static void
project_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ProjectRequest *request = task_data;
  GError *error = NULL;
  StudioProject *project;

  if (request->create)
    project = studio_project_create (request->folder, STUDIO_TASK_IMAGE_LORA,
                                     request->dataset_dir, &error);
  else
    project = studio_project_open (request->folder, &error);

  if (project == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, project, g_object_unref);
}

static void
project_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioWindow *self = STUDIO_WINDOW (source);
  ProjectRequest *request = g_task_get_task_data (G_TASK (result));
  g_autoptr (StudioProject) project = NULL;
  g_autoptr (GError) error = NULL;

  project = g_task_propagate_pointer (G_TASK (result), &error);
  if (project != NULL)
    {
      show_project (self, project);
      if (self->pending_import != NULL)
        {
          studio_dataset_view_import (studio_project_view_get_dataset_view (self->project_view),
                                      self->pending_import);
          g_slist_free_full (g_steal_pointer (&self->pending_import), g_object_unref);
        }
      return;
    }
  g_slist_free_full (g_steal_pointer (&self->pending_import), g_object_unref);

  studio_window_show_error (self,
                            request->create ? _("Cannot create the project")
                                            : _("Cannot open the project"),
                            error->message);
  /* A recent project that has gone or broken stays listed only while it exists. */
  refresh_recent (self);
}

static void
start_project_request (StudioWindow *self, GFile *folder, GFile *dataset_dir, gboolean create)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, project_ready, NULL);
  ProjectRequest *request = g_new0 (ProjectRequest, 1);

  request->folder = g_file_get_path (folder);
  request->dataset_dir = dataset_dir ? g_file_get_path (dataset_dir) : NULL;
  request->create = create;
  if (request->folder == NULL)
    {
      studio_window_show_error (self, _("Cannot open the project"),
                                _("The folder is not on a local disk. Copy it to your "
                                  "computer first."));
      project_request_free (request);
      return;
    }
  g_task_set_task_data (task, request, (GDestroyNotify) project_request_free);
  g_task_run_in_thread (task, project_thread);
}

void
studio_window_open_project (StudioWindow *self, GFile *folder)
{
  g_return_if_fail (STUDIO_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (folder));

  start_project_request (self, folder, NULL, FALSE);
}

void
studio_window_create_project (StudioWindow *self, GFile *folder, GFile *dataset_dir)
{
  g_return_if_fail (STUDIO_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (folder));

  start_project_request (self, folder, dataset_dir, TRUE);
}

static void
open_recent_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_autoptr (GFile) folder = g_file_new_for_path (g_variant_get_string (param, NULL));

  studio_window_open_project (user_data, folder);
}

static void
chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  StudioWindow *self = user_data;
  gboolean create = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "create"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

      if (create)
        studio_window_create_project (self, folder, NULL);
      else if (self->project_folder != NULL && STUDIO_IS_APPLICATION (app))
        studio_application_open_project (STUDIO_APPLICATION (app), folder);
      else
        studio_window_open_project (self, folder);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  g_object_unref (self);
}

void
studio_window_choose_project_folder (StudioWindow *self, gboolean create)
{
  GtkFileChooserNative *chooser;

  g_return_if_fail (STUDIO_IS_WINDOW (self));

  chooser = gtk_file_chooser_native_new (create ? _("New Project") : _("Open Project"),
                                         GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         create ? _("_Create") : _("_Open"),
                                         _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "create", GINT_TO_POINTER (create));
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Image files dropped on the welcome page (not a folder) become a new project in
 * Documents/LoRA Studio/, named after their folder; the Dataset view then copies them
 * in as it imports any drop, refusing what is not an image. */
static gboolean
create_project_for_files (StudioWindow *self, GSList *files)
{
  const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
  g_autofree char *parent = g_build_filename (documents ? documents : g_get_home_dir (),
                                              "LoRA Studio", NULL);
  g_autoptr (GFile) source_dir = g_file_get_parent (files->data);
  g_autofree char *base = source_dir ? g_file_get_basename (source_dir) : NULL;
  g_autofree char *path = NULL;
  g_autoptr (GFile) folder = NULL;

  if (base == NULL || g_str_equal (base, "/"))
    {
      g_free (base);
      base = g_strdup (_("New Project"));
    }
  for (guint n = 1; path == NULL || g_file_test (path, G_FILE_TEST_EXISTS); n++)
    {
      g_autofree char *name = n == 1 ? g_strdup (base) : g_strdup_printf ("%s %u", base, n);
      g_free (path);
      path = g_build_filename (parent, name, NULL);
    }
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      g_autofree char *message = g_strdup_printf (_("Cannot create the folder “%s”: %s"), path,
                                                  g_strerror (errno));
      studio_window_show_error (self, _("Cannot create the project"), message);
      return FALSE;
    }
  g_slist_free_full (g_steal_pointer (&self->pending_import), g_object_unref);
  for (GSList *l = files; l != NULL; l = l->next)
    self->pending_import = g_slist_append (self->pending_import, g_object_ref (l->data));
  folder = g_file_new_for_path (path);
  studio_window_create_project (self, folder, NULL);
  return TRUE;
}

/* A folder dropped on the welcome page becomes a project: an existing one opens, any
 * other folder (of images) is made into one. */
static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, gpointer user_data)
{
  StudioWindow *self = user_data;
  GSList *files;
  GFile *folder;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  folder = files ? files->data : NULL;

  if (folder == NULL)
    {
      studio_window_show_toast (self, _("Drop a folder of images to make a project of it"));
      return FALSE;
    }
  if (g_file_query_file_type (folder, G_FILE_QUERY_INFO_NONE, NULL) != G_FILE_TYPE_DIRECTORY)
    {
      gboolean created = create_project_for_files (self, files);
      g_slist_free (files);
      return created;
    }

  {
    g_autoptr (GFile) config = g_file_get_child (folder, "config.yaml");
    if (g_file_query_exists (config, NULL))
      studio_window_open_project (self, folder);
    else
      /* The images stay where they are and become the dataset. */
      studio_window_create_project (self, folder, folder);
  }
  g_slist_free (files);
  return TRUE;
}

static GdkDragAction
on_drop_enter (GtkDropTarget *target, double x, double y, gpointer user_data)
{
  StudioWindow *self = user_data;

  /* Dropping into an open project imports images: the Dataset view's job. */
  return self->project_folder == NULL ? GDK_ACTION_COPY : 0;
}

static void
on_title_visible (StudioWindow *self)
{
  update_switchers (self);
}

static void
load_window_state (StudioWindow *self)
{
  GSettings *settings = get_settings (self);

  if (settings == NULL)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (settings, "window-width"),
                               g_settings_get_int (settings, "window-height"));
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static gboolean
studio_window_close_request (GtkWindow *window)
{
  StudioWindow *self = STUDIO_WINDOW (window);
  GSettings *settings = get_settings (self);

  if (settings != NULL)
    {
      int width, height;

      /* The default size is the unmaximized size, which is what to restore. */
      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (settings);
      g_settings_set_int (settings, "window-width", width);
      g_settings_set_int (settings, "window-height", height);
      g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
      g_settings_apply (settings);
    }
  return GTK_WINDOW_CLASS (studio_window_parent_class)->close_request (window);
}

static void
studio_window_dispose (GObject *object)
{
  StudioWindow *self = STUDIO_WINDOW (object);

  g_clear_object (&self->project_folder);
  g_slist_free_full (g_steal_pointer (&self->pending_import), g_object_unref);
  G_OBJECT_CLASS (studio_window_parent_class)->dispose (object);
}

static void
studio_window_class_init (StudioWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = studio_window_dispose;
  window_class->close_request = studio_window_close_request;

  g_type_ensure (STUDIO_TYPE_WELCOME_PAGE);
  g_type_ensure (STUDIO_TYPE_PROJECT_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-window.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, StudioWindow, project_view);
}

static void
studio_window_init (StudioWindow *self)
{
  GtkDropTarget *drop;
  AdwViewStack *stack;

  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);

  stack = studio_project_view_get_stack (self->project_view);
  adw_view_switcher_title_set_stack (self->switcher_title, stack);
  adw_view_switcher_bar_set_stack (self->switcher_bar, stack);
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible",
                            G_CALLBACK (on_title_visible), self);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "enter", G_CALLBACK (on_drop_enter), self);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self->welcome_page), GTK_EVENT_CONTROLLER (drop));

  update_switchers (self);
}

StudioWindow *
studio_window_new (StudioApplication *application)
{
  StudioWindow *self = g_object_new (STUDIO_TYPE_WINDOW, "application", application, NULL);

  /* Here, not in constructed(): "application" is set only after construction. */
  if (application != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (dataset_accels); i++)
      gtk_application_set_accels_for_action (GTK_APPLICATION (application), dataset_accels[i].action,
                                             dataset_accels[i].accels);
  load_window_state (self);
  refresh_recent (self);
  return self;
}
