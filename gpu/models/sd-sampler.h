/* sd-sampler.h: drawing images with an SD 1.5 model (and whatever LoRA is attached):
 * CLIP text embeddings of the prompt and the negative prompt, DDIM or Euler ancestral
 * steps with classifier-free guidance (ddpm.h), the VAE decoder, and a PNG whose
 * "parameters" text chunk holds the prompt and settings as AUTOMATIC1111 writes them. */
#pragma once

#include <stdint.h>

#include "clip-tokenizer.h"
#include "sd-data.h"
#include "sd15.h"

typedef struct {
  const char *prompt;
  const char *negative;         /* NULL: "" */
  uint64_t seed;
  int steps;                    /* 20 */
  double cfg;                   /* 7.5 */
  int width, height;            /* multiples of 8 * 2^(levels - 1) */
  const char *sampler;          /* "ddim" or "euler_a" */
  int clip_skip;                /* 1 */
  const char *model_name;       /* for the parameters text; may be NULL */
  const char *lora_name;        /* "<lora:NAME:W>" in the parameters; may be NULL */
  double lora_weight;
} sd_sample_request;

/* The image as RGB // (height, width, 3) bytes (malloc'd), or NULL with ERR. Runs with
 * gradients off and restores G's modes. */
uint8_t *sd_sample_image (sd15_model *m, const le_clip_tokenizer *tok, graph *g,
                          const sd_sample_request *r, le_error *err);

/* A1111's parameters text: "PROMPT\nNegative prompt: N\nSteps: 20, Sampler: Euler a,
 * CFG scale: 7.5, Seed: 1, Size: 512x512, Model: NAME, Clip skip: 1" (malloc'd). */
char *sd_sample_parameters (const sd_sample_request *r);

/* sd_sample_image + PNG at PATH with the parameters chunk. */
bool sd_sample_to_png (sd15_model *m, const le_clip_tokenizer *tok, graph *g,
                       const sd_sample_request *r, const char *path, le_error *err);
