/* text-generate.c: a prompt's continuation with a LLaMA-family model (text-generate.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "math-common.h"
#include "ops.h"
#include "text-generate.h"

typedef struct {
  float p;
  int32_t id;
} candidate;

static int
by_prob_desc (const void *a, const void *b)
{
  float pa = ((const candidate *) a)->p, pb = ((const candidate *) b)->p;
  if (pa != pb)
    return pa < pb ? 1 : -1;
  return ((const candidate *) a)->id - ((const candidate *) b)->id;
}

/* The next token from LOGITS // (V). */
static int32_t
pick (const float *logits, int64_t v, double temperature, double top_p, uint64_t *rng,
      candidate *c)
{
  int32_t best = 0;
  for (int64_t i = 1; i < v; i++)
    if (logits[i] > logits[best])
      best = (int32_t) i;
  if (temperature <= 0)
    return best;
  double sum = 0;
  for (int64_t i = 0; i < v; i++)
    {
      c[i].id = (int32_t) i;
      c[i].p = (float) exp ((logits[i] - logits[best]) / temperature);
      sum += c[i].p;
    }
  qsort (c, (size_t) v, sizeof *c, by_prob_desc);
  /* nucleus: the smallest set of most likely tokens whose mass reaches top_p */
  int64_t keep = 0;
  double mass = 0;
  while (keep < v && (keep == 0 || mass < top_p * sum))
    mass += c[keep++].p;
  double u = (double) (le_splitmix64_next (rng) >> 11) * (1.0 / 9007199254740992.0) * mass;
  for (int64_t i = 0; i < keep; i++)
    {
      u -= c[i].p;
      if (u < 0)
        return c[i].id;
    }
  return c[keep - 1].id;
}

char *
text_generate (TextSession *s, const char *prompt, int max_tokens, double temperature,
               double top_p, uint64_t seed, le_error *err)
{
  graph *g = NULL;
  int32_t *ids = NULL, *prompt_ids = NULL;
  float *logits = NULL;
  candidate *cands = NULL;
  char *text = NULL;
  llama_kv_cache *cache = NULL;
  size_t n_prompt = 0;
  int64_t v = s->model->cfg.vocab;
  if (!le_tokenizer_encode (s->tok, prompt, strlen (prompt), false, &prompt_ids, &n_prompt,
                            err))
    goto out;
  int64_t cap = 1 + (int64_t) n_prompt + max_tokens;
  ids = malloc ((size_t) cap * sizeof *ids);
  logits = malloc ((size_t) v * sizeof *logits);
  cands = malloc ((size_t) v * sizeof *cands);
  g = graph_new (s->be, err);
  if (ids == NULL || logits == NULL || cands == NULL || g == NULL)
    {
      if (err->code == LE_OK)
        le_fail (err, LE_ERR_MEMORY, "out of memory");
      goto out;
    }
  graph_set_grad_enabled (g, false);
  graph_set_training (g, false);
  /* BOS + prompt, as every training sample starts */
  int64_t n = 0;
  if (le_tokenizer_bos_id (s->tok) >= 0)
    ids[n++] = le_tokenizer_bos_id (s->tok);
  memcpy (ids + n, prompt_ids, n_prompt * sizeof *ids);
  n += (int64_t) n_prompt;
  int64_t max_t = n + max_tokens < s->model->cfg.max_positions ? n + max_tokens
                  : s->model->cfg.max_positions;
  uint64_t rng = seed;
  cache = n < max_t ? llama_kv_cache_new (s->model, 1, max_t, err) : NULL;
  if (cache == NULL && n < max_t)
    goto out;
  /* the prompt in one pass, then one position per new token */
  for (int64_t fed = 0; n < max_t; )
    {
      graph_reset (g);
      tensor *o = llama_forward_cached (s->model, g, cache, ids + fed, 1, n - fed);  // (1, 1, V)
      fed = n;
      if (o == NULL || !graph_to_host (g, o, logits, err))
        {
          graph_take_error (g, err);
          goto out;
        }
      int32_t next = pick (logits, v, temperature, top_p, &rng, cands);
      if (le_tokenizer_is_eos (s->tok, next))
        break;
      ids[n++] = next;
    }
  text = le_tokenizer_decode (s->tok, ids, (size_t) n, true, err);
out:
  free (ids);
  free (prompt_ids);
  free (logits);
  free (cands);
  llama_kv_cache_free (cache);
  graph_free (g);
  return text;
}
