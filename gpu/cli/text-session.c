/* text-session.c: opening a config's LLaMA model, adapter and tokenizer (text-session.h). */
#include "text-session.h"

#include <stdio.h>
#include <string.h>

gboolean
text_session_open (TextSession *s, const char *prgname, const char *config_path,
                   const char *adapter, const char *device)
{
  le_error err = { 0 };
  if (text_session_load (s, config_path, adapter, device, &err))
    return TRUE;
  fprintf (stderr, "%s: %s\n", prgname, err.message);
  return FALSE;
}

gboolean
text_session_load (TextSession *s, const char *config_path, const char *adapter,
                   const char *device, le_error *error)
{
  memset (s, 0, sizeof *s);
  g_autoptr(GError) gerror = NULL;
  s->config = studio_config_load (config_path, &gerror);
  if (s->config == NULL)
    return le_fail (error, LE_ERR_INVALID, "%s", gerror->message);
  if (s->config->task_type != STUDIO_TASK_TEXT_GENERATION)
    return le_fail (error, LE_ERR_INVALID, "%s: task_type is image-lora; this command works "
                    "on text-generation configs", config_path);
  if (s->config->base_model == NULL)
    return le_fail (error, LE_ERR_INVALID, "%s: base_model is not set; name a Hugging Face "
                    "LLaMA-family folder", config_path);
  le_error err = { 0 };
  const char *dev = device ? device : studio_config_get_string (s->config, "device");
  s->be = backend_select (dev ? dev : "auto", &err);
  if (s->be == NULL)
    goto fail;
  s->model = llama_model_load (s->config->base_model, LLAMA_DTYPE_KEEP, s->be, &err);
  if (s->model == NULL)
    goto fail;
  if (adapter && !llama_lora_load_adapter (s->model, adapter, &err))
    goto fail;
  const char *tok_path = studio_config_get_string (s->config, "tokenizer_path");
  s->tok = le_tokenizer_load (tok_path && *tok_path ? tok_path : s->config->base_model, &err);
  if (s->tok == NULL)
    goto fail;
  if ((int64_t) le_tokenizer_vocab_size (s->tok) > s->model->cfg.vocab)
    {
      le_fail (&err, LE_ERR_FORMAT, "the tokenizer has %zu ids but the model's vocab_size is "
               "%lld; they do not belong together", le_tokenizer_vocab_size (s->tok),
               (long long) s->model->cfg.vocab);
      goto fail;
    }
  return TRUE;
fail:
  *error = err;
  return FALSE;
}

void
text_session_close (TextSession *s)
{
  le_tokenizer_free (s->tok);
  llama_model_free (s->model);
  if (s->config)
    studio_config_free (s->config);
  memset (s, 0, sizeof *s);
}
