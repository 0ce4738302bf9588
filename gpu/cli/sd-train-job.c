/* sd-train-job.c: config and dataset to an SD LoRA run (see sd-train-job.h). */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdlib.h>
#include <string.h>

#include "sd-train-job.h"

#include "sd-lora-run.h"
#include "studio-dataset.h"
#include "studio-dataset-item.h"

bool
sd_images_decode (void *user, const char *path, sd_rgb_image *img, char *why, size_t why_len)
{
  (void) user;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) raw = gdk_pixbuf_new_from_file (path, &error);
  if (raw == NULL)
    {
      g_strlcpy (why, error->message, why_len);
      return false;
    }
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_apply_embedded_orientation (raw);
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int ch = gdk_pixbuf_get_n_channels (pb);
  if (gdk_pixbuf_get_bits_per_sample (pb) != 8 || (ch != 3 && ch != 4) || w < 1 || h < 1)
    {
      g_strlcpy (why, "not an 8-bit RGB image", why_len);
      return false;
    }
  int64_t stride = (int64_t) w * ch;
  uint8_t *copy = malloc ((size_t) (stride * h));
  if (copy == NULL)
    {
      g_strlcpy (why, "out of memory", why_len);
      return false;
    }
  const guint8 *src = gdk_pixbuf_read_pixels (pb);
  int rs = gdk_pixbuf_get_rowstride (pb);
  for (int y = 0; y < h; y++)
    memcpy (copy + y * stride, src + (size_t) y * rs, (size_t) stride);
  *img = (sd_rgb_image) { .width = w, .height = h, .channels = ch, .stride = stride,
                          .pixels = copy };
  return true;
}

void
sd_images_free (void *user, sd_rgb_image *img)
{
  (void) user;
  free ((void *) img->pixels);
  img->pixels = NULL;
}

le_run_status
sd_train_job_run (const TrainJobArgs *args, StudioConfig *config,
                  const le_trainer_options *train, const le_run_hooks *hooks,
                  GPtrArray *outputs)
{
  g_autoptr(GError) error = NULL;
  StudioCaptionStore store = config->metadata_path ? STUDIO_CAPTION_STORE_CSV
                                                   : STUDIO_CAPTION_STORE_SIDECAR;
  g_autoptr(StudioDataset) ds = studio_dataset_load (config->train_data_dir, store,
                                                     config->metadata_path,
                                                     STUDIO_DATASET_LOAD_DEFAULT, NULL, &error);
  if (ds == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("train_data_dir: %s", error->message);
      hooks->error (hooks->user, "dataset", msg);
      return LE_RUN_FAILED;
    }
  guint n = g_list_model_get_n_items (G_LIST_MODEL (ds));
  g_autofree sd_train_item *items = g_new0 (sd_train_item, n ? n : 1);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      StudioDatasetItem *item = g_list_model_get_item (G_LIST_MODEL (ds), i);
      g_ptr_array_add (keep, item);
      items[i].path = studio_dataset_item_get_path (item);
      items[i].caption = studio_dataset_item_get_caption (item);
    }

  g_autoptr(GArray) prompts = g_array_new (FALSE, TRUE, sizeof (sd_sample_prompt));
  for (guint i = 0; config->sample_prompts != NULL && i < config->sample_prompts->len; i++)
    {
      StudioSamplePrompt *p = config->sample_prompts->pdata[i];
      sd_sample_prompt sp = {
        .prompt = p->prompt, .negative = p->negative_prompt, .seed = p->seed,
        .steps = p->steps, .cfg = p->cfg_scale, .width = p->width, .height = p->height,
        .sampler = p->sampler,
      };
      g_array_append_val (prompts, sp);
    }
  g_auto(GStrv) targets = studio_config_get_string_list (config, "target_modules");
  g_autofree char *dataset_name = g_path_get_basename (config->train_data_dir);
  sd_lora_options o = {
    .base_model = config->base_model,
    .tokenizer_path = studio_config_get_string (config, "tokenizer_path"),
    .items = items,
    .n_items = n,
    .decode = sd_images_decode,
    .free_image = sd_images_free,
    .dataset_name = dataset_name,
    .resolution = (int) studio_config_get_int (config, "resolution"),
    .enable_bucket = studio_config_get_bool (config, "enable_bucket"),
    .repeats = (int) studio_config_get_int (config, "repeats"),
    .random_flip = studio_config_get_bool (config, "random_flip"),
    .caption_dropout = studio_config_get_number (config, "caption_dropout"),
    .noise_offset = studio_config_get_number (config, "noise_offset"),
    .min_snr_gamma = studio_config_get_number (config, "min_snr_gamma"),
    .clip_skip = (int) studio_config_get_int (config, "clip_skip"),
    .cache_latents = studio_config_get_string (config, "cache_latents"),
    .target_modules = (const char *const *) targets,
    .rank = config->lora_rank,
    .alpha = config->lora_alpha,
    .dropout = config->lora_dropout,
    .conv_rank = (int) studio_config_get_int (config, "conv_rank"),
    .conv_alpha = studio_config_get_number (config, "conv_alpha"),
    .train_text_encoder = studio_config_get_bool (config, "train_text_encoder"),
    .text_encoder_lr = studio_config_get_number (config, "text_encoder_lr"),
    .gradient_checkpointing = studio_config_get_bool (config, "gradient_checkpointing"),
    .device = args->device != NULL ? args->device : studio_config_get_string (config, "device"),
    .mixed_precision = studio_config_get_string (config, "mixed_precision"),
    .sample_prompts = (const sd_sample_prompt *) prompts->data,
    .n_sample_prompts = (int) prompts->len,
    .sample_steps = (int) studio_config_get_int (config, "sample_steps"),
    .sample_cfg = studio_config_get_number (config, "sample_cfg_scale"),
    .sample_sampler = studio_config_get_string (config, "sample_sampler"),
    .save_format = studio_config_get_string (config, "save_format"),
    .output_name = studio_config_get_string (config, "output_name"),
    .train = *train,
  };
  if (args->resume != NULL)
    o.train.resume = g_str_equal (args->resume, "latest") ? config->output_dir : args->resume;

  le_trainer_result result;
  memset (&result, 0, sizeof result);
  le_error err = { 0 };
  le_run_status status = sd_lora_run_all (&o, hooks, &result, &err);
  for (int i = 0; i < result.n_outputs && status == LE_RUN_COMPLETED; i++)
    g_ptr_array_add (outputs, g_strdup (result.outputs[i]));
  if (result.last_checkpoint[0] != '\0')
    g_ptr_array_add (outputs, g_strdup (result.last_checkpoint));
  return status;
}
