/* main.c: lora-studio entry point. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "studio-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (StudioApplication) app = NULL;

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = studio_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
