/* sd-vae.c: SD 1.5's VAE (diffusers AutoencoderKL / LDM AutoencoderKL) on the core ops:
 * the encoder to the latent distribution's mean and log-variance, and the decoder. All
 * GroupNorms use eps 1e-6; the mid block has one single-head attention with a residual;
 * downsampling pads right and bottom by one before a stride-2 conv (LDM's convention). */
#include "sd15-private.h"

#include "ops.h"

tensor *
sd_vae_attention_forward (graph *g, const sd15_model *m, const sd_vae_attention *a,
                          tensor *x)
{
  if (x == NULL)
    return NULL;
  int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  int groups = m ? m->cfg.vae_groups : 32;
  tensor *h = op_groupnorm (g, x, groups, a->group_norm.w, a->group_norm.b, 1e-6f);
  int64_t s3[3] = { B, C, H * W };
  h = op_transpose (g, op_reshape (g, h, 3, s3), 1, 2);                   // (B, HW, C)
  h = sd_attention_forward (g, m, &a->attn, h, NULL);
  int64_t s4[4] = { B, C, H, W };
  h = op_reshape (g, op_transpose (g, h, 1, 2), 4, s4);                   // (B, C, H, W)
  return op_add (g, h, x);
}

static tensor *
mid_block (graph *g, const sd15_model *m, const sd_vae_coder *vc, tensor *h)
{
  h = sd_resnet_forward (g, m, &vc->mid_res[0], h, NULL);
  h = sd_vae_attention_forward (g, m, &vc->mid_attn, h);
  return sd_resnet_forward (g, m, &vc->mid_res[1], h, NULL);
}

bool
sd15_vae_encode (sd15_model *m, graph *g, tensor *x, tensor **mean, tensor **logvar)
{
  *mean = *logvar = NULL;
  if (x == NULL)
    return false;
  if (!(m->parts & SD15_LOAD_VAE))
    return graph_fail (g, LE_ERR_INVALID, "the VAE was not loaded") != NULL;
  const sd15_config *c = &m->cfg;
  const sd_vae_coder *e = &m->vae.enc;
  int64_t f = (int64_t) 1 << (c->vae_levels - 1);
  if (x->ndim != 4 || x->shape[1] != 3 || x->shape[2] % f || x->shape[3] % f)
    return graph_fail (g, LE_ERR_INVALID, "VAE input must be (B, 3, H, W) with H and W "
                       "multiples of %lld", (long long) f) != NULL;
  tensor *h = sd_conv (g, m, &e->conv_in, x, 1, 1);
  for (int i = 0; i < c->vae_levels; i++)
    {
      const sd_block *blk = &e->blocks[i];
      for (int j = 0; j < blk->n_resnets; j++)
        h = sd_resnet_forward (g, m, &blk->resnets[j], h, NULL);
      if (blk->sampler.w)
        h = sd_conv (g, m, &blk->sampler, h, 2, -1);
    }
  h = mid_block (g, m, e, h);
  h = op_groupnorm (g, h, c->vae_groups, e->norm_out.w, e->norm_out.b, 1e-6f);
  h = sd_conv (g, m, &e->conv_out, op_silu (g, h), 1, 1);
  h = sd_conv (g, m, &m->vae.quant_conv, h, 1, 0);                  // (B, 2 latent, h, w)
  *mean = op_slice (g, h, 1, 0, c->latent_channels);
  *logvar = op_slice (g, h, 1, c->latent_channels, c->latent_channels);
  return *mean != NULL && *logvar != NULL;
}

tensor *
sd15_vae_decode (sd15_model *m, graph *g, tensor *z)
{
  if (z == NULL)
    return NULL;
  if (!(m->parts & SD15_LOAD_VAE))
    return graph_fail (g, LE_ERR_INVALID, "the VAE was not loaded");
  const sd15_config *c = &m->cfg;
  const sd_vae_coder *d = &m->vae.dec;
  if (z->ndim != 4 || z->shape[1] != c->latent_channels)
    return graph_fail (g, LE_ERR_INVALID, "VAE latents must be (B, %lld, h, w)",
                       (long long) c->latent_channels);
  tensor *h = sd_conv (g, m, &m->vae.post_quant_conv, z, 1, 0);
  h = sd_conv (g, m, &d->conv_in, h, 1, 1);
  h = mid_block (g, m, d, h);
  for (int i = 0; i < c->vae_levels; i++)
    {
      const sd_block *blk = &d->blocks[i];
      for (int j = 0; j < blk->n_resnets; j++)
        h = sd_resnet_forward (g, m, &blk->resnets[j], h, NULL);
      if (blk->sampler.w)
        h = sd_conv (g, m, &blk->sampler, op_upsample2x (g, h), 1, 1);
    }
  h = op_groupnorm (g, h, c->vae_groups, d->norm_out.w, d->norm_out.b, 1e-6f);
  return sd_conv (g, m, &d->conv_out, op_silu (g, h), 1, 1);          // (B, 3, H, W)
}
