/* sd-dump.c: runs the engine's SD 1.5 code on inputs from a .safetensors file and writes
 * what it computed, for sd_reference.py to compare with diffusers / transformers on the
 * same weights.
 *
 *   sd-dump forward MODEL INPUTS OUT   blocks, UNet, VAE, CLIP outputs; LoRA / LoCon
 *                                      values, forward and gradients
 *   sd-dump names OUT                  "diffusers ldm shape" of every tensor of full SD 1.5
 *   sd-dump loranames OUT conv|plain   kohya and PEFT names of full SD 1.5's adapters
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "safetensors.h"
#include "sd15.h"

typedef struct {
  st_write_tensor *t;
  float **data;
  char **names;
  size_t n, cap;
} out_list;

static void
out_add (out_list *o, const char *name, const float *data, int ndim, const int64_t *shape)
{
  if (o->n == o->cap)
    {
      o->cap = o->cap ? 2 * o->cap : 256;
      o->t = realloc (o->t, o->cap * sizeof *o->t);
      o->data = realloc (o->data, o->cap * sizeof *o->data);
      o->names = realloc (o->names, o->cap * sizeof *o->names);
    }
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++)
    numel *= shape[i];
  float *copy = malloc ((size_t) numel * sizeof *copy);
  memcpy (copy, data, (size_t) numel * sizeof *copy);
  st_write_tensor *t = &o->t[o->n];
  memset (t, 0, sizeof *t);
  o->names[o->n] = strdup (name);
  o->data[o->n] = copy;
  t->name = o->names[o->n];
  t->dtype = ST_F32;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  t->data = copy;
  o->n++;
}

static bool
out_tensor (out_list *o, graph *g, const char *name, tensor *t)
{
  le_error err = { 0 };
  if (t == NULL)
    {
      graph_take_error (g, &err);
      fprintf (stderr, "%s: %s\n", name, err.message);
      return false;
    }
  float *h = malloc ((size_t) t->numel * sizeof *h);
  if (!graph_to_host (g, t, h, &err))
    {
      fprintf (stderr, "%s: %s\n", name, err.message);
      free (h);
      return false;
    }
  out_add (o, name, h, t->ndim, t->shape);
  free (h);
  return true;
}

static tensor *
input (graph *g, const st_file *f, const char *name)
{
  const st_tensor *s = st_find (f, name);
  if (s == NULL)
    {
      fprintf (stderr, "input %s missing\n", name);
      exit (2);
    }
  int64_t shape[4];
  for (int i = 0; i < s->ndim; i++)
    shape[i] = s->shape[i];
  return graph_from_host (g, s->dtype == ST_I32 ? LE_I32 : LE_F32, s->ndim, shape, s->data,
                          name);
}

static int
cmd_names (const char *out)
{
  sd15_config c;
  sd15_config_default (&c);
  sd15_name *names;
  size_t n;
  le_error err = { 0 };
  if (!sd15_names (&c, SD15_LOAD_ALL, &names, &n, &err))
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  FILE *fp = fopen (out, "w");
  for (size_t i = 0; i < n; i++)
    {
      fprintf (fp, "%s %s ", names[i].diffusers, names[i].ldm);
      for (int d = 0; d < names[i].ndim; d++)
        fprintf (fp, "%s%lld", d ? "," : "", (long long) names[i].shape[d]);
      fprintf (fp, " %d\n", names[i].ldm_conv1x1);
    }
  fclose (fp);
  free (names);
  return 0;
}

/* kohya names for full SD 1.5: every UNet target, the text encoder, LoCon when CONV. */
static int
cmd_loranames (const char *out, bool conv)
{
  sd15_config c;
  sd15_config_default (&c);
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  static const char *const targets[] = { "to_q", "to_k", "to_v", "to_out.0", "ff",
                                         "proj_in", "proj_out", NULL };
  lo.unet_targets = targets;
  lo.text_encoder = true;
  lo.conv_rank = conv ? 4 : 0;
  sd15_lora_name *names;
  size_t n;
  le_error err = { 0 };
  if (!sd15_lora_names (&c, &lo, &names, &n, &err))
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  FILE *fp = fopen (out, "w");
  for (size_t i = 0; i < n; i++)
    fprintf (fp, "%s %s %lld %lld %lld\n", names[i].kohya, names[i].peft,
             (long long) names[i].out, (long long) names[i].in, (long long) names[i].kh);
  fclose (fp);
  free (names);
  return 0;
}

/* Deterministic non-zero B values so that LoRA gradients of A are non-zero too. */
static void
fill_b (float *b, int64_t n, int k)
{
  for (int64_t i = 0; i < n; i++)
    b[i] = 0.05f * sinf (0.37f * (float) i + 1.3f * (float) k);
}

static int
cmd_forward (const char *model_path, const char *inputs, const char *out_path)
{
  le_error err = { 0 };
  const backend *be = &backend_cpu;
  be->init (&err);
  sd15_model *m = sd15_model_load (model_path, SD15_LOAD_ALL, SD15_DTYPE_KEEP, be, &err);
  st_file *in = st_open (inputs, &err);
  if (m == NULL || in == NULL)
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  graph *g = graph_new (be, &err);
  graph_set_grad_enabled (g, false);
  out_list o = { 0 };
  bool ok = true;
  const st_tensor *ts = st_find (in, "t");
  const float *tsteps = ts->data;
  int64_t B = ts->shape[0];
  tensor *x = input (g, in, "x"), *ctx = input (g, in, "ctx");

  /* blocks of the UNet, the VAE and CLIP on the same inputs as the Python side */
  const sd_unet *u = &m->unet;
  tensor *temb_act = op_silu (g, input (g, in, "temb"));
  ok = ok && out_tensor (&o, g, "resnet_down0",
                         sd_resnet_forward (g, m, &u->down[0].resnets[0], input (g, in, "h32"),
                                            temb_act));
  ok = ok && out_tensor (&o, g, "resnet_up1",
                         sd_resnet_forward (g, m, &u->up[1].resnets[0], input (g, in, "h96"),
                                            temb_act));
  ok = ok && out_tensor (&o, g, "transformer_down0",
                         sd_transformer_forward (g, m, &u->down[0].attns[0],
                                                 input (g, in, "h32"), ctx));
  ok = ok && out_tensor (&o, g, "attn2_down0",
                         sd_attention_forward (g, m, &u->down[0].attns[0].blocks[0].attn2,
                                               input (g, in, "seq"), ctx));
  ok = ok && out_tensor (&o, g, "vae_attn",
                         sd_vae_attention_forward (g, m, &m->vae.enc.mid_attn,
                                                   input (g, in, "h64")));
  ok = ok && out_tensor (&o, g, "vae_resnet_dec",
                         sd_resnet_forward (g, m, &m->vae.dec.blocks[2].resnets[0],
                                            input (g, in, "h64"), NULL));
  ok = ok && out_tensor (&o, g, "clip_layer0",
                         clip_layer_forward (g, m, &m->text.layers[0], input (g, in, "cseq")));
  ok = ok && out_tensor (&o, g, "temb",
                         sd15_timestep_embedding (g, tsteps, B, m->cfg.block_out[0]));

  /* whole models */
  ok = ok && out_tensor (&o, g, "unet", sd15_unet_forward (m, g, x, tsteps, ctx));
  const st_tensor *ids = st_find (in, "ids");
  ok = ok && out_tensor (&o, g, "text1", sd15_text_forward (m, g, ids->data, ids->shape[0],
                                                            ids->shape[1], 1));
  ok = ok && out_tensor (&o, g, "text2", sd15_text_forward (m, g, ids->data, ids->shape[0],
                                                            ids->shape[1], 2));
  tensor *mean, *logvar;
  ok = ok && sd15_vae_encode (m, g, input (g, in, "img"), &mean, &logvar);
  ok = ok && out_tensor (&o, g, "vae_mean", mean) && out_tensor (&o, g, "vae_logvar", logvar);
  ok = ok && out_tensor (&o, g, "vae_dec", sd15_vae_decode (m, g, input (g, in, "z")));
  graph_reset (g);

  /* LoRA and LoCon: B set non-zero, forward, MSE against target, gradients */
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  static const char *const targets[] = { "to_q", "to_k", "to_v", "to_out.0", "ff",
                                         "proj_in", "proj_out", NULL };
  lo.unet_targets = targets;
  lo.rank = 4;
  lo.alpha = 8;
  lo.conv_rank = 2;
  lo.conv_alpha = 1;
  lo.seed = 7;
  lo.text_encoder = true;
  if (ok && !sd15_lora_attach (m, &lo, &err))
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  for (int i = 0; ok && i < sd15_lora_count (m); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      lora_set *set = e->set;
      int64_t na = e->lora->a->numel, nb = e->lora->b->numel;
      float *a = malloc ((size_t) na * sizeof *a), *b = malloc ((size_t) nb * sizeof *b);
      fill_b (b, nb, i);
      ok = lora_tensor_from_host (set, e->lora->b, b, &err)
           && lora_tensor_to_host (set, e->lora->a, a, &err);
      char name[256];
      snprintf (name, sizeof name, "A:%s", e->peft);
      out_add (&o, name, a, 2, e->lora->a->shape);
      snprintf (name, sizeof name, "B:%s", e->peft);
      out_add (&o, name, b, 2, e->lora->b->shape);
      free (a);
      free (b);
    }
  float peak[2] = { 0, 0 };
  for (int pass = 0; ok && pass < 2; pass++)
    {
      /* pass 1 repeats with gradient checkpointing: the gradients must not change */
      m->checkpointing = pass == 1;
      param_store_zero_grad (m->lora_unet->ps);
      param_store_zero_grad (m->lora_conv->ps);
      graph_reset (g);
      graph_reset_peak (g);
      graph_set_grad_enabled (g, true);
      tensor *xx = input (g, in, "x"), *cc = input (g, in, "ctx");
      tensor *y = sd15_unet_forward (m, g, xx, tsteps, cc);
      if (pass == 0)
        ok = out_tensor (&o, g, "unet_lora", y);
      tensor *loss = op_mse (g, y, input (g, in, "target"));
      ok = ok && out_tensor (&o, g, pass ? "loss_ckpt" : "loss", loss);
      if (ok && !graph_backward (g, loss, &err))
        {
          fprintf (stderr, "%s\n", err.message);
          return 1;
        }
      peak[pass] = (float) graph_peak_bytes (g);
      for (int i = 0; ok && i < sd15_lora_count (m); i++)
        {
          const sd15_lora_entry *e = sd15_lora_at (m, i);
          if (e->text_encoder)
            continue;
          tensor *ab[2] = { e->lora->a, e->lora->b };
          for (int k = 0; k < 2; k++)
            {
              char name[256];
              snprintf (name, sizeof name, "%s%s:%s", pass ? "ckpt_" : "", k ? "dB" : "dA",
                        e->peft);
              float *h = malloc ((size_t) ab[k]->numel * sizeof *h);
              be->copy_d2h (h, ab[k]->grad, (size_t) ab[k]->numel * sizeof *h);
              out_add (&o, name, h, 2, ab[k]->shape);
              free (h);
            }
        }
    }
  /* text encoder LoRA: MSE of the hidden states against cseq */
  if (ok)
    {
      param_store_zero_grad (m->lora_text->ps);
      graph_reset (g);
      graph_set_grad_enabled (g, true);
      tensor *y = sd15_text_forward (m, g, ids->data, ids->shape[0], ids->shape[1], 1);
      tensor *loss = op_mse (g, y, input (g, in, "cseq"));
      ok = out_tensor (&o, g, "text_lora", y) && out_tensor (&o, g, "text_loss", loss);
      if (ok && !graph_backward (g, loss, &err))
        {
          fprintf (stderr, "%s\n", err.message);
          return 1;
        }
      for (int i = 0; ok && i < sd15_lora_count (m); i++)
        {
          const sd15_lora_entry *e = sd15_lora_at (m, i);
          if (!e->text_encoder)
            continue;
          tensor *ab[2] = { e->lora->a, e->lora->b };
          for (int k = 0; k < 2; k++)
            {
              char name[256];
              snprintf (name, sizeof name, "%s:%s", k ? "dB" : "dA", e->peft);
              float *h = malloc ((size_t) ab[k]->numel * sizeof *h);
              be->copy_d2h (h, ab[k]->grad, (size_t) ab[k]->numel * sizeof *h);
              out_add (&o, name, h, 2, ab[k]->shape);
              free (h);
            }
        }
    }
  int64_t two = 2;
  out_add (&o, "peak", peak, 1, &two);
  if (ok)
    ok = st_write (out_path, o.t, o.n, NULL, 0, &err);
  if (!ok)
    fprintf (stderr, "failed: %s\n", err.message);
  graph_free (g);
  st_close (in);
  sd15_model_free (m);
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "names") == 0)
    return cmd_names (argv[2]);
  if (argc == 4 && strcmp (argv[1], "loranames") == 0)
    return cmd_loranames (argv[2], strcmp (argv[3], "conv") == 0);
  if (argc == 5 && strcmp (argv[1], "forward") == 0)
    return cmd_forward (argv[2], argv[3], argv[4]);
  fprintf (stderr, "usage: sd-dump forward MODEL INPUTS OUT | names OUT\n");
  return 2;
}
