/* sd15-config.c: SD 1.5's architecture numbers: the released model, the tiny fixture,
 * read from a diffusers folder's config.json files, or inferred from a single file's
 * tensor shapes. Configs of other architectures (SD 2.x's linear projections and
 * 1024-wide context, SDXL's added embeddings, OpenCLIP's GELU) are refused by name. */
#include "sd15-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-config.h"
#include "safetensors.h"

void
sd15_config_default (sd15_config *c)
{
  memset (c, 0, sizeof *c);
  c->unet_in = c->unet_out = 4;
  c->n_levels = 4;
  int64_t bo[4] = { 320, 640, 1280, 1280 };
  for (int i = 0; i < 4; i++)
    {
      c->block_out[i] = bo[i];
      c->level_attn[i] = i < 3;
      c->heads[i] = 8;
    }
  c->layers_per_block = 2;
  c->transformer_layers = 1;
  c->cross_dim = 768;
  c->unet_groups = 32;
  c->unet_eps = 1e-5f;
  c->vae_levels = 4;
  int64_t vo[4] = { 128, 256, 512, 512 };
  memcpy (c->vae_block_out, vo, sizeof vo);
  c->vae_layers_per_block = 2;
  c->latent_channels = 4;
  c->vae_groups = 32;
  c->vae_scale = 0.18215f;
  c->clip_vocab = 49408;
  c->clip_hidden = 768;
  c->clip_layers = 12;
  c->clip_heads = 12;
  c->clip_intermediate = 3072;
  c->clip_positions = 77;
  c->clip_eps = 1e-5f;
}

void
sd15_config_tiny (sd15_config *c, int64_t clip_vocab)
{
  sd15_config_default (c);
  c->n_levels = 2;
  c->block_out[0] = 32;
  c->block_out[1] = 64;
  c->level_attn[0] = true;     /* SD 1.5's pattern: attention except at the last level */
  c->level_attn[1] = false;
  /* 4 heads of 8 channels at the first level (diffusers' config calls the head count
   * attention_head_dim); few heads keep the attention's exponentials cheap on a CPU */
  c->heads[0] = c->heads[1] = 4;
  c->layers_per_block = 1;
  c->cross_dim = 32;
  /* four VAE levels, so latents are 1/8 of the image side as in SD 1.5: a 64-pixel demo
   * image trains the UNet on 8x8 latents */
  int64_t vo[4] = { 32, 32, 64, 64 };
  memcpy (c->vae_block_out, vo, sizeof vo);
  c->vae_levels = 4;
  c->vae_layers_per_block = 1;
  c->clip_vocab = clip_vocab;
  c->clip_hidden = 32;
  c->clip_layers = 2;
  c->clip_heads = 4;
  c->clip_intermediate = 64;
}

int64_t
sd15_latent_factor (const sd15_config *c)
{
  return (int64_t) 1 << (c->vae_levels - 1);
}

int64_t
sd15_unet_multiple (const sd15_config *c)
{
  return (int64_t) 1 << (c->n_levels - 1);
}

/* ---- diffusers config.json ---- */

typedef struct {
  le_json_doc doc;
  char *text;
  char path[1100];
} json_file;

static bool
json_file_load (json_file *f, const char *folder, const char *sub, le_error *err)
{
  memset (f, 0, sizeof *f);
  snprintf (f->path, sizeof f->path, "%s/%s/config.json", folder, sub);
  FILE *fp = fopen (f->path, "rb");
  if (fp == NULL)
    return le_fail (err, LE_ERR_IO, "%s is missing: a diffusers SD 1.5 folder has "
                    "%s/config.json next to its weights", f->path, sub);
  fseek (fp, 0, SEEK_END);
  long len = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  if (len < 0 || len > (1 << 20))
    {
      fclose (fp);
      return le_fail (err, LE_ERR_FORMAT, "%s: not a config file (size %ld)", f->path, len);
    }
  f->text = malloc ((size_t) len + 1);
  if (f->text == NULL || fread (f->text, 1, (size_t) len, fp) != (size_t) len)
    {
      fclose (fp);
      free (f->text);
      f->text = NULL;
      return le_fail (err, LE_ERR_IO, "%s: cannot read", f->path);
    }
  fclose (fp);
  if (!le_json_parse (&f->doc, f->text, (size_t) len, err))
    {
      free (f->text);
      f->text = NULL;
      return le_error_prefix (err, "%s", f->path);
    }
  if (f->doc.nodes[0].type != LE_JSON_OBJECT)
    {
      le_json_free (&f->doc);
      free (f->text);
      f->text = NULL;
      return le_fail (err, LE_ERR_FORMAT, "%s: expected a JSON object", f->path);
    }
  return true;
}

static void
json_file_free (json_file *f)
{
  if (f->text)
    le_json_free (&f->doc);
  free (f->text);
}

/* Integer member KEY; absent keeps *out (when !required). */
static bool
get_int (json_file *f, const char *key, bool required, int64_t *out, le_error *err)
{
  if (required && le_json_config_member (&f->doc, 0, key) == LE_JSON_NONE)
    return le_fail (err, LE_ERR_FORMAT, "%s: key \"%s\" is missing", f->path, key);
  return le_json_config_uint (&f->doc, 0, key, 1u << 30, out, f->path, err);
}

/* Number member KEY as a float; absent keeps *out. */
static bool
get_float (json_file *f, const char *key, float *out, le_error *err)
{
  double d = *out;
  if (!le_json_config_number (&f->doc, 0, key, &d, f->path, err))
    return false;
  *out = (float) d;
  return true;
}

static const char *
get_string (json_file *f, const char *key)
{
  return le_json_config_string (&f->doc, 0, key);
}

static bool
get_true (json_file *f, const char *key)
{
  uint32_t v = le_json_member (&f->doc, 0, key);
  return v != LE_JSON_NONE && f->doc.nodes[v].type == LE_JSON_TRUE;
}

/* An array of up to SD_MAX_LEVELS integers (or one integer repeated to N when ALLOW_INT). */
static bool
get_int_list (json_file *f, const char *key, int64_t *out, int *n, bool allow_int,
              le_error *err)
{
  uint32_t v = le_json_member (&f->doc, 0, key);
  if (v == LE_JSON_NONE)
    return le_fail (err, LE_ERR_FORMAT, "%s: key \"%s\" is missing", f->path, key);
  const le_json_node *node = &f->doc.nodes[v];
  uint64_t u;
  if (allow_int && node->type == LE_JSON_NUMBER && le_json_uint64 (&f->doc, v, &u)
      && u > 0 && u < 4096)
    {
      for (int i = 0; i < *n; i++)
        out[i] = (int64_t) u;
      return true;
    }
  if (node->type != LE_JSON_ARRAY || node->count < 1 || node->count > SD_MAX_LEVELS)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must be a list of 1 to %d integers",
                    f->path, key, SD_MAX_LEVELS);
  int i = 0;
  for (uint32_t e = node->first; e != LE_JSON_NONE; e = f->doc.nodes[e].next, i++)
    if (f->doc.nodes[e].type != LE_JSON_NUMBER || !le_json_uint64 (&f->doc, e, &u)
        || u == 0 || u > 65536)
      return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must hold positive integers", f->path,
                      key);
    else
      out[i] = (int64_t) u;
  if (allow_int && i != *n)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" has %d entries for %d levels", f->path,
                    key, i, *n);
  *n = i;
  return true;
}

static bool
unet_config (json_file *f, sd15_config *c, le_error *err)
{
  if (le_json_member (&f->doc, 0, "addition_embed_type") != LE_JSON_NONE
      && get_string (f, "addition_embed_type") != NULL)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: this UNet has added text/time embeddings "
                    "(addition_embed_type): an SDXL model; SDXL is not supported yet, use an "
                    "SD 1.5 model", f->path);
  if (get_true (f, "use_linear_projection"))
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: use_linear_projection is true: an SD 2.x "
                    "UNet; SD 2.x is not supported yet, use an SD 1.5 model", f->path);
  int n = SD_MAX_LEVELS;
  if (!get_int_list (f, "block_out_channels", c->block_out, &n, false, err))
    return false;
  c->n_levels = n;
  if (!get_int (f, "in_channels", false, &c->unet_in, err)
      || !get_int (f, "out_channels", false, &c->unet_out, err))
    return false;
  int64_t v = c->layers_per_block;
  if (!get_int (f, "layers_per_block", false, &v, err))
    return false;
  if (v < 1 || v >= SD_MAX_LAYERS)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: layers_per_block %lld is out of range "
                    "(1 to %d)", f->path, (long long) v, SD_MAX_LAYERS - 1);
  c->layers_per_block = (int) v;
  if (!get_int_list (f, "attention_head_dim", c->heads, &n, true, err))
    return false;
  if (!get_int (f, "cross_attention_dim", false, &c->cross_dim, err))
    return false;
  if (c->cross_dim == 1024)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: cross_attention_dim 1024 is SD 2.x's "
                    "OpenCLIP context; SD 2.x is not supported yet, use an SD 1.5 model",
                    f->path);
  v = c->unet_groups;
  if (!get_int (f, "norm_num_groups", false, &v, err))
    return false;
  c->unet_groups = (int) v;
  if (!get_float (f, "norm_eps", &c->unet_eps, err))
    return false;
  uint32_t dt = le_json_member (&f->doc, 0, "down_block_types");
  if (dt == LE_JSON_NONE || f->doc.nodes[dt].type != LE_JSON_ARRAY
      || (int) f->doc.nodes[dt].count != c->n_levels)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"down_block_types\" must list one block per "
                    "entry of block_out_channels", f->path);
  int i = 0;
  for (uint32_t e = f->doc.nodes[dt].first; e != LE_JSON_NONE; e = f->doc.nodes[e].next, i++)
    {
      const char *s = f->doc.nodes[e].type == LE_JSON_STRING ? le_json_string (&f->doc, e) : "";
      if (strcmp (s, "CrossAttnDownBlock2D") == 0)
        c->level_attn[i] = true;
      else if (strcmp (s, "DownBlock2D") == 0)
        c->level_attn[i] = false;
      else
        return le_fail (err, LE_ERR_UNSUPPORTED, "%s: down block \"%s\" is not one of SD "
                        "1.5's (CrossAttnDownBlock2D, DownBlock2D)", f->path, s);
    }
  for (i = 0; i < c->n_levels; i++)
    if (c->block_out[i] % c->unet_groups != 0 || c->block_out[i] % c->heads[i] != 0)
      return le_fail (err, LE_ERR_FORMAT, "%s: block_out_channels %lld is not a multiple of "
                      "norm_num_groups and the head count", f->path,
                      (long long) c->block_out[i]);
  return true;
}

static bool
vae_config (json_file *f, sd15_config *c, le_error *err)
{
  int n = SD_MAX_LEVELS;
  if (!get_int_list (f, "block_out_channels", c->vae_block_out, &n, false, err))
    return false;
  c->vae_levels = n;
  int64_t v = c->vae_layers_per_block;
  if (!get_int (f, "layers_per_block", false, &v, err))
    return false;
  if (v < 1 || v + 1 > SD_MAX_LAYERS)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: layers_per_block %lld is out of range",
                    f->path, (long long) v);
  c->vae_layers_per_block = (int) v;
  v = c->vae_groups;
  if (!get_int (f, "latent_channels", false, &c->latent_channels, err)
      || !get_int (f, "norm_num_groups", false, &v, err)
      || !get_float (f, "scaling_factor", &c->vae_scale, err))
    return false;
  c->vae_groups = (int) v;
  return true;
}

static bool
text_config (json_file *f, sd15_config *c, le_error *err)
{
  const char *act = get_string (f, "hidden_act");
  if (act && strcmp (act, "quick_gelu") != 0)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: hidden_act \"%s\": not SD 1.5's CLIP "
                    "ViT-L/14 text encoder (quick_gelu); SD 2.x's OpenCLIP is not supported "
                    "yet", f->path, act);
  if (!get_int (f, "vocab_size", true, &c->clip_vocab, err)
      || !get_int (f, "hidden_size", true, &c->clip_hidden, err)
      || !get_int (f, "num_hidden_layers", true, &c->clip_layers, err)
      || !get_int (f, "num_attention_heads", true, &c->clip_heads, err)
      || !get_int (f, "intermediate_size", true, &c->clip_intermediate, err)
      || !get_int (f, "max_position_embeddings", false, &c->clip_positions, err)
      || !get_float (f, "layer_norm_eps", &c->clip_eps, err))
    return false;
  if (c->clip_heads < 1 || c->clip_hidden % c->clip_heads != 0 || c->clip_layers < 1)
    return le_fail (err, LE_ERR_FORMAT, "%s: hidden_size is not a multiple of "
                    "num_attention_heads", f->path);
  if (c->clip_hidden == 1024)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: a 1024-wide text encoder is SD 2.x's "
                    "OpenCLIP; SD 2.x is not supported yet, use an SD 1.5 model", f->path);
  return true;
}

bool
sd15_config_from_diffusers (const char *folder, sd15_config *cfg, le_error *err)
{
  return sd15_config_from_diffusers_parts (folder, SD15_LOAD_ALL, cfg, err);
}

bool
sd15_config_from_diffusers_parts (const char *folder, unsigned parts, sd15_config *cfg,
                                  le_error *err)
{
  sd15_config_default (cfg);
  static const char *const subs[3] = { "unet", "vae", "text_encoder" };
  for (int i = 0; i < 3; i++)
    {
      if (!(parts & (1u << i)))
        continue;
      json_file f;
      if (!json_file_load (&f, folder, subs[i], err))
        return false;
      bool ok = i == 0 ? unet_config (&f, cfg, err)
                : i == 1 ? vae_config (&f, cfg, err) : text_config (&f, cfg, err);
      json_file_free (&f);
      if (!ok)
        return false;
    }
  return true;
}

/* ---- single file: shapes ---- */

static const st_tensor *
find (const st_set *s, const char *fmt, int a, int b)
{
  char name[256];
  snprintf (name, sizeof name, fmt, a, b);
  return st_set_find (s, name);
}

bool
sd15_config_from_ldm (const st_set *s, const char *label, sd15_config *c, le_error *err)
{
  sd15_config_default (c);
  const char *U = "model.diffusion_model.";
  char name[256];
  snprintf (name, sizeof name, "%sinput_blocks.0.0.weight", U);
  const st_tensor *t = st_set_find (s, name);
  if (t == NULL || t->ndim != 4)
    return le_fail (err, LE_ERR_FORMAT, "%s: no UNet (tensor %s is missing)", label, name);
  c->block_out[0] = t->shape[0];
  c->unet_in = t->shape[1];
  t = st_set_find (s, "model.diffusion_model.out.2.weight");
  if (t && t->ndim == 4)
    c->unet_out = t->shape[0];
  /* the first downsampler sits at input_blocks.(1 + layers_per_block).0.op */
  int L = 0;
  while (L < SD_MAX_LAYERS && !find (s, "model.diffusion_model.input_blocks.%d.0.op.weight",
                                      1 + L, 0))
    L++;
  if (L == 0 || L >= SD_MAX_LAYERS)
    return le_fail (err, LE_ERR_FORMAT, "%s: cannot find the UNet's first downsampler "
                    "(input_blocks.N.0.op): not an SD 1.5 UNet", label);
  c->layers_per_block = L;
  int n = 0;
  while (n < SD_MAX_LEVELS
         && (t = find (s, "model.diffusion_model.input_blocks.%d.0.out_layers.3.weight",
                       1 + n * (L + 1), 0)) != NULL)
    {
      c->block_out[n] = t->shape[0];
      c->level_attn[n] = find (s, "model.diffusion_model.input_blocks.%d.1.norm.weight",
                               1 + n * (L + 1), 0) != NULL;
      n++;
    }
  c->n_levels = n;
  t = st_set_find (s, "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight");
  if (t == NULL || t->ndim != 2)
    return le_fail (err, LE_ERR_FORMAT, "%s: no UNet mid-block cross-attention "
                    "(middle_block.1...attn2.to_k): not an SD 1.5 UNet", label);
  c->cross_dim = t->shape[1];
  c->transformer_layers = 1;
  /* head counts are not in the weights: SD 1.5 uses 8; files we write say so in metadata */
  const char *h = NULL;
  for (size_t i = 0; h == NULL && i < st_set_n_files (s); i++)
    h = st_metadata_get (st_set_file (s, i), "sd15_unet_heads");
  int64_t heads = h ? atoll (h) : 8;
  for (int i = 0; i < n; i++)
    c->heads[i] = heads > 0 ? heads : 8;

  int vn = 0;
  while (vn < SD_MAX_LEVELS
         && (t = find (s, "first_stage_model.encoder.down.%d.block.0.conv1.weight", vn, 0)))
    c->vae_block_out[vn++] = t->shape[0];
  /* a missing VAE or text encoder is the loader's to name; keep SD 1.5's numbers then */
  if (vn > 0)
    c->vae_levels = vn;
  int vl = 0;
  while (vl < SD_MAX_LAYERS && find (s, "first_stage_model.encoder.down.0.block.%d.conv1.weight",
                                     vl, 0))
    vl++;
  if (vl > 0)
    c->vae_layers_per_block = vl;
  t = st_set_find (s, "first_stage_model.encoder.conv_out.weight");
  if (t)
    c->latent_channels = t->shape[0] / 2;

  /* older checkpoints store CLIP without the text_model. level */
  const char *T = st_set_find (s, "cond_stage_model.transformer.embeddings.token_embedding.weight")
                  ? "cond_stage_model.transformer." : "cond_stage_model.transformer.text_model.";
  snprintf (name, sizeof name, "%sembeddings.token_embedding.weight", T);
  t = st_set_find (s, name);
  if (t == NULL || t->ndim != 2)
    return true;
  c->clip_vocab = t->shape[0];
  c->clip_hidden = t->shape[1];
  snprintf (name, sizeof name, "%sembeddings.position_embedding.weight", T);
  if ((t = st_set_find (s, name)) != NULL)
    c->clip_positions = t->shape[0];
  int nl = 0;
  for (;; nl++)
    {
      snprintf (name, sizeof name, "%sencoder.layers.%d.mlp.fc1.weight", T, nl);
      if ((t = st_set_find (s, name)) == NULL)
        break;
      c->clip_intermediate = t->shape[0];
    }
  c->clip_layers = nl;
  h = NULL;
  for (size_t i = 0; h == NULL && i < st_set_n_files (s); i++)
    h = st_metadata_get (st_set_file (s, i), "sd15_clip_heads");
  c->clip_heads = h && atoll (h) > 0 ? atoll (h) : c->clip_hidden / 64;
  if (c->clip_heads < 1 || c->clip_hidden % c->clip_heads != 0)
    return le_fail (err, LE_ERR_FORMAT, "%s: text encoder width %lld is not CLIP ViT-L/14's",
                    label, (long long) c->clip_hidden);
  return true;
}
