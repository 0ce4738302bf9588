/* sd-names.c: the walk over SD 1.5's architecture (sd15-private.h) that gives every
 * tensor its diffusers name, its LDM (single-file) name and its shape, and the name list
 * built from it (sd15_names). The LDM <-> diffusers mapping is not a table typed by hand:
 * it follows from where each module sits (input_blocks.N.M counts conv_in, then per level
 * layers_per_block (resnet, attention) pairs and a downsampler; output_blocks mirror it
 * with one more layer), so it holds for any width or depth of the architecture. */
#include "sd15-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const comp_ldm[3] = {
  "model.diffusion_model", "first_stage_model", "cond_stage_model.transformer"
};
static const char *const comp_name[3] = { "unet", "vae", "text_encoder" };

static int
part_index (unsigned part)
{
  return part == SD15_LOAD_UNET ? 0 : part == SD15_LOAD_VAE ? 1 : 2;
}

/* One tensor: MOD's weight or bias, named "<comp>.<dpath>.<leaf>" and
 * "<ldm comp>.<lpath>.<leaf>". */
static void
tensor_at (sd_walk *w, unsigned part, sd_module *mod, bool bias, const char *dpath,
           const char *lpath, bool conv1x1, int ndim, int64_t s0, int64_t s1, int64_t s2,
           int64_t s3)
{
  if (!w->ok)
    return;
  int pi = part_index (part);
  sd15_name nm = { 0 };
  const char *leaf = bias ? "bias" : "weight";
  snprintf (nm.diffusers, sizeof nm.diffusers, "%s.%s.%s", comp_name[pi], dpath, leaf);
  snprintf (nm.ldm, sizeof nm.ldm, "%s.%s.%s", comp_ldm[pi], lpath, leaf);
  nm.ndim = ndim;
  int64_t s[4] = { s0, s1, s2, s3 };
  for (int i = 0; i < 4; i++)
    nm.shape[i] = i < ndim ? s[i] : 1;
  nm.ldm_conv1x1 = conv1x1;
  nm.part = part;
  snprintf (mod->path, sizeof mod->path, "%s", dpath);
  if (!w->visit (w, mod, bias ? &mod->b : &mod->w, &nm))
    w->ok = false;
}

/* Formats into a static-free buffer the caller owns. */
static const char *
fmt (char *buf, const char *f, ...) __attribute__ ((format (printf, 2, 3)));
static const char *
fmt (char *buf, const char *f, ...)
{
  va_list ap;
  va_start (ap, f);
  vsnprintf (buf, SD_PATH_MAX + 32, f, ap);
  va_end (ap);
  return buf;
}

static void
conv (sd_walk *w, unsigned part, sd_module *mod, const char *dpath, const char *lpath,
      int64_t out, int64_t in, int64_t k)
{
  tensor_at (w, part, mod, false, dpath, lpath, false, 4, out, in, k, k);
  tensor_at (w, part, mod, true, dpath, lpath, false, 1, out, 0, 0, 0);
}

static void
linear (sd_walk *w, unsigned part, sd_module *mod, const char *dpath, const char *lpath,
        int64_t out, int64_t in, bool bias, bool ldm_conv1x1)
{
  tensor_at (w, part, mod, false, dpath, lpath, ldm_conv1x1, 2, out, in, 0, 0);
  if (bias)
    tensor_at (w, part, mod, true, dpath, lpath, false, 1, out, 0, 0, 0);
}

static void
norm (sd_walk *w, unsigned part, sd_module *mod, const char *dpath, const char *lpath,
      int64_t c)
{
  tensor_at (w, part, mod, false, dpath, lpath, false, 1, c, 0, 0, 0);
  tensor_at (w, part, mod, true, dpath, lpath, false, 1, c, 0, 0, 0);
}

/* ResnetBlock2D. UNet LDM names: in_layers.0/2, emb_layers.1, out_layers.0/3,
 * skip_connection; VAE LDM names: norm1, conv1, norm2, conv2, nin_shortcut. */
static void
resnet (sd_walk *w, unsigned part, sd_resnet *r, const char *dp, const char *lp,
        int64_t in, int64_t out, int64_t temb)
{
  char a[SD_PATH_MAX + 32], b[SD_PATH_MAX + 32];
  bool unet = part == SD15_LOAD_UNET;
  r->groups = unet ? w->c->unet_groups : w->c->vae_groups;
  r->eps = unet ? w->c->unet_eps : 1e-6f;
  norm (w, part, &r->norm1, fmt (a, "%s.norm1", dp),
        fmt (b, unet ? "%s.in_layers.0" : "%s.norm1", lp), in);
  conv (w, part, &r->conv1, fmt (a, "%s.conv1", dp),
        fmt (b, unet ? "%s.in_layers.2" : "%s.conv1", lp), out, in, 3);
  if (temb > 0)
    linear (w, part, &r->time_emb_proj, fmt (a, "%s.time_emb_proj", dp),
            fmt (b, "%s.emb_layers.1", lp), out, temb, true, false);
  norm (w, part, &r->norm2, fmt (a, "%s.norm2", dp),
        fmt (b, unet ? "%s.out_layers.0" : "%s.norm2", lp), out);
  conv (w, part, &r->conv2, fmt (a, "%s.conv2", dp),
        fmt (b, unet ? "%s.out_layers.3" : "%s.conv2", lp), out, out, 3);
  if (in != out)
    conv (w, part, &r->conv_shortcut, fmt (a, "%s.conv_shortcut", dp),
          fmt (b, unet ? "%s.skip_connection" : "%s.nin_shortcut", lp), out, in, 1);
}

/* Transformer2DModel / SpatialTransformer: the inner names are the same in both. The
 * UNet path differs only in where the block sits (dp vs lp). */
static void
transformer (sd_walk *w, sd_spatial_transformer *t, const char *dp, const char *lp,
             int64_t c, int64_t heads)
{
  char a[SD_PATH_MAX + 32], b[SD_PATH_MAX + 32];
  unsigned U = SD15_LOAD_UNET;
  t->groups = w->c->unet_groups;
  t->n_blocks = w->c->transformer_layers;
  norm (w, U, &t->norm, fmt (a, "%s.norm", dp), fmt (b, "%s.norm", lp), c);
  conv (w, U, &t->proj_in, fmt (a, "%s.proj_in", dp), fmt (b, "%s.proj_in", lp), c, c, 1);
  for (int i = 0; i < t->n_blocks; i++)
    {
      sd_transformer_block *k = &t->blocks[i];
      char bd[SD_PATH_MAX + 32], bl[SD_PATH_MAX + 32];
      fmt (bd, "%s.transformer_blocks.%d", dp, i);
      fmt (bl, "%s.transformer_blocks.%d", lp, i);
      /* attention modules: LDM path = diffusers path with the block prefix swapped, so
       * walk them with the LDM prefix applied through a second buffer */
      char ad[SD_PATH_MAX + 32];
      norm (w, U, &k->norm1, fmt (a, "%s.norm1", bd), fmt (b, "%s.norm1", bl), c);
      sd_attention *at[2] = { &k->attn1, &k->attn2 };
      for (int j = 0; j < 2; j++)
        {
          int64_t ctx = j == 0 ? c : w->c->cross_dim;
          static const char *const sub[4] = { "to_q", "to_k", "to_v", "to_out.0" };
          sd_module *mods[4] = { &at[j]->to_q, &at[j]->to_k, &at[j]->to_v, &at[j]->to_out };
          at[j]->heads = heads;
          for (int q = 0; q < 4; q++)
            {
              fmt (ad, "%s.attn%d.%s", bd, j + 1, sub[q]);
              fmt (b, "%s.attn%d.%s", bl, j + 1, sub[q]);
              linear (w, U, mods[q], ad, b, c, q == 0 || q == 3 ? c : ctx, q == 3, false);
            }
          if (j == 0)
            norm (w, U, &k->norm2, fmt (a, "%s.norm2", bd), fmt (b, "%s.norm2", bl), c);
        }
      norm (w, U, &k->norm3, fmt (a, "%s.norm3", bd), fmt (b, "%s.norm3", bl), c);
      linear (w, U, &k->ff_in, fmt (a, "%s.ff.net.0.proj", bd),
              fmt (b, "%s.ff.net.0.proj", bl), 8 * c, c, true, false);
      linear (w, U, &k->ff_out, fmt (a, "%s.ff.net.2", bd), fmt (b, "%s.ff.net.2", bl),
              c, 4 * c, true, false);
    }
  conv (w, U, &t->proj_out, fmt (a, "%s.proj_out", dp), fmt (b, "%s.proj_out", lp), c, c, 1);
}

static void
walk_unet (sd15_model *m, sd_walk *w)
{
  const sd15_config *c = &m->cfg;
  sd_unet *u = &m->unet;
  unsigned U = SD15_LOAD_UNET;
  char a[SD_PATH_MAX + 32], b[SD_PATH_MAX + 32];
  int n = c->n_levels, L = c->layers_per_block;
  int64_t c0 = c->block_out[0], temb = 4 * c0;

  linear (w, U, &u->time_1, "time_embedding.linear_1", "time_embed.0", temb, c0, true, false);
  linear (w, U, &u->time_2, "time_embedding.linear_2", "time_embed.2", temb, temb, true,
          false);
  conv (w, U, &u->conv_in, "conv_in", "input_blocks.0.0", c0, c->unet_in, 3);

  int ib = 1;                               /* LDM input_blocks index */
  for (int i = 0; i < n; i++)
    {
      sd_block *blk = &u->down[i];
      int64_t in = i == 0 ? c0 : c->block_out[i - 1], out = c->block_out[i];
      blk->n_resnets = L;
      blk->has_attn = c->level_attn[i];
      for (int j = 0; j < L; j++, ib++)
        {
          resnet (w, U, &blk->resnets[j], fmt (a, "down_blocks.%d.resnets.%d", i, j),
                  fmt (b, "input_blocks.%d.0", ib), j == 0 ? in : out, out, temb);
          if (blk->has_attn)
            transformer (w, &blk->attns[j], fmt (a, "down_blocks.%d.attentions.%d", i, j),
                         fmt (b, "input_blocks.%d.1", ib), out, c->heads[i]);
        }
      if (i < n - 1)
        {
          conv (w, U, &blk->sampler, fmt (a, "down_blocks.%d.downsamplers.0.conv", i),
                fmt (b, "input_blocks.%d.0.op", ib), out, out, 3);
          ib++;
        }
    }

  int64_t top = c->block_out[n - 1];
  resnet (w, U, &u->mid_res[0], "mid_block.resnets.0", "middle_block.0", top, top, temb);
  transformer (w, &u->mid_attn, "mid_block.attentions.0", "middle_block.1", top,
               c->heads[n - 1]);
  resnet (w, U, &u->mid_res[1], "mid_block.resnets.1", "middle_block.2", top, top, temb);

  int ob = 0;                               /* LDM output_blocks index */
  for (int i = 0; i < n; i++)
    {
      int lvl = n - 1 - i;                  /* the down level of the same resolution */
      sd_block *blk = &u->up[i];
      int64_t out = c->block_out[lvl];
      int64_t prev = i == 0 ? out : c->block_out[lvl + 1];
      int64_t skip_in = c->block_out[lvl > 0 ? lvl - 1 : 0];
      blk->n_resnets = L + 1;
      blk->has_attn = c->level_attn[lvl];
      for (int j = 0; j <= L; j++, ob++)
        {
          int64_t res_in = j == 0 ? prev : out;
          int64_t skip = j == L ? skip_in : out;
          resnet (w, U, &blk->resnets[j], fmt (a, "up_blocks.%d.resnets.%d", i, j),
                  fmt (b, "output_blocks.%d.0", ob), res_in + skip, out, temb);
          if (blk->has_attn)
            transformer (w, &blk->attns[j], fmt (a, "up_blocks.%d.attentions.%d", i, j),
                         fmt (b, "output_blocks.%d.1", ob), out, c->heads[lvl]);
          if (j == L && i < n - 1)
            conv (w, U, &blk->sampler, fmt (a, "up_blocks.%d.upsamplers.0.conv", i),
                  fmt (b, "output_blocks.%d.%d.conv", ob, blk->has_attn ? 2 : 1), out, out, 3);
        }
    }
  norm (w, U, &u->norm_out, "conv_norm_out", "out.0", c0);
  conv (w, U, &u->conv_out, "conv_out", "out.2", c->unet_out, c0, 3);
}

/* The VAE's mid block: resnet, single-head attention, resnet. LDM mid.block_1,
 * mid.attn_1 (norm, q, k, v, proj_out as 1x1 convs), mid.block_2. */
static void
vae_mid (sd_walk *w, sd_vae_coder *vc, const char *dp, const char *lp, int64_t ch)
{
  char a[SD_PATH_MAX + 32], b[SD_PATH_MAX + 32];
  unsigned V = SD15_LOAD_VAE;
  resnet (w, V, &vc->mid_res[0], fmt (a, "%s.mid_block.resnets.0", dp),
          fmt (b, "%s.mid.block_1", lp), ch, ch, 0);
  norm (w, V, &vc->mid_attn.group_norm, fmt (a, "%s.mid_block.attentions.0.group_norm", dp),
        fmt (b, "%s.mid.attn_1.norm", lp), ch);
  static const char *const dsub[4] = { "to_q", "to_k", "to_v", "to_out.0" };
  static const char *const lsub[4] = { "q", "k", "v", "proj_out" };
  sd_attention *at = &vc->mid_attn.attn;
  sd_module *mods[4] = { &at->to_q, &at->to_k, &at->to_v, &at->to_out };
  at->heads = 1;
  for (int q = 0; q < 4; q++)
    linear (w, V, mods[q], fmt (a, "%s.mid_block.attentions.0.%s", dp, dsub[q]),
            fmt (b, "%s.mid.attn_1.%s", lp, lsub[q]), ch, ch, true, true);
  resnet (w, V, &vc->mid_res[1], fmt (a, "%s.mid_block.resnets.1", dp),
          fmt (b, "%s.mid.block_2", lp), ch, ch, 0);
}

static void
walk_vae (sd15_model *m, sd_walk *w)
{
  const sd15_config *c = &m->cfg;
  sd_vae *v = &m->vae;
  unsigned V = SD15_LOAD_VAE;
  char a[SD_PATH_MAX + 32], b[SD_PATH_MAX + 32];
  int n = c->vae_levels, L = c->vae_layers_per_block;
  int64_t lat = c->latent_channels, top = c->vae_block_out[n - 1];

  sd_vae_coder *e = &v->enc;
  conv (w, V, &e->conv_in, "encoder.conv_in", "encoder.conv_in", c->vae_block_out[0], 3, 3);
  for (int i = 0; i < n; i++)
    {
      sd_block *blk = &e->blocks[i];
      int64_t in = i == 0 ? c->vae_block_out[0] : c->vae_block_out[i - 1];
      int64_t out = c->vae_block_out[i];
      blk->n_resnets = L;
      for (int j = 0; j < L; j++)
        resnet (w, V, &blk->resnets[j], fmt (a, "encoder.down_blocks.%d.resnets.%d", i, j),
                fmt (b, "encoder.down.%d.block.%d", i, j), j == 0 ? in : out, out, 0);
      if (i < n - 1)
        conv (w, V, &blk->sampler, fmt (a, "encoder.down_blocks.%d.downsamplers.0.conv", i),
              fmt (b, "encoder.down.%d.downsample.conv", i), out, out, 3);
    }
  vae_mid (w, e, "encoder", "encoder", top);
  norm (w, V, &e->norm_out, "encoder.conv_norm_out", "encoder.norm_out", top);
  conv (w, V, &e->conv_out, "encoder.conv_out", "encoder.conv_out", 2 * lat, top, 3);
  conv (w, V, &v->quant_conv, "quant_conv", "quant_conv", 2 * lat, 2 * lat, 1);
  conv (w, V, &v->post_quant_conv, "post_quant_conv", "post_quant_conv", lat, lat, 1);

  sd_vae_coder *d = &v->dec;
  conv (w, V, &d->conv_in, "decoder.conv_in", "decoder.conv_in", top, lat, 3);
  vae_mid (w, d, "decoder", "decoder", top);
  for (int i = 0; i < n; i++)
    {
      int lvl = n - 1 - i;                  /* LDM counts decoder.up from the bottom */
      sd_block *blk = &d->blocks[i];
      int64_t prev = i == 0 ? top : c->vae_block_out[lvl + 1];
      int64_t out = c->vae_block_out[lvl];
      blk->n_resnets = L + 1;
      for (int j = 0; j <= L; j++)
        resnet (w, V, &blk->resnets[j], fmt (a, "decoder.up_blocks.%d.resnets.%d", i, j),
                fmt (b, "decoder.up.%d.block.%d", lvl, j), j == 0 ? prev : out, out, 0);
      if (i < n - 1)
        conv (w, V, &blk->sampler, fmt (a, "decoder.up_blocks.%d.upsamplers.0.conv", i),
              fmt (b, "decoder.up.%d.upsample.conv", lvl), out, out, 3);
    }
  int64_t c0 = c->vae_block_out[0];
  norm (w, V, &d->norm_out, "decoder.conv_norm_out", "decoder.norm_out", c0);
  conv (w, V, &d->conv_out, "decoder.conv_out", "decoder.conv_out", 3, c0, 3);
}

static void
walk_text (sd15_model *m, sd_walk *w)
{
  const sd15_config *c = &m->cfg;
  clip_text *t = &m->text;
  unsigned T = SD15_LOAD_TEXT;
  char a[SD_PATH_MAX + 32];
  int64_t h = c->clip_hidden, f = c->clip_intermediate;
  tensor_at (w, T, &t->tok, false, "text_model.embeddings.token_embedding",
             "text_model.embeddings.token_embedding", false, 2, c->clip_vocab, h, 0, 0);
  tensor_at (w, T, &t->pos, false, "text_model.embeddings.position_embedding",
             "text_model.embeddings.position_embedding", false, 2, c->clip_positions, h, 0, 0);
  for (int64_t i = 0; i < c->clip_layers; i++)
    {
      clip_layer *l = &t->layers[i];
      char p[SD_PATH_MAX];
      snprintf (p, sizeof p, "text_model.encoder.layers.%d", (int) i);
      /* the LDM file wraps transformers' CLIPTextModel, so the names agree */
      norm (w, T, &l->ln1, fmt (a, "%s.layer_norm1", p), a, h);
      linear (w, T, &l->q, fmt (a, "%s.self_attn.q_proj", p), a, h, h, true, false);
      linear (w, T, &l->k, fmt (a, "%s.self_attn.k_proj", p), a, h, h, true, false);
      linear (w, T, &l->v, fmt (a, "%s.self_attn.v_proj", p), a, h, h, true, false);
      linear (w, T, &l->out, fmt (a, "%s.self_attn.out_proj", p), a, h, h, true, false);
      norm (w, T, &l->ln2, fmt (a, "%s.layer_norm2", p), a, h);
      linear (w, T, &l->fc1, fmt (a, "%s.mlp.fc1", p), a, f, h, true, false);
      linear (w, T, &l->fc2, fmt (a, "%s.mlp.fc2", p), a, h, f, true, false);
    }
  norm (w, T, &t->final_ln, "text_model.final_layer_norm", "text_model.final_layer_norm", h);
}

bool
sd_walk_model (sd15_model *m, unsigned parts, sd_walk *w)
{
  w->c = &m->cfg;
  w->ok = true;
  if (parts & SD15_LOAD_UNET)
    walk_unet (m, w);
  if (parts & SD15_LOAD_VAE)
    walk_vae (m, w);
  if (parts & SD15_LOAD_TEXT)
    walk_text (m, w);
  return w->ok;
}

typedef struct {
  sd15_name *items;
  size_t n, cap;
} name_list;

static bool
collect (sd_walk *w, sd_module *mod, tensor **slot, const sd15_name *nm)
{
  (void) mod;
  (void) slot;
  name_list *l = w->user;
  if (l->n == l->cap)
    {
      size_t cap = l->cap ? 2 * l->cap : 1024;
      sd15_name *p = realloc (l->items, cap * sizeof *p);
      if (p == NULL)
        return le_fail (w->err, LE_ERR_MEMORY, "out of memory listing SD 1.5 tensor names");
      l->items = p;
      l->cap = cap;
    }
  l->items[l->n++] = *nm;
  return true;
}

bool
sd15_names (const sd15_config *cfg, unsigned parts, sd15_name **out, size_t *n,
            le_error *err)
{
  sd15_model *m = calloc (1, sizeof *m);
  if (m == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory listing SD 1.5 tensor names");
  m->cfg = *cfg;
  m->text.layers = calloc ((size_t) cfg->clip_layers + 1, sizeof (clip_layer));
  name_list l = { 0 };
  sd_walk w = { .visit = collect, .user = &l, .err = err };
  bool ok = m->text.layers != NULL && sd_walk_model (m, parts, &w);
  free (m->text.layers);
  free (m);
  if (!ok)
    {
      free (l.items);
      if (err && err->code == LE_OK)
        le_fail (err, LE_ERR_MEMORY, "out of memory listing SD 1.5 tensor names");
      return false;
    }
  *out = l.items;
  *n = l.n;
  return true;
}
