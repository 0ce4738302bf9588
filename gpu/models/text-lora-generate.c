/* text-lora-generate.c: preview texts during training (text_lora_generate in
 * text-lora-run.h). Each new token reruns the whole sequence (no KV cache): previews are a
 * few dozen tokens on a model being trained, and the forward pass stays the one that is
 * tested against PyTorch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "math-common.h"
#include "text-lora-run.h"

/* The next id from LOGITS // (V): argmax, or a draw from softmax(logits / temperature). */
static int32_t
pick (const float *logits, int64_t v, double temperature, uint64_t seed, uint64_t counter)
{
  int64_t best = 0;
  for (int64_t i = 1; i < v; i++)
    if (logits[i] > logits[best])
      best = i;
  if (temperature <= 0)
    return (int32_t) best;
  double sum = 0;
  for (int64_t i = 0; i < v; i++)
    sum += exp ((logits[i] - logits[best]) / temperature);
  double u = le_rand_uniform (seed, counter) * sum, acc = 0;
  for (int64_t i = 0; i < v; i++)
    {
      acc += exp ((logits[i] - logits[best]) / temperature);
      if (acc > u)
        return (int32_t) i;
    }
  return (int32_t) best;
}

char *
text_lora_generate (llama_model *m, const le_tokenizer *tok, graph *g, const char *prompt,
                    int64_t max_tokens, int64_t max_len, double temperature, uint64_t seed,
                    le_error *err)
{
  int32_t *ids = NULL;
  size_t n_ids = 0;
  if (!le_tokenizer_encode (tok, prompt, strlen (prompt), false, &ids, &n_ids, err))
    return NULL;
  int64_t v = m->cfg.vocab;
  int64_t cap = (int64_t) n_ids + 1 + max_tokens;
  int32_t *seq = malloc ((size_t) cap * sizeof *seq);
  float *logits = malloc ((size_t) v * sizeof *logits);
  if (seq == NULL || logits == NULL)
    {
      free (ids);
      free (seq);
      free (logits);
      le_fail (err, LE_ERR_MEMORY, "out of memory for a preview text");
      return NULL;
    }
  int64_t n = 0;
  int32_t bos = le_tokenizer_bos_id (tok);
  if (bos >= 0)
    seq[n++] = bos;
  memcpy (seq + n, ids, n_ids * sizeof *seq);
  n += (int64_t) n_ids;
  free (ids);
  int64_t start = n;

  bool ok = true;
  graph_set_grad_enabled (g, false);
  graph_set_training (g, false);
  for (int64_t k = 0; k < max_tokens && n < max_len && ok; k++)
    {
      graph_reset (g);
      tensor *l = llama_forward_logits (m, g, seq, 1, n, true);   // (1, 1, V)
      ok = l != NULL && graph_to_host (g, l, logits, err);
      if (l == NULL)
        graph_take_error (g, err);
      if (!ok)
        break;
      int32_t next = pick (logits, v, temperature, seed, (uint64_t) k);
      if (le_tokenizer_is_eos (tok, next))
        break;
      seq[n++] = next;
    }
  graph_reset (g);
  graph_set_grad_enabled (g, true);
  char *text = ok ? le_tokenizer_decode (tok, seq + start, (size_t) (n - start), true, err)
                  : NULL;
  free (seq);
  free (logits);
  return text;
}
