/* text-lora-run.c: the text-generation pipeline on the generic trainer (text-lora-run.h):
 * the le_train_model of a LLaMA model with LoRA over a tokenized text dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "lora-peft.h"
#include "run-common.h"
#include "text-dataset.h"
#include "text-lora-run.h"

typedef struct {
  const text_lora_options *o;
  llama_model *model;
  le_tokenizer *tok;
  text_dataset *data;
  int32_t *tokens;                 /* (B, T) batch buffers, T = sequence_length */
  uint8_t *count;
} text_run;

static tensor *
text_forward_loss (void *self, graph *g, const int64_t *idx, int64_t n)
{
  text_run *r = self;
  int64_t t = text_dataset_batch_len (r->data, idx, n);
  text_dataset_batch (r->data, idx, n, t, r->tokens, r->count);
  return llama_forward_loss (r->model, g, r->tokens, r->count, n, t, NULL, NULL);
}

static bool
text_save_output (void *self, const char *dir, char paths[][1024], int *n_paths,
                  le_error *err)
{
  text_run *r = self;
  if (!peft_adapter_save (r->model->lora, dir, "CAUSAL_LM", r->o->base_model,
                          r->o->target_modules, err))
    return false;
  snprintf (paths[0], 1024, "%.990s/adapter_model.safetensors", dir);
  snprintf (paths[1], 1024, "%.990s/adapter_config.json", dir);
  *n_paths = 2;
  return true;
}

/* samples/step-000100.txt: each prompt and what the model wrote after it. */
static bool
text_write_samples (void *self, graph *g, int64_t step, const char *samples_dir,
             void (*on_file) (void *, int64_t, const char *, const char *), void *user,
             le_error *err)
{
  text_run *r = self;
  const char *const *prompts = r->o->sample_prompts;
  if (prompts == NULL || prompts[0] == NULL)
    return true;
  char path[1200];
  snprintf (path, sizeof path, "%s/step-%06lld.txt", samples_dir, (long long) step);
  le_atomic_file f;
  if (!le_atomic_open (&f, path, err))
    return false;
  bool ok = true;
  for (int i = 0; prompts[i] != NULL && ok; i++)
    {
      char *text = text_lora_generate (r->model, r->tok, g, prompts[i],
                                       r->o->sample_max_tokens, r->o->sequence_length,
                                       r->o->sample_temperature,
                                       r->o->train.seed + (uint64_t) i, err);
      ok = text != NULL;
      if (ok)
        ok = fprintf (f.fp, "### %s\n%s%s\n\n", prompts[i], prompts[i], text) > 0
             || le_fail (err, LE_ERR_IO, "%s: cannot write the sample", path);
      free (text);
    }
  if (!ok)
    {
      le_atomic_abort (&f);
      return false;
    }
  if (!le_atomic_commit (&f, err))
    return false;
  for (int i = 0; prompts[i] != NULL; i++)
    on_file (user, step, path, prompts[i]);
  return true;
}

/* The dtype of the frozen weights for PRECISION on BE: on a GPU the products read BF16
 * (bf16) or F16 (fp16) weights with F32 accumulation, or F32 (no); the CPU keeps what the
 * file holds, since it converts per product anyway. */
int
text_lora_weight_dtype (const backend *be, const char *precision)
{
  if (be->device == LE_CPU)
    return LLAMA_DTYPE_KEEP;
  if (precision != NULL && strcmp (precision, "fp16") == 0)
    return LE_F16;
  if (precision != NULL && strcmp (precision, "no") == 0)
    return LE_F32;
  return LE_BF16;
}

static void
text_run_free (text_run *r)
{
  text_dataset_free (r->data);
  le_tokenizer_free (r->tok);
  llama_model_free (r->model);
  free (r->tokens);
  free (r->count);
}

le_run_status
text_lora_run (const text_lora_options *o, const le_run_hooks *hooks,
               le_trainer_result *result, le_error *err)
{
  text_run r = { .o = o };
  le_error e = { 0 };
  le_run_status st = LE_RUN_FAILED;
  char msg[1400];

  const backend *be = o->backend != NULL ? o->backend : run_pick_backend (o->device, hooks, &e);
  if (be == NULL)
    return run_fail (hooks, "device", &e, err);
  r.model = llama_model_load (o->base_model, text_lora_weight_dtype (be, o->train.precision),
                              be, &e);
  if (r.model == NULL)
    {
      st = run_fail (hooks, "model", &e, err);
      goto out;
    }
  r.model->checkpointing = o->gradient_checkpointing;
  r.tok = le_tokenizer_load (o->tokenizer_path ? o->tokenizer_path : o->base_model, &e);
  if (r.tok == NULL)
    {
      st = run_fail (hooks, "tokenizer", &e, err);
      goto out;
    }
  r.data = text_dataset_load (o->train_data_dir, r.tok, o->sequence_length, &e);
  if (r.data == NULL)
    {
      st = run_fail (hooks, "dataset", &e, err);
      goto out;
    }
  const char *cut = text_dataset_cut_warning (r.data);
  if (cut != NULL)
    hooks->log (hooks->user, "warning", cut);
  if (!llama_lora_attach (r.model, o->target_modules, o->rank, (float) o->alpha,
                          (float) o->dropout, o->train.seed, &e))
    {
      st = run_fail (hooks, "config", &e, err);
      goto out;
    }
  size_t cells = (size_t) (o->train.batch_size * o->sequence_length);
  r.tokens = malloc (cells * sizeof *r.tokens);
  r.count = malloc (cells);
  if (r.tokens == NULL || r.count == NULL)
    {
      le_fail (&e, LE_ERR_MEMORY, "out of memory for batches of %lld x %lld tokens",
               (long long) o->train.batch_size, (long long) o->sequence_length);
      st = run_fail (hooks, "out-of-memory", &e, err);
      goto out;
    }
  snprintf (msg, sizeof msg,
            "%lld samples from %d files (%lld counted tokens); %lld frozen and %lld LoRA "
            "parameters on %s",
            (long long) r.data->n_samples, r.data->n_files, (long long) r.data->counted,
            (long long) llama_n_base_params (r.model), (long long) llama_n_lora_params (r.model),
            be->name);
  hooks->log (hooks->user, "info", msg);

  le_train_model tm = {
    .self = &r,
    .params = r.model->lora->ps,
    .n_samples = r.data->n_samples,
    .forward_loss = text_forward_loss,
    .save_output = text_save_output,
    .sample = text_write_samples,
  };
  le_trainer_options to = o->train;
  if (to.device_name == NULL)
    to.device_name = be->name;
  st = le_trainer_run (&tm, be, &to, hooks, result, err);
out:
  text_run_free (&r);
  return st;
}
