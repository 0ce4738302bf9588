/* sd-demo.c: the demo dataset and the base options of the SD training tests (see
 * sd-demo.h). */
#include "sd-demo.h"

#include <string.h>

#include "sd-train-job.h"   /* sd_images_decode, sd_images_free */

void
sd_demo_read (const char *demo_dir, GPtrArray *paths, GPtrArray *captions)
{
  g_autofree char *csv = g_build_filename (demo_dir, "dataset", "metadata.csv", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (csv, &text, NULL, NULL))
    return;
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 1; lines[i]; i++)   /* line 0 is the header */
    {
      char *comma = strchr (lines[i], ',');
      if (comma == NULL)
        continue;
      *comma = '\0';
      g_ptr_array_add (paths, g_build_filename (demo_dir, "dataset", lines[i], NULL));
      char *cap = comma + 1;
      if (*cap == '"')
        {
          cap++;
          char *end = strrchr (cap, '"');
          if (end)
            *end = '\0';
        }
      g_ptr_array_add (captions, g_strdup (cap));
    }
}

void
sd_demo_options (sd_lora_options *o, const char *model, const char *out,
                 sd_train_item *items, int n)
{
  *o = (sd_lora_options) {   /* the rest zero */
    .base_model = model, .items = items, .n_items = n,
    .decode = sd_images_decode, .free_image = sd_images_free,
    .resolution = 64, .repeats = 1, .clip_skip = 1, .rank = 4, .alpha = 4, .device = "cpu",
  };
  le_trainer_options_default (&o->train);
  o->train.output_dir = out;
  o->train.batch_size = 4;
  o->train.epochs = 1;
  o->train.learning_rate = 3e-3;
  o->train.scheduler = "constant";
  o->train.warmup_steps = 0;
  o->train.seed = 3;
}
