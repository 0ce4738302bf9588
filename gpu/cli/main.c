/* main.c: lora-engine, the training engine and headless CLI. Dispatches argv[1]
 * to a subcommand from the table below; each parses its own options. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "omp-policy.h"

/* Commands with run == NULL are announced but not built yet: they say so and exit
 * with status 2. Fill them in as the issue named in arrives_with lands. */
static const CliCommand commands[] = {
  { "check", "Check a training config and the files it names", cmd_check, NULL },
  { "devices", "List the GPUs and the CPU this engine can train on", cmd_devices, NULL },
  { "serve", "Speak the JSON Lines protocol with lora-studio on stdin/stdout", cmd_serve, NULL },
  { "train", "Train a LoRA from a config file", cmd_train, NULL },
  { "eval", "Measure the loss of a model (and adapter) on the dataset", cmd_eval, NULL },
  { "generate", "Generate text from a model and adapter", cmd_generate, NULL },
  { "merge", "Bake a LoRA into its base model", cmd_merge, NULL },
  { "fixture", "Write a tiny model with random weights for tests and demos", cmd_fixture,
    NULL },
  { "sample", "Draw images with a model and a LoRA", cmd_sample, NULL },
  { "inspect", "Tell what a model or LoRA file is", cmd_inspect, NULL },
  { "caption", "Write captions for a folder of images with a CLIP model", cmd_caption, NULL },
  { NULL, NULL, NULL, NULL }
};

const CliCommand *
cli_commands (void)
{
  return commands;
}

const CliCommand *
cli_command_lookup (const char *name)
{
  for (const CliCommand *c = commands; c->name != NULL; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

int
cmd_not_built (const CliCommand *command, int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
      {
        printf ("Usage:\n  lora-engine %s [OPTION...]\n\n%s.\n\n"
                "Not available in this build yet: it arrives with %s.\n",
                command->name, command->summary, command->arrives_with);
        return CLI_EXIT_OK;
      }
  fprintf (stderr, "lora-engine %s: not available in this build yet "
                   "(it arrives with %s)\n", command->name, command->arrives_with);
  return CLI_EXIT_USAGE;
}

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage:\n  lora-engine COMMAND [OPTION...]\n\n"
                "Trains LoRA adapters for Stable Diffusion 1.5 and LLaMA-family models.\n\n"
                "Commands:\n");
  for (const CliCommand *c = commands; c->name != NULL; c++)
    fprintf (out, "  %-10s %s%s\n", c->name, c->summary,
             c->run == NULL ? " (not available in this build yet)" : "");
  fprintf (out, "\nOptions:\n"
                "  -h, --help     Show this help\n"
                "  --version      Show the version and the protocol version\n\n"
                "Run `lora-engine help COMMAND` or `lora-engine COMMAND --help` for a "
                "command's options.\n");
}

static int
run_command (const CliCommand *command, int argc, char **argv)
{
  /* GOption prints "lora-engine CMD" in usage and errors from argv[0]. */
  g_autofree char *prgname = g_strdup_printf ("lora-engine %s", command->name);
  g_set_prgname (prgname);
  argv[0] = prgname;
  if (command->run == NULL)
    return cmd_not_built (command, argc, argv);
  return command->run (argc, argv);
}

int
main (int argc, char **argv)
{
  le_omp_wait_policy_reexec (argv);   /* see omp-policy.h: spinning threads on a busy machine */
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  const char *name = argv[1];
  if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0)
    {
      printf ("lora-engine %s (protocol %d.%d, CUDA %s)\n", PACKAGE_VERSION,
              ENGINE_PROTOCOL_MAJOR, ENGINE_PROTOCOL_MINOR,
              HAVE_CUDA ? "built in" : "not built in");
      return CLI_EXIT_OK;
    }
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0)
    {
      print_usage (stdout);
      return CLI_EXIT_OK;
    }
  if (strcmp (name, "help") == 0)
    {
      if (argc < 3)
        {
          print_usage (stdout);
          return CLI_EXIT_OK;
        }
      const CliCommand *command = cli_command_lookup (argv[2]);
      if (command == NULL)
        {
          fprintf (stderr, "lora-engine help: unknown command \"%s\" "
                           "(see lora-engine --help)\n", argv[2]);
          return CLI_EXIT_USAGE;
        }
      char *help_argv[] = { argv[0], (char *) "--help", NULL };
      return run_command (command, 2, help_argv);
    }

  const CliCommand *command = cli_command_lookup (name);
  if (command == NULL)
    {
      fprintf (stderr, "lora-engine: unknown command \"%s\" (see lora-engine --help)\n", name);
      return CLI_EXIT_USAGE;
    }
  return run_command (command, argc - 1, argv + 1);
}
