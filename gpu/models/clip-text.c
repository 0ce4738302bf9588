/* clip-text.c: SD 1.5's text encoder, CLIP ViT-L/14's text transformer (transformers'
 * CLIPTextModel) on the core ops: token + position embeddings, pre-LN layers with causal
 * self-attention and a quick-GELU MLP, the final layer norm; clip_skip as kohya and A1111
 * read it (the final layer norm applied to an earlier layer's output). */
#include "sd15-private.h"

#include <stdlib.h>

#include "ops.h"

tensor *
clip_encoder_layer (graph *g, const sd15_model *m, const clip_layer *l, tensor *x,
                    int64_t heads, float eps, bool causal, bool quick_gelu)
{
  if (x == NULL)
    return NULL;
  tensor *h = op_layernorm (g, x, l->ln1.w, l->ln1.b, eps);
  tensor *o = sd_multihead_attention (g, m, &l->q, &l->k, &l->v, h, h, heads, causal);
  x = op_add (g, x, sd_linear (g, m, &l->out, o));
  h = op_layernorm (g, x, l->ln2.w, l->ln2.b, eps);
  h = sd_linear (g, m, &l->fc1, h);                                        // (B, T, F)
  h = quick_gelu ? op_quick_gelu (g, h) : op_gelu (g, h);
  return op_add (g, x, sd_linear (g, m, &l->fc2, h));
}

tensor *
clip_layer_forward (graph *g, const sd15_model *m, const clip_layer *l, tensor *x)
{
  return clip_encoder_layer (g, m, l, x, m->cfg.clip_heads, m->cfg.clip_eps, true, true);
}

tensor *
sd15_text_forward (sd15_model *m, graph *g, const int32_t *ids, int64_t batch, int64_t t,
                   int clip_skip)
{
  if (!(m->parts & SD15_LOAD_TEXT))
    return graph_fail (g, LE_ERR_INVALID, "the text encoder was not loaded");
  const sd15_config *c = &m->cfg;
  if (t < 1 || t > c->clip_positions)
    return graph_fail (g, LE_ERR_INVALID, "text length %lld is outside 1..%lld",
                       (long long) t, (long long) c->clip_positions);
  if (clip_skip < 1)
    clip_skip = 1;
  if (clip_skip > c->clip_layers)
    return graph_fail (g, LE_ERR_INVALID, "clip_skip %d is more than the text encoder's %lld "
                       "layers", clip_skip, (long long) c->clip_layers);
  int64_t s_ids[2] = { batch, t };
  tensor *tid = graph_from_host (g, LE_I32, 2, s_ids, ids, "token_ids");
  int32_t *pos = malloc ((size_t) t * sizeof *pos);
  if (pos == NULL)
    return graph_fail (g, LE_ERR_MEMORY, "out of memory for position ids");
  for (int64_t i = 0; i < t; i++)
    pos[i] = (int32_t) i;
  int64_t s_pos[1] = { t };
  tensor *pid = graph_from_host (g, LE_I32, 1, s_pos, pos, "position_ids");
  free (pos);
  int64_t C = c->clip_hidden;
  tensor *x = op_embedding (g, m->text.tok.w, tid);                       // (B, T, C)
  tensor *p = op_embedding (g, m->text.pos.w, pid);                       // (T, C)
  /* broadcast the positions over the batch: (B, T*C) + (T*C) */
  int64_t s_flat[2] = { batch, t * C }, s_p[1] = { t * C }, s3[3] = { batch, t, C };
  x = op_add_bias (g, op_reshape (g, x, 2, s_flat), op_reshape (g, p, 1, s_p), 1);
  x = op_reshape (g, x, 3, s3);
  int64_t n = c->clip_layers - (clip_skip - 1);
  for (int64_t i = 0; i < n; i++)
    x = clip_layer_forward (g, m, &m->text.layers[i], x);
  return op_layernorm (g, x, m->text.final_ln.w, m->text.final_ln.b, c->clip_eps);
}
