/* clip-model-text.c: text embeddings (transformers' get_text_features): phrases are
 * tokenized, run in batches through the CLIP text encoder of clip-text.c, pooled at the end
 * token as CLIPTextTransformer does, and projected by text_projection. */
#include "clip-model.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define TEXT_BATCH 32

/* Where CLIPTextTransformer pools: with the legacy eos_token_id 2, the position of the
 * largest id (the end token is the last of the vocabulary); else the first end token. */
static int64_t
pool_position (const clip_model *m, const int32_t *ids, int64_t t)
{
  int64_t at = 0;
  for (int64_t i = 0; i < t; i++)
    {
      if (m->cfg.eos_token_id == 2 ? ids[i] > ids[at] : ids[i] == m->cfg.eos_token_id)
        {
          at = i;
          if (m->cfg.eos_token_id != 2)
            return at;
        }
    }
  return at;
}

/* Phrases [first, first + n) -> OUT // (n, proj). */
static bool
text_batch (clip_model *m, graph *g, const char *const *texts, int64_t n, float *out,
            le_error *err)
{
  int64_t cap = m->cfg.positions;
  int32_t start = le_clip_tokenizer_start_id (m->tokenizer);
  int32_t end = le_clip_tokenizer_end_id (m->tokenizer);
  int32_t *ids = le_calloc ((size_t) (n * cap), sizeof *ids, "token ids", err);
  int64_t *len = le_calloc ((size_t) n, sizeof *len, "token counts", err);
  int64_t C = m->cfg.text.hidden, T = 2;
  float *hidden = NULL, *pooled = NULL;
  bool ok = ids != NULL && len != NULL;
  for (int64_t i = 0; ok && i < n; i++)
    {
      int32_t *tok = NULL;
      size_t nt = 0;
      ok = le_clip_tokenizer_tokenize (m->tokenizer, texts[i], &tok, &nt, err);
      if (!ok)
        break;
      if ((int64_t) nt > cap - 2)
        nt = (size_t) (cap - 2);     /* CLIPTokenizer's truncation keeps the end token */
      int32_t *row = ids + i * cap;
      row[0] = start;
      memcpy (row + 1, tok, nt * sizeof *tok);
      row[nt + 1] = end;
      len[i] = (int64_t) nt + 2;
      if (len[i] > T)
        T = len[i];
      free (tok);
    }
  /* one (n, T) block padded with the end token: attention is causal and pooling reads the
   * first end token, so padding after it changes nothing */
  int32_t *block = ok ? le_malloc ((size_t) (n * T) * sizeof *block, "token ids", err) : NULL;
  ok = block != NULL;
  for (int64_t i = 0; ok && i < n; i++)
    for (int64_t j = 0; j < T; j++)
      block[i * T + j] = j < len[i] ? ids[i * cap + j] : end;
  if (ok)
    {
      graph_reset (g);
      graph_set_grad_enabled (g, false);
      tensor *h = sd15_text_forward (&m->text, g, block, n, T, 1);          // (n, T, C)
      hidden = le_malloc ((size_t) (n * T * C) * sizeof *hidden, "text states", err);
      pooled = le_malloc ((size_t) (n * C) * sizeof *pooled, "pooled text", err);
      ok = hidden && pooled && h != NULL && graph_to_host (g, h, hidden, err);
      if (h == NULL)
        graph_take_error (g, err);
    }
  for (int64_t i = 0; ok && i < n; i++)
    {
      int64_t at = pool_position (m, block + i * T, T);
      memcpy (pooled + i * C, hidden + (i * T + at) * C, (size_t) C * sizeof *pooled);
    }
  if (ok)
    {
      graph_reset (g);
      int64_t s[2] = { n, C };
      tensor *p = graph_from_host (g, LE_F32, 2, s, pooled, "pooled");
      tensor *f = op_linear (g, p, m->text_projection, NULL);               // (n, proj)
      ok = f != NULL && graph_to_host (g, f, out, err);
      if (f == NULL)
        graph_take_error (g, err);
    }
  graph_reset (g);
  free (ids);
  free (len);
  free (block);
  free (hidden);
  free (pooled);
  return ok;
}

bool
clip_text_features (clip_model *m, graph *g, const char *const *texts, int64_t n, float *out,
                    le_error *err)
{
  for (int64_t i = 0; i < n; i += TEXT_BATCH)
    {
      int64_t k = n - i < TEXT_BATCH ? n - i : TEXT_BATCH;
      if (!text_batch (m, g, texts + i, k, out + i * m->cfg.projection_dim, err))
        return false;
    }
  return true;
}
