/* cmd-train.c: `lora-engine train --config FILE [--json]`: one training run in the
 * foreground, reported as text, or as protocol events with --json. Ctrl-C stops the
 * run after the current step (saving a checkpoint once the trainer exists). */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "commands.h"
#include "event-hooks.h"
#include "event-writer.h"
#include "studio-config.h"
#include "studio-protocol.h"
#include "train-job.h"

static volatile sig_atomic_t interrupted;

static void
on_sigint (int signum)
{
  interrupted = 1;
}

static void
text_progress (void *user, const le_run_progress *p)
{
  printf ("step %lld/%lld  epoch %d  loss %.4f  lr %.3g  %.2f it/s  eta %.0f s\n",
          p->step, p->total, p->epoch, p->loss, p->lr, p->it_s, p->eta_s);
  fflush (stdout);
}

static void
text_sample (void *user, long long step, const char *path, const char *prompt)
{
  printf ("step %lld: sample %s (%s)\n", step, path, prompt);
}

static void
text_checkpoint (void *user, long long step, const char *path)
{
  printf ("step %lld: checkpoint %s\n", step, path);
}

static void
text_log (void *user, const char *level, const char *message)
{
  fprintf (g_str_equal (level, "info") || g_str_equal (level, "debug") ? stdout : stderr,
           "%s\n", message);
}

static void
text_error (void *user, const char *code, const char *message)
{
  fprintf (stderr, "%s\n", message);
}

static bool
text_keep_going (void *user)
{
  return !interrupted;
}

static bool
text_save_on_stop (void *user)
{
  return true;
}

/* The key table of studio-config.h, so --help documents every key. */
static char *
describe_keys (void)
{
  GString *text = g_string_new ("Config keys (YAML):\n");
  for (const StudioConfigKey *key = studio_config_keys (); key->name != NULL; key++)
    g_string_append_printf (text, "  %-24s %s\n", key->name, key->help ? key->help : "");
  g_string_append (text, "\nRelative paths resolve against the config file's folder.\n");
  return g_string_free (text, FALSE);
}

int
cmd_train (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *resume = NULL;
  g_autofree char *device = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "The training config (YAML)", "FILE" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &resume,
      "Continue from this checkpoint folder", "DIR" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "Where to train: auto (default), cpu, cuda or cuda:N", "DEVICE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print protocol events (JSON Lines) instead of text", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- train a LoRA");
  g_option_context_set_summary (context,
    "Trains the LoRA that the config describes and writes it to output_dir.\n"
    "This version checks the config and its files; the trainer is not built yet.");
  g_autofree char *keys = describe_keys ();
  g_option_context_set_description (context, keys);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (config_path == NULL)
    {
      fprintf (stderr, "lora-engine train: --config FILE is required "
                       "(see lora-engine train --help)\n");
      return CLI_EXIT_USAGE;
    }

  TrainJobArgs args = { .config_path = config_path, .resume = resume, .device = device };
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  le_run_hooks hooks;
  RunControl control;
  CliEventSink sink = { .id = NULL, .control = &control };
  run_control_init (&control);
  if (json)
    {
      cli_event_hooks_init (&hooks, &sink);
      /* Nothing sends stop here but Ctrl-C. */
      hooks.keep_going = text_keep_going;
      hooks.save_on_stop = text_save_on_stop;
    }
  else
    hooks = (le_run_hooks) {
      .progress = text_progress, .sample = text_sample, .checkpoint = text_checkpoint,
      .log = text_log, .error = text_error, .keep_going = text_keep_going,
      .save_on_stop = text_save_on_stop,
    };
  signal (SIGINT, on_sigint);

  le_run_status status = train_job_run (&args, &hooks, outputs);
  run_control_clear (&control);

  if (json)
    {
      g_ptr_array_add (outputs, NULL);
      const char *name = status == LE_RUN_COMPLETED ? "completed"
                       : status == LE_RUN_STOPPED ? "stopped" : "failed";
      cli_emit (studio_event_done (NULL, name, (const char *const *) outputs->pdata));
    }
  return status == LE_RUN_FAILED ? CLI_EXIT_PROBLEMS : CLI_EXIT_OK;
}
