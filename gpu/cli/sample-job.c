/* sample-job.c: one preview drawn outside training (see the header). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sample-job.h"

#include "kohya.h"
#include "sd-sampler.h"
#include "studio-config.h"
#include "text-generate.h"

/* The LoRA file ARG names: the file itself, or the one a run folder (or one of its
 * checkpoint folders) holds. NULL with ERR when there is none. */
static char *
find_lora_file (const char *arg, le_error *err)
{
  if (!g_file_test (arg, G_FILE_TEST_EXISTS))
    {
      le_fail (err, LE_ERR_IO, "%s: no such LoRA file", arg);
      return NULL;
    }
  if (!g_file_test (arg, G_FILE_TEST_IS_DIR))
    return g_strdup (arg);
  const char *names[] = { "pytorch_lora_weights.safetensors", "lora.safetensors" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_build_filename (arg, names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return path;
      g_free (path);
    }
  le_fail (err, LE_ERR_UNSUPPORTED, "%s: this folder holds no LoRA file (%s); a checkpoint "
           "written by an older lora-engine holds only training state: pick the run's final "
           "LoRA or a newer checkpoint", arg, names[0]);
  return NULL;
}

static char *
default_out (const StudioConfig *config, const char *ext, le_error *err)
{
  if (config == NULL || config->output_dir == NULL)
    {
      le_fail (err, LE_ERR_INVALID, "no file to write: give \"out\" (or a config whose "
               "output_dir takes the sample)");
      return NULL;
    }
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *dir = g_build_filename (config->output_dir, "samples", NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      le_fail (err, LE_ERR_IO, "%s: cannot create the samples folder: %s", dir,
               g_strerror (errno));
      return NULL;
    }
  g_autofree char *name = g_strdup_printf ("generated-%s.%s", stamp, ext);
  return g_build_filename (dir, name, NULL);
}

/* A text project's sample: the prompt's continuation with the adapter (a PEFT folder,
 * or its adapter_model.safetensors), written as the run's previews are:
 * "### PROMPT\nTEXT\n". */
static char *
sample_text (const SampleJobArgs *a, StudioConfig *config, le_error *err)
{
  g_autofree char *adapter = NULL;
  if (a->lora != NULL)
    {
      if (!g_file_test (a->lora, G_FILE_TEST_EXISTS))
        {
          le_fail (err, LE_ERR_IO, "%s: no such adapter", a->lora);
          return NULL;
        }
      adapter = g_file_test (a->lora, G_FILE_TEST_IS_DIR) ? g_strdup (a->lora)
                                                          : g_path_get_dirname (a->lora);
    }
  char *out = a->out ? g_strdup (a->out) : default_out (config, "txt", err);
  if (out == NULL)
    return NULL;
  TextSession s;
  char *text = NULL;
  if (text_session_load (&s, a->config_path, adapter, a->device, err))
    text = text_generate (&s, a->prompt, (int) studio_config_get_int (config, "sample_max_tokens"),
                          studio_config_get_number (config, "sample_temperature"), 0.9,
                          a->seed >= 0 ? (uint64_t) a->seed
                                       : (uint64_t) studio_config_get_int (config, "seed"),
                          err);
  text_session_close (&s);
  if (text == NULL)
    {
      g_free (out);
      return NULL;
    }
  g_autofree char *contents = g_strdup_printf ("### %s\n%s\n", a->prompt, text);
  free (text);
  g_autoptr(GError) error = NULL;
  if (!g_file_set_contents (out, contents, -1, &error))
    {
      le_fail (err, LE_ERR_IO, "%s", error->message);
      g_clear_pointer (&out, g_free);
    }
  return out;
}

char *
sample_job_run (const SampleJobArgs *a, le_error *err)
{
  g_autoptr(StudioConfig) config = NULL;
  if (a->config_path != NULL)
    {
      g_autoptr(GError) error = NULL;
      config = studio_config_load (a->config_path, &error);
      if (config == NULL)
        {
          le_fail (err, LE_ERR_INVALID, "%s", error->message);
          return NULL;
        }
    }
  if (a->base == NULL && config == NULL)
    {
      le_fail (err, LE_ERR_INVALID, "no base model: give a config or a base model");
      return NULL;
    }
  if (config != NULL && config->task_type == STUDIO_TASK_TEXT_GENERATION)
    return sample_text (a, config, err);
  const char *model_path = a->base ? a->base : config->base_model;
  int res = config ? (int) studio_config_get_int (config, "resolution") : 512;
  sd_sample_request q = {
    .prompt = a->prompt,
    .negative = a->negative,
    .seed = a->seed >= 0 ? (uint64_t) a->seed
            : config ? (uint64_t) studio_config_get_int (config, "seed") : 0,
    .steps = a->steps > 0 ? a->steps
             : config ? (int) studio_config_get_int (config, "sample_steps") : 20,
    .cfg = a->cfg > 0 ? a->cfg : config ? studio_config_get_number (config, "sample_cfg_scale")
                                        : 7.5,
    .width = a->width > 0 ? a->width : res,
    .height = a->height > 0 ? a->height : res,
    .sampler = a->sampler ? a->sampler
               : config ? studio_config_get_string (config, "sample_sampler") : "euler_a",
    .clip_skip = config ? (int) studio_config_get_int (config, "clip_skip") : 1,
    .model_name = model_path,
    .lora_weight = a->weight,
  };
  g_autofree char *lora = NULL, *lora_name = NULL;
  if (a->lora != NULL)
    {
      if ((lora = find_lora_file (a->lora, err)) == NULL)
        return NULL;
      lora_name = g_path_get_basename (lora);
      char *dot = strrchr (lora_name, '.');
      if (dot)
        *dot = '\0';
      q.lora_name = lora_name;
    }
  char *out = a->out ? g_strdup (a->out) : default_out (config, "png", err);
  if (out == NULL)
    return NULL;

  const backend *be = backend_select (a->device ? a->device : "cpu", err);
  sd15_model *m = be ? sd15_model_load (model_path, SD15_LOAD_ALL, SD15_DTYPE_KEEP, be, err)
                     : NULL;
  le_clip_tokenizer *tok = NULL;
  graph *g = NULL;
  bool ok = m != NULL;
  if (ok && lora != NULL && !kohya_load (m, lora, (float) a->weight, err))
    {
      /* kohya's messages name a key, not always the file */
      if (strstr (err->message, lora) == NULL)
        le_error_prefix (err, "%s", lora);
      ok = false;
    }
  if (ok)
    ok = (tok = le_clip_tokenizer_find (config ? studio_config_get_string (config, "tokenizer_path")
                                               : NULL, model_path, err)) != NULL;
  if (ok)
    ok = (g = graph_new (be, err)) != NULL;
  if (ok)
    ok = sd_sample_to_png (m, tok, g, &q, out, err);
  graph_free (g);
  le_clip_tokenizer_free (tok);
  sd15_model_free (m);
  if (!ok)
    g_clear_pointer (&out, g_free);
  return out;
}

const char *
sample_job_error_code (const le_error *err)
{
  switch (err->code)
    {
    case LE_ERR_IO: return "io";
    case LE_ERR_FORMAT: return "format";
    case LE_ERR_UNSUPPORTED: return "unsupported";
    case LE_ERR_MEMORY: return "out-of-memory";
    case LE_ERR_DEVICE: return "device";
    case LE_ERR_NUMERIC: return "non-finite";
    case LE_ERR_INVALID: return "invalid-request";
    case LE_OK:
    case LE_ERR_CANCELLED:
    default: return "sample";
    }
}
