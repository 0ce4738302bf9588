/* event-writer.c: one-line-at-a-time protocol output (see event-writer.h). */
#include "event-writer.h"

#include <stdio.h>

static GMutex emit_lock;

void
cli_emit (char *line)
{
  g_mutex_lock (&emit_lock);
  fputs (line, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
  g_mutex_unlock (&emit_lock);
  g_free (line);
}
