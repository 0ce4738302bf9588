/* cmd-generate.c: `lora-engine generate --config C [--adapter DIR] --prompt P ...`: text
 * from a LLaMA-family model (and adapter): greedy at temperature 0, else sampling with
 * temperature and top-p from a seeded generator, with a key/value cache. Prints the prompt
 * and its continuation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "text-generate.h"

int
cmd_generate (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *adapter = NULL;
  g_autofree char *device = NULL;
  g_autofree char *prompt = NULL;
  int max_tokens = 64;
  double temperature = 0.7, top_p = 0.9;
  gint64 seed = 42;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "The training config (YAML, task_type text-generation)", "FILE" },
    { "adapter", 'a', 0, G_OPTION_ARG_FILENAME, &adapter,
      "A PEFT adapter folder", "DIR" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "The text to continue", "TEXT" },
    { "max-tokens", 'n', 0, G_OPTION_ARG_INT, &max_tokens,
      "Most tokens to generate (default 64)", "N" },
    { "temperature", 't', 0, G_OPTION_ARG_DOUBLE, &temperature,
      "Sampling temperature; 0 picks the most likely token (default 0.7)", "T" },
    { "top-p", 0, 0, G_OPTION_ARG_DOUBLE, &top_p,
      "Sample from the most likely tokens holding this share of probability (default 0.9)",
      "P" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the sampling (default 42)", "S" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "auto, cpu or cuda (default: the config's device)", "DEVICE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- generate text");
  g_option_context_set_summary (context,
    "Continues --prompt with the config's base_model (and --adapter), and prints the text.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (config_path == NULL || prompt == NULL)
    {
      fprintf (stderr, "%s: --config FILE and --prompt TEXT are required (see %s --help)\n",
               argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  if (max_tokens < 0 || max_tokens > 100000 || !(temperature >= 0) || !(top_p > 0)
      || top_p > 1)
    {
      fprintf (stderr, "%s: --max-tokens 0 to 100000, --temperature >= 0 and --top-p in "
               "(0, 1] please\n", argv[0]);
      return CLI_EXIT_USAGE;
    }
  TextSession s;
  if (!text_session_open (&s, argv[0], config_path, adapter, device))
    {
      text_session_close (&s);
      return CLI_EXIT_PROBLEMS;
    }
  le_error err = { 0 };
  char *text = text_generate (&s, prompt, max_tokens, temperature, top_p, (uint64_t) seed,
                              &err);
  int status = text != NULL ? CLI_EXIT_OK : CLI_EXIT_PROBLEMS;
  if (text == NULL)
    fprintf (stderr, "%s: %s\n", argv[0], err.message);
  else
    printf ("%s\n", text);
  free (text);
  text_session_close (&s);
  return status;
}
