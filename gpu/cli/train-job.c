/* train-job.c: validate, then train (see train-job.h).
 *
 * NOT BUILT YET: the trainer itself arrives with the engine issues (text LoRA,
 * SD 1.5 LoRA). Until then a valid config ends with a "not-implemented" error that
 * says so; replace the marked block with the call into gpu/train. */
#include "config.h"

#include "train-job.h"

#include "config-problems.h"

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
  if (args->resume != NULL && !g_file_test (args->resume, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *msg = g_strdup_printf (
        "%s: the checkpoint folder to resume from does not exist; pick one under "
        "output_dir/checkpoints/", args->resume);
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

  /* --- NOT BUILT YET: replace with the engine's trainer (gpu/train), passing HOOKS
   * through so that progress, samples, checkpoints, pause and stop reach the caller. */
  (void) outputs;
  hooks->error (hooks->user, "not-implemented",
                "training is not built into this version of lora-engine yet: the config "
                "and its files were checked and are fine, but no run was started");
  return LE_RUN_FAILED;
}
