/* main.c: lora-studio entry point. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

int
main (int argc, char **argv)
{
  g_autoptr (AdwApplication) app = NULL;

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = adw_application_new (APP_ID, G_APPLICATION_HANDLES_OPEN);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
