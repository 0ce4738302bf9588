/* sd-unet.c: SD 1.5's UNet forward on the core ops (diffusers' UNet2DConditionModel for
 * SD 1.5 / LDM's UNetModel), with the pieces the VAE shares: modules with LoRA, ResNet
 * blocks, multi-head attention, the SpatialTransformer. Eps values are SD's: 1e-5 for
 * ResNet GroupNorms and conv_norm_out (norm_eps), 1e-6 for the transformer's GroupNorm,
 * 1e-5 for its LayerNorms. Each ResNet and transformer may run as a checkpointed block. */
#include "sd15-private.h"

#include <math.h>
#include <stdlib.h>

#include "ops.h"

tensor *
sd_linear (graph *g, const sd15_model *m, const sd_module *mod, tensor *x)
{
  (void) m;
  return lora_linear_forward (g, mod->lora, x, mod->w, mod->b, mod->lora_dropout);
}

static tensor *
conv_padded (graph *g, tensor *x, tensor *w, tensor *b, int stride, int pad)
{
  if (pad < 0)                  /* VAE downsampling: pad right and bottom by one */
    return op_conv2d_ex (g, x, w, b, stride, 0, 0, 1, 1);
  return op_conv2d (g, x, w, b, stride, pad);
}

tensor *
sd_conv (graph *g, const sd15_model *m, const sd_module *mod, tensor *x, int stride, int pad)
{
  (void) m;
  tensor *y = conv_padded (g, x, mod->w, mod->b, stride, pad);
  const lora_linear *l = mod->lora;
  if (l == NULL || y == NULL)
    return y;
  /* LoCon (kohya): lora_down is a conv with the base kernel, stride and padding; lora_up a
   * 1x1 conv. A // (r, Cin*kh*kw) and B // (out, r) are those kernels in memory order. */
  int64_t sa[4] = { l->a->shape[0], mod->w->shape[1], mod->w->shape[2], mod->w->shape[3] };
  int64_t sb[4] = { l->b->shape[0], l->b->shape[1], 1, 1 };
  tensor *a4 = op_reshape (g, l->a, 4, sa);
  tensor *b4 = op_reshape (g, l->b, 4, sb);
  tensor *xd = mod->lora_dropout > 0 ? op_dropout (g, x, mod->lora_dropout) : x;
  tensor *h = conv_padded (g, xd, a4, NULL, stride, pad);      // (B, r, Ho, Wo)
  tensor *d = op_conv2d (g, h, b4, NULL, 1, 0);                 // (B, out, Ho, Wo)
  return op_add (g, y, op_scale (g, d, l->scale));
}

tensor *
sd_resnet_forward (graph *g, const sd15_model *m, const sd_resnet *r, tensor *x,
                   tensor *temb_act)
{
  tensor *h = op_groupnorm (g, x, r->groups, r->norm1.w, r->norm1.b, r->eps);
  h = sd_conv (g, m, &r->conv1, op_silu (g, h), 1, 1);          // (B, out, H, W)
  if (temb_act && r->time_emb_proj.w)
    {
      tensor *t = sd_linear (g, m, &r->time_emb_proj, temb_act);  // (B, out)
      h = op_add_bias (g, h, t, 1);
    }
  h = op_groupnorm (g, h, r->groups, r->norm2.w, r->norm2.b, r->eps);
  h = sd_conv (g, m, &r->conv2, op_silu (g, h), 1, 1);
  tensor *skip = r->conv_shortcut.w ? sd_conv (g, m, &r->conv_shortcut, x, 1, 0) : x;
  return op_add (g, skip, h);
}

/* (B, T, C) -> (B, H, T, D) */
static tensor *
split_heads (graph *g, tensor *x, int64_t heads)
{
  if (x == NULL)
    return NULL;
  int64_t s[4] = { x->shape[0], x->shape[1], heads, x->shape[2] / heads };
  static const int perm[4] = { 0, 2, 1, 3 };
  return op_permute (g, op_reshape (g, x, 4, s), perm);
}

tensor *
sd_multihead_attention (graph *g, const sd15_model *m, const sd_module *to_q,
                        const sd_module *to_k, const sd_module *to_v, tensor *x, tensor *src,
                        int64_t heads, bool causal)
{
  if (x == NULL)
    return NULL;
  int64_t B = x->shape[0], T = x->shape[1], C = to_q->w->shape[0];
  int64_t D = C / heads;
  tensor *q = split_heads (g, sd_linear (g, m, to_q, x), heads);            // (B, H, T, D)
  tensor *k = split_heads (g, sd_linear (g, m, to_k, src), heads);          // (B, H, S, D)
  tensor *v = split_heads (g, sd_linear (g, m, to_v, src), heads);
  tensor *o = op_attention (g, q, k, v, causal, 1.0f / sqrtf ((float) D));  // (B, H, T, D)
  static const int perm[4] = { 0, 2, 1, 3 };
  int64_t s[3] = { B, T, C };
  return op_reshape (g, op_permute (g, o, perm), 3, s);                     // (B, T, C)
}

tensor *
sd_attention_forward (graph *g, const sd15_model *m, const sd_attention *a, tensor *x,
                      tensor *context)
{
  tensor *o = sd_multihead_attention (g, m, &a->to_q, &a->to_k, &a->to_v, x,
                                      context ? context : x, a->heads, false);
  return sd_linear (g, m, &a->to_out, o);
}

static tensor *
transformer_block (graph *g, const sd15_model *m, const sd_transformer_block *k, tensor *x,
                   tensor *context)
{
  const float eps = 1e-5f;
  tensor *h = op_layernorm (g, x, k->norm1.w, k->norm1.b, eps);
  x = op_add (g, x, sd_attention_forward (g, m, &k->attn1, h, NULL));
  h = op_layernorm (g, x, k->norm2.w, k->norm2.b, eps);
  x = op_add (g, x, sd_attention_forward (g, m, &k->attn2, h, context));
  h = op_layernorm (g, x, k->norm3.w, k->norm3.b, eps);
  h = op_geglu (g, sd_linear (g, m, &k->ff_in, h));                        // (B, T, 4C)
  return op_add (g, x, sd_linear (g, m, &k->ff_out, h));
}

tensor *
sd_transformer_forward (graph *g, const sd15_model *m, const sd_spatial_transformer *t,
                        tensor *x, tensor *context)
{
  if (x == NULL)
    return NULL;
  int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  tensor *h = op_groupnorm (g, x, t->groups, t->norm.w, t->norm.b, 1e-6f);
  h = sd_conv (g, m, &t->proj_in, h, 1, 0);                                // (B, C, H, W)
  int64_t s3[3] = { B, C, H * W };
  h = op_transpose (g, op_reshape (g, h, 3, s3), 1, 2);                     // (B, HW, C)
  for (int i = 0; i < t->n_blocks; i++)
    h = transformer_block (g, m, &t->blocks[i], h, context);
  int64_t s4[4] = { B, C, H, W };
  h = op_reshape (g, op_transpose (g, h, 1, 2), 4, s4);                     // (B, C, H, W)
  h = sd_conv (g, m, &t->proj_out, h, 1, 0);
  return op_add (g, h, x);
}

/* ---- checkpointed blocks: in[] are the block's tensor inputs, ctx its weights ---- */

static bool
resnet_block (graph *g, void *ctx, tensor **in, int n_in, tensor **out, int n_out)
{
  (void) n_out;
  out[0] = sd_resnet_forward (g, NULL, ctx, in[0], n_in > 1 ? in[1] : NULL);
  return out[0] != NULL;
}

static bool
transformer_ckpt (graph *g, void *ctx, tensor **in, int n_in, tensor **out, int n_out)
{
  (void) n_in;
  (void) n_out;
  out[0] = sd_transformer_forward (g, NULL, ctx, in[0], in[1]);
  return out[0] != NULL;
}

static tensor *
run_resnet (graph *g, const sd15_model *m, const sd_resnet *r, tensor *x, tensor *temb_act)
{
  if (!m->checkpointing || x == NULL)
    return sd_resnet_forward (g, m, r, x, temb_act);
  tensor *in[2] = { x, temb_act }, *out[1] = { NULL };
  graph_checkpoint (g, resnet_block, (void *) r, in, temb_act ? 2 : 1, out, 1);
  return out[0];
}

static tensor *
run_transformer (graph *g, const sd15_model *m, const sd_spatial_transformer *t, tensor *x,
                 tensor *context)
{
  if (!m->checkpointing || x == NULL)
    return sd_transformer_forward (g, m, t, x, context);
  tensor *in[2] = { x, context }, *out[1] = { NULL };
  graph_checkpoint (g, transformer_ckpt, (void *) t, in, 2, out, 1);
  return out[0];
}

tensor *
sd15_timestep_embedding (graph *g, const float *timesteps, int64_t batch, int64_t dim)
{
  float *e = malloc ((size_t) (batch * dim) * sizeof *e);
  if (e == NULL)
    return graph_fail (g, LE_ERR_MEMORY, "out of memory for the timestep embedding");
  int64_t half = dim / 2;
  /* diffusers (flip_sin_to_cos=True, freq_shift=0), in float32 as it computes:
   * f_j = exp(-ln(10000) j / half), then [cos(t f), sin(t f)] */
  for (int64_t b = 0; b < batch; b++)
    for (int64_t j = 0; j < half; j++)
      {
        float f = expf (-logf (10000.0f) * (float) j / (float) half);
        float arg = timesteps[b] * f;
        e[b * dim + j] = cosf (arg);
        e[b * dim + half + j] = sinf (arg);
      }
  int64_t s[2] = { batch, dim };
  tensor *t = graph_from_host (g, LE_F32, 2, s, e, "timestep_embedding");
  free (e);
  return t;
}

tensor *
sd15_unet_forward (sd15_model *m, graph *g, tensor *x, const float *timesteps,
                   tensor *context)
{
  if (x == NULL || context == NULL)
    return NULL;
  if (!(m->parts & SD15_LOAD_UNET))
    return graph_fail (g, LE_ERR_INVALID, "the UNet was not loaded");
  const sd15_config *c = &m->cfg;
  const sd_unet *u = &m->unet;
  int64_t f = (int64_t) 1 << (c->n_levels - 1);
  if (x->ndim != 4 || x->shape[1] != c->unet_in || x->shape[2] % f || x->shape[3] % f)
    return graph_fail (g, LE_ERR_INVALID, "UNet input must be (B, %lld, H, W) with H and W "
                       "multiples of %lld", (long long) c->unet_in, (long long) f);
  tensor *temb = sd15_timestep_embedding (g, timesteps, x->shape[0], c->block_out[0]);
  temb = sd_linear (g, m, &u->time_1, temb);
  temb = sd_linear (g, m, &u->time_2, op_silu (g, temb));             // (B, 4 c0)
  tensor *temb_act = op_silu (g, temb);                               // what resnets read

  tensor *skips[1 + SD_MAX_LEVELS * (SD_MAX_LAYERS + 1)];
  int n_skips = 0;
  tensor *h = sd_conv (g, m, &u->conv_in, x, 1, 1);
  skips[n_skips++] = h;
  for (int i = 0; i < c->n_levels; i++)
    {
      const sd_block *blk = &u->down[i];
      for (int j = 0; j < blk->n_resnets; j++)
        {
          h = run_resnet (g, m, &blk->resnets[j], h, temb_act);
          if (blk->has_attn)
            h = run_transformer (g, m, &blk->attns[j], h, context);
          skips[n_skips++] = h;
        }
      if (blk->sampler.w)
        {
          h = sd_conv (g, m, &blk->sampler, h, 2, 1);
          skips[n_skips++] = h;
        }
    }
  h = run_resnet (g, m, &u->mid_res[0], h, temb_act);
  h = run_transformer (g, m, &u->mid_attn, h, context);
  h = run_resnet (g, m, &u->mid_res[1], h, temb_act);
  for (int i = 0; i < c->n_levels; i++)
    {
      const sd_block *blk = &u->up[i];
      for (int j = 0; j < blk->n_resnets; j++)
        {
          tensor *cat[2] = { h, skips[--n_skips] };
          h = op_concat (g, cat, 2, 1);                               // (B, C + Cskip, H, W)
          h = run_resnet (g, m, &blk->resnets[j], h, temb_act);
          if (blk->has_attn)
            h = run_transformer (g, m, &blk->attns[j], h, context);
        }
      if (blk->sampler.w)
        h = sd_conv (g, m, &blk->sampler, op_upsample2x (g, h), 1, 1);
    }
  h = op_groupnorm (g, h, c->unet_groups, u->norm_out.w, u->norm_out.b, c->unet_eps);
  return sd_conv (g, m, &u->conv_out, op_silu (g, h), 1, 1);
}
