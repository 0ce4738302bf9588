/* sd-lora-run.h: the image-lora pipeline (task_type image-lora): an SD 1.5 model, a list
 * of (image, caption) pairs decoded by the caller, latents and text embeddings cached,
 * LoRA attached to the UNet, trained by the generic trainer (trainer.h) on the DDPM
 * objective, previews drawn from sample prompts, and the LoRA written in kohya (or
 * diffusers) format with kohya's ss_* metadata.
 *
 * Plain C: image decoding is a callback the CLI fills with gdk-pixbuf, so the engine
 * library stays free of GLib.
 *
 * Objective per sample: latent x0 = VAE mean * 0.18215 (of the image or its mirror when
 * random_flip), t uniform in [0, 1000), noise eps ~ N(0, 1) + noise_offset * N(0, 1) per
 * (sample, channel), x_t = sqrt(acp_t) x0 + sqrt(1 - acp_t) eps, loss = MSE(unet(x_t, t,
 * text), eps) weighted by min(SNR_t, gamma) / SNR_t when min_snr_gamma > 0. All draws are
 * keyed by the trainer's per-micro-batch RNG position, so a resumed run draws the same. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sd-data.h"
#include "sd15.h"
#include "trainer.h"

typedef struct {
  const char *path;
  const char *caption;           /* NULL: "" */
} sd_train_item;

typedef struct {
  const char *prompt, *negative;
  int64_t seed;                  /* < 0: the run seed + prompt index */
  int steps;                     /* 0: sample_steps */
  double cfg;                    /* 0: sample_cfg_scale */
  int width, height;             /* 0: resolution */
  const char *sampler;           /* NULL: sample_sampler */
} sd_sample_prompt;

/* Decodes PATH into *IMG (pixels owned by the callee until FREE_IMAGE); false with a
 * reason in WHY when the file is not a readable image. */
typedef bool (*sd_decode_fn) (void *user, const char *path, sd_rgb_image *img, char *why,
                              size_t why_len);

typedef struct {
  const char *base_model;
  const char *tokenizer_path;    /* NULL: next to the model, then the HF cache */
  const sd_train_item *items;
  int64_t n_items;
  sd_decode_fn decode;
  void (*free_image) (void *user, sd_rgb_image *img);
  void *decode_user;
  const char *dataset_name;      /* for ss_tag_frequency: the data folder's name */

  int resolution;                /* 512 */
  bool enable_bucket;
  int repeats;                   /* 1 */
  bool random_flip;
  double caption_dropout;
  double noise_offset, min_snr_gamma;
  int clip_skip;                 /* 1 */
  const char *cache_latents;     /* "memory" (NULL), "disk" (output_dir/cache) or "no"
                                  * (treated as memory: latents are always cached) */
  const char *const *target_modules;
  int rank;
  double alpha, dropout;
  int conv_rank;                 /* > 0: LoCon on the 3x3 convolutions too */
  double conv_alpha;             /* 0: conv_rank */
  bool train_text_encoder;       /* LoRA on the text encoder's q/k/v/out_proj, fc1, fc2;
                                  * its embeddings are then computed in every step */
  double text_encoder_lr;        /* its learning rate (scheduled like learning_rate);
                                  * negative: train.learning_rate */
  bool gradient_checkpointing;
  const char *device;            /* "auto", "cpu", "cuda"; NULL = auto */
  /* Tests: run on this backend (initialised) instead of the one DEVICE picks, e.g. the
   * CUDA kernels under the CPU emulator. NULL in the program. */
  const backend *backend;
  const char *mixed_precision;   /* "no", "fp16", "bf16" (GPU only; the CPU runs F32) */

  const sd_sample_prompt *sample_prompts;
  int n_sample_prompts;
  int sample_steps;              /* 20 */
  double sample_cfg;             /* 7.5 */
  const char *sample_sampler;    /* "euler_a" */

  const char *save_format;       /* "kohya" (NULL) or "diffusers" */
  const char *output_name;       /* ss_output_name; NULL: the output folder's name */
  le_trainer_options train;
} sd_lora_options;

typedef struct sd_lora_run sd_lora_run;

/* Loads the model, tokenizer and images, caches latents and (with a frozen text encoder)
 * text embeddings, attaches the LoRA. Unreadable images are skipped with a warning
 * through HOOKS->log naming the file; problems go to HOOKS->error and give NULL (ERR
 * gets the message too). */
sd_lora_run *sd_lora_prepare (const sd_lora_options *o, const le_run_hooks *hooks,
                              le_error *err);
void sd_lora_free (sd_lora_run *r);

/* Trains the prepared run and writes the output. */
le_run_status sd_lora_train (sd_lora_run *r, const le_run_hooks *hooks,
                             le_trainer_result *result, le_error *err);
/* prepare + train + free. */
le_run_status sd_lora_run_all (const sd_lora_options *o, const le_run_hooks *hooks,
                               le_trainer_result *result, le_error *err);

/* The mean loss over every image with draws fixed by SEED (timesteps, noise, no flip, no
 * caption dropout, no LoRA dropout): the same number before and after training unless
 * the weights changed. NAN with ERR on failure. */
double sd_lora_fixed_loss (sd_lora_run *r, uint64_t seed, le_error *err);

/* For tests and the CLI. */
sd15_model *sd_lora_model (sd_lora_run *r);
int64_t sd_lora_n_images (const sd_lora_run *r);
