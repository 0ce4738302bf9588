/* sd-lora-run.c: the image-lora pipeline on the generic trainer (see sd-lora-run.h):
 * data preparation (decode, bucket, VAE latents, CLIP tokens and, with a frozen text
 * encoder, embeddings), the DDPM loss, preview samples and the kohya output. UNet, LoCon
 * and text encoder LoRA share one trainable store (lora_set_new_shared); the text
 * encoder's slice is a trainer parameter group with text_encoder_lr. */
#include "sd-lora-run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clip-tokenizer.h"
#include "ddpm.h"
#include "kohya.h"
#include "ops.h"
#include "run-common.h"
#include "sd-sampler.h"

typedef struct {
  int bucket;                    /* index into buckets */
  float *latent;                 /* (C, h, w) mean * scale */
  float *latent_flip;            /* the mirrored image's, or NULL */
  int64_t caption;               /* row of embeddings */
} sd_image_entry;

struct sd_lora_run {
  sd_lora_options o;
  const le_run_hooks *hooks;
  const backend *be;
  sd15_model *model;
  le_clip_tokenizer *tok;
  graph *g;                      /* preparation (freed after it) and the fixed loss */
  ddpm_schedule sch;
  sd_bucket buckets[SD_MAX_BUCKETS];
  int n_buckets;
  sd_image_entry *images;
  int64_t n_images;
  int32_t *ids;                  /* (n_images + 1, 77) caption tokens; the last row is "" */
  float *embeds;                 /* (n_images + 1, 77, cross_dim) when the text encoder is
                                  * frozen, else NULL: its LoRA trains, so the embeddings
                                  * are computed in every step's graph */
  char **captions;               /* of the images kept */
  char started_at[32];
};

/* ---- latent cache on disk: output_dir/cache/<hash>.latent, keyed by the file's path,
 * mtime and size, the size it was cropped to, the mirror flag and the model ---- */
static uint64_t
fnv1a (const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ull;
  return h;
}

static void
cache_key (const sd_lora_run *r, const char *path, const sd_bucket *b, bool flip, char *key,
           size_t n, char *file, size_t fn)
{
  struct stat st;
  long long mtime = 0, size = -1;
  if (stat (path, &st) == 0)
    {
      mtime = (long long) st.st_mtime;
      size = (long long) st.st_size;
    }
  snprintf (key, n, "%s|%lld|%lld|%dx%d|%d|%s", path, mtime, size, b->width, b->height,
            flip, r->model->source);
  snprintf (file, fn, "%s/cache/%016llx.latent", r->o.train.output_dir,
            (unsigned long long) fnv1a (key));
}

static bool
cache_read (const char *file, const char *key, float *out, int64_t n)
{
  FILE *fp = fopen (file, "rb");
  if (fp == NULL)
    return false;
  char stored[2200];
  uint32_t klen = 0;
  bool ok = fread (&klen, 4, 1, fp) == 1 && klen < sizeof stored
            && fread (stored, 1, klen, fp) == klen;
  if (ok)
    {
      stored[klen] = '\0';
      ok = strcmp (stored, key) == 0 && fread (out, sizeof *out, (size_t) n, fp) == (size_t) n;
    }
  fclose (fp);
  return ok;
}

static void
cache_write (const char *file, const char *key, const float *v, int64_t n)
{
  char dir[1300];
  snprintf (dir, sizeof dir, "%s", file);
  char *slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';
  /* mkdir -p: the output folder may not exist before the trainer starts */
  for (char *p = dir + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        mkdir (dir, 0755);
        *p = '/';
      }
  mkdir (dir, 0755);
  char tmp[1300];
  snprintf (tmp, sizeof tmp, "%s.tmp", file);
  FILE *fp = fopen (tmp, "wb");
  if (fp == NULL)
    return;
  uint32_t klen = (uint32_t) strlen (key);
  bool ok = fwrite (&klen, 4, 1, fp) == 1 && fwrite (key, 1, klen, fp) == klen
            && fwrite (v, sizeof *v, (size_t) n, fp) == (size_t) n;
  ok = fclose (fp) == 0 && ok;
  if (!ok || rename (tmp, file) != 0)
    remove (tmp);     /* a cache that cannot be written only costs time next run */
}

/* VAE mean * scale of PIXELS // (3, H, W) into OUT // (C, H/8, W/8). */
static bool
encode_latent (sd_lora_run *r, const float *pixels, int w, int h, float *out, le_error *err)
{
  graph *g = r->g;
  graph_reset (g);
  int64_t s[4] = { 1, 3, h, w };
  tensor *x = graph_from_host (g, LE_F32, 4, s, pixels, "image");
  tensor *mean = NULL, *logvar = NULL;
  bool ok = x != NULL && sd15_vae_encode (r->model, g, x, &mean, &logvar) && graph_ok (g);
  if (!ok)
    return graph_take_error (g, err) && le_fail (err, LE_ERR_INVALID, "VAE encode failed");
  ok = graph_to_host (g, mean, out, err);
  for (int64_t i = 0; ok && i < mean->numel; i++)
    out[i] *= r->model->cfg.vae_scale;
  return ok;
}

static bool
latent_for (sd_lora_run *r, const char *path, const sd_rgb_image *img, const sd_bucket *b,
            bool flip, float **out, le_error *err)
{
  int64_t n = r->model->cfg.latent_channels * (b->height / SD_VAE_FACTOR (&r->model->cfg)) * (b->width / SD_VAE_FACTOR (&r->model->cfg));
  *out = malloc ((size_t) n * sizeof **out);
  if (*out == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory for latents");
  bool disk = r->o.cache_latents && strcmp (r->o.cache_latents, "disk") == 0;
  char key[2100], file[1200];
  if (disk)
    {
      cache_key (r, path, b, flip, key, sizeof key, file, sizeof file);
      if (cache_read (file, key, *out, n))
        return true;
    }
  float *px = malloc ((size_t) 3 * b->width * b->height * sizeof *px);
  if (px == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory for image pixels");
  sd_image_to_tensor (img, b->width, b->height, flip, px);
  bool ok = encode_latent (r, px, b->width, b->height, *out, err);
  free (px);
  if (ok && disk)
    cache_write (file, key, *out, n);
  return ok;
}

static bool
prepare_images (sd_lora_run *r, le_error *err)
{
  const sd_lora_options *o = &r->o;
  int res = o->resolution > 0 ? o->resolution : 512;
  int64_t mult = SD_VAE_FACTOR (&r->model->cfg) << (r->model->cfg.n_levels - 1);
  if (res % mult != 0)
    return le_fail (err, LE_ERR_INVALID, "resolution %d must be a multiple of %lld for this "
                    "model", res, (long long) mult);
  if (o->enable_bucket)
    {
      sd_bucket all[SD_MAX_BUCKETS];
      int n = sd_buckets (res, all);
      r->n_buckets = 0;
      for (int i = 0; i < n; i++)
        if (all[i].width % mult == 0 && all[i].height % mult == 0)
          r->buckets[r->n_buckets++] = all[i];
    }
  else
    {
      r->buckets[0] = (sd_bucket) { res, res };
      r->n_buckets = 1;
    }
  r->images = calloc ((size_t) (o->n_items ? o->n_items : 1), sizeof *r->images);
  r->captions = calloc ((size_t) (o->n_items ? o->n_items : 1), sizeof *r->captions);
  if (r->images == NULL || r->captions == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory for the dataset");
  graph_set_grad_enabled (r->g, false);
  for (int64_t i = 0; i < o->n_items; i++)
    {
      sd_rgb_image img;
      char why[512] = "";
      if (!o->decode (o->decode_user, o->items[i].path, &img, why, sizeof why))
        {
          char msg[1800];
          snprintf (msg, sizeof msg, "%s: cannot read this image (%s); skipped",
                    o->items[i].path, why[0] ? why : "not an image");
          r->hooks->log (r->hooks->user, "warning", msg);
          continue;
        }
      sd_image_entry *e = &r->images[r->n_images];
      e->bucket = o->enable_bucket ? sd_bucket_nearest (r->buckets, r->n_buckets, img.width,
                                                        img.height) : 0;
      bool ok = latent_for (r, o->items[i].path, &img, &r->buckets[e->bucket], false,
                            &e->latent, err);
      if (ok && o->random_flip)
        ok = latent_for (r, o->items[i].path, &img, &r->buckets[e->bucket], true,
                         &e->latent_flip, err);
      if (o->free_image)
        o->free_image (o->decode_user, &img);
      if (!ok)
        {
          free (e->latent);
          free (e->latent_flip);
          return false;
        }
      e->caption = r->n_images;
      r->captions[r->n_images] = strdup (o->items[i].caption ? o->items[i].caption : "");
      r->n_images++;
    }
  if (r->n_images == 0)
    return le_fail (err, LE_ERR_INVALID,
                    o->n_items == 0 ? "the dataset has no images; add images to "
                                      "train_data_dir"
                                    : "none of the %lld images of the dataset could be "
                                      "read; check the warnings above",
                    (long long) o->n_items);
  return true;
}

/* CLIP tokens of every caption and of "" (caption dropout). */
static bool
prepare_tokens (sd_lora_run *r, le_error *err)
{
  int64_t rows = r->n_images + 1;
  r->ids = malloc ((size_t) (rows * LE_CLIP_CONTEXT) * sizeof *r->ids);
  if (r->ids == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory for caption tokens");
  int64_t cut = 0;
  for (int64_t i = 0; i < rows; i++)
    {
      size_t n_tok = 0;
      const char *text = i < r->n_images ? r->captions[i] : "";
      if (!le_clip_tokenizer_encode (r->tok, text, r->ids + i * LE_CLIP_CONTEXT, &n_tok, err))
        return false;
      cut += n_tok > LE_CLIP_CONTEXT - 2;
    }
  if (cut > 0)
    {
      char msg[200];
      snprintf (msg, sizeof msg, "%lld captions are longer than CLIP's 75 tokens and were "
                "cut", (long long) cut);
      r->hooks->log (r->hooks->user, "warning", msg);
    }
  return true;
}

/* CLIP embeddings of every row of r->ids, chunks of 8 (frozen text encoder only). */
static bool
prepare_embeddings (sd_lora_run *r, le_error *err)
{
  const sd15_config *c = &r->model->cfg;
  int64_t rows = r->n_images + 1, per = LE_CLIP_CONTEXT * c->cross_dim;
  r->embeds = malloc ((size_t) (rows * per) * sizeof *r->embeds);
  bool ok = r->embeds != NULL;
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory for text embeddings");
  for (int64_t s = 0; ok && s < rows; s += 8)
    {
      int64_t n = rows - s < 8 ? rows - s : 8;
      graph_reset (r->g);
      tensor *e = sd15_text_forward (r->model, r->g, r->ids + s * LE_CLIP_CONTEXT, n,
                                     LE_CLIP_CONTEXT, r->o.clip_skip > 0 ? r->o.clip_skip : 1);
      ok = e != NULL && graph_ok (r->g);
      if (!ok)
        graph_take_error (r->g, err);
      else
        ok = graph_to_host (r->g, e, r->embeds + s * per, err);
    }
  return ok;
}

/* Loss of samples IDX (image indices, FLIP and DROP per sample) with T and NOISE drawn
 * from RNG, averaged over N_TOTAL. Groups by bucket: one UNet call per bucket. */
static tensor *
batch_loss (sd_lora_run *r, graph *g, const int64_t *img_idx, const bool *flip,
            const bool *drop, int64_t n, sd_rng *rng)
{
  const sd15_config *c = &r->model->cfg;
  int64_t per = LE_CLIP_CONTEXT * c->cross_dim;
  tensor *total = NULL;
  /* timesteps and noise for each sample are drawn in sample order, before grouping */
  int *ts = malloc ((size_t) n * sizeof *ts);
  for (int64_t i = 0; i < n; i++)
    ts[i] = (int) (sd_rng_u64 (rng) % DDPM_STEPS);
  for (int bk = 0; bk < r->n_buckets; bk++)
    {
      int64_t m = 0;
      for (int64_t i = 0; i < n; i++)
        m += r->images[img_idx[i]].bucket == bk;
      if (m == 0)
        continue;
      const sd_bucket *b = &r->buckets[bk];
      int64_t h = b->height / SD_VAE_FACTOR (c), w = b->width / SD_VAE_FACTOR (c), ln = c->latent_channels * h * w;
      float *noisy = malloc ((size_t) (m * ln) * sizeof *noisy);
      float *noise = malloc ((size_t) (m * ln) * sizeof *noise);
      /* the context: cached embeddings, or token ids for the text encoder in this graph */
      float *ctx = r->embeds ? malloc ((size_t) (m * per) * sizeof *ctx) : NULL;
      int32_t *ids = r->embeds ? NULL : malloc ((size_t) (m * LE_CLIP_CONTEXT) * sizeof *ids);
      float *tf = malloc ((size_t) m * sizeof *tf);
      double *wt = malloc ((size_t) m * sizeof *wt);
      if (!noisy || !noise || (!ctx && !ids) || !tf || !wt)
        {
          free (noisy), free (noise), free (ctx), free (ids), free (tf), free (wt), free (ts);
          return graph_fail (g, LE_ERR_MEMORY, "out of memory for a batch");
        }
      int64_t k = 0;
      bool same_w = true;
      for (int64_t i = 0; i < n; i++)
        {
          const sd_image_entry *e = &r->images[img_idx[i]];
          if (e->bucket != bk)
            continue;
          sd_rng nr;
          sd_rng_init (&nr, rng->key, 1000 + (uint64_t) i);
          float *ns = noise + k * ln;
          sd_rng_normals (&nr, ns, ln);
          if (r->o.noise_offset > 0)
            for (int64_t ch = 0; ch < c->latent_channels; ch++)
              {
                float off = (float) r->o.noise_offset * sd_rng_normal (&nr);
                for (int64_t p = 0; p < h * w; p++)
                  ns[ch * h * w + p] += off;
              }
          const float *x0 = flip[i] && e->latent_flip ? e->latent_flip : e->latent;
          ddpm_add_noise (&r->sch, ts[i], x0, ns, noisy + k * ln, ln);
          int64_t row = drop[i] ? r->n_images : e->caption;
          if (ctx)
            memcpy (ctx + k * per, r->embeds + row * per, (size_t) per * sizeof *ctx);
          else
            memcpy (ids + k * LE_CLIP_CONTEXT, r->ids + row * LE_CLIP_CONTEXT,
                    LE_CLIP_CONTEXT * sizeof *ids);
          tf[k] = (float) ts[i];
          wt[k] = ddpm_min_snr_weight (&r->sch, ts[i], r->o.min_snr_gamma);
          same_w = same_w && wt[k] == wt[0];
          k++;
        }
      int64_t sx[4] = { m, c->latent_channels, h, w };
      int64_t sc[3] = { m, LE_CLIP_CONTEXT, c->cross_dim };
      tensor *xt = graph_from_host (g, LE_F32, 4, sx, noisy, "noisy_latents");
      tensor *target = graph_from_host (g, LE_F32, 4, sx, noise, "noise");
      tensor *ct = ctx ? graph_from_host (g, LE_F32, 3, sc, ctx, "text_embeddings")
                       : sd15_text_forward (r->model, g, ids, m, LE_CLIP_CONTEXT,
                                            r->o.clip_skip > 0 ? r->o.clip_skip : 1);
      tensor *eps = xt && target && ct ? sd15_unet_forward (r->model, g, xt, tf, ct) : NULL;
      tensor *part = NULL;
      if (eps != NULL && same_w)
        part = op_scale (g, op_mse (g, eps, target), (float) (wt[0] * m / n));
      else if (eps != NULL)
        for (int64_t j = 0; j < m; j++)
          {
            tensor *lj = op_mse (g, op_slice (g, eps, 0, j, 1), op_slice (g, target, 0, j, 1));
            lj = op_scale (g, lj, (float) (wt[j] / n));
            part = part ? op_add (g, part, lj) : lj;
          }
      total = total ? (part ? op_add (g, total, part) : NULL) : part;
      free (noisy), free (noise), free (ctx), free (ids), free (tf), free (wt);
      if (total == NULL)
        break;
    }
  free (ts);
  return total;
}

static tensor *
sd_forward_loss (void *self, graph *g, const int64_t *idx, int64_t n)
{
  sd_lora_run *r = self;
  sd_rng rng;
  sd_rng_init (&rng, g->rng_seed, g->rng_offset);
  int64_t *img = malloc ((size_t) n * sizeof *img);
  bool *flip = malloc ((size_t) n * sizeof *flip);
  bool *drop = malloc ((size_t) n * sizeof *drop);
  tensor *loss = NULL;
  if (img && flip && drop)
    {
      for (int64_t i = 0; i < n; i++)
        {
          img[i] = idx[i] % r->n_images;       /* repeats: the dataset n times over */
          flip[i] = r->o.random_flip && sd_rng_uniform (&rng) < 0.5;
          drop[i] = r->o.caption_dropout > 0 && sd_rng_uniform (&rng) < r->o.caption_dropout;
        }
      loss = batch_loss (r, g, img, flip, drop, n, &rng);
    }
  else
    graph_fail (g, LE_ERR_MEMORY, "out of memory for a batch");
  free (img);
  free (flip);
  free (drop);
  return loss;
}

double
sd_lora_fixed_loss (sd_lora_run *r, uint64_t seed, le_error *err)
{
  if (r->g == NULL && (r->g = graph_new (r->be, err)) == NULL)
    return NAN;
  graph *g = r->g;
  graph_set_grad_enabled (g, false);
  graph_set_training (g, false);
  double sum = 0;
  for (int64_t i = 0; i < r->n_images; i++)
    {
      graph_reset (g);
      sd_rng rng;
      sd_rng_init (&rng, seed, (uint64_t) i);
      bool no = false;
      tensor *l = batch_loss (r, g, &i, &no, &no, 1, &rng);
      float v = l ? graph_item (g, l) : NAN;
      if (!graph_ok (g) || !isfinite (v))
        {
          graph_take_error (g, err);
          return NAN;
        }
      sum += v;
    }
  return sum / (double) r->n_images;
}

/* text_encoder_lr, or learning_rate when it is negative (unset). */
static double
text_lr (const sd_lora_options *o)
{
  return o->text_encoder_lr >= 0 ? o->text_encoder_lr : o->train.learning_rate;
}

/* ---- output ---- */
static bool
sd_save_output (void *self, const char *dir, char paths[][1024], int *n_paths, le_error *err)
{
  sd_lora_run *r = self;
  const sd_lora_options *o = &r->o;
  char path[1100];
  snprintf (path, sizeof path, "%s/pytorch_lora_weights.safetensors", dir);
  char *tags = sd_tag_frequency_json ((const char *const *) r->captions, r->n_images,
                                      o->dataset_name ? o->dataset_name : "dataset");
  const char *out_name = o->output_name;
  char dir_name[256];
  if (out_name == NULL)
    {
      const char *s = strrchr (dir, '/');
      snprintf (dir_name, sizeof dir_name, "%s", s && s[1] ? s + 1 : dir);
      out_name = dir_name;
    }
  const char *model_name = strrchr (o->base_model, '/');
  model_name = model_name && model_name[1] ? model_name + 1 : o->base_model;
  int res = o->resolution > 0 ? o->resolution : 512;
  int64_t steps = le_trainer_total_steps (&o->train, r->n_images * (o->repeats > 0 ? o->repeats : 1));
  char dim[32], alpha[32], resol[64], n_img[32], st[32], ep[32], lr[32], te_lr[32],
       skip[16], seed[32], noff[32], snr[32], cdrop[32], bs[32], conv[96];
  snprintf (dim, sizeof dim, "%d", o->rank);
  snprintf (alpha, sizeof alpha, "%g", o->alpha > 0 ? o->alpha : (double) o->rank);
  snprintf (resol, sizeof resol, "(%d, %d)", res, res);
  snprintf (n_img, sizeof n_img, "%lld", (long long) (r->n_images * (o->repeats > 0 ? o->repeats : 1)));
  snprintf (st, sizeof st, "%lld", (long long) steps);
  snprintf (ep, sizeof ep, "%lld", (long long) o->train.epochs);
  snprintf (lr, sizeof lr, "%g", o->train.learning_rate);
  snprintf (te_lr, sizeof te_lr, "%g", o->train_text_encoder ? text_lr (o) : 0.0);
  snprintf (skip, sizeof skip, "%d", o->clip_skip > 0 ? o->clip_skip : 1);
  snprintf (seed, sizeof seed, "%llu", (unsigned long long) o->train.seed);
  snprintf (noff, sizeof noff, "%g", o->noise_offset);
  snprintf (snr, sizeof snr, "%g", o->min_snr_gamma);
  snprintf (cdrop, sizeof cdrop, "%g", o->caption_dropout);
  snprintf (bs, sizeof bs, "%lld", (long long) o->train.batch_size);
  snprintf (conv, sizeof conv, "{\"conv_dim\": \"%d\", \"conv_alpha\": \"%g\"}", o->conv_rank,
            o->conv_alpha > 0 ? o->conv_alpha : (double) o->conv_rank);
  bool diffusers = o->save_format && strcmp (o->save_format, "diffusers") == 0;
  st_write_meta meta[] = {
    { "ss_network_module", "networks.lora" },
    { "ss_network_dim", dim },
    { "ss_network_alpha", alpha },
    { "ss_output_name", out_name },
    { "ss_base_model_version", "sd_v1" },
    { "ss_v2", "False" },
    { "ss_resolution", resol },
    { "ss_tag_frequency", tags ? tags : "{}" },
    { "ss_num_train_images", n_img },
    { "ss_steps", st },
    { "ss_max_train_steps", st },
    { "ss_epoch", ep },
    { "ss_num_epochs", ep },
    { "ss_learning_rate", lr },
    { "ss_unet_lr", lr },
    { "ss_text_encoder_lr", te_lr },
    { "ss_training_started_at", r->started_at },
    { "ss_sd_model_name", model_name },
    { "ss_clip_skip", skip },
    { "ss_seed", seed },
    { "ss_mixed_precision", o->mixed_precision ? o->mixed_precision : "no" },
    { "ss_noise_offset", noff },
    { "ss_min_snr_gamma", snr },
    { "ss_caption_dropout_rate", cdrop },
    { "ss_enable_bucket", o->enable_bucket ? "True" : "False" },
    { "ss_batch_size_per_device", bs },
    { "ss_lr_scheduler", o->train.scheduler ? o->train.scheduler : "cosine" },
    { "ss_optimizer", "AdamW" },
    { "ss_network_args", conv },
    { "format", "pt" },
    { "ss_lora_format", diffusers ? "diffusers" : "kohya" },
  };
  size_t n_meta = sizeof meta / sizeof meta[0] - (o->conv_rank > 0 ? 0 : 0);
  bool ok = kohya_save (r->model, path, diffusers, meta, n_meta, err);
  free (tags);
  if (ok)
    {
      snprintf (paths[0], 1024, "%.1000s", path);
      *n_paths = 1;
    }
  return ok;
}

/* samples/step-000100-p0.png for each sample prompt. */
static bool
sd_write_samples (void *self, graph *g, int64_t step, const char *samples_dir,
                  void (*on_file) (void *, int64_t, const char *, const char *), void *user,
                  le_error *err)
{
  sd_lora_run *r = self;
  const sd_lora_options *o = &r->o;
  int res = o->resolution > 0 ? o->resolution : 512;
  for (int i = 0; i < o->n_sample_prompts; i++)
    {
      const sd_sample_prompt *p = &o->sample_prompts[i];
      sd_sample_request q = {
        .prompt = p->prompt,
        .negative = p->negative,
        .seed = p->seed >= 0 ? (uint64_t) p->seed : o->train.seed + (uint64_t) i,
        .steps = p->steps > 0 ? p->steps : (o->sample_steps > 0 ? o->sample_steps : 20),
        .cfg = p->cfg > 0 ? p->cfg : (o->sample_cfg > 0 ? o->sample_cfg : 7.5),
        .width = p->width > 0 ? p->width : res,
        .height = p->height > 0 ? p->height : res,
        .sampler = p->sampler ? p->sampler : (o->sample_sampler ? o->sample_sampler : "euler_a"),
        .clip_skip = o->clip_skip,
        .model_name = o->base_model,
      };
      char path[1200];
      snprintf (path, sizeof path, "%s/step-%06lld-p%d.png", samples_dir, (long long) step, i);
      if (!sd_sample_to_png (r->model, r->tok, g, &q, path, err))
        return false;
      on_file (user, step, path, p->prompt);
    }
  return true;
}

void
sd_lora_free (sd_lora_run *r)
{
  if (r == NULL)
    return;
  for (int64_t i = 0; i < r->n_images; i++)
    {
      free (r->images[i].latent);
      free (r->images[i].latent_flip);
      free (r->captions[i]);
    }
  free (r->images);
  free (r->captions);
  free (r->embeds);
  free (r->ids);
  graph_free (r->g);
  le_clip_tokenizer_free (r->tok);
  sd15_model_free (r->model);
  free (r);
}

sd_lora_run *
sd_lora_prepare (const sd_lora_options *o, const le_run_hooks *hooks, le_error *err)
{
  le_error e = { 0 };
  sd_lora_run *r = calloc (1, sizeof *r);
  if (r == NULL)
    {
      le_fail (&e, LE_ERR_MEMORY, "out of memory");
      run_fail (hooks, "out-of-memory", &e, err);
      return NULL;
    }
  r->o = *o;
  r->hooks = hooks;
  ddpm_schedule_sd15 (&r->sch);
  time_t now = time (NULL);
  snprintf (r->started_at, sizeof r->started_at, "%lld", (long long) now);
  const char *code = "device";
  r->be = o->backend != NULL ? o->backend : run_pick_backend (o->device, hooks, &e);
  if (r->be == NULL)
    goto bad;
  code = "model";
  int dtype = SD15_DTYPE_KEEP;
  if (strcmp (r->be->name, "cuda") == 0 && o->mixed_precision)
    dtype = strcmp (o->mixed_precision, "bf16") == 0 ? LE_BF16
            : strcmp (o->mixed_precision, "fp16") == 0 ? LE_F16 : SD15_DTYPE_KEEP;
  r->model = sd15_model_load (o->base_model, SD15_LOAD_ALL, dtype, r->be, &e);
  if (r->model == NULL)
    goto bad;
  code = "tokenizer";
  r->tok = le_clip_tokenizer_find (o->tokenizer_path, o->base_model, &e);
  if (r->tok == NULL)
    goto bad;
  code = "out-of-memory";
  r->g = graph_new (r->be, &e);
  if (r->g == NULL)
    goto bad;
  code = "dataset";
  if (!prepare_images (r, &e))
    goto bad;
  if (!prepare_tokens (r, &e))
    goto bad;
  code = "model";
  if (!o->train_text_encoder && !prepare_embeddings (r, &e))
    goto bad;
  /* the VAE's activations at full resolution are the biggest of the run: give them back
   * before training allocates its own graph */
  graph_free (r->g);
  r->g = NULL;
  code = "config";
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  if (o->target_modules && o->target_modules[0])
    lo.unet_targets = o->target_modules;
  lo.rank = o->rank > 0 ? o->rank : 4;
  lo.alpha = o->alpha > 0 ? (float) o->alpha : (float) lo.rank;
  lo.dropout = (float) o->dropout;
  lo.seed = o->train.seed;
  lo.conv_rank = o->conv_rank;
  lo.conv_alpha = (float) o->conv_alpha;
  lo.text_encoder = o->train_text_encoder;
  if (!sd15_lora_attach (r->model, &lo, &e))
    goto bad;
  r->model->checkpointing = o->gradient_checkpointing;
  int used = 0;
  for (int b = 0; b < r->n_buckets; b++)
    for (int64_t i = 0; i < r->n_images; i++)
      if (r->images[i].bucket == b)
        {
          used++;
          break;
        }
  char msg[600];
  snprintf (msg, sizeof msg, "%lld images in %d of %d size bucket%s, %lld frozen and %lld "
            "LoRA parameters in %d adapters on %s", (long long) r->n_images, used,
            r->n_buckets, r->n_buckets == 1 ? "" : "s", (long long) sd15_n_base_params (r->model),
            (long long) sd15_n_lora_params (r->model), sd15_lora_count (r->model), r->be->name);
  hooks->log (hooks->user, "info", msg);
  return r;
bad:
  run_fail (hooks, code, &e, err);
  sd_lora_free (r);
  return NULL;
}

/* The text encoder's slice of the shared LoRA store (its adapters are declared last). */
static bool
text_group (const sd15_model *m, const param_store *ps, double lr, le_param_group *gr,
            le_error *err)
{
  const lora_set *t = m->lora_text;
  int64_t first = ps->n_train, end = 0, count = 0;
  for (int i = 0; i < t->n; i++)
    {
      const tensor *pair[2] = { t->items[i]->a, t->items[i]->b };
      for (int j = 0; j < 2; j++)
        {
          int64_t off = (const float *) pair[j]->data - ps->train_data;
          first = off < first ? off : first;
          end = off + pair[j]->numel > end ? off + pair[j]->numel : end;
          count += pair[j]->numel;
        }
    }
  if (t->ps != ps || count != end - first)
    return le_fail (err, LE_ERR_INVALID, "the text encoder LoRA is not one slice of the "
                    "trainable weights");
  *gr = (le_param_group) { .offset = first, .count = count, .learning_rate = lr };
  return true;
}

le_run_status
sd_lora_train (sd_lora_run *r, const le_run_hooks *hooks, le_trainer_result *result,
               le_error *err)
{
  sd15_model *m = r->model;
  le_train_model tm = {
    .self = r,
    .params = m->lora_unet ? m->lora_unet->ps : m->lora_text->ps,
    .n_samples = r->n_images * (r->o.repeats > 0 ? r->o.repeats : 1),
    .forward_loss = sd_forward_loss,
    .save_output = sd_save_output,
    .sample = r->o.n_sample_prompts > 0 ? sd_write_samples : NULL,
  };
  le_param_group text;
  if (m->lora_text != NULL)
    {
      le_error e = { 0 };
      if (!text_group (m, tm.params, text_lr (&r->o), &text, &e))
        return run_fail (hooks, "config", &e, err);
      tm.groups = &text;
      tm.n_groups = 1;
    }
  le_trainer_options to = r->o.train;
  if (to.device_name == NULL)
    to.device_name = r->be->name;
  return le_trainer_run (&tm, r->be, &to, hooks, result, err);
}

le_run_status
sd_lora_run_all (const sd_lora_options *o, const le_run_hooks *hooks,
                 le_trainer_result *result, le_error *err)
{
  sd_lora_run *r = sd_lora_prepare (o, hooks, err);
  if (r == NULL)
    return LE_RUN_FAILED;
  le_run_status st = sd_lora_train (r, hooks, result, err);
  sd_lora_free (r);
  return st;
}

sd15_model *
sd_lora_model (sd_lora_run *r)
{
  return r->model;
}

int64_t
sd_lora_n_images (const sd_lora_run *r)
{
  return r->n_images;
}
