/* llama-dump.c: a test helper that runs our LLaMA + LoRA on a fixture and writes what the
 * PyTorch reference (llama_reference.py) checks: the batch, the loss, the logits and the
 * gradient of every LoRA A and B, plus the adapter itself (with B made non-zero so that
 * every path carries gradient).
 *
 * usage: llama-dump MODEL_DIR ADAPTER_OUT DUMP.safetensors TARGETS RANK ALPHA B T
 *        [checkpoint]      TARGETS is comma-separated, e.g. q_proj,v_proj */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"
#include "lora-peft.h"
#include "ops.h"
#include "safetensors.h"
#include "tokenizer.h"

static uint64_t
next_u64 (uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int
fail (const le_error *err)
{
  fprintf (stderr, "llama-dump: %s\n", err->message);
  return 1;
}

/* llama-dump --encode TOKENIZER_DIR TEXT_FILE: one line of ids per line of text (bare
 * tokens, no BOS/EOS), for comparing our tokenizer with the tokenizers library. */
static int
encode_lines (const char *dir, const char *path)
{
  le_error err = { 0 };
  le_tokenizer *tok = le_tokenizer_load (dir, &err);
  if (tok == NULL)
    return fail (&err);
  FILE *fp = fopen (path, "r");
  if (fp == NULL)
    return 1;
  char line[4096];
  while (fgets (line, sizeof line, fp))
    {
      size_t n = strcspn (line, "\n");
      int32_t *ids = NULL;
      size_t n_ids = 0;
      if (!le_tokenizer_encode (tok, line, n, false, &ids, &n_ids, &err))
        return fail (&err);
      for (size_t i = 0; i < n_ids; i++)
        printf ("%s%d", i ? " " : "", ids[i]);
      printf ("\n");
      free (ids);
    }
  fclose (fp);
  le_tokenizer_free (tok);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--encode") == 0)
    return encode_lines (argv[2], argv[3]);
  if (argc < 9)
    {
      fprintf (stderr, "usage: llama-dump MODEL ADAPTER_OUT DUMP TARGETS RANK ALPHA B T "
               "[checkpoint]\n");
      return 2;
    }
  le_error err = { 0 };
  const backend *be = backend_select ("cpu", &err);
  if (be == NULL)
    return fail (&err);
  llama_model *m = llama_model_load (argv[1], LLAMA_DTYPE_KEEP, be, &err);
  if (m == NULL)
    return fail (&err);
  m->checkpointing = argc > 9 && strcmp (argv[9], "checkpoint") == 0;
  char *targets_text = strdup (argv[4]);
  const char *targets[16] = { 0 };
  int nt = 0;
  for (char *tok = strtok (targets_text, ","); tok && nt < 15; tok = strtok (NULL, ","))
    targets[nt++] = tok;
  if (!llama_lora_attach (m, targets, atoi (argv[5]), (float) atof (argv[6]), 0.0f, 7, &err))
    return fail (&err);
  /* B starts at zero; give it values so the reference sees a real adapter */
  uint64_t rng = 99;
  for (int i = 0; i < m->lora->n; i++)
    {
      tensor *b = m->lora->items[i]->b;
      float *h = malloc ((size_t) b->numel * sizeof *h);
      for (int64_t k = 0; k < b->numel; k++)
        h[k] = (float) ((double) (next_u64 (&rng) >> 11) / 9007199254740992.0 - 0.5) * 0.2f;
      lora_tensor_from_host (m->lora, b, h, &err);
      free (h);
    }
  if (!peft_adapter_save (m->lora, argv[2], "CAUSAL_LM", argv[1], targets, &err))
    return fail (&err);

  int64_t B = atoll (argv[7]), T = atoll (argv[8]), V = m->cfg.vocab;
  int32_t *tokens = malloc ((size_t) (B * T) * sizeof *tokens);
  int32_t *count32 = malloc ((size_t) (B * T) * sizeof *count32);
  uint8_t *count = malloc ((size_t) (B * T));
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++)
      {
        int64_t j = b * T + t;
        tokens[j] = (int32_t) (next_u64 (&rng) % (uint64_t) (V - 2));
        /* row 0: a text sample (all but the first count); row 1: a prompt of 3 tokens
         * that does not count and 2 padding tokens at the end; others: like row 0 */
        count[j] = t > 0;
        if (b == 1 && (t < 3 || t >= T - 2))
          count[j] = 0;
        count32[j] = count[j];
      }
  graph *g = graph_new (be, &err);
  if (g == NULL)
    return fail (&err);
  graph_set_grad_enabled (g, true);
  double sum = 0;
  int64_t counted = 0;
  tensor *loss = llama_forward_loss (m, g, tokens, count, B, T, &sum, &counted);
  if (loss == NULL || !graph_backward (g, loss, &err))
    {
      graph_take_error (g, &err);
      return fail (&err);
    }
  float loss_v = graph_item (g, loss);
  float *grads = malloc ((size_t) m->lora->ps->n_train * sizeof *grads);
  be->copy_d2h (grads, m->lora->ps->train_grad, (size_t) m->lora->ps->n_train * sizeof *grads);

  graph_reset (g);
  graph_set_grad_enabled (g, false);
  tensor *lg = llama_forward_logits (m, g, tokens, B, T, false);
  float *logits = malloc ((size_t) (B * T * V) * sizeof *logits);
  if (lg == NULL || !graph_to_host (g, lg, logits, &err))
    {
      graph_take_error (g, &err);
      return fail (&err);
    }

  int n = 0, cap = 4 + 2 * m->lora->n;
  st_write_tensor *ts = calloc ((size_t) cap, sizeof *ts);
  char (*names)[256] = calloc ((size_t) cap, sizeof *names);
  ts[n++] = (st_write_tensor) { "tokens", ST_I32, 2, { B, T }, tokens, NULL, NULL };
  ts[n++] = (st_write_tensor) { "count", ST_I32, 2, { B, T }, count32, NULL, NULL };
  ts[n++] = (st_write_tensor) { "loss", ST_F32, 1, { 1 }, &loss_v, NULL, NULL };
  ts[n++] = (st_write_tensor) { "logits", ST_F32, 3, { B, T, V }, logits, NULL, NULL };
  for (int i = 0; i < m->lora->n; i++)
    for (int k = 0; k < 2; k++)
      {
        const lora_linear *l = m->lora->items[i];
        tensor *t = k ? l->b : l->a;
        snprintf (names[n], sizeof names[n], "grad.%s.lora_%c.weight", l->name, k ? 'B' : 'A');
        ts[n] = (st_write_tensor) { names[n], ST_F32, 2, { t->shape[0], t->shape[1] },
                                    grads + ((float *) t->data - m->lora->ps->train_data),
                                    NULL, NULL };
        n++;
      }
  char cnt[32];
  snprintf (cnt, sizeof cnt, "%lld", (long long) counted);
  st_write_meta meta[] = { { "counted", cnt } };
  if (!st_write (argv[3], ts, (size_t) n, meta, 1, &err))
    return fail (&err);
  printf ("loss %.6f over %lld tokens\n", loss_v, (long long) counted);
  free (ts);
  free (names);
  free (tokens);
  free (count);
  free (count32);
  free (grads);
  free (logits);
  free (targets_text);
  graph_free (g);
  llama_model_free (m);
  return 0;
}
