/* cli-options.c: option parsing shared by every subcommand (see commands.h). */
#include <stdio.h>

#include "commands.h"

gboolean
cli_parse_options (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "%s: %s (see %s --help)\n", (*argv)[0], error->message, (*argv)[0]);
      return FALSE;
    }
  if (*argc > 1)
    {
      fprintf (stderr, "%s: unexpected argument \"%s\" (see %s --help)\n",
               (*argv)[0], (*argv)[1], (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}
