/* event-writer.h: writes protocol lines to stdout, one whole line at a time.
 * The serve loop and the training worker thread both emit events; a lock keeps
 * their lines from interleaving, and each line is flushed so the app sees it now. */
#pragma once

#include <glib.h>

/* Writes LINE (no trailing newline) plus '\n' to stdout and frees it. */
void cli_emit (char *line);

/* Tests: send lines to FUNC instead of stdout (NULL restores stdout). FUNC runs
 * under the writer's lock, from whichever thread emits. */
typedef void (*CliEmitFunc) (const char *line, gpointer data);
void cli_emit_redirect (CliEmitFunc func, gpointer data);
