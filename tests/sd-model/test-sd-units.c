/* test-sd-units.c: SD 1.5 loading, names, LoRA naming and the sd15-tiny fixture, without
 * Python: both fixture layouts load to identical weights, dtypes are kept, the LDM mapping
 * puts known modules where LDM has them, and every bad input gets an error that names
 * what it is. TAP. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clip-tokenizer.h"
#include "safetensors.h"
#include "sd-fixture.h"
#include "sd15.h"
#include "../core/tap.h"

static char tmp[512];

static sd15_model *
load (const char *path, unsigned parts, int dtype, le_error *err)
{
  memset (err, 0, sizeof *err);
  return sd15_model_load (path, parts, dtype, &backend_cpu, err);
}

/* Expects loading PATH to fail with a message holding every NEEDLE (NULL-terminated). */
static void
refused (const char *what, const char *path, unsigned parts, ...)
{
  le_error err;
  sd15_model *m = load (path, parts, SD15_DTYPE_KEEP, &err);
  bool good = m == NULL;
  va_list ap;
  va_start (ap, parts);
  const char *needle;
  while ((needle = va_arg (ap, const char *)) != NULL)
    good = good && strstr (err.message, needle) != NULL;
  va_end (ap);
  tap_ok (good, "%s is refused with a clear message", what);
  if (!good)
    printf ("# got: %s\n", m ? "(loaded)" : err.message);
  sd15_model_free (m);
}

/* A small safetensors file with the given names (each a 2x2 F32 tensor). */
static void
write_named (const char *path, const char *const *names)
{
  static const float zero[4] = { 0 };
  st_write_tensor t[16];
  int n = 0;
  for (; names[n]; n++)
    t[n] = (st_write_tensor) { .name = names[n], .dtype = ST_F32, .ndim = 2,
                               .shape = { 2, 2 }, .data = zero };
  le_error err = { 0 };
  if (!st_write (path, t, (size_t) n, NULL, 0, &err))
    printf ("# %s\n", err.message);
}

static bool
same_weights (const sd15_model *a, const sd15_model *b)
{
  if (a->base->n_tensors != b->base->n_tensors)
    return false;
  for (int i = 0; i < a->base->n_tensors; i++)
    {
      const tensor *x = a->base->tensors[i];
      const tensor *y = param_store_get (b->base, x->name);
      if (y == NULL || !tensor_same_shape (x, y) || x->dtype != y->dtype
          || memcmp (x->data, y->data, tensor_bytes (x)) != 0)
        {
          printf ("# differs: %s\n", x->name);
          return false;
        }
    }
  return true;
}

static void
test_layouts (void)
{
  char d[600], s[600], model[1024];
  le_error err = { 0 };
  sd15_fixture_options o;
  sd15_fixture_defaults (&o);
  snprintf (d, sizeof d, "%s/d", tmp);
  snprintf (s, sizeof s, "%s/s", tmp);
  bool w1 = sd15_fixture_write (d, &o, NULL, 0, &err);
  o.layout = SD15_LAYOUT_SINGLE;
  bool w2 = sd15_fixture_write (s, &o, model, sizeof model, &err);
  tap_ok (w1 && w2, "the fixture writes both layouts %s", err.message);
  sd15_model *md = load (d, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &err);
  if (md == NULL)
    printf ("# %s\n", err.message);
  sd15_model *ms = load (model, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &err);
  if (ms == NULL)
    printf ("# %s\n", err.message);
  tap_ok (md && ms && same_weights (md, ms),
          "single-file (LDM names) and diffusers layouts load to identical weights");
  tap_ok (md && md->cfg.n_levels == 2 && md->cfg.block_out[1] == 64 && md->cfg.cross_dim == 32
          && ms && ms->cfg.clip_heads == md->cfg.clip_heads && ms->cfg.heads[0] == 4 && md->cfg.heads[0] == 4 && md->cfg.vae_levels == 4
          && ms->cfg.vae_layers_per_block == 1 && ms->cfg.clip_layers == 2
          && sd15_latent_factor (&md->cfg) == 8 && sd15_unet_multiple (&md->cfg) == 2,
          "the architecture is read from config.json and inferred from single-file shapes alike");

  /* the tokenizer next to the model */
  le_clip_tokenizer *tok = le_clip_tokenizer_find (NULL, d, &err);
  int32_t ids[LE_CLIP_CONTEXT];
  size_t nt = 0;
  bool enc = tok && le_clip_tokenizer_encode (tok, "A photo of a cat", ids, &nt, &err);
  tap_ok (enc && nt == 5 && ids[0] == le_clip_tokenizer_start_id (tok)
          && ids[6] == le_clip_tokenizer_end_id (tok) && ids[1] == ids[4]
          && (int64_t) le_clip_tokenizer_vocab_size (tok) == md->cfg.clip_vocab,
          "the fixture's tokenizer merges whole words and matches the text encoder's vocabulary");
  le_clip_tokenizer_free (tok);

  /* LoRA names */
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  lo.text_encoder = true;
  bool att = md && sd15_lora_attach (md, &lo, &err);
  int n_unet = 0, n_te = 0;
  bool kohya = false, te_name = false;
  for (int i = 0; att && i < sd15_lora_count (md); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (md, i);
      e->text_encoder ? n_te++ : n_unet++;
      if (e->set != (e->text_encoder ? md->lora_text : md->lora_unet))
        n_unet = -1000;
      if (strcmp (e->kohya, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q") == 0
          && strcmp (e->peft, "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q") == 0)
        kohya = true;
      if (strcmp (e->kohya, "lora_te_text_model_encoder_layers_0_self_attn_q_proj") == 0
          && strcmp (e->peft, "text_encoder.text_model.encoder.layers.0.self_attn.q_proj") == 0)
        te_name = true;
    }
  /* 4 transformers (down 0, mid, up 1 x 2) x 2 attentions x 4 projections; 2 CLIP layers x 6 */
  tap_ok (att && n_unet == 32 && n_te == 12 && kohya && te_name,
          "default LoRA targets: %d UNet attention projections, %d text modules, kohya and PEFT "
          "names", n_unet, n_te);
  sd15_model_free (md);
  md = load (d, SD15_LOAD_UNET, SD15_DTYPE_KEEP, &err);
  static const char *const bad[] = { "to_q", "q_proj", NULL };
  lo.unet_targets = bad;
  tap_ok (md && !sd15_lora_attach (md, &lo, &err) && strstr (err.message, "q_proj")
          && strstr (err.message, "to_out.0"), "an unknown target is named with the valid ones");
  sd15_model_free (md);

  /* dtypes: F16 weights stay F16, norms and biases become F32; conversion on request */
  char h[600], hm[1024];
  snprintf (h, sizeof h, "%s/h", tmp);
  o.dtype = LE_F16;
  sd15_fixture_write (h, &o, hm, sizeof hm, &err);
  sd15_model *m16 = load (hm, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &err);
  tap_ok (m16 && m16->unet.conv_in.w->dtype == LE_F16 && m16->unet.conv_in.b->dtype == LE_F32
          && m16->text.tok.w->dtype == LE_F16 && m16->vae.enc.mid_attn.attn.to_q.w->ndim == 2,
          "F16 weights are kept in F16, 1-D tensors in F32, VAE q/k/v as linear");
  sd15_model_free (m16);
  sd15_model *mb = load (d, SD15_LOAD_UNET, LE_BF16, &err);
  tap_ok (mb && mb->unet.conv_in.w->dtype == LE_BF16 && mb->parts == SD15_LOAD_UNET,
          "weights convert to BF16 on request; only the UNet is loaded when asked");
  sd15_model_free (mb);
  sd15_model_free (ms);
}

static void
test_names (void)
{
  sd15_config c;
  sd15_config_default (&c);
  sd15_name *names;
  size_t n;
  le_error err = { 0 };
  bool got = sd15_names (&c, SD15_LOAD_ALL, &names, &n, &err);
  static const char *const pairs[][2] = {
    { "unet.down_blocks.1.downsamplers.0.conv.weight",
      "model.diffusion_model.input_blocks.6.0.op.weight" },
    { "unet.down_blocks.3.resnets.1.norm2.bias",
      "model.diffusion_model.input_blocks.11.0.out_layers.0.bias" },
    { "unet.up_blocks.0.upsamplers.0.conv.weight",
      "model.diffusion_model.output_blocks.2.1.conv.weight" },
    { "unet.up_blocks.1.upsamplers.0.conv.weight",
      "model.diffusion_model.output_blocks.5.2.conv.weight" },
    { "unet.up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_out.0.weight",
      "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn2.to_out.0.weight" },
    { "unet.mid_block.resnets.1.time_emb_proj.weight",
      "model.diffusion_model.middle_block.2.emb_layers.1.weight" },
    { "unet.up_blocks.2.resnets.0.conv_shortcut.weight",
      "model.diffusion_model.output_blocks.6.0.skip_connection.weight" },
    { "unet.time_embedding.linear_2.bias", "model.diffusion_model.time_embed.2.bias" },
    { "vae.decoder.up_blocks.0.resnets.0.conv1.weight",
      "first_stage_model.decoder.up.3.block.0.conv1.weight" },
    { "vae.encoder.mid_block.attentions.0.to_out.0.weight",
      "first_stage_model.encoder.mid.attn_1.proj_out.weight" },
    { "vae.encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
      "first_stage_model.encoder.down.1.block.0.nin_shortcut.weight" },
    { "text_encoder.text_model.final_layer_norm.weight",
      "cond_stage_model.transformer.text_model.final_layer_norm.weight" },
  };
  int found = 0;
  int64_t params = 0;
  for (size_t i = 0; got && i < n; i++)
    {
      int64_t k = 1;
      for (int d = 0; d < names[i].ndim; d++)
        k *= names[i].shape[d];
      params += k;
      for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++)
        if (strcmp (names[i].diffusers, pairs[p][0]) == 0
            && strcmp (names[i].ldm, pairs[p][1]) == 0)
          found++;
    }
  tap_ok (got && found == (int) (sizeof pairs / sizeof *pairs),
          "the LDM mapping puts %d known modules where LDM has them", found);
  /* SD 1.5: UNet 859.52M, VAE 83.65M, CLIP text 123.06M parameters */
  tap_ok (got && params > 1066000000 && params < 1067000000 && sd15_latent_factor (&c) == 8,
          "full SD 1.5 has %lld parameters (UNet + VAE + CLIP text)", (long long) params);
  free (names);
}

static void
test_bad_inputs (void)
{
  char p[700], d[600];
  snprintf (p, sizeof p, "%s/xl.safetensors", tmp);
  write_named (p, (const char *const[]) {
    "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight",
    "model.diffusion_model.input_blocks.0.0.weight", NULL });
  refused ("an SDXL checkpoint", p, SD15_LOAD_ALL, "SDXL", "xl.safetensors", NULL);
  snprintf (p, sizeof p, "%s/sd2.safetensors", tmp);
  write_named (p, (const char *const[]) {
    "cond_stage_model.model.token_embedding.weight",
    "model.diffusion_model.input_blocks.0.0.weight", NULL });
  refused ("an SD 2.x checkpoint", p, SD15_LOAD_ALL, "SD 2.x", NULL);
  snprintf (p, sizeof p, "%s/flux.safetensors", tmp);
  write_named (p, (const char *const[]) { "double_blocks.0.img_attn.qkv.weight", NULL });
  refused ("a Flux checkpoint", p, SD15_LOAD_ALL, "Flux", NULL);
  snprintf (p, sizeof p, "%s/lora.safetensors", tmp);
  write_named (p, (const char *const[]) { "lora_unet_x.lora_down.weight", NULL });
  refused ("a LoRA file given as base model", p, SD15_LOAD_ALL, "LoRA file", NULL);
  snprintf (p, sizeof p, "%s/other.safetensors", tmp);
  write_named (p, (const char *const[]) { "encoder.weight", NULL });
  refused ("an unrelated model", p, SD15_LOAD_ALL, "not a Stable Diffusion 1.5", NULL);

  snprintf (p, sizeof p, "%s/model.ckpt", tmp);
  FILE *fp = fopen (p, "wb");
  fwrite ("PK\3\4rest of a zip", 1, 18, fp);
  fclose (fp);
  refused ("a .ckpt pickle", p, SD15_LOAD_ALL, "pickle", "run any code", "safetensors",
           NULL);
  snprintf (p, sizeof p, "%s/disguised.safetensors", tmp);
  fp = fopen (p, "wb");
  fwrite ("\x80\x02}q\0", 1, 5, fp);
  fclose (fp);
  refused ("a pickle named .safetensors", p, SD15_LOAD_ALL, "pickle", NULL);

  /* truncated: the fixture's single file cut in half */
  char src[700];
  snprintf (src, sizeof src, "%s/s/sd15-tiny.safetensors", tmp);
  snprintf (p, sizeof p, "%s/cut.safetensors", tmp);
  fp = fopen (src, "rb");
  fseek (fp, 0, SEEK_END);
  long len = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  char *buf = malloc ((size_t) len);
  size_t got = fread (buf, 1, (size_t) len, fp);
  fclose (fp);
  fp = fopen (p, "wb");
  fwrite (buf, 1, got / 2, fp);
  fclose (fp);
  refused ("a truncated file", p, SD15_LOAD_ALL, "cut.safetensors", "truncated", NULL);

  /* missing VAE: the single file without first_stage_model.*, and a folder without vae/ */
  le_error err = { 0 };
  st_file *f = st_open (src, &err);
  size_t n = st_count (f), k = 0;
  st_write_tensor *t = calloc (n, sizeof *t);
  for (size_t i = 0; i < n; i++)
    {
      const st_tensor *s = st_at (f, i);
      if (strncmp (s->name, "first_stage_model.", 18) == 0)
        continue;
      t[k] = (st_write_tensor) { .name = s->name, .dtype = s->dtype, .ndim = s->ndim,
                                 .data = s->data };
      memcpy (t[k].shape, s->shape, sizeof t[k].shape);
      k++;
    }
  snprintf (p, sizeof p, "%s/novae.safetensors", tmp);
  st_write_meta meta[4];
  size_t nm = 0;
  for (size_t i = 0; i < st_metadata_count (f) && nm < 4; i++, nm++)
    st_metadata_at (f, i, &meta[nm].key, &meta[nm].value);
  st_write (p, t, k, meta, nm, &err);
  st_close (f);
  free (t);
  free (buf);
  refused ("a single file without a VAE", p, SD15_LOAD_ALL, "no VAE", "first_stage_model",
           NULL);
  le_error e2;
  sd15_model *m = load (p, SD15_LOAD_UNET | SD15_LOAD_TEXT, SD15_DTYPE_KEEP, &e2);
  tap_ok (m != NULL, "the same file loads when the VAE is not asked for");
  sd15_model_free (m);
  snprintf (d, sizeof d, "%s/d", tmp);
  char vae[700], moved[700];
  snprintf (vae, sizeof vae, "%s/vae", d);
  snprintf (moved, sizeof moved, "%s/vae-away", d);
  rename (vae, moved);
  refused ("a diffusers folder without vae/", d, SD15_LOAD_ALL, "no VAE", "vae/", NULL);
  rename (moved, vae);
  snprintf (p, sizeof p, "%s/text_encoder/model.safetensors", d);
  snprintf (moved, sizeof moved, "%s/text_encoder/model.bin", d);
  rename (p, moved);
  refused ("a diffusers text encoder only as pytorch .bin", d, SD15_LOAD_ALL, "pickle",
           "model.bin", NULL);
  rename (moved, p);
}

/* Older checkpoints name CLIP cond_stage_model.transformer.encoder... (no text_model.). */
static void
test_old_clip_names (void)
{
  char src[700], p[700], d[700];
  snprintf (src, sizeof src, "%s/s/sd15-tiny.safetensors", tmp);
  snprintf (p, sizeof p, "%s/oldclip.safetensors", tmp);
  snprintf (d, sizeof d, "%s/d", tmp);
  le_error err = { 0 };
  st_file *f = st_open (src, &err);
  size_t n = st_count (f);
  st_write_tensor *t = calloc (n, sizeof *t);
  char (*names)[200] = calloc (n, sizeof *names);
  static const char te[] = "cond_stage_model.transformer.text_model.";
  for (size_t i = 0; i < n; i++)
    {
      const st_tensor *s = st_at (f, i);
      if (strncmp (s->name, te, sizeof te - 1) == 0)
        snprintf (names[i], sizeof names[i], "cond_stage_model.transformer.%s",
                  s->name + sizeof te - 1);
      else
        snprintf (names[i], sizeof names[i], "%s", s->name);
      t[i] = (st_write_tensor) { .name = names[i], .dtype = s->dtype, .ndim = s->ndim,
                                 .data = s->data };
      memcpy (t[i].shape, s->shape, sizeof t[i].shape);
    }
  st_write_meta meta[4];
  size_t nm = 0;
  for (size_t i = 0; i < st_metadata_count (f) && nm < 4; i++, nm++)
    st_metadata_at (f, i, &meta[nm].key, &meta[nm].value);
  st_write (p, t, n, meta, nm, &err);
  st_close (f);
  free (t);
  free (names);
  sd15_model *a = load (p, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &err);
  if (a == NULL)
    printf ("# %s\n", err.message);
  sd15_model *b = load (d, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &err);
  tap_ok (a && b && same_weights (a, b),
          "a checkpoint with CLIP named without text_model. loads to the same weights");
  sd15_model_free (a);
  sd15_model_free (b);
}

/* A model without a file (benchmarks): zeros, then seeded random weights that run. */
static void
test_empty_random (void)
{
  sd15_config c;
  sd15_config_tiny (&c, 100);
  le_error err = { 0 };
  sd15_model *m = sd15_model_new_empty (&c, SD15_LOAD_UNET, LE_BF16, &backend_cpu, &err);
  sd15_model *m2 = sd15_model_new_empty (&c, SD15_LOAD_UNET, LE_BF16, &backend_cpu, &err);
  bool zero = m && ((uint16_t *) m->unet.conv_in.w->data)[0] == 0;
  bool filled = m && m2 && sd15_model_fill_random (m, 3, &err)
                && sd15_model_fill_random (m2, 3, &err);
  bool same = filled && same_weights (m, m2);
  float norm0 = filled ? ((float *) m->unet.norm_out.w->data)[0] : 0;
  bool finite = false;
  if (filled)
    {
      graph *g = graph_new (&backend_cpu, &err);
      graph_set_grad_enabled (g, false);
      float x[2 * 4 * 8 * 8], ctx[2 * 77 * 32], ts[2] = { 1, 500 };
      for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x[i] = (float) (i % 7) - 3;
      for (size_t i = 0; i < sizeof ctx / sizeof *ctx; i++)
        ctx[i] = (float) (i % 5) * 0.1f;
      int64_t sx[4] = { 2, 4, 8, 8 }, sc[3] = { 2, 77, 32 };
      tensor *y = sd15_unet_forward (m, g, graph_from_host (g, LE_F32, 4, sx, x, "x"), ts,
                                     graph_from_host (g, LE_F32, 3, sc, ctx, "ctx"));
      float out[2 * 4 * 8 * 8];
      finite = y && graph_to_host (g, y, out, &err);
      float amax = 0;
      for (size_t i = 0; finite && i < sizeof out / sizeof *out; i++)
        {
          finite = out[i] == out[i] && out[i] < 1e30f && out[i] > -1e30f;
          amax = out[i] > amax ? out[i] : -out[i] > amax ? -out[i] : amax;
        }
      finite = finite && amax > 0;
      graph_free (g);
    }
  tap_ok (zero && same && norm0 > 0.85f && norm0 < 1.15f && finite && m->parts == SD15_LOAD_UNET,
          "an empty BF16 model filled with seeded random weights runs the UNet to finite, "
          "non-zero output %s", err.message);
  sd15_model_free (m);
  sd15_model_free (m2);
}

/* Copies the diffusers fixture to NAME and replaces FROM with TO in its file REL. */
static void
edited_copy (const char *name, const char *rel, const char *from, const char *to,
             char *out, size_t n)
{
  char cmd[2000];
  snprintf (out, n, "%s/%s", tmp, name);
  snprintf (cmd, sizeof cmd, "cp -r '%s/d' '%s' && sed -i 's/%s/%s/' '%s/%s'", tmp, out, from,
            to, out, rel);
  if (system (cmd) != 0)
    printf ("# %s failed\n", cmd);
}

static void
test_bad_folders (void)
{
  char d[700];
  edited_copy ("sd2", "unet/config.json", "\"use_linear_projection\": false",
               "\"use_linear_projection\": true", d, sizeof d);
  refused ("a diffusers SD 2.x UNet (linear projections)", d, SD15_LOAD_ALL, "SD 2.x",
           "unet/config.json", NULL);
  edited_copy ("xl", "model_index.json", "StableDiffusionPipeline",
               "StableDiffusionXLPipeline", d, sizeof d);
  refused ("a diffusers SDXL pipeline", d, SD15_LOAD_ALL, "SDXL", "model_index.json", NULL);
  edited_copy ("shape", "text_encoder/config.json", "\"intermediate_size\": 64",
               "\"intermediate_size\": 128", d, sizeof d);
  refused ("weights whose shape disagrees with config.json", d, SD15_LOAD_ALL,
           "text_model.encoder.layers.0.mlp.fc1.weight", "(64, 32)", "(128, 32)", NULL);
  edited_copy ("gelu", "text_encoder/config.json", "quick_gelu", "gelu", d, sizeof d);
  refused ("a text encoder that is not CLIP ViT-L/14's kind", d, SD15_LOAD_ALL, "quick_gelu",
           NULL);

  /* diffusers' fp16 variant file names load like the plain ones */
  char cmd[2000];
  snprintf (cmd, sizeof cmd, "cp -r '%s/d' '%s/v' && cd '%s/v' && "
            "mv unet/diffusion_pytorch_model.safetensors unet/diffusion_pytorch_model.fp16.safetensors && "
            "mv text_encoder/model.safetensors text_encoder/model.fp16.safetensors", tmp, tmp, tmp);
  snprintf (d, sizeof d, "%s/v", tmp);
  le_error e1;
  sd15_model *mv = system (cmd) == 0 ? load (d, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &e1) : NULL;
  tap_ok (mv != NULL, "a diffusers folder with .fp16.safetensors variant files loads");
  sd15_model_free (mv);

  /* what a file is, by its names */
  static const char *const kohya[] = { "lora_unet_down_blocks_0_x.lora_down.weight", NULL };
  static const char *const peft[] = { "unet.down_blocks.0.x.lora_A.weight", NULL };
  static const char *const part[] = { "down_blocks.0.resnets.0.conv1.weight", NULL };
  const char *const *sets[3] = { kohya, peft, part };
  sd_file_kind want[3] = { SD_FILE_LORA_KOHYA, SD_FILE_LORA_PEFT, SD_FILE_DIFFUSERS_PART };
  bool all = true;
  for (int i = 0; i < 3; i++)
    {
      char p[700];
      snprintf (p, sizeof p, "%s/kind%d.safetensors", tmp, i);
      write_named (p, sets[i]);
      le_error err = { 0 };
      st_set *s = st_set_open (p, &err);
      all = all && s && sd15_detect_kind (s) == want[i];
      st_set_close (s);
    }
  char single[700];
  snprintf (single, sizeof single, "%s/s/sd15-tiny.safetensors", tmp);
  le_error err = { 0 };
  st_set *s = st_set_open (single, &err);
  all = all && s && sd15_detect_kind (s) == SD_FILE_SD15
        && strcmp (sd15_kind_name (SD_FILE_SD15), "SD 1.5") == 0;
  st_set_close (s);
  tap_ok (all, "files are told apart by their names: SD 1.5, kohya LoRA, PEFT LoRA, a diffusers "
          "component");
}

int
main (void)
{
  snprintf (tmp, sizeof tmp, "/tmp/test-sd-units-XXXXXX");
  if (mkdtemp (tmp) == NULL)
    return 1;
  backend_cpu.init (NULL);
  test_names ();
  test_layouts ();
  test_bad_inputs ();
  test_bad_folders ();
  test_old_clip_names ();
  test_empty_random ();
  printf ("1..%d\n", tap_n);
  char cmd[600];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (tap_failed == 0 && system (cmd) != 0)
    return 1;
  return tap_failed ? 1 : 0;
}
