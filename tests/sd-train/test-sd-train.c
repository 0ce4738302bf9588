/* test-sd-train.c: the SD LoRA pipeline in-process on the sd15-tiny fixture and the demo
 * data (64x64): data preparation (resize/crop/flip, buckets, tag counts), training lowers
 * the loss on fixed draws, a written LoRA loaded back merges to W + w * alpha / r * up @
 * down, the kohya names of the full-size SD 1.5 UNet are listed for the Python check, and
 * bad inputs (undecodable image mid-dataset, empty dataset, SDXL file, truncated file,
 * missing VAE) give the errors and warnings a user needs. TAP.
 *
 * Usage: test-sd-train [--names-only OUT_DIR]: with --names-only, only the full-size name
 * list is written (to OUT_DIR/kohya-names-full.txt) for sd_names_reference.py. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kohya.h"
#include "safetensors.h"
#include "sd-data.h"
#include "sd-fixture.h"
#include "sd-lora-run.h"
#include "sd-train-job.h"
#include "sd-demo.h"
#include "../core/tap.h"

/* ---- hooks that record what the run said ---- */
typedef struct {
  GString *log, *errors;
  GPtrArray *samples;
  int progress;
} recorder;

static void on_progress (void *u, const le_run_progress *p) { (void) p; ((recorder *) u)->progress++; }
static void
on_sample (void *u, long long step, const char *path, const char *prompt)
{
  (void) step, (void) prompt;
  g_ptr_array_add (((recorder *) u)->samples, g_strdup (path));
}
static void on_checkpoint (void *u, long long s, const char *p) { (void) u, (void) s, (void) p; }
static void
on_log (void *u, const char *level, const char *msg)
{
  g_string_append_printf (((recorder *) u)->log, "%s: %s\n", level, msg);
}
static void
on_error (void *u, const char *code, const char *msg)
{
  g_string_append_printf (((recorder *) u)->errors, "%s: %s\n", code, msg);
}
static bool keep_going (void *u) { (void) u; return true; }
static bool save_on_stop (void *u) { (void) u; return false; }

static le_run_hooks
hooks_for (recorder *r)
{
  r->log = g_string_new ("");
  r->errors = g_string_new ("");
  r->samples = g_ptr_array_new_with_free_func (g_free);
  r->progress = 0;
  return (le_run_hooks) { r, on_progress, on_sample, on_checkpoint, on_log, on_error,
                          keep_going, save_on_stop, NULL, NULL };
}

static void
recorder_clear (recorder *r)
{
  g_string_free (r->log, TRUE);
  g_string_free (r->errors, TRUE);
  g_ptr_array_unref (r->samples);
}

/* ---- the demo dataset as items ---- */
static char *demo_dir;
static GPtrArray *paths, *captions;

static void
load_demo (void)
{
  paths = g_ptr_array_new_with_free_func (g_free);
  captions = g_ptr_array_new_with_free_func (g_free);
  sd_demo_read (demo_dir, paths, captions);
}

static sd_train_item *
demo_items (int n)
{
  sd_train_item *items = g_new0 (sd_train_item, n);
  for (int i = 0; i < n; i++)
    {
      items[i].path = paths->pdata[i];
      items[i].caption = captions->pdata[i];
    }
  return items;
}

/* ---- data units ---- */
static void
test_data_units (void)
{
  /* a 4x2 image: left half black, right half white; covering 2x2 crops the middle */
  uint8_t px[2 * 4 * 3];
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++)
        px[(y * 4 + x) * 3 + c] = x < 2 ? 0 : 255;
  sd_rgb_image img = { 4, 2, 3, 12, px };
  float out[3 * 2 * 2], flip[3 * 2 * 2];
  sd_image_to_tensor (&img, 2, 2, false, out);
  sd_image_to_tensor (&img, 2, 2, true, flip);
  tap_ok (out[0] == -1.0f && out[1] == 1.0f && out[2] == -1.0f && out[3] == 1.0f,
          "resize+centre crop keeps the middle columns, scaled to [-1, 1] (%g %g)", out[0], out[1]);
  tap_ok (flip[0] == 1.0f && flip[1] == -1.0f, "random flip mirrors left and right");
  uint8_t big[64 * 32 * 3];
  for (int i = 0; i < 64 * 32 * 3; i++)
    big[i] = (uint8_t) ((i / 3) % 64 < 32 ? 40 : 200);
  sd_rgb_image bimg = { 64, 32, 3, 64 * 3, big };
  float small[3 * 8 * 8];
  sd_image_to_tensor (&bimg, 8, 8, false, small);
  tap_ok (fabsf (small[0] - (40 / 127.5f - 1)) < 1e-5 && fabsf (small[7] - (200 / 127.5f - 1)) < 1e-5,
          "downscaling by 4 keeps flat areas exact");

  sd_bucket b[SD_MAX_BUCKETS];
  int n = sd_buckets (512, b);
  bool area_ok = n > 5, square = false;
  for (int i = 0; i < n; i++)
    {
      double a = (double) b[i].width * b[i].height / (512.0 * 512.0);
      area_ok = area_ok && a > 0.75 && a <= 1.0 && b[i].width % 64 == 0 && b[i].height % 64 == 0;
      square = square || (b[i].width == 512 && b[i].height == 512);
    }
  tap_ok (area_ok && square, "%d buckets at 512 with about 512^2 pixels, sides multiples of 64", n);
  int wide = sd_bucket_nearest (b, n, 1920, 1080), tall = sd_bucket_nearest (b, n, 600, 900);
  tap_ok (b[wide].width > b[wide].height && fabs ((double) b[wide].width / b[wide].height - 16.0 / 9) < 0.25
          && b[tall].height > b[tall].width && sd_bucket_nearest (b, n, 700, 700) == 0,
          "nearest bucket: 16:9 -> %dx%d, 2:3 -> %dx%d, square -> square", b[wide].width,
          b[wide].height, b[tall].width, b[tall].height);

  const char *caps[] = { "a red circle, sks, plain", "sks, blue square", "a \"q\", sks" };
  char *json = sd_tag_frequency_json (caps, 3, "dataset");
  tap_ok (json && strstr (json, "\"sks\": 3") && strstr (json, "\"a red circle\": 1")
          && strstr (json, "\"a \\\"q\\\"\": 1") && strncmp (json, "{\"dataset\": {", 13) == 0,
          "ss_tag_frequency counts comma-separated tags: %s", json);
  free (json);
}

/* ---- training lowers the loss; output; merge ---- */
static void
test_training (const char *model, const char *tmp)
{
  int n = (int) paths->len < 8 ? (int) paths->len : 8;
  g_autofree sd_train_item *items = demo_items (n);
  g_autofree char *out = g_build_filename (tmp, "run", NULL);
  sd_lora_options o;
  sd_demo_options (&o, model, out, items, n);
  o.train.max_train_steps = 6;
  o.train.epochs = 3;
  o.caption_dropout = 0.1;
  o.random_flip = true;
  o.noise_offset = 0.05;
  o.min_snr_gamma = 5;
  recorder rec;
  le_run_hooks hooks = hooks_for (&rec);
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (&o, &hooks, &err);
  tap_ok (r != NULL && sd_lora_n_images (r) == n, "prepare: %d demo images cached at 64x64 %s",
          n, rec.errors->str);
  if (r == NULL)
    {
      recorder_clear (&rec);
      return;
    }
  double before = sd_lora_fixed_loss (r, 11, &err);
  double again = sd_lora_fixed_loss (r, 11, &err);
  tap_ok (isfinite (before) && before == again, "the fixed-draw loss is repeatable (%g)", before);
  le_trainer_result res;
  memset (&res, 0, sizeof res);
  le_run_status st = sd_lora_train (r, &hooks, &res, &err);
  double after = sd_lora_fixed_loss (r, 11, &err);
  tap_ok (st == LE_RUN_COMPLETED && res.steps_done == 6, "6 optimizer steps ran %s",
          rec.errors->str);
  tap_ok (after < before, "training lowers the loss on the same timesteps and noise: %.6f -> %.6f",
          before, after);

  /* the written file: kohya names, shapes, alpha, metadata */
  g_autofree char *file = g_build_filename (out, "pytorch_lora_weights.safetensors", NULL);
  st_file *f = st_open (file, &err);
  tap_ok (f != NULL, "pytorch_lora_weights.safetensors written %s", f ? "" : err.message);
  if (f != NULL)
    {
      const st_tensor *d = st_find (f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight");
      const st_tensor *u = st_find (f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight");
      const st_tensor *a = st_find (f, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha");
      sd15_model *m = sd_lora_model (r);
      tap_ok (d && u && a && d->ndim == 2 && d->shape[0] == 4 && d->shape[1] == m->cfg.block_out[0]
              && u->shape[0] == m->cfg.block_out[0] && u->shape[1] == 4 && a->ndim == 0,
              "kohya tensors: lora_down (r, in), lora_up (out, r), alpha scalar");
      tap_ok ((int) st_count (f) == 3 * sd15_lora_count (m), "%zu tensors for %d adapters",
              st_count (f), sd15_lora_count (m));
      const char *keys[] = { "ss_network_module", "ss_network_dim", "ss_network_alpha",
                             "ss_base_model_version", "ss_resolution", "ss_tag_frequency",
                             "ss_num_train_images", "ss_steps", "ss_learning_rate",
                             "ss_output_name", "ss_training_started_at", "ss_sd_model_name",
                             "ss_clip_skip", "ss_seed", "ss_mixed_precision" };
      bool all = true;
      for (size_t i = 0; i < G_N_ELEMENTS (keys); i++)
        if (st_metadata_get (f, keys[i]) == NULL)
          {
            all = false;
            tap_ok (false, "metadata %s missing", keys[i]);
          }
      const char *tf = st_metadata_get (f, "ss_tag_frequency");
      tap_ok (all && g_strcmp0 (st_metadata_get (f, "ss_network_module"), "networks.lora") == 0
              && g_strcmp0 (st_metadata_get (f, "ss_base_model_version"), "sd_v1") == 0
              && g_strcmp0 (st_metadata_get (f, "ss_network_dim"), "4") == 0
              && g_strcmp0 (st_metadata_get (f, "ss_resolution"), "(64, 64)") == 0
              && tf && strstr (tf, "\"dataset\": {"),
              "ss_* metadata as kohya writes it");

      /* load back into a fresh model with weight 0.7: merge = W + 0.7 * alpha/r * up @ down */
      sd15_model *fresh = sd15_model_load (model, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &backend_cpu, &err);
      bool loaded = fresh && kohya_load (fresh, file, 0.7f, &err);
      tap_ok (loaded, "the LoRA file loads back %s", loaded ? "" : err.message);
      double worst = 0, moved = 0;
      int checked = 0;
      for (int i = 0; loaded && i < sd15_lora_count (fresh); i++)
        {
          const sd15_lora_entry *e = sd15_lora_at (fresh, i);
          char name[300];
          snprintf (name, sizeof name, "%s.lora_down.weight", e->kohya);
          const st_tensor *dn = st_find (f, name);
          if (dn == NULL)
            continue;
          snprintf (name, sizeof name, "%s.lora_up.weight", e->kohya);
          const st_tensor *up = st_find (f, name);
          snprintf (name, sizeof name, "%s.alpha", e->kohya);
          const st_tensor *al = st_find (f, name);
          int64_t rr = dn->shape[0], in = dn->shape[1], outd = up->shape[0];
          float *A = malloc (dn->numel * 4), *B = malloc (up->numel * 4), alpha;
          float *W = malloc (outd * in * 4), *M = malloc (outd * in * 4);
          st_to_f32 (dn, A, dn->numel, &err);
          st_to_f32 (up, B, up->numel, &err);
          st_to_f32 (al, &alpha, 1, &err);
          backend_cpu.copy_d2h (W, e->module->w->data, (size_t) (outd * in * 4));
          kohya_merge_entry (fresh, e, W, M, &err);
          for (int64_t oo = 0; oo < outd; oo++)
            for (int64_t ii = 0; ii < in; ii++)
              {
                double s = 0;
                for (int64_t k = 0; k < rr; k++)
                  s += (double) B[oo * rr + k] * A[k * in + ii];
                double want = W[oo * in + ii] + 0.7 * alpha / rr * s;
                worst = fmax (worst, fabs (want - M[oo * in + ii]));
                moved = fmax (moved, fabs (M[oo * in + ii] - W[oo * in + ii]));
              }
          checked++;
          free (A), free (B), free (W), free (M);
        }
      tap_ok (checked == (int) st_count (f) / 3 && checked > 0 && worst < 1e-6 && moved > 0,
              "merged weights of %d modules equal W + 0.7 * alpha / r * up @ down (max diff %.2e, "
              "largest change %.2e)", checked, worst, moved);
      sd15_model_free (fresh);
      st_close (f);
    }
  sd_lora_free (r);
  recorder_clear (&rec);
}

/* LoCon and text encoder adapters: kohya shapes (r, in, 3, 3) / (out, r, 1, 1), lora_te_
 * names, and a file with them loads back into a model shaped after it */
static void
test_locon_file (const char *model, const char *tmp)
{
  le_error err = { 0 };
  sd15_model *m = sd15_model_load (model, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &backend_cpu, &err);
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  lo.conv_rank = 2;
  lo.conv_alpha = 1;
  lo.text_encoder = true;
  bool attached = m && sd15_lora_attach (m, &lo, &err);
  g_autofree char *path = g_build_filename (tmp, "locon.safetensors", NULL);
  /* give every B a value so the round trip is not of zeros */
  for (int i = 0; attached && i < sd15_lora_count (m); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      float *b = g_new (float, e->lora->b->numel);
      for (int64_t k = 0; k < e->lora->b->numel; k++)
        b[k] = (float) ((i * 31 + k) % 17) * 0.01f;
      backend_cpu.copy_h2d (e->lora->b->data, b, (size_t) e->lora->b->numel * 4);
      g_free (b);
    }
  bool saved = attached && kohya_save (m, path, false, NULL, 0, &err);
  tap_ok (saved, "a LoRA with LoCon and text encoder adapters saves %s", saved ? "" : err.message);
  if (!saved)
    {
      sd15_model_free (m);
      return;
    }
  st_file *f = st_open (path, &err);
  const st_tensor *cd = st_find (f, "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight");
  const st_tensor *cu = st_find (f, "lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight");
  const st_tensor *ca = st_find (f, "lora_unet_down_blocks_0_resnets_0_conv1.alpha");
  const st_tensor *te = st_find (f, "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight");
  float alpha = 0;
  if (ca)
    st_to_f32 (ca, &alpha, 1, &err);
  tap_ok (cd && cu && cd->ndim == 4 && cd->shape[0] == 2 && cd->shape[2] == 3 && cd->shape[3] == 3
          && cu->ndim == 4 && cu->shape[1] == 2 && cu->shape[2] == 1 && cu->shape[3] == 1
          && alpha == 1.0f, "LoCon tensors: down (r, in, 3, 3), up (out, r, 1, 1), alpha 1");
  tap_ok (te && te->ndim == 2 && te->shape[0] == lo.rank,
          "text encoder adapters are named lora_te_text_model_encoder_layers_N_...");
  sd15_model *back = sd15_model_load (model, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &backend_cpu, &err);
  bool loaded = back && kohya_load (back, path, 1.0f, &err);
  int same = 0, total = 0;
  for (int i = 0; loaded && i < sd15_lora_count (m); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      for (int j = 0; j < sd15_lora_count (back); j++)
        {
          const sd15_lora_entry *b = sd15_lora_at (back, j);
          if (strcmp (b->kohya, e->kohya) != 0)
            continue;
          total++;
          same += b->lora->b->numel == e->lora->b->numel && fabsf (b->lora->scale - e->lora->scale) < 1e-6f
                  && memcmp (b->lora->b->data, e->lora->b->data, (size_t) e->lora->b->numel * 4) == 0
                  && memcmp (b->lora->a->data, e->lora->a->data, (size_t) e->lora->a->numel * 4) == 0;
        }
    }
  tap_ok (loaded && total == sd15_lora_count (m) && same == total,
          "loaded back: %d of %d adapters equal in values and scale %s", same, sd15_lora_count (m),
          loaded ? "" : err.message);
  st_close (f);
  sd15_model_free (back);
  sd15_model_free (m);
}

/* enable_bucket: a wide image goes to a wide bucket; a batch with both trains */
static void
test_buckets (const char *model, const char *tmp)
{
  g_autofree char *wide = g_build_filename (tmp, "wide.png", NULL);
  GdkPixbuf *pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 256, 96);
  gdk_pixbuf_fill (pb, 0x3080c0ff);
  gdk_pixbuf_save (pb, wide, "png", NULL, NULL);
  g_object_unref (pb);
  sd_train_item items[2] = { { paths->pdata[0], "a square" }, { wide, "a wide one" } };
  g_autofree char *out = g_build_filename (tmp, "run-bucket", NULL);
  sd_lora_options o;
  sd_demo_options (&o, model, out, items, 2);
  o.enable_bucket = true;
  o.resolution = 64;
  o.train.batch_size = 2;
  o.train.max_train_steps = 1;
  recorder rec;
  le_run_hooks hooks = hooks_for (&rec);
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (&o, &hooks, &err);
  tap_ok (r != NULL && strstr (rec.log->str, "in 2 of ") != NULL,
          "enable_bucket puts a 256x96 image and a square one in 2 buckets %s", rec.errors->str);
  le_trainer_result res;
  memset (&res, 0, sizeof res);
  le_run_status st = r ? sd_lora_train (r, &hooks, &res, &err) : LE_RUN_FAILED;
  tap_ok (st == LE_RUN_COMPLETED && res.steps_done == 1 && isfinite (res.last_loss),
          "a batch spanning two buckets trains (loss %g) %s", res.last_loss, rec.errors->str);
  sd_lora_free (r);
  recorder_clear (&rec);
}

/* cache_latents: disk keeps one file per image under output_dir/cache and reads it back */
static void
test_disk_cache (const char *model, const char *tmp)
{
  g_autofree sd_train_item *items = demo_items (2);
  g_autofree char *out = g_build_filename (tmp, "run-cache", NULL);
  g_autofree char *cache = g_build_filename (out, "cache", NULL);
  sd_lora_options o;
  sd_demo_options (&o, model, out, items, 2);
  o.cache_latents = "disk";
  recorder rec;
  le_run_hooks hooks = hooks_for (&rec);
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (&o, &hooks, &err);
  double first = r ? sd_lora_fixed_loss (r, 4, &err) : NAN;
  sd_lora_free (r);
  g_autoptr(GDir) dir = g_dir_open (cache, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  for (const char *name; dir && (name = g_dir_read_name (dir)) != NULL;)
    if (g_str_has_suffix (name, ".latent"))
      g_ptr_array_add (files, g_build_filename (cache, name, NULL));
  tap_ok (isfinite (first) && files->len == 2, "cache_latents disk writes one file per image (%u)",
          files->len);
  /* zero the stored latents (the key stays): a run that reads the cache sees zeros */
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;
      gsize len = 0;
      if (g_file_get_contents (files->pdata[i], &data, &len, NULL) && len > 4)
        {
          guint32 klen;
          memcpy (&klen, data, 4);
          memset (data + 4 + klen, 0, len - 4 - klen);
          g_file_set_contents (files->pdata[i], data, (gssize) len, NULL);
        }
    }
  r = sd_lora_prepare (&o, &hooks, &err);
  double second = r ? sd_lora_fixed_loss (r, 4, &err) : NAN;
  sd_lora_free (r);
  tap_ok (isfinite (second) && second != first,
          "a second run reads the cached latents instead of encoding again (%g vs %g)", first,
          second);
  g_ptr_array_unref (files);
  recorder_clear (&rec);
}

/* Prepares a run of O, reported to REC, and frees it: whether it could be prepared, and
 * then its number of images in *N_IMAGES. */
static bool
prepare_only (const sd_lora_options *o, recorder *rec, int64_t *n_images)
{
  le_run_hooks hooks = hooks_for (rec);
  le_error err = { 0 };
  sd_lora_run *r = sd_lora_prepare (o, &hooks, &err);
  bool prepared = r != NULL;
  if (prepared)
    *n_images = sd_lora_n_images (r);
  sd_lora_free (r);
  return prepared;
}

/* an image that cannot be decoded mid-dataset is skipped with a warning naming it */
static void
test_bad_image (const char *model, const char *tmp)
{
  g_autofree char *bad = g_build_filename (tmp, "broken.png", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_file_get_contents (paths->pdata[0], &contents, &len, NULL);
  g_file_set_contents (bad, contents, (gssize) (len / 3), NULL);   /* stops a third in */
  sd_train_item items[3] = { { paths->pdata[0], "a" }, { bad, "b" }, { paths->pdata[1], "c" } };
  g_autofree char *out = g_build_filename (tmp, "run-bad", NULL);
  sd_lora_options o;
  sd_demo_options (&o, model, out, items, 3);
  recorder rec;
  int64_t n = 0;
  bool prepared = prepare_only (&o, &rec, &n);
  tap_ok (prepared && n == 2 && strstr (rec.log->str, "warning: ")
          && strstr (rec.log->str, "broken.png") && strstr (rec.log->str, "skipped"),
          "a truncated image mid-dataset is skipped with a warning naming it");
  recorder_clear (&rec);

  o.n_items = 0;
  prepared = prepare_only (&o, &rec, &n);
  tap_ok (!prepared && g_str_has_prefix (rec.errors->str, "dataset: ")
          && strstr (rec.errors->str, "no images"), "an empty dataset is a clear error: %s",
          rec.errors->str);
  recorder_clear (&rec);

  sd_train_item only_bad[1] = { { bad, "b" } };
  o.items = only_bad;
  o.n_items = 1;
  prepared = prepare_only (&o, &rec, &n);
  tap_ok (!prepared && strstr (rec.errors->str, "none of the 1 images"),
          "a dataset of unreadable images is an error: %s", rec.errors->str);
  recorder_clear (&rec);
}

static void
expect_model_error (const char *model, const char *tmp, const char *what, const char *needle)
{
  sd_train_item items[1] = { { paths->pdata[0], "a" } };
  g_autofree char *out = g_build_filename (tmp, "run-model", NULL);
  sd_lora_options o;
  sd_demo_options (&o, model, out, items, 1);
  recorder rec;
  int64_t n;
  bool prepared = prepare_only (&o, &rec, &n);
  tap_ok (!prepared && g_str_has_prefix (rec.errors->str, "model: ")
          && strstr (rec.errors->str, needle) != NULL, "%s: %s", what, rec.errors->str);
  recorder_clear (&rec);
}

static void
test_bad_models (const char *tmp)
{
  le_error err = { 0 };
  /* an SDXL single file: its second text encoder names it */
  g_autofree char *xl = g_build_filename (tmp, "sdxl.safetensors", NULL);
  float v[4] = { 0 };
  st_write_tensor ts[] = {
    { .name = "conditioner.embedders.1.model.ln_final.weight", .dtype = ST_F32, .ndim = 1,
      .shape = { 4 }, .data = v },
    { .name = "model.diffusion_model.label_emb.0.0.weight", .dtype = ST_F32, .ndim = 1,
      .shape = { 4 }, .data = v },
  };
  st_write (xl, ts, 2, NULL, 0, &err);
  expect_model_error (xl, tmp, "an SDXL file is refused by name", "SDXL");

  /* a single-file fixture cut short */
  g_autofree char *single_dir = g_build_filename (tmp, "single", NULL);
  sd15_fixture_options fo;
  sd15_fixture_defaults (&fo);
  fo.layout = SD15_LAYOUT_SINGLE;
  char single[1024];
  sd15_fixture_write (single_dir, &fo, single, sizeof single, &err);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_file_get_contents (single, &contents, &len, NULL);
  g_file_set_contents (single, contents, (gssize) (len - 1000), NULL);
  expect_model_error (single, tmp, "a truncated model file is refused, naming the file",
                      "sd15-tiny.safetensors");

  /* a diffusers folder without vae/ */
  g_autofree char *novae = g_build_filename (tmp, "novae", NULL);
  sd15_fixture_defaults (&fo);
  sd15_fixture_write (novae, &fo, NULL, 0, &err);
  g_autofree char *vae_w = g_build_filename (novae, "vae", "diffusion_pytorch_model.safetensors", NULL);
  g_autofree char *vae_c = g_build_filename (novae, "vae", "config.json", NULL);
  g_autofree char *vae_d = g_build_filename (novae, "vae", NULL);
  g_remove (vae_w);
  g_remove (vae_c);
  g_rmdir (vae_d);
  expect_model_error (novae, tmp, "a diffusers folder without its VAE is refused", "vae");
}

/* the kohya names of the full-size SD 1.5 UNet for the default targets, one a line */
static void
test_full_size_names (const char *out_dir)
{
  sd15_config c;
  sd15_config_default (&c);
  le_error err = { 0 };
  sd15_model *m = sd15_model_new_empty (&c, SD15_LOAD_UNET, LE_F16, &backend_cpu, &err);
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  bool ok_attach = m && sd15_lora_attach (m, &lo, &err);
  tap_ok (ok_attach, "LoRA attaches to the full-size UNet %s", ok_attach ? "" : err.message);
  if (!ok_attach)
    {
      sd15_model_free (m);
      return;
    }
  g_autofree char *path = g_build_filename (out_dir, "kohya-names-full.txt", NULL);
  GString *s = g_string_new ("");
  for (int i = 0; i < sd15_lora_count (m); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      g_string_append_printf (s, "%s %lld %lld\n", e->kohya, (long long) e->lora->in,
                              (long long) e->lora->out);
    }
  g_file_set_contents (path, s->str, -1, NULL);
  tap_ok (sd15_lora_count (m) == 128, "full-size SD 1.5: %d attention LoRA modules (16 "
          "transformer blocks x 2 attentions x 4 projections = 128)", sd15_lora_count (m));
  g_string_free (s, TRUE);
  sd15_model_free (m);
}

int
main (int argc, char **argv)
{
  bool names_only = argc > 2 && strcmp (argv[1], "--names-only") == 0;
  const char *out_dir = names_only ? argv[2] : argc > 1 ? argv[1] : ".";
  g_mkdir_with_parents (out_dir, 0755);
  if (names_only)
    {
      test_full_size_names (out_dir);
      return tap_done ();
    }
  demo_dir = g_strdup (g_getenv ("DEMO_DIR"));
  g_autofree char *tmp = g_dir_make_tmp ("sd-train-XXXXXX", NULL);
  test_data_units ();
  if (demo_dir == NULL)
    {
      tap_ok (false, "DEMO_DIR is not set");
      return tap_done ();
    }
  load_demo ();
  tap_ok (paths->len == 24, "the demo dataset has 24 captioned images (%u)", paths->len);
  g_autofree char *model = g_build_filename (tmp, "sd15-tiny", NULL);
  sd15_fixture_options fo;
  sd15_fixture_defaults (&fo);
  le_error err = { 0 };
  tap_ok (sd15_fixture_write (model, &fo, NULL, 0, &err), "fixture written %s", err.message);
  if (paths->len >= 8)
    {
      test_training (model, tmp);
      test_disk_cache (model, tmp);
      test_locon_file (model, tmp);
      test_buckets (model, tmp);
      test_bad_image (model, tmp);
      test_bad_models (tmp);
    }
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", tmp);
  return tap_done ();
}
