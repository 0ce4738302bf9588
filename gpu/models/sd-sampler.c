/* sd-sampler.c: text-to-image sampling with classifier-free guidance (see sd-sampler.h). */
#include "sd-sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm.h"
#include "png-write.h"

/* (2, 77, C) host embeddings: row 0 the negative prompt, row 1 the prompt. */
static float *
embed_pair (sd15_model *m, const le_clip_tokenizer *tok, graph *g, const char *prompt,
            const char *negative, int clip_skip, le_error *err)
{
  int32_t ids[2 * LE_CLIP_CONTEXT];
  if (!le_clip_tokenizer_encode (tok, negative ? negative : "", ids, NULL, err)
      || !le_clip_tokenizer_encode (tok, prompt, ids + LE_CLIP_CONTEXT, NULL, err))
    return NULL;
  graph_reset (g);
  tensor *ctx = sd15_text_forward (m, g, ids, 2, LE_CLIP_CONTEXT, clip_skip);
  if (ctx == NULL || !graph_ok (g))
    {
      graph_take_error (g, err);
      return NULL;
    }
  float *host = malloc ((size_t) ctx->numel * sizeof *host);
  if (host == NULL || !graph_to_host (g, ctx, host, err))
    {
      free (host);
      if (host == NULL)
        le_fail (err, LE_ERR_MEMORY, "out of memory for text embeddings");
      return NULL;
    }
  return host;
}

/* eps = uncond + cfg * (cond - uncond) for latent X (N values) at timestep T. */
static bool
guided_eps (sd15_model *m, graph *g, const float *ctx, const float *x, int64_t h,
            int64_t w, float t, double cfg, float *eps, le_error *err)
{
  const sd15_config *c = &m->cfg;
  int64_t n = c->unet_in * h * w;
  graph_reset (g);
  float *x2 = malloc ((size_t) (2 * n) * sizeof *x2);
  float *out = malloc ((size_t) (2 * n) * sizeof *out);
  if (x2 == NULL || out == NULL)
    {
      free (x2);
      free (out);
      return le_fail (err, LE_ERR_MEMORY, "out of memory sampling");
    }
  memcpy (x2, x, (size_t) n * sizeof *x2);
  memcpy (x2 + n, x, (size_t) n * sizeof *x2);
  int64_t sx[4] = { 2, c->unet_in, h, w };
  int64_t sc[3] = { 2, LE_CLIP_CONTEXT, c->cross_dim };
  float ts[2] = { t, t };
  tensor *xt = graph_from_host (g, LE_F32, 4, sx, x2, "sample_x");
  tensor *ct = graph_from_host (g, LE_F32, 3, sc, ctx, "sample_ctx");
  tensor *e = xt && ct ? sd15_unet_forward (m, g, xt, ts, ct) : NULL;
  bool ok = e != NULL && graph_ok (g);
  if (ok && e->dtype != LE_F32)
    ok = le_fail (err, LE_ERR_UNSUPPORTED, "the UNet gave non-F32 output while sampling");
  else if (!ok)
    graph_take_error (g, err);
  if (ok)
    ok = graph_to_host (g, e, out, err);
  if (ok)
    for (int64_t i = 0; i < n; i++)
      eps[i] = (float) (out[i] + cfg * (out[n + i] - out[i]));
  free (x2);
  free (out);
  return ok;
}

uint8_t *
sd_sample_image (sd15_model *m, const le_clip_tokenizer *tok, graph *g,
                 const sd_sample_request *r, le_error *err)
{
  const sd15_config *c = &m->cfg;
  int64_t mult = SD_VAE_FACTOR (c) << (c->n_levels - 1);
  if (r->width <= 0 || r->height <= 0 || r->width % mult || r->height % mult)
    {
      le_fail (err, LE_ERR_INVALID, "sample size %dx%d must be a positive multiple of %lld",
               r->width, r->height, (long long) mult);
      return NULL;
    }
  bool ddim = r->sampler != NULL && strcmp (r->sampler, "ddim") == 0;
  if (r->sampler != NULL && !ddim && strcmp (r->sampler, "euler_a") != 0)
    {
      le_fail (err, LE_ERR_INVALID, "unknown sampler \"%s\"; use ddim or euler_a", r->sampler);
      return NULL;
    }
  int steps = r->steps > 0 ? r->steps : 20;
  if (steps > DDPM_STEPS)
    {
      le_fail (err, LE_ERR_INVALID, "sample steps must be 1 to %d, not %d", DDPM_STEPS, steps);
      return NULL;
    }
  bool was_grad = g->grad_enabled, was_training = g->training;
  graph_set_grad_enabled (g, false);
  graph_set_training (g, false);

  int64_t h = r->height / SD_VAE_FACTOR (c), w = r->width / SD_VAE_FACTOR (c), n = c->unet_in * h * w;
  ddpm_schedule sch;
  ddpm_schedule_sd15 (&sch);
  float *x = malloc ((size_t) n * sizeof *x);
  float *eps = malloc ((size_t) n * sizeof *eps);
  float *noise = malloc ((size_t) n * sizeof *noise);
  double *ts = malloc ((size_t) (steps + 1) * sizeof *ts);
  double *sig = malloc ((size_t) (steps + 1) * sizeof *sig);
  int *its = malloc ((size_t) steps * sizeof *its);
  uint8_t *rgb = NULL;
  float *ctx = NULL, *img = NULL;
  bool ok = x && eps && noise && ts && sig && its;
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory sampling");
  if (ok)
    ok = (ctx = embed_pair (m, tok, g, r->prompt, r->negative, r->clip_skip > 0 ? r->clip_skip : 1,
                            err)) != NULL;
  sd_rng rng;
  sd_rng_init (&rng, r->seed, 0x5a3d1e);
  if (ok)
    sd_rng_normals (&rng, x, n);
  if (ok && ddim)
    {
      ddim_timesteps (steps, its);
      for (int i = 0; ok && i < steps; i++)
        {
          ok = guided_eps (m, g, ctx, x, h, w, (float) its[i], r->cfg, eps, err);
          if (ok)
            ddim_step (&sch, its[i], i + 1 < steps ? its[i + 1] : its[i] - DDPM_STEPS / steps,
                       eps, x, n);
        }
    }
  else if (ok)
    {
      euler_schedule (&sch, steps, ts, sig);
      double init = euler_init_sigma (sig, steps);
      for (int64_t i = 0; i < n; i++)
        x[i] = (float) (x[i] * init);
      float *xin = malloc ((size_t) n * sizeof *xin);
      ok = xin != NULL || le_fail (err, LE_ERR_MEMORY, "out of memory sampling");
      for (int i = 0; ok && i < steps; i++)
        {
          double s = euler_input_scale (sig[i]);
          for (int64_t k = 0; k < n; k++)
            xin[k] = (float) (x[k] * s);
          ok = guided_eps (m, g, ctx, xin, h, w, (float) ts[i], r->cfg, eps, err);
          sd_rng_normals (&rng, noise, n);
          if (ok)
            euler_a_step (sig[i], sig[i + 1], eps, noise, x, n);
        }
      free (xin);
    }
  /* decode z / scaling_factor with the VAE */
  if (ok)
    {
      graph_reset (g);
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] / c->vae_scale;
      int64_t sz[4] = { 1, c->latent_channels, h, w };
      tensor *z = graph_from_host (g, LE_F32, 4, sz, x, "latent");
      tensor *im = z ? sd15_vae_decode (m, g, z) : NULL;
      ok = im != NULL && graph_ok (g);
      if (!ok)
        graph_take_error (g, err);
      img = ok ? malloc ((size_t) im->numel * sizeof *img) : NULL;
      if (ok)
        ok = img != NULL && graph_to_host (g, im, img, err);
    }
  if (ok)
    {
      int64_t hw = (int64_t) r->width * r->height;
      rgb = malloc ((size_t) hw * 3);
      for (int64_t p = 0; rgb && p < hw; p++)
        for (int ch = 0; ch < 3; ch++)
          {
            double v = (img[ch * hw + p] + 1.0) * 127.5;
            rgb[p * 3 + ch] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : lround (v));
          }
      if (rgb == NULL)
        le_fail (err, LE_ERR_MEMORY, "out of memory for the image");
    }
  graph_reset (g);
  graph_set_grad_enabled (g, was_grad);
  graph_set_training (g, was_training);
  free (x);
  free (eps);
  free (noise);
  free (ts);
  free (sig);
  free (its);
  free (ctx);
  free (img);
  return rgb;
}

char *
sd_sample_parameters (const sd_sample_request *r)
{
  const char *neg = r->negative ? r->negative : "";
  size_t len = strlen (r->prompt) + strlen (neg) + 512
               + (r->model_name ? strlen (r->model_name) : 0)
               + (r->lora_name ? strlen (r->lora_name) : 0);
  char *s = malloc (len);
  if (s == NULL)
    return NULL;
  char lora[300] = "";
  if (r->lora_name)
    snprintf (lora, sizeof lora, " <lora:%.200s:%g>", r->lora_name, r->lora_weight);
  int k = snprintf (s, len, "%s%s\n", r->prompt, lora);
  if (neg[0])
    k += snprintf (s + k, len - k, "Negative prompt: %s\n", neg);
  snprintf (s + k, len - k,
            "Steps: %d, Sampler: %s, CFG scale: %g, Seed: %llu, Size: %dx%d%s%s, Clip skip: %d",
            r->steps > 0 ? r->steps : 20,
            r->sampler && strcmp (r->sampler, "ddim") == 0 ? "DDIM" : "Euler a", r->cfg,
            (unsigned long long) r->seed, r->width, r->height,
            r->model_name ? ", Model: " : "", r->model_name ? r->model_name : "",
            r->clip_skip > 0 ? r->clip_skip : 1);
  return s;
}

bool
sd_sample_to_png (sd15_model *m, const le_clip_tokenizer *tok, graph *g,
                  const sd_sample_request *r, const char *path, le_error *err)
{
  uint8_t *rgb = sd_sample_image (m, tok, g, r, err);
  if (rgb == NULL)
    return false;
  char *params = sd_sample_parameters (r);
  const char *keys[1] = { "parameters" };
  const char *values[1] = { params ? params : "" };
  bool ok = png_write_rgb (path, rgb, r->width, r->height, keys, values, 1, err);
  free (params);
  free (rgb);
  return ok;
}
