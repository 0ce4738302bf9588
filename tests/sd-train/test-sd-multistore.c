/* test-sd-multistore.c: SD LoRA training with all three adapter sets at once (UNet
 * attention, LoCon on the 3x3 convolutions, text encoder) on the sd15-tiny fixture and
 * the demo data: every set trains and the loss drops; text_encoder_lr 0 freezes the text
 * encoder's adapters while the UNet's move; a run resumed from a mid checkpoint writes
 * bit-identical weights for all three sets; the file holds lora_te_* and LoCon entries in
 * kohya's shapes with ss_unet_lr / ss_text_encoder_lr. TAP.
 *
 * Usage: test-sd-multistore OUT_DIR: leaves OUT_DIR/sd15-tiny (the fixture, a diffusers
 * folder), OUT_DIR/te/pytorch_lora_weights.safetensors (UNet + text encoder) and
 * OUT_DIR/all/pytorch_lora_weights.safetensors (+ LoCon) for sd_multistore_check.py. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "sd-data.h"
#include "sd-fixture.h"
#include "sd-lora-run.h"
#include "sd-train-job.h"
#include "sd-demo.h"
#include "../core/tap.h"

/* ---- hooks: errors and warnings are kept for the messages ---- */
static GString *errors;
static void on_progress (void *u, const le_run_progress *p) { (void) u, (void) p; }
static void on_sample (void *u, long long s, const char *p, const char *q) { (void) u, (void) s, (void) p, (void) q; }
static void on_checkpoint (void *u, long long s, const char *p) { (void) u, (void) s, (void) p; }
static void on_log (void *u, const char *l, const char *m) { (void) u, (void) l, (void) m; }
static void
on_error (void *u, const char *code, const char *msg)
{
  (void) u;
  g_string_append_printf (errors, "%s: %s; ", code, msg);
}
static bool keep_going (void *u) { (void) u; return true; }
static bool save_on_stop (void *u) { (void) u; return false; }
static const le_run_hooks hooks = {
  .progress = on_progress, .sample = on_sample, .checkpoint = on_checkpoint, .log = on_log,
  .error = on_error, .keep_going = keep_going, .save_on_stop = save_on_stop,
};

/* ---- the first 8 demo images with their captions ---- */
static sd_train_item items[8];
static int n_items;

static void
load_demo (const char *demo_dir)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) captions = g_ptr_array_new_with_free_func (g_free);
  sd_demo_read (demo_dir, paths, captions);
  for (guint i = 0; i < paths->len && n_items < 8; i++, n_items++)
    {
      items[n_items].path = g_strdup (paths->pdata[i]);
      items[n_items].caption = g_strdup (captions->pdata[i]);
    }
}

static void
options (sd_lora_options *o, const char *model, const char *out)
{
  sd_demo_options (o, model, out, items, n_items);
  o->train_text_encoder = true;
  o->text_encoder_lr = -1;       /* learning_rate */
  o->train.epochs = 3;
  o->train.max_train_steps = 4;
  o->train.save_steps = 0;
  o->train.seed = 5;
}

/* ---- a set's values on the host ---- */
static float *
set_values (const lora_set *s, bool b_only, int64_t *n)
{
  int64_t total = 0;
  for (int i = 0; i < s->n; i++)
    total += s->items[i]->b->numel + (b_only ? 0 : s->items[i]->a->numel);
  float *v = g_new (float, total), *p = v;
  for (int i = 0; i < s->n; i++)
    {
      if (!b_only)
        {
          backend_cpu.copy_d2h (p, s->items[i]->a->data, (size_t) s->items[i]->a->numel * 4);
          p += s->items[i]->a->numel;
        }
      backend_cpu.copy_d2h (p, s->items[i]->b->data, (size_t) s->items[i]->b->numel * 4);
      p += s->items[i]->b->numel;
    }
  *n = total;
  return v;
}

/* Adapters of S whose B is no longer all zero. */
static int
moved_adapters (const lora_set *s)
{
  int moved = 0;
  for (int i = 0; s && i < s->n; i++)
    {
      const tensor *b = s->items[i]->b;
      float *v = g_new (float, b->numel);
      backend_cpu.copy_d2h (v, b->data, (size_t) b->numel * 4);
      bool any = false;
      for (int64_t k = 0; k < b->numel && !any; k++)
        any = v[k] != 0;
      moved += any;
      g_free (v);
    }
  return moved;
}

/* UNet, LoCon and text encoder LoRA together: all train, the loss drops, the file holds
 * them in kohya's shapes with the learning rates in the metadata. */
static void
test_all_sets (const char *model, const char *out)
{
  sd_lora_options o;
  options (&o, model, out);
  o.conv_rank = 2;
  o.conv_alpha = 1;
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (&o, &hooks, &err);
  tap_ok (r != NULL, "prepare with train_text_encoder and conv_rank 2 %s", errors->str);
  if (r == NULL)
    return;
  sd15_model *m = sd_lora_model (r);
  tap_ok (m->lora_unet && m->lora_conv && m->lora_text && m->lora_conv->ps == m->lora_unet->ps
          && m->lora_text->ps == m->lora_unet->ps,
          "UNet, LoCon and text encoder adapters share one trainable store");
  double before = sd_lora_fixed_loss (r, 17, &err);
  le_trainer_result res;
  le_run_status st = sd_lora_train (r, &hooks, &res, &err);
  double after = sd_lora_fixed_loss (r, 17, &err);
  tap_ok (st == LE_RUN_COMPLETED && res.steps_done == 4, "4 steps ran %s", errors->str);
  tap_ok (isfinite (before) && after < before,
          "the fixed-draw loss (text encoder in the graph) drops: %.6f -> %.6f", before, after);
  int mu = moved_adapters (m->lora_unet), mc = moved_adapters (m->lora_conv),
      mt = moved_adapters (m->lora_text);
  tap_ok (mu == m->lora_unet->n && mc == m->lora_conv->n && mt == m->lora_text->n,
          "every adapter's B moved off zero: UNet %d/%d, LoCon %d/%d, text encoder %d/%d", mu,
          m->lora_unet->n, mc, m->lora_conv->n, mt, m->lora_text->n);

  g_autofree char *file = g_build_filename (out, "pytorch_lora_weights.safetensors", NULL);
  st_file *f = st_open (file, &err);
  tap_ok (f != NULL, "the LoRA file is written %s", f ? "" : err.message);
  if (f != NULL)
    {
      const char *te[] = { "self_attn_q_proj", "self_attn_k_proj", "self_attn_v_proj",
                           "self_attn_out_proj", "mlp_fc1", "mlp_fc2" };
      int found = 0;
      for (size_t i = 0; i < G_N_ELEMENTS (te); i++)
        {
          char name[200];
          snprintf (name, sizeof name, "lora_te_text_model_encoder_layers_0_%s.lora_up.weight",
                    te[i]);
          const st_tensor *t = st_find (f, name);
          found += t != NULL && t->ndim == 2 && t->shape[1] == 4;
        }
      tap_ok (found == 6, "lora_te_ entries for q/k/v/out_proj, fc1 and fc2 of layer 0 (%d of 6)",
              found);
      const st_tensor *cd = st_find (f, "lora_unet_up_blocks_1_resnets_0_conv2.lora_down.weight");
      const st_tensor *cu = st_find (f, "lora_unet_up_blocks_1_resnets_0_conv2.lora_up.weight");
      tap_ok (cd && cu && cd->ndim == 4 && cd->shape[0] == 2 && cd->shape[2] == 3
              && cu->ndim == 4 && cu->shape[1] == 2 && cu->shape[3] == 1,
              "LoCon entries: down (2, in, 3, 3), up (out, 2, 1, 1)");
      tap_ok ((int) st_count (f) == 3 * sd15_lora_count (m), "%zu tensors for %d adapters",
              st_count (f), sd15_lora_count (m));
      tap_ok (g_strcmp0 (st_metadata_get (f, "ss_text_encoder_lr"), "0.003") == 0
              && g_strcmp0 (st_metadata_get (f, "ss_unet_lr"), "0.003") == 0
              && g_strcmp0 (st_metadata_get (f, "ss_network_args"),
                            "{\"conv_dim\": \"2\", \"conv_alpha\": \"1\"}") == 0,
              "ss_text_encoder_lr defaults to learning_rate; ss_unet_lr; conv_dim in "
              "ss_network_args (%s, %s)", st_metadata_get (f, "ss_text_encoder_lr"),
              st_metadata_get (f, "ss_unet_lr"));
      st_close (f);
    }
  sd_lora_free (r);
}

/* text_encoder_lr 0: the text encoder's adapters stay exactly as initialised while the
 * UNet's train (the group's rate reaches AdamW). */
static void
test_text_lr_zero (const char *model, const char *out)
{
  sd_lora_options o;
  options (&o, model, out);
  o.text_encoder_lr = 0;
  o.train.max_train_steps = 2;
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (&o, &hooks, &err);
  tap_ok (r != NULL, "prepare with text_encoder_lr 0 %s", errors->str);
  if (r == NULL)
    return;
  sd15_model *m = sd_lora_model (r);
  int64_t n0, n1;
  float *te0 = set_values (m->lora_text, false, &n0);
  le_trainer_result res;
  le_run_status st = sd_lora_train (r, &hooks, &res, &err);
  float *te1 = set_values (m->lora_text, false, &n1);
  tap_ok (st == LE_RUN_COMPLETED && n0 == n1 && memcmp (te0, te1, (size_t) n0 * 4) == 0
          && moved_adapters (m->lora_text) == 0,
          "text_encoder_lr 0 leaves the text encoder's A and B unchanged %s", errors->str);
  tap_ok (moved_adapters (m->lora_unet) == m->lora_unet->n, "while the UNet's adapters train");
  g_autofree char *file = g_build_filename (out, "pytorch_lora_weights.safetensors", NULL);
  st_file *f = st_open (file, &err);
  tap_ok (f && g_strcmp0 (st_metadata_get (f, "ss_text_encoder_lr"), "0") == 0,
          "ss_text_encoder_lr is 0");
  if (f)
    st_close (f);
  g_free (te0);
  g_free (te1);
  sd_lora_free (r);
}

static bool
run_all (const sd_lora_options *o)
{
  le_trainer_result res;
  le_error err = { 0 };
  return sd_lora_run_all (o, &hooks, &res, &err) == LE_RUN_COMPLETED;
}

/* Resume at step 2 of 4 with all three sets (and a different text rate): the same
 * weights, bit for bit, as the uninterrupted run; the checkpoint holds every set's
 * weights and the AdamW moments of all of them. */
static void
test_resume (const char *model, const char *tmp)
{
  g_autofree char *out_a = g_build_filename (tmp, "resume-a", NULL);
  g_autofree char *out_b = g_build_filename (tmp, "resume-b", NULL);
  sd_lora_options a, b;
  options (&a, model, out_a);
  a.conv_rank = 2;
  a.text_encoder_lr = 1e-3;
  a.caption_dropout = 0.2;
  a.random_flip = true;
  a.train.save_steps = 2;
  a.train.scheduler = "cosine";
  a.train.warmup_steps = 1;
  b = a;
  b.train.output_dir = out_b;
  g_autofree char *mid = g_build_filename (out_a, "checkpoints", "step-000002", NULL);
  b.train.resume = mid;
  bool ran = run_all (&a) && run_all (&b);
  tap_ok (ran, "a 4-step run and a run resumed from its step 2 complete %s", errors->str);

  le_error err = { 0 };
  g_autofree char *ck = g_build_filename (mid, "checkpoint.safetensors", NULL);
  st_file *c = st_open (ck, &err);
  const st_tensor *cm = c ? st_find (c, "optimizer.adamw.m") : NULL;
  tap_ok (c && st_find (c, "lora.0.A") && st_find (c, "conv.0.B") && st_find (c, "te.0.A")
          && cm != NULL, "the checkpoint holds UNet (lora.*), LoCon (conv.*) and text encoder "
          "(te.*) weights and the AdamW moments");
  g_autofree char *fa = g_build_filename (out_a, "pytorch_lora_weights.safetensors", NULL);
  g_autofree char *fb = g_build_filename (out_b, "pytorch_lora_weights.safetensors", NULL);
  st_file *A = st_open (fa, &err), *B = st_open (fb, &err);
  int same = 0, total = 0, te = 0, conv = 0;
  for (size_t i = 0; A && B && i < st_count (A); i++)
    {
      const st_tensor *x = st_at (A, i);
      const st_tensor *y = st_find (B, x->name);
      total++;
      te += g_str_has_prefix (x->name, "lora_te_");
      conv += strstr (x->name, "_conv1.") != NULL || strstr (x->name, "_conv2.") != NULL;
      if (y == NULL || y->numel != x->numel)
        continue;
      float *vx = g_new (float, x->numel), *vy = g_new (float, y->numel);
      st_to_f32 (x, vx, (uint64_t) x->numel, &err);
      st_to_f32 (y, vy, (uint64_t) y->numel, &err);
      same += memcmp (vx, vy, (size_t) x->numel * 4) == 0;
      g_free (vx);
      g_free (vy);
    }
  tap_ok (A && B && total > 0 && same == total && te > 0 && conv > 0
          && st_count (B) == (size_t) total,
          "resumed = uninterrupted, bit for bit: %d of %d tensors (%d text encoder, %d LoCon)",
          same, total, te, conv);
  if (A)
    st_close (A);
  if (B)
    st_close (B);
  if (c)
    st_close (c);
}

int
main (int argc, char **argv)
{
  const char *out = argc > 1 ? argv[1] : "multistore-out";
  const char *demo = g_getenv ("DEMO_DIR");
  errors = g_string_new ("");
  g_mkdir_with_parents (out, 0755);
  if (demo)
    load_demo (demo);
  tap_ok (n_items == 8, "8 demo images (DEMO_DIR %s)", demo ? demo : "unset");
  g_autofree char *model = g_build_filename (out, "sd15-tiny", NULL);
  sd15_fixture_options fo;
  sd15_fixture_defaults (&fo);
  le_error err = { 0 };
  tap_ok (sd15_fixture_write (model, &fo, NULL, 0, &err), "fixture written %s", err.message);
  if (n_items == 8)
    {
      g_autofree char *all = g_build_filename (out, "all", NULL);
      g_autofree char *zero = g_build_filename (out, "te-zero", NULL);
      g_autofree char *te = g_build_filename (out, "te", NULL);
      test_all_sets (model, all);
      test_text_lr_zero (model, zero);
      test_resume (model, out);
      /* UNet + trained text encoder LoRA, for diffusers */
      sd_lora_options o;
      options (&o, model, te);
      o.train.max_train_steps = 2;
      tap_ok (run_all (&o), "a UNet + text encoder LoRA for diffusers is written %s", errors->str);
    }
  return tap_done ();
}
