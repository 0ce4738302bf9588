/* cmd-serve.c: `lora-engine serve`: the JSON Lines protocol on stdin/stdout for
 * lora-studio (help/protocol.md). Sends `hello` first; answers every bad line with
 * an `error` event and keeps serving; ends on `shutdown` or end of input. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "device-list.h"
#include "event-writer.h"
#include "serve-session.h"
#include "studio-protocol.h"

int
cmd_serve (int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GOptionContext) context = g_option_context_new ("- talk to lora-studio");
  g_option_context_set_summary (context,
    "Reads requests, one JSON object per line, on standard input and writes events,\n"
    "one JSON object per line, on standard output; log text goes to standard error.\n"
    "The protocol is described in the LoRA Studio help (protocol.md).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;

  {
    g_autoptr(CliDeviceList) devices = cli_device_list_probe ();
    cli_emit (studio_event_hello (devices->devices, devices->n_devices,
                                  devices->cuda_unavailable));
  }

  ServeSession *session = serve_session_new (NULL);
  char *line = NULL;
  size_t capacity = 0;
  ssize_t len;
  gboolean serving = TRUE;

  while (serving && (len = getline (&line, &capacity, stdin)) >= 0)
    {
      while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
      /* Blank lines are harmless (an app may send one to see that we are alive). */
      if (len == 0 || strspn (line, " \t") == (size_t) len)
        continue;
      if (strlen (line) != (size_t) len)
        {
          cli_emit (studio_event_error (NULL, "malformed", "the line contains a NUL byte"));
          continue;
        }

      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      g_autoptr(StudioRequest) request = studio_protocol_parse_request (line, &id, &error);
      if (request == NULL)
        {
          cli_emit (studio_event_error (id, studio_protocol_error_code (error),
                                        error->message));
          continue;
        }
      serving = serve_session_handle (session, request);
    }

  free (line);
  serve_session_free (session);
  return CLI_EXIT_OK;
}
