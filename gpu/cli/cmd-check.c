/* cmd-check.c: `lora-engine check --config FILE [--json]`: validate a config and
 * the files it names, print every problem; exit 1 if there is any. */
#include "config.h"

#include <stdio.h>

#include "commands.h"
#include "config-problems.h"
#include "event-writer.h"
#include "studio-protocol.h"

int
cmd_check (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "The training config to check (YAML)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print problems as protocol error events (JSON Lines)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- check a training config");
  g_option_context_set_summary (context,
    "Loads the config, checks every key, and checks the files it names (data folder,\n"
    "base model, output folder). Prints each problem as FILE:LINE: message and exits\n"
    "with status 1 when there is any, 0 when the config is ready to train.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (config_path == NULL)
    {
      fprintf (stderr, "lora-engine check: --config FILE is required "
                       "(see lora-engine check --help)\n");
      return CLI_EXIT_USAGE;
    }

  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(StudioConfig) config = cli_config_load_checked (config_path, problems);

  for (guint i = 0; i < problems->len; i++)
    {
      GError *error = problems->pdata[i];
      g_autofree char *text = cli_problem_text (config_path, error);
      if (json)
        cli_emit (studio_event_error (NULL, cli_config_error_code (error), text));
      else
        fprintf (stderr, "%s\n", text);
    }

  if (problems->len > 0)
    {
      if (json)
        cli_emit (studio_event_done (NULL, "failed", NULL));
      else
        fprintf (stderr, "%s: %u problem%s found\n", config_path, problems->len,
                 problems->len == 1 ? "" : "s");
      return CLI_EXIT_PROBLEMS;
    }

  g_autofree char *summary = g_strdup_printf (
    "%s: no problems (%s, base model %s, rank %d, %d epoch%s, batch size %d)",
    config_path, studio_config_task_name (config->task_type),
    config->base_model ? config->base_model : "(none)", config->lora_rank,
    config->epochs, config->epochs == 1 ? "" : "s", config->batch_size);
  if (json)
    {
      cli_emit (studio_event_log (NULL, "info", summary));
      cli_emit (studio_event_done (NULL, "completed", NULL));
    }
  else
    printf ("%s\n", summary);
  return CLI_EXIT_OK;
}
