/* commands.h: the lora-engine subcommands. main.c holds the table that maps
 * argv[1] to one of these; each lives in its own cmd-*.c file and parses its own
 * options with a GOptionContext, so `lora-engine CMD --help` always works. */
#pragma once

#include <glib.h>

typedef struct {
  const char *name;
  const char *summary;   /* one line, shown by `lora-engine --help` */
  /* ARGV[0] is "lora-engine NAME"; returns the exit status. NULL: not built yet. */
  int (*run) (int argc, char **argv);
  const char *arrives_with;  /* for commands not built yet: what brings them */
} CliCommand;

/* Exit statuses shared by every command. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_PROBLEMS = 1,      /* the input has problems (config, files); they were printed */
  CLI_EXIT_USAGE = 2,         /* bad command line, or a command this build does not have */
};

const CliCommand *cli_commands (void);   /* terminated by a NULL name */
const CliCommand *cli_command_lookup (const char *name);

/* Parses options; on a usage error prints it with a hint and returns FALSE. */
gboolean cli_parse_options (GOptionContext *context, int *argc, char ***argv);

int cmd_check (int argc, char **argv);
int cmd_devices (int argc, char **argv);
int cmd_serve (int argc, char **argv);
int cmd_train (int argc, char **argv);
int cmd_eval (int argc, char **argv);
int cmd_generate (int argc, char **argv);
int cmd_merge (int argc, char **argv);
int cmd_fixture (int argc, char **argv);
int cmd_sample (int argc, char **argv);
int cmd_inspect (int argc, char **argv);
int cmd_caption (int argc, char **argv);
/* The commands later issues fill in: prints what is missing, exit CLI_EXIT_USAGE. */
int cmd_not_built (const CliCommand *command, int argc, char **argv);
