/* event-writer.c: one-line-at-a-time protocol output (see event-writer.h). */
#include "event-writer.h"

#include <stdio.h>

static GMutex emit_lock;
static CliEmitFunc redirect_func;
static gpointer redirect_data;

void
cli_emit_redirect (CliEmitFunc func, gpointer data)
{
  g_mutex_lock (&emit_lock);
  redirect_func = func;
  redirect_data = data;
  g_mutex_unlock (&emit_lock);
}

void
cli_emit (char *line)
{
  g_mutex_lock (&emit_lock);
  if (redirect_func != NULL)
    redirect_func (line, redirect_data);
  else
    {
      fputs (line, stdout);
      fputc ('\n', stdout);
      fflush (stdout);
    }
  g_mutex_unlock (&emit_lock);
  g_free (line);
}
