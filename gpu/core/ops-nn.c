/* ops-nn.c: the neural-network ops of ops.h: embedding, normalisations, activations,
 * dropout, rope (and its table), fused attention and conv2d, with their backwards. */
#include "ops-internal.h"

#include <math.h>
#include <string.h>

/* ---- embedding ---- */

static void
embedding_backward (graph *g, tape_entry *e)
{
  tensor *table = e->in[0];
  float *dt = graph_grad (g, table);
  if (dt)
    g->be->embedding_backward (dt, e->out->grad, e->in[1]->data, e->in[1]->numel,
                               table->shape[1], table->shape[0]);
}

tensor *
op_embedding (graph *g, tensor *table, tensor *ids)
{
  if (!op_check (g, "embedding", "table", table, true)
      || !op_check (g, "embedding", "ids", ids, true))
    return NULL;
  if (table->ndim != 2 || table->dtype == LE_I32 || ids->dtype != LE_I32
      || ids->ndim >= LE_MAX_DIMS)
    return graph_fail (g, LE_ERR_INVALID,
                       "embedding: needs a float (V, C) table and I32 ids of at most 3 dims");
  int64_t shape[LE_MAX_DIMS];
  memcpy (shape, ids->shape, sizeof shape);
  shape[ids->ndim] = table->shape[1];
  tensor *y = op_out (g, "embedding", ids->ndim + 1, shape, table, NULL, NULL);  // (..., C)
  if (y == NULL)
    return NULL;
  g->be->embedding (y->data, table->data, table->dtype, ids->data, ids->numel,
                    table->shape[1], table->shape[0]);
  tape_entry *e = graph_record (g, "embedding", embedding_backward, y);
  if (e)
    {
      e->in[0] = table; e->in[1] = ids;
    }
  return y;
}

/* ---- normalisation ---- */

static bool
check_vec (graph *g, const char *op, const char *what, const tensor *t, int64_t c)
{
  if (t == NULL)
    return true;
  if (!op_check (g, op, what, t, false))
    return false;
  if (t->numel != c)
    return graph_fail (g, LE_ERR_INVALID, "%s: %s %s has %lld values, expected %lld", op,
                       what, t->name, (long long) t->numel, (long long) c) != NULL;
  return true;
}

static void
rmsnorm_backward (graph *g, tape_entry *e)
{
  tensor *x = e->in[0], *w = e->in[1];
  g->be->rmsnorm_backward (graph_grad (g, x), graph_grad (g, w), e->out->grad, x->data,
                           w ? w->data : NULL, e->saved[0]->data, e->i[0], e->i[1]);
}

tensor *
op_rmsnorm (graph *g, tensor *x, tensor *w, float eps)
{
  if (!op_check (g, "rmsnorm", "x", x, false))
    return NULL;
  int64_t c = x->shape[x->ndim - 1], n = x->numel / c, ns[1] = { n };
  if (!check_vec (g, "rmsnorm", "weight", w, c))
    return NULL;
  tensor *rstd = graph_tensor (g, LE_F32, 1, ns, "rstd");   // (N)
  tensor *y = op_out (g, "rmsnorm", x->ndim, x->shape, x, w, NULL);
  if (y == NULL || rstd == NULL)
    return NULL;
  g->be->rmsnorm (y->data, rstd->data, x->data, w ? w->data : NULL, n, c, eps);
  tape_entry *e = graph_record (g, "rmsnorm", rmsnorm_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = w; e->saved[0] = rstd; e->i[0] = n; e->i[1] = c;
    }
  return y;
}

static void
layernorm_backward (graph *g, tape_entry *e)
{
  tensor *x = e->in[0], *w = e->in[1], *b = e->in[2];
  g->be->layernorm_backward (graph_grad (g, x), graph_grad (g, w), graph_grad (g, b),
                             e->out->grad, x->data, w ? w->data : NULL, e->saved[0]->data,
                             e->saved[1]->data, e->i[0], e->i[1]);
}

tensor *
op_layernorm (graph *g, tensor *x, tensor *w, tensor *b, float eps)
{
  if (!op_check (g, "layernorm", "x", x, false))
    return NULL;
  int64_t c = x->shape[x->ndim - 1], n = x->numel / c, ns[1] = { n };
  if (!check_vec (g, "layernorm", "weight", w, c) || !check_vec (g, "layernorm", "bias", b, c))
    return NULL;
  tensor *mean = graph_tensor (g, LE_F32, 1, ns, "mean");   // (N)
  tensor *rstd = graph_tensor (g, LE_F32, 1, ns, "rstd");   // (N)
  tensor *y = op_out (g, "layernorm", x->ndim, x->shape, x, w, b);
  if (y == NULL || mean == NULL || rstd == NULL)
    return NULL;
  g->be->layernorm (y->data, mean->data, rstd->data, x->data, w ? w->data : NULL,
                    b ? b->data : NULL, n, c, eps);
  tape_entry *e = graph_record (g, "layernorm", layernorm_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = w; e->in[2] = b;
      e->saved[0] = mean; e->saved[1] = rstd; e->i[0] = n; e->i[1] = c;
    }
  return y;
}

static void
groupnorm_backward (graph *g, tape_entry *e)
{
  tensor *x = e->in[0], *w = e->in[1], *b = e->in[2];
  g->be->groupnorm_backward (graph_grad (g, x), graph_grad (g, w), graph_grad (g, b),
                             e->out->grad, x->data, w ? w->data : NULL, e->saved[0]->data,
                             e->saved[1]->data, e->i[0], e->i[1], e->i[2], e->i[3]);
}

tensor *
op_groupnorm (graph *g, tensor *x, int groups, tensor *w, tensor *b, float eps)
{
  if (!op_check (g, "groupnorm", "x", x, false))
    return NULL;
  if (x->ndim < 2 || groups < 1 || x->shape[1] % groups != 0)
    return graph_fail (g, LE_ERR_INVALID, "groupnorm: %d groups do not divide %lld channels",
                       groups, (long long) (x->ndim > 1 ? x->shape[1] : 0));
  int64_t batch = x->shape[0], c = x->shape[1], s = op_dims (x, 2, 4);
  if (!check_vec (g, "groupnorm", "weight", w, c) || !check_vec (g, "groupnorm", "bias", b, c))
    return NULL;
  int64_t gs[1] = { batch * groups };
  tensor *mean = graph_tensor (g, LE_F32, 1, gs, "mean");   // (B * G)
  tensor *rstd = graph_tensor (g, LE_F32, 1, gs, "rstd");   // (B * G)
  tensor *y = op_out (g, "groupnorm", x->ndim, x->shape, x, w, b);
  if (y == NULL || mean == NULL || rstd == NULL)
    return NULL;
  g->be->groupnorm (y->data, mean->data, rstd->data, x->data, w ? w->data : NULL,
                    b ? b->data : NULL, batch, c, s, groups, eps);
  tape_entry *e = graph_record (g, "groupnorm", groupnorm_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = w; e->in[2] = b; e->saved[0] = mean; e->saved[1] = rstd;
      e->i[0] = batch; e->i[1] = c; e->i[2] = s; e->i[3] = groups;
    }
  return y;
}

/* ---- activations ---- */

static void
act_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->act_backward ((le_act) e->i[0], dx, e->out->grad, e->in[0]->data, e->out->numel);
}

static tensor *
activation (graph *g, const char *op, le_act act, tensor *x)
{
  if (!op_check (g, op, "x", x, false))
    return NULL;
  tensor *y = op_out (g, op, x->ndim, x->shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->act_forward (act, y->data, x->data, x->numel);
  tape_entry *e = graph_record (g, op, act_backward, y);
  if (e)
    {
      e->in[0] = x; e->i[0] = act;
    }
  return y;
}

tensor *op_silu (graph *g, tensor *x) { return activation (g, "silu", LE_ACT_SILU, x); }
tensor *op_gelu (graph *g, tensor *x) { return activation (g, "gelu", LE_ACT_GELU, x); }
tensor *op_gelu_tanh (graph *g, tensor *x)
{
  return activation (g, "gelu_tanh", LE_ACT_GELU_TANH, x);
}
tensor *op_quick_gelu (graph *g, tensor *x)
{
  return activation (g, "quick_gelu", LE_ACT_QUICK_GELU, x);
}

static void
geglu_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->geglu_backward (dx, e->out->grad, e->in[0]->data, e->i[0], e->i[1]);
}

tensor *
op_geglu (graph *g, tensor *x)
{
  if (!op_check (g, "geglu", "x", x, false))
    return NULL;
  int64_t c2 = x->shape[x->ndim - 1];
  if (c2 % 2)
    return graph_fail (g, LE_ERR_INVALID, "geglu: last dim %lld is odd", (long long) c2);
  int64_t shape[4];
  memcpy (shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = c2 / 2;
  tensor *y = op_out (g, "geglu", x->ndim, shape, x, NULL, NULL);   // (..., C)
  if (y == NULL)
    return NULL;
  g->be->geglu (y->data, x->data, x->numel / c2, c2 / 2);
  tape_entry *e = graph_record (g, "geglu", geglu_backward, y);
  if (e)
    {
      e->in[0] = x; e->i[0] = x->numel / c2; e->i[1] = c2 / 2;
    }
  return y;
}

static void
swiglu_backward (graph *g, tape_entry *e)
{
  g->be->swiglu_backward (graph_grad (g, e->in[0]), graph_grad (g, e->in[1]), e->out->grad,
                          e->in[0]->data, e->in[1]->data, e->out->numel);
}

tensor *
op_swiglu (graph *g, tensor *gate, tensor *up)
{
  if (!op_check (g, "swiglu", "gate", gate, false) || !op_check (g, "swiglu", "up", up, false))
    return NULL;
  if (!tensor_same_shape (gate, up))
    return graph_fail (g, LE_ERR_INVALID, "swiglu: gate and up differ in shape");
  tensor *y = op_out (g, "swiglu", gate->ndim, gate->shape, gate, up, NULL);
  if (y == NULL)
    return NULL;
  g->be->swiglu (y->data, gate->data, up->data, gate->numel);
  tape_entry *e = graph_record (g, "swiglu", swiglu_backward, y);
  if (e)
    {
      e->in[0] = gate; e->in[1] = up;
    }
  return y;
}

static void
softmax_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->softmax_backward (dx, e->out->grad, e->out->data, e->i[0], e->i[1]);
}

tensor *
op_softmax (graph *g, tensor *x)
{
  if (!op_check (g, "softmax", "x", x, false))
    return NULL;
  int64_t c = x->shape[x->ndim - 1];
  tensor *y = op_out (g, "softmax", x->ndim, x->shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->softmax (y->data, x->data, x->numel / c, c);
  tape_entry *e = graph_record (g, "softmax", softmax_backward, y);
  if (e)
    {
      e->in[0] = x; e->i[0] = x->numel / c; e->i[1] = c;
    }
  return y;
}

static void
dropout_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->dropout_backward (dx, e->out->grad, e->out->numel, e->f[0], (uint64_t) e->i[0],
                             (uint64_t) e->i[1]);
}

tensor *
op_dropout (graph *g, tensor *x, float p)
{
  if (!op_check (g, "dropout", "x", x, false))
    return NULL;
  if (!(p >= 0.0f && p < 1.0f))
    return graph_fail (g, LE_ERR_INVALID, "dropout: p = %g, must be in [0, 1)", p);
  if (p == 0.0f || !g->training)
    return x;
  tensor *y = op_out (g, "dropout", x->ndim, x->shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  uint64_t offset = g->rng_offset;
  g->rng_offset += (uint64_t) x->numel;
  g->be->dropout (y->data, x->data, x->numel, p, g->rng_seed, offset);
  tape_entry *e = graph_record (g, "dropout", dropout_backward, y);
  if (e)
    {
      e->in[0] = x; e->f[0] = p; e->i[0] = (int64_t) g->rng_seed; e->i[1] = (int64_t) offset;
    }
  return y;
}

/* ---- rope ---- */

void
rope_table_build (float *cos_t, float *sin_t, int64_t positions, int64_t d, float theta,
                  const rope_scaling *scaling)
{
  int64_t half = d / 2;
  for (int64_t i = 0; i < half; i++)
    {
      /* HF computes inv_freq in float32; so do we, for the same tables */
      float inv = 1.0f / powf (theta, (float) (2 * i) / (float) d);
      if (scaling && scaling->factor > 0)
        {
          float lo_wl = scaling->original_max_position / scaling->low_freq_factor;
          float hi_wl = scaling->original_max_position / scaling->high_freq_factor;
          float wl = 6.283185307179586f / inv;
          if (wl > lo_wl)
            inv = inv / scaling->factor;
          else if (wl >= hi_wl)   /* between: interpolate the two */
            {
              float s = (scaling->original_max_position / wl - scaling->low_freq_factor)
                        / (scaling->high_freq_factor - scaling->low_freq_factor);
              inv = (1.0f - s) * inv / scaling->factor + s * inv;
            }
        }
      for (int64_t p = 0; p < positions; p++)
        {
          float a = (float) p * inv;
          cos_t[p * d + i] = cos_t[p * d + half + i] = cosf (a);
          sin_t[p * d + i] = sin_t[p * d + half + i] = sinf (a);
        }
    }
}

static void
rope_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  tensor *x = e->in[0];
  if (dx)
    g->be->rope_backward (dx, e->out->grad, e->in[1]->data, e->in[2]->data,
                          x->shape[0] * x->shape[1], x->shape[2], x->shape[3], e->i[0]);
}

tensor *
op_rope (graph *g, tensor *x, tensor *cos_t, tensor *sin_t, int64_t pos_offset)
{
  if (!op_check (g, "rope", "x", x, false) || !op_check (g, "rope", "cos", cos_t, false)
      || !op_check (g, "rope", "sin", sin_t, false))
    return NULL;
  int64_t d = x->shape[3];
  if (x->ndim != 4 || d % 2 || cos_t->ndim != 2 || cos_t->shape[1] != d
      || !tensor_same_shape (cos_t, sin_t) || pos_offset < 0
      || cos_t->shape[0] < pos_offset + x->shape[2])
    return graph_fail (g, LE_ERR_INVALID,
                       "rope: needs x (B, H, T, D) with even D and (P, D) tables with "
                       "P >= offset + T");
  tensor *y = op_out (g, "rope", 4, x->shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->rope (y->data, x->data, cos_t->data, sin_t->data, x->shape[0] * x->shape[1],
               x->shape[2], d, pos_offset);
  tape_entry *e = graph_record (g, "rope", rope_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = cos_t; e->in[2] = sin_t; e->i[0] = pos_offset;
    }
  return y;
}

/* ---- attention ---- */

static void
attention_backward (graph *g, tape_entry *e)
{
  tensor *q = e->in[0], *k = e->in[1], *v = e->in[2];
  float *dq = graph_grad (g, q), *dk = graph_grad (g, k), *dv = graph_grad (g, v);
  g->be->attention_backward (dq, dk, dv, e->out->grad, e->out->data, e->saved[0]->data,
                             q->data, k->data, v->data, q->shape[0], q->shape[1], k->shape[1],
                             q->shape[2], k->shape[2], q->shape[3], e->f[0], e->i[0]);
}

tensor *
op_attention (graph *g, tensor *q, tensor *k, tensor *v, bool causal, float scale)
{
  if (!op_check (g, "attention", "q", q, false) || !op_check (g, "attention", "k", k, false)
      || !op_check (g, "attention", "v", v, false))
    return NULL;
  if (q->ndim != 4 || !tensor_same_shape (k, v) || k->ndim != 4 || k->shape[0] != q->shape[0]
      || k->shape[3] != q->shape[3] || q->shape[1] % k->shape[1] != 0)
    {
      char sq[64], sk[64];
      return graph_fail (g, LE_ERR_INVALID,
                         "attention: q %s and k, v %s must be (B, H, Tq, D) and "
                         "(B, Hkv, Tk, D) with H a multiple of Hkv",
                         tensor_shape_str (q, sq, sizeof sq), tensor_shape_str (k, sk, sizeof sk));
    }
  int64_t ls[3] = { q->shape[0], q->shape[1], q->shape[2] };
  tensor *lse = graph_tensor (g, LE_F32, 3, ls, "lse");   // (B, H, Tq)
  tensor *y = op_out (g, "attention", 4, q->shape, q, k, v);   // (B, H, Tq, D)
  if (y == NULL || lse == NULL)
    return NULL;
  g->be->attention (y->data, lse->data, q->data, k->data, v->data, q->shape[0], q->shape[1],
                    k->shape[1], q->shape[2], k->shape[2], q->shape[3], scale, causal);
  tape_entry *e = graph_record (g, "attention", attention_backward, y);
  if (e)
    {
      e->in[0] = q; e->in[1] = k; e->in[2] = v; e->saved[0] = lse;
      e->f[0] = scale; e->i[0] = causal;
    }
  return y;
}

/* ---- conv2d ---- */

static le_conv2d_geom
geom_from (const tape_entry *e)
{
  le_conv2d_geom gm = { e->i[0], e->i[1], e->i[2], e->i[3], e->i[4], e->i[5], e->i[6],
                        e->i[7], e->i[8], e->i[9], e->i[10], e->i[11], 0, 0 };
  gm.out_h = (gm.h + gm.pad_t + gm.pad_b - gm.kh) / gm.stride + 1;
  gm.out_w = (gm.w + gm.pad_l + gm.pad_r - gm.kw) / gm.stride + 1;
  return gm;
}

static void
conv2d_backward (graph *g, tape_entry *e)
{
  tensor *x = e->in[0], *w = e->in[1], *b = e->in[2];
  le_conv2d_geom gm = geom_from (e);
  g->be->conv2d_backward (graph_grad (g, x), graph_grad (g, w), graph_grad (g, b),
                          e->out->grad, x->data, w->data, w->dtype, &gm);
}

tensor *
op_conv2d_ex (graph *g, tensor *x, tensor *w, tensor *b, int stride, int pad_t, int pad_l,
              int pad_b, int pad_r)
{
  if (!op_check (g, "conv2d", "x", x, false) || !op_check (g, "conv2d", "weight", w, true))
    return NULL;
  if (x->ndim != 4 || w->ndim != 4 || w->shape[1] != x->shape[1] || w->dtype == LE_I32
      || (w->requires_grad && w->dtype != LE_F32) || stride < 1 || pad_t < 0 || pad_l < 0 || pad_b < 0 || pad_r < 0)
    {
      char sx[64], sw[64];
      return graph_fail (g, LE_ERR_INVALID, "conv2d: input %s does not fit weight %s %s",
                         tensor_shape_str (x, sx, sizeof sx), w->name,
                         tensor_shape_str (w, sw, sizeof sw));
    }
  if (!check_vec (g, "conv2d", "bias", b, w->shape[0]))
    return NULL;
  tape_entry tmp = { .i = { x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0],
                            w->shape[2], w->shape[3], stride, pad_t, pad_l, pad_b, pad_r } };
  le_conv2d_geom gm = geom_from (&tmp);
  if (gm.out_h < 1 || gm.out_w < 1)
    return graph_fail (g, LE_ERR_INVALID, "conv2d: kernel larger than the padded input");
  int64_t shape[4] = { gm.batch, gm.c_out, gm.out_h, gm.out_w };
  tensor *y = op_out (g, "conv2d", 4, shape, x, w, b);   // (B, Cout, Ho, Wo)
  if (y == NULL)
    return NULL;
  g->be->conv2d (y->data, x->data, w->data, w->dtype, b ? b->data : NULL, &gm);
  tape_entry *e = graph_record (g, "conv2d", conv2d_backward, y);
  if (e)
    {
      memcpy (e->i, tmp.i, sizeof e->i);
      e->in[0] = x; e->in[1] = w; e->in[2] = b;
    }
  return y;
}

tensor *
op_conv2d (graph *g, tensor *x, tensor *w, tensor *b, int stride, int pad)
{
  return op_conv2d_ex (g, x, w, b, stride, pad, pad, pad, pad);
}
