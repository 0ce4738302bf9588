/* llama-forward.c: the LLaMA forward pass on the core ops, for training (loss) and
 * generation (logits). Backward comes from the tape. */
#include "llama.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* Grows the host RoPE tables to at least T positions (HF layout, see ops.h). */
static bool
ensure_rope (llama_model *m, graph *g, int64_t t)
{
  if (t <= m->rope_positions)
    return true;
  int64_t p = t < 256 ? 256 : t, d = m->cfg.head_dim;
  float *c = malloc ((size_t) (p * d) * sizeof *c);
  float *s = malloc ((size_t) (p * d) * sizeof *s);
  if (c == NULL || s == NULL)
    {
      free (c);
      free (s);
      graph_fail (g, LE_ERR_MEMORY, "out of memory for RoPE tables");
      return false;
    }
  float lf = m->cfg.rope_linear_factor;
  if (lf != 1.0f)
    {
      /* "linear" scaling divides positions by the factor (HF's LinearScalingRotaryEmbedding) */
      int64_t half = d / 2;
      for (int64_t i = 0; i < half; i++)
        {
          float inv = 1.0f / powf (m->cfg.rope_theta, (float) (2 * i) / (float) d);
          for (int64_t q = 0; q < p; q++)
            {
              float a = ((float) q / lf) * inv;
              c[q * d + i] = c[q * d + half + i] = cosf (a);
              s[q * d + i] = s[q * d + half + i] = sinf (a);
            }
        }
    }
  else
    rope_table_build (c, s, p, d, m->cfg.rope_theta, &m->cfg.scaling);
  free (m->rope_cos);
  free (m->rope_sin);
  m->rope_cos = c;
  m->rope_sin = s;
  m->rope_positions = p;
  return true;
}

typedef struct llama_block_ctx {
  llama_model *m;
  int layer;
  tensor *cos, *sin;             // (pos + T, D)
  int64_t batch, t;
  /* generation only: cached keys/values // (B, Hkv, max_t, D) of positions [0, pos) */
  float *k_cache, *v_cache;
  int64_t pos, max_t;
} layer_ctx;   /* struct llama_block_ctx of llama.h */

/* (B, T, H*D) -> (B, H, T, D) */
static tensor *
to_heads (graph *g, tensor *x, int64_t b, int64_t t, int64_t h, int64_t d)
{
  x = op_reshape (g, x, 4, (int64_t[]) { b, t, h, d });
  return op_permute (g, x, (int[]) { 0, 2, 1, 3 });
}

/* Stores the new positions of X // (B, Hkv, T, D) in CACHE // (B, Hkv, max_t, D) and
 * returns a contiguous copy of positions [0, pos + T). */
static tensor *
with_cache (graph *g, const layer_ctx *ctx, tensor *x, float *cache)
{
  int64_t bh = x->shape[0] * x->shape[1], t = x->shape[2], d = x->shape[3];
  int64_t total = ctx->pos + t;
  g->be->slice_copy (cache, ctx->max_t, ctx->pos, x->data, t, 0, bh, t, d, false);
  tensor *all = graph_tensor (g, LE_F32, 4,
                              (int64_t[]) { x->shape[0], x->shape[1], total, d }, "kv");
  if (all)
    g->be->slice_copy (all->data, total, 0, cache, ctx->max_t, 0, bh, total, d, false);
  return all;
}

/* One decoder layer: x // (B, T, C) -> (B, T, C). A checkpointable block. */
static bool
layer_block (graph *g, void *user, tensor **in, int n_in, tensor **out, int n_out)
{
  (void) n_in;
  (void) n_out;
  layer_ctx *ctx = user;
  llama_model *m = ctx->m;
  const llama_config *c = &m->cfg;
  llama_layer *L = &m->layers[ctx->layer];
  float p = m->lora ? m->lora->dropout : 0.0f;
  int64_t B = ctx->batch, T = ctx->t, H = c->n_heads, Hkv = c->n_kv_heads, D = c->head_dim;
  tensor *x = in[0];

  tensor *h = op_rmsnorm (g, x, L->attn_norm, c->rms_eps);
  tensor *q = lora_linear_forward (g, L->lora[LLAMA_Q], h, L->w[LLAMA_Q], NULL, p);
  tensor *k = lora_linear_forward (g, L->lora[LLAMA_K], h, L->w[LLAMA_K], NULL, p);
  tensor *v = lora_linear_forward (g, L->lora[LLAMA_V], h, L->w[LLAMA_V], NULL, p);
  q = to_heads (g, q, B, T, H, D);               // (B, H, T, D)
  k = to_heads (g, k, B, T, Hkv, D);             // (B, Hkv, T, D)
  v = to_heads (g, v, B, T, Hkv, D);
  q = op_rope (g, q, ctx->cos, ctx->sin, ctx->pos);
  k = op_rope (g, k, ctx->cos, ctx->sin, ctx->pos);
  if (ctx->k_cache && k && v)
    {
      k = with_cache (g, ctx, k, ctx->k_cache);   // (B, Hkv, pos + T, D)
      v = with_cache (g, ctx, v, ctx->v_cache);
    }
  tensor *a = op_attention (g, q, k, v, true, 1.0f / sqrtf ((float) D));  // (B, H, T, D)
  a = op_permute (g, a, (int[]) { 0, 2, 1, 3 }); // (B, T, H, D)
  a = op_reshape (g, a, 3, (int64_t[]) { B, T, H * D });
  tensor *o = lora_linear_forward (g, L->lora[LLAMA_O], a, L->w[LLAMA_O], NULL, p);
  x = op_add (g, x, o);

  h = op_rmsnorm (g, x, L->mlp_norm, c->rms_eps);
  tensor *gate = lora_linear_forward (g, L->lora[LLAMA_GATE], h, L->w[LLAMA_GATE], NULL, p);
  tensor *up = lora_linear_forward (g, L->lora[LLAMA_UP], h, L->w[LLAMA_UP], NULL, p);
  tensor *mlp = op_swiglu (g, gate, up);         // (B, T, F)
  tensor *down = lora_linear_forward (g, L->lora[LLAMA_DOWN], mlp, L->w[LLAMA_DOWN], NULL, p);
  out[0] = op_add (g, x, down);
  return out[0] != NULL;
}

/* Embedding and every layer: (B, T) ids -> hidden states (B, T, C) after the final norm. */
static tensor *
trunk (llama_model *m, graph *g, const int32_t *tokens, int64_t batch, int64_t t)
{
  if (batch < 1 || t < 1)
    return graph_fail (g, LE_ERR_INVALID, "empty batch (%lld x %lld tokens)",
                       (long long) batch, (long long) t);
  for (int64_t i = 0; i < batch * t; i++)
    if (tokens[i] < 0 || tokens[i] >= m->cfg.vocab)
      return graph_fail (g, LE_ERR_INVALID, "token id %d is outside the model's vocabulary "
                         "(vocab_size %lld); the tokenizer does not belong to this model",
                         tokens[i], (long long) m->cfg.vocab);
  if (!ensure_rope (m, g, t))
    return NULL;
  int64_t D = m->cfg.head_dim;
  tensor *ids = graph_from_host (g, LE_I32, 2, (int64_t[]) { batch, t }, tokens, "tokens");
  tensor *cos = graph_from_host (g, LE_F32, 2, (int64_t[]) { t, D }, m->rope_cos, "rope_cos");
  tensor *sin = graph_from_host (g, LE_F32, 2, (int64_t[]) { t, D }, m->rope_sin, "rope_sin");
  if (m->block_ctx == NULL)
    {
      m->block_ctx = calloc ((size_t) m->cfg.n_layers, sizeof *m->block_ctx);
      if (m->block_ctx == NULL)
        return graph_fail (g, LE_ERR_MEMORY, "out of memory");
    }
  tensor *x = op_embedding (g, m->embed, ids);   // (B, T, C)
  for (int l = 0; l < m->cfg.n_layers && x; l++)
    {
      layer_ctx *ctx = &m->block_ctx[l];
      *ctx = (layer_ctx) { m, l, cos, sin, batch, t, NULL, NULL, 0, 0 };
      tensor *out = NULL;
      bool ok = m->checkpointing
                ? graph_checkpoint (g, layer_block, ctx, &x, 1, &out, 1)
                : layer_block (g, ctx, &x, 1, &out, 1);
      x = ok ? out : NULL;
    }
  return x;
}

tensor *
llama_forward_loss (llama_model *m, graph *g, const int32_t *tokens, const uint8_t *count,
                    int64_t batch, int64_t t, double *sum_out, int64_t *n_out)
{
  tensor *x = trunk (m, g, tokens, batch, t);
  if (x == NULL)
    return NULL;
  x = op_rmsnorm (g, x, m->norm, m->cfg.rms_eps);
  tensor *logits = op_linear (g, x, m->lm_head, NULL);   // (B, T, V)
  /* position i predicts token i + 1 when that token counts */
  int32_t *targets = malloc ((size_t) (batch * t) * sizeof *targets);
  if (targets == NULL)
    return graph_fail (g, LE_ERR_MEMORY, "out of memory for targets");
  for (int64_t b = 0; b < batch; b++)
    for (int64_t i = 0; i < t; i++)
      {
        int64_t j = b * t + i;
        targets[j] = i + 1 < t && count[j + 1] ? tokens[j + 1] : -1;
      }
  tensor *tg = graph_from_host (g, LE_I32, 2, (int64_t[]) { batch, t }, targets, "targets");
  free (targets);
  return op_cross_entropy (g, logits, tg, sum_out, n_out);
}

tensor *
llama_forward_logits (llama_model *m, graph *g, const int32_t *tokens, int64_t batch,
                      int64_t t, bool last_only)
{
  tensor *x = trunk (m, g, tokens, batch, t);
  if (x && last_only)
    x = op_slice (g, x, 1, t - 1, 1);                      // (B, 1, C)
  x = op_rmsnorm (g, x, m->norm, m->cfg.rms_eps);
  return op_linear (g, x, m->lm_head, NULL);               // (B, T or 1, V)
}

struct llama_kv_cache {
  const backend *be;
  float *k, *v;                  /* (n_layers, B, Hkv, max_t, D) each */
  int64_t batch, max_t, len, layer_stride;
};

llama_kv_cache *
llama_kv_cache_new (llama_model *m, int64_t batch, int64_t max_t, le_error *err)
{
  llama_kv_cache *c = le_calloc (1, sizeof *c, "KV cache", err);
  if (c == NULL)
    return NULL;
  c->be = m->be;
  c->batch = batch;
  c->max_t = max_t;
  c->layer_stride = batch * m->cfg.n_kv_heads * max_t * m->cfg.head_dim;
  size_t bytes = (size_t) (c->layer_stride * m->cfg.n_layers) * sizeof (float);
  c->k = m->be->alloc (bytes, err);
  c->v = c->k ? m->be->alloc (bytes, err) : NULL;
  if (c->v == NULL)
    {
      llama_kv_cache_free (c);
      return NULL;
    }
  return c;
}

void
llama_kv_cache_free (llama_kv_cache *c)
{
  if (c == NULL)
    return;
  if (c->k)
    c->be->free (c->k);
  if (c->v)
    c->be->free (c->v);
  free (c);
}

int64_t
llama_kv_cache_len (const llama_kv_cache *c)
{
  return c->len;
}

tensor *
llama_forward_cached (llama_model *m, graph *g, llama_kv_cache *c, const int32_t *tokens,
                      int64_t batch, int64_t t)
{
  if (batch != c->batch || t < 1 || c->len + t > c->max_t)
    return graph_fail (g, LE_ERR_INVALID, "KV cache holds %lld of %lld positions for batch "
                       "%lld; %lld more for batch %lld do not fit", (long long) c->len,
                       (long long) c->max_t, (long long) c->batch, (long long) t,
                       (long long) batch);
  for (int64_t i = 0; i < batch * t; i++)
    if (tokens[i] < 0 || tokens[i] >= m->cfg.vocab)
      return graph_fail (g, LE_ERR_INVALID, "token id %d is outside the model's vocabulary "
                         "(vocab_size %lld)", tokens[i], (long long) m->cfg.vocab);
  int64_t total = c->len + t, D = m->cfg.head_dim;
  if (!ensure_rope (m, g, total))
    return NULL;
  if (m->block_ctx == NULL)
    {
      m->block_ctx = calloc ((size_t) m->cfg.n_layers, sizeof *m->block_ctx);
      if (m->block_ctx == NULL)
        return graph_fail (g, LE_ERR_MEMORY, "out of memory");
    }
  tensor *ids = graph_from_host (g, LE_I32, 2, (int64_t[]) { batch, t }, tokens, "tokens");
  tensor *cos = graph_from_host (g, LE_F32, 2, (int64_t[]) { total, D }, m->rope_cos, "rope_cos");
  tensor *sin = graph_from_host (g, LE_F32, 2, (int64_t[]) { total, D }, m->rope_sin, "rope_sin");
  tensor *x = op_embedding (g, m->embed, ids);   // (B, T, C)
  for (int l = 0; l < m->cfg.n_layers && x; l++)
    {
      layer_ctx *ctx = &m->block_ctx[l];
      *ctx = (layer_ctx) { m, l, cos, sin, batch, t, c->k + l * c->layer_stride,
                           c->v + l * c->layer_stride, c->len, c->max_t };
      tensor *out = NULL;
      x = layer_block (g, ctx, &x, 1, &out, 1) ? out : NULL;
    }
  if (x == NULL)
    return NULL;
  c->len = total;
  x = op_slice (g, x, 1, t - 1, 1);                        // (B, 1, C)
  x = op_rmsnorm (g, x, m->norm, m->cfg.rms_eps);
  return op_linear (g, x, m->lm_head, NULL);               // (B, 1, V)
}
