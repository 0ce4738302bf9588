/* config-problems.h: load a training config and collect every problem with it,
 * for `lora-engine check`, `lora-engine train` and the serve `train` request. */
#pragma once

#include <glib.h>

#include "studio-config.h"

/* Loads PATH and checks the files it names. Appends one GError* per problem to
 * PROBLEMS (free func g_error_free). Returns the config, or NULL when it could not
 * be loaded at all (then PROBLEMS says why). */
StudioConfig *cli_config_load_checked (const char *path, GPtrArray *problems);

/* The protocol `error` code for a config problem ("config-syntax", ...). */
const char *cli_config_error_code (const GError *error);

/* "FILE:LINE: message" when the message does not already start with the file. */
char *cli_problem_text (const char *path, const GError *error);
