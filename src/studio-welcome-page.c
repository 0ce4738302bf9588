/* studio-welcome-page.c: StudioWelcomePage: New, Open, the demo, recent projects. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-application.h"
#include "studio-welcome-page.h"

struct _StudioWelcomePage
{
  AdwBin parent_instance;

  AdwStatusPage       *status_page;
  AdwPreferencesGroup *recent_group;
  GtkListBox          *recent_list;
};

G_DEFINE_FINAL_TYPE (StudioWelcomePage, studio_welcome_page, ADW_TYPE_BIN)

void
studio_welcome_page_set_recent (StudioWelcomePage *self, const char *const *paths)
{
  GtkWidget *child;
  guint n = 0;

  g_return_if_fail (STUDIO_IS_WELCOME_PAGE (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);

  for (; paths != NULL && paths[n] != NULL; n++)
    {
      g_autofree char *name = g_path_get_basename (paths[n]);
      g_autoptr (GFile) file = g_file_new_for_path (paths[n]);
      g_autofree char *shown = g_file_get_parse_name (file);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), shown);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.open-recent");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", paths[n]);
      gtk_list_box_append (self->recent_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), n > 0);
}

static void
studio_welcome_page_class_init (StudioWelcomePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioWelcomePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, StudioWelcomePage, recent_group);
  gtk_widget_class_bind_template_child (widget_class, StudioWelcomePage, recent_list);
}

static void
studio_welcome_page_init (StudioWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  adw_status_page_set_icon_name (self->status_page, studio_application_get_icon_name ());
}
