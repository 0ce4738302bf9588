/* train-job.c: validate, then train (see train-job.h).
 *
 * The GLib side of a run: the config is read here and turned into the plain-C options of
 * the engine's pipelines (gpu/models/text-lora-run.h on gpu/train/trainer.h), and the
 * resolved config is written to output_dir/config.yaml before the first step. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "train-job.h"

#include "config-problems.h"
#include "sd-train-job.h"
#include "text-lora-run.h"

gboolean
train_job_device_valid (const char *device)
{
  if (device == NULL || g_str_equal (device, "auto") || g_str_equal (device, "cpu")
      || g_str_equal (device, "cuda"))
    return TRUE;
  guint64 ordinal;
  return g_str_has_prefix (device, "cuda:")
         && g_ascii_string_to_unsigned (device + 5, 10, 0, 255, &ordinal, NULL);
}

/* Writes the config that runs into output_dir/config.yaml (atomically). The output
 * folder is created first, so that an unwritable place is reported before any loading. */
static gboolean
save_resolved_config (StudioConfig *config, const le_run_hooks *hooks)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (config->output_dir, "config.yaml", NULL);
  if (g_mkdir_with_parents (config->output_dir, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *msg = g_strdup_printf (
        "%s: cannot create the output folder (%s); set output_dir to a folder you can "
        "write to", config->output_dir, g_strerror (saved));
      hooks->error (hooks->user, "output", msg);
      return FALSE;
    }
  if (!studio_config_save (config, path, &error))
    {
      g_autofree char *msg = g_strdup_printf (
        "%s: cannot write the config that runs (%s); check that output_dir is writable "
        "and the disk has room", path, error->message);
      hooks->error (hooks->user, "output", msg);
      return FALSE;
    }
  return TRUE;
}

static void
fill_trainer_options (le_trainer_options *t, StudioConfig *config)
{
  le_trainer_options_default (t);
  t->output_dir = config->output_dir;
  t->log_dir = config->log_dir;
  t->epochs = config->epochs;
  t->batch_size = config->batch_size;
  t->grad_accum = studio_config_get_int (config, "gradient_accumulation_steps");
  t->max_train_steps = studio_config_get_int (config, "max_train_steps");
  t->save_steps = config->save_steps;
  t->sample_every = studio_config_get_int (config, "sample_every");
  t->warmup_steps = studio_config_get_int (config, "warmup_steps");
  t->learning_rate = config->learning_rate;
  t->weight_decay = studio_config_get_number (config, "weight_decay");
  t->beta1 = studio_config_get_number (config, "adam_beta1");
  t->beta2 = studio_config_get_number (config, "adam_beta2");
  t->eps = studio_config_get_number (config, "adam_epsilon");
  t->max_grad_norm = studio_config_get_number (config, "max_grad_norm");
  t->num_cycles = (double) studio_config_get_int (config, "num_cycles");
  t->scheduler = config->scheduler;
  t->precision = studio_config_get_string (config, "mixed_precision");
  t->seed = (uint64_t) studio_config_get_int (config, "seed");
  /* Adam is AdamW without weight decay */
  if (g_strcmp0 (config->optimizer, "Adam") == 0)
    t->weight_decay = 0;
  /* Tests only: make the loss of this step NaN, to check the non-finite stop. */
  const char *nan_step = g_getenv ("LORA_ENGINE_TEST_NAN_STEP");
  if (nan_step != NULL)
    t->fault_nan_step = g_ascii_strtoll (nan_step, NULL, 10);
}

static le_run_status
run_text_lora (const TrainJobArgs *args, StudioConfig *config, const le_run_hooks *hooks,
               GPtrArray *outputs)
{
  if (config->task_type != STUDIO_TASK_TEXT_GENERATION)
    {
      hooks->error (hooks->user, "not-implemented",
                    "image-lora training is not built into this version of lora-engine yet; "
                    "text-generation runs are");
      return LE_RUN_FAILED;
    }
  if (g_strcmp0 (config->optimizer, "SGD") == 0)
    {
      hooks->error (hooks->user, "config",
                    "optimizer: SGD is not available for LoRA training yet; use AdamW");
      return LE_RUN_FAILED;
    }
  if (!save_resolved_config (config, hooks))
    return LE_RUN_FAILED;

  g_auto(GStrv) targets = studio_config_get_string_list (config, "target_modules");
  g_autoptr(GPtrArray) prompts = g_ptr_array_new ();
  for (guint i = 0; config->sample_prompts != NULL && i < config->sample_prompts->len; i++)
    g_ptr_array_add (prompts, ((StudioSamplePrompt *) config->sample_prompts->pdata[i])->prompt);
  g_ptr_array_add (prompts, NULL);

  text_lora_options o = {
    .base_model = config->base_model,
    .tokenizer_path = studio_config_get_string (config, "tokenizer_path"),
    .train_data_dir = config->train_data_dir,
    .sequence_length = config->sequence_length,
    .target_modules = (const char *const *) targets,
    .rank = config->lora_rank,
    .alpha = config->lora_alpha,
    .dropout = config->lora_dropout,
    .gradient_checkpointing = studio_config_get_bool (config, "gradient_checkpointing"),
    .device = args->device != NULL ? args->device
                                   : studio_config_get_string (config, "device"),
    .sample_prompts = (const char *const *) prompts->pdata,
    .sample_max_tokens = studio_config_get_int (config, "sample_max_tokens"),
    .sample_temperature = studio_config_get_number (config, "sample_temperature"),
  };
  fill_trainer_options (&o.train, config);
  if (args->resume != NULL)
    o.train.resume = g_str_equal (args->resume, "latest") ? config->output_dir : args->resume;

  le_trainer_result result;
  memset (&result, 0, sizeof result);
  le_error err = { 0 };
  le_run_status status = text_lora_run (&o, hooks, &result, &err);
  for (int i = 0; i < result.n_outputs && status == LE_RUN_COMPLETED; i++)
    g_ptr_array_add (outputs, g_strdup (result.outputs[i]));
  if (result.last_checkpoint[0] != '\0')
    g_ptr_array_add (outputs, g_strdup (result.last_checkpoint));
  return status;
}

le_run_status
train_job_run (const TrainJobArgs *args, const le_run_hooks *hooks, GPtrArray *outputs)
{
  gboolean ok = TRUE;

  if (!train_job_device_valid (args->device))
    {
      g_autofree char *msg = g_strdup_printf (
        "unknown device \"%s\"; use auto, cpu, cuda or cuda:N", args->device);
      hooks->error (hooks->user, "invalid-request", msg);
      ok = FALSE;
    }
  if (args->resume != NULL && !g_str_equal (args->resume, "latest")
      && !g_file_test (args->resume, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *msg = g_strdup_printf (
        "%s: the checkpoint folder to resume from does not exist; pick one under "
        "output_dir/checkpoints/, or say latest", args->resume);
      hooks->error (hooks->user, "resume", msg);
      ok = FALSE;
    }

  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(StudioConfig) config = cli_config_load_checked (args->config_path, problems);
  for (guint i = 0; i < problems->len; i++)
    {
      GError *error = problems->pdata[i];
      g_autofree char *text = cli_problem_text (args->config_path, error);
      hooks->error (hooks->user, cli_config_error_code (error), text);
    }
  if (!ok || config == NULL || problems->len > 0)
    return LE_RUN_FAILED;

  g_autofree char *summary = g_strdup_printf ("%s: config and files are fine (%s)",
                                              args->config_path,
                                              studio_config_task_name (config->task_type));
  hooks->log (hooks->user, "info", summary);
  if (!hooks->keep_going (hooks->user))
    return LE_RUN_STOPPED;

  if (config->task_type == STUDIO_TASK_IMAGE_LORA)
    {
      if (!save_resolved_config (config, hooks))
        return LE_RUN_FAILED;
      le_trainer_options train;
      fill_trainer_options (&train, config);
      return sd_train_job_run (args, config, &train, hooks, outputs);
    }
  return run_text_lora (args, config, hooks, outputs);
}
