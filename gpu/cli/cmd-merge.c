/* cmd-merge.c: `lora-engine merge`: bakes a LoRA into its base model. Dispatches on the
 * kind of base model: an HF LLaMA-family folder (config.json) takes a PEFT adapter folder
 * and gives a full model folder; Stable Diffusion checkpoints arrive with their issue. */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>

#include "commands.h"
#include "kohya-merge.h"
#include "llama-merge.h"
#include "studio-config.h"

static gboolean
is_text_model (const char *base)
{
  g_autofree char *cfg = g_build_filename (base, "config.json", NULL);
  return g_file_test (cfg, G_FILE_TEST_IS_REGULAR)
         && !g_file_test (base, G_FILE_TEST_IS_REGULAR);
}

int
cmd_merge (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *base = NULL;
  g_autofree char *adapter = NULL;
  g_autofree char *lora = NULL;
  g_autofree char *out = NULL;
  double weight = 1.0;
  GOptionEntry entries[] = {
    { "base", 'b', 0, G_OPTION_ARG_FILENAME, &base,
      "The base model (default: the config's base_model)", "MODEL" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "A training config whose base_model is the base", "FILE" },
    { "adapter", 'a', 0, G_OPTION_ARG_FILENAME, &adapter,
      "The PEFT adapter folder of a text LoRA", "DIR" },
    { "lora", 'l', 0, G_OPTION_ARG_FILENAME, &lora,
      "The LoRA file or folder (same as --adapter)", "PATH" },
    { "weight", 'w', 0, G_OPTION_ARG_DOUBLE, &weight,
      "Strength of the LoRA (default 1)", "W" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Where to write the merged model (must not exist yet)", "PATH" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- bake a LoRA into a model");
  g_option_context_set_summary (context,
    "Writes base + weight * LoRA as a full model. For a Hugging Face LLaMA-family folder\n"
    "and a PEFT adapter: a folder with config.json, the tokenizer files and\n"
    "model.safetensors, written atomically.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (adapter == NULL)
    adapter = g_steal_pointer (&lora);
  if (base == NULL && config_path != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StudioConfig) config = studio_config_load (config_path, &error);
      if (config == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return CLI_EXIT_PROBLEMS;
        }
      base = g_strdup (config->base_model);
    }
  if (base == NULL || adapter == NULL || out == NULL)
    {
      fprintf (stderr, "%s: --base MODEL (or --config FILE), --adapter DIR and --out PATH are "
               "required (see %s --help)\n", argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  le_error err = { 0 };
  if (!is_text_model (base))
    {
      /* Stable Diffusion: a single file or diffusers folder and a kohya/diffusers LoRA
       * file give one single-file checkpoint with LDM names */
      int merged = 0;
      if (!sd_merge_lora (base, adapter, (float) weight, out, &merged, &err))
        {
          fprintf (stderr, "%s: %s\n", argv[0], err.message);
          return CLI_EXIT_PROBLEMS;
        }
      printf ("%s\n", out);
      return CLI_EXIT_OK;
    }
  if (!llama_merge_adapter (base, adapter, weight, out, &err))
    {
      fprintf (stderr, "%s: %s\n", argv[0], err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", out);
  return CLI_EXIT_OK;
}
