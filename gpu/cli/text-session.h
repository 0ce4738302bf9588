/* text-session.h: what eval and generate share: the config, the device, a LLaMA-family
 * model with an optional PEFT adapter, and its tokenizer. */
#pragma once

#include <glib.h>

#include "backend.h"
#include "llama.h"
#include "studio-config.h"
#include "tokenizer.h"

typedef struct {
  StudioConfig *config;
  const backend *be;
  llama_model *model;
  le_tokenizer *tok;
} TextSession;

/* Loads CONFIG_PATH (task_type text-generation), the model named by base_model, the
 * tokenizer (tokenizer_path or the model folder) and ADAPTER (may be NULL). DEVICE NULL
 * takes the config's device. On failure prints "PRGNAME: message" and returns FALSE. */
gboolean text_session_open (TextSession *s, const char *prgname, const char *config_path,
                            const char *adapter, const char *device);
/* The same, with the problem in ERROR instead of on standard error. */
gboolean text_session_load (TextSession *s, const char *config_path, const char *adapter,
                            const char *device, le_error *error);
void text_session_close (TextSession *s);
