/* cmd-sample.c: `lora-engine sample --config C --lora FILE --prompt P [--negative N]
 * [--weight W] [--steps S] [--cfg G] [--seed N] [--sampler ddim|euler_a] --out FILE.png`:
 * draws one image with the config's base model and a LoRA at strength W (the
 * <lora:name:W> of WebUI), as the training previews are drawn (gpu/models/sd-sampler.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kohya.h"
#include "sd-sampler.h"
#include "studio-config.h"

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
  g_autoptr(StudioConfig) config = NULL;
  if (config_path != NULL)
    {
      g_autoptr(GError) error = NULL;
      config = studio_config_load (config_path, &error);
      if (config == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return CLI_EXIT_PROBLEMS;
        }
    }
  const char *model_path = base ? base : config->base_model;
  int res = config ? (int) studio_config_get_int (config, "resolution") : 512;
  sd_sample_request q = {
    .prompt = prompt,
    .negative = negative,
    .seed = seed >= 0 ? (uint64_t) seed
            : config ? (uint64_t) studio_config_get_int (config, "seed") : 0,
    .steps = steps > 0 ? steps : config ? (int) studio_config_get_int (config, "sample_steps") : 20,
    .cfg = cfg > 0 ? cfg : config ? studio_config_get_number (config, "sample_cfg_scale") : 7.5,
    .width = width > 0 ? width : res,
    .height = height > 0 ? height : res,
    .sampler = sampler ? sampler
               : config ? studio_config_get_string (config, "sample_sampler") : "euler_a",
    .clip_skip = config ? (int) studio_config_get_int (config, "clip_skip") : 1,
    .model_name = model_path,
    .lora_weight = weight,
  };
  g_autofree char *lora_name = NULL;
  if (lora != NULL)
    {
      lora_name = g_path_get_basename (lora);
      char *dot = strrchr (lora_name, '.');
      if (dot)
        *dot = '\0';
      q.lora_name = lora_name;
    }
  le_error err = { 0 };
  const backend *be = backend_select (device ? device : "cpu", &err);
  sd15_model *m = be ? sd15_model_load (model_path, SD15_LOAD_ALL, SD15_DTYPE_KEEP, be, &err)
                     : NULL;
  le_clip_tokenizer *tok = NULL;
  graph *g = NULL;
  bool ok = m != NULL && (lora == NULL || kohya_load (m, lora, (float) weight, &err));
  if (ok)
    ok = (tok = le_clip_tokenizer_find (config ? studio_config_get_string (config, "tokenizer_path")
                                               : NULL, model_path, &err)) != NULL;
  if (ok)
    ok = (g = graph_new (be, &err)) != NULL;
  if (ok)
    ok = sd_sample_to_png (m, tok, g, &q, out, &err);
  graph_free (g);
  le_clip_tokenizer_free (tok);
  sd15_model_free (m);
  if (!ok)
    {
      fprintf (stderr, "%s: %s\n", argv[0], err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", out);
  return CLI_EXIT_OK;
}
