/* cmd-sample.c: `lora-engine sample --config C --lora FILE --prompt P [--negative N]
 * [--weight W] [--steps S] [--cfg G] [--seed N] [--sampler ddim|euler_a] --out FILE.png`:
 * draws one image with the config's base model and a LoRA at strength W (the
 * <lora:name:W> of WebUI), as the training previews are drawn (gpu/models/sd-sampler.h). */
#include "config.h"

#include <stdio.h>

#include "commands.h"
#include "sample-job.h"

int
cmd_sample (int argc, char **argv)
{
  g_autofree char *config_path = NULL, *base = NULL, *lora = NULL, *prompt = NULL;
  g_autofree char *negative = NULL, *sampler = NULL, *out = NULL, *device = NULL;
  double weight = 1.0, cfg = 0;
  int steps = 0, width = 0, height = 0;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "A training config: its base_model, resolution, clip_skip and sample settings", "FILE" },
    { "base", 'b', 0, G_OPTION_ARG_FILENAME, &base, "The base model (default: the config's)",
      "MODEL" },
    { "lora", 'l', 0, G_OPTION_ARG_FILENAME, &lora, "The LoRA file (kohya or diffusers)",
      "FILE" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "What to draw", "TEXT" },
    { "negative", 'n', 0, G_OPTION_ARG_STRING, &negative, "What not to draw", "TEXT" },
    { "weight", 'w', 0, G_OPTION_ARG_DOUBLE, &weight, "LoRA strength (default 1)", "W" },
    { "steps", 's', 0, G_OPTION_ARG_INT, &steps, "Sampler steps (default sample_steps)", "N" },
    { "cfg", 'g', 0, G_OPTION_ARG_DOUBLE, &cfg, "Guidance scale (default sample_cfg_scale)",
      "G" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Noise seed (default the config's seed)", "N" },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &sampler, "ddim or euler_a", "NAME" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Image width (default resolution)", "PX" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Image height (default resolution)", "PX" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu or cuda (default cpu)", "DEVICE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PNG to write", "FILE.png" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- draw an image with a LoRA");
  g_option_context_set_summary (context,
    "Writes a PNG whose \"parameters\" text chunk holds the prompt and settings in\n"
    "AUTOMATIC1111's format. Without --lora the base model draws alone.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if ((config_path == NULL && base == NULL) || prompt == NULL || out == NULL)
    {
      fprintf (stderr, "%s: --config FILE (or --base MODEL), --prompt TEXT and --out FILE.png "
               "are required (see %s --help)\n", argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  SampleJobArgs args = {
    .config_path = config_path, .base = base, .lora = lora, .weight = weight,
    .prompt = prompt, .negative = negative, .seed = seed, .steps = steps, .cfg = cfg,
    .width = width, .height = height, .sampler = sampler, .device = device, .out = out,
  };
  le_error err = { 0 };
  g_autofree char *written = sample_job_run (&args, &err);
  if (written == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", written);
  return CLI_EXIT_OK;
}
