/* model-inspect.h: what a model or LoRA file (or folder) is, from its header and names
 * alone. One function for `lora-engine inspect --json` and serve's `inspect` request, so
 * the app's base model row and the command line always say the same thing. */
#pragma once

#include <json-glib/json-glib.h>

/* {path, kind, summary, trainable, details} for PATH (see cmd-inspect.c for the kinds),
 * or NULL with ERROR naming PATH and what is wrong with it. */
JsonObject *cli_inspect_model (const char *path, GError **error);
