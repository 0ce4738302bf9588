/* clip-model.h: a Hugging Face CLIPModel folder (config.json with text_config and
 * vision_config, model.safetensors, the tokenizer) loaded for zero-shot image tagging:
 * image and text embeddings in the shared projection space, as transformers'
 * get_image_features and get_text_features compute them.
 *
 * The text tower is SD 1.5's CLIP text encoder (clip-text.c) run on a shell sd15_model
 * that holds only the text part; the vision tower (clip-vision.c) is a ViT: a patch
 * convolution, a class token, learned positions, pre-LN layers with bidirectional
 * attention, and the post layer norm of the class token. Matrices stay in their file dtype
 * (F32, F16, BF16); vectors are F32.
 *
 * Typical use:
 *   clip_model *m = clip_model_load (dir, CLIP_DTYPE_KEEP, be, &err);
 *   float px[3 * S * S]; clip_preprocess (&m->pre, &img, px, &err);
 *   clip_image_features (m, g, px, 1, feat, &err);         // feat // (1, proj)
 *   clip_text_features (m, g, phrases, n, feats, &err);    // feats // (n, proj) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "clip-tokenizer.h"
#include "graph.h"
#include "param-store.h"
#include "sd-data.h"
#include "sd15.h"

#define CLIP_DTYPE_KEEP (-1)

typedef struct {
  int64_t hidden, layers, heads, intermediate;
  float eps;
  bool quick_gelu;              /* hidden_act "quick_gelu" (OpenAI), else "gelu" (erf) */
} clip_tower_config;

typedef struct {
  clip_tower_config text, vision;
  int64_t vocab, positions;     /* text_config vocab_size, max_position_embeddings */
  int32_t eos_token_id;         /* text_config's; 2 means "argmax of the ids" (HF legacy) */
  int64_t image_size, patch_size, channels;
  int64_t projection_dim;
} clip_config;

/* CLIPImageProcessor's settings (preprocessor_config.json, else OpenAI's). */
typedef struct {
  int shortest_edge;            /* resize the short side to this (bicubic) */
  int crop;                     /* then centre-crop crop x crop */
  float mean[3], std[3];
} clip_preprocessor;

/* the vision tower's layers are laid out as the text tower's (clip_encoder_layer runs both) */
typedef clip_layer clip_vision_layer;

typedef struct {
  clip_config cfg;
  clip_preprocessor pre;
  const backend *be;
  param_store *base;
  sd15_model text;              /* shell: cfg.clip_*, text (tokens, positions, layers, final
                                 * norm), parts = SD15_LOAD_TEXT; nothing else */
  tensor *text_projection;      /* (proj, text hidden) */
  tensor *patch_embedding;      /* (C, channels, P, P) */
  tensor *class_embedding;      /* (C) F32 */
  tensor *position_embedding;   /* (patches + 1, C) */
  sd_module pre_ln, post_ln;
  clip_vision_layer *vlayers;   /* (vision layers) */
  tensor *visual_projection;    /* (proj, vision hidden) */
  le_clip_tokenizer *tokenizer;
  char folder[1024];
  char weights_path[1100];      /* the safetensors file (or index) loaded */
} clip_model;

/* Reads FOLDER/config.json only: refuses other architectures by name (a LLaMA folder,
 * an SD checkpoint or diffusers folder, a CLIPVisionModel alone, ...). */
bool clip_config_load (const char *folder, clip_config *cfg, le_error *err);
/* FOLDER/preprocessor_config.json when present, else OpenAI's settings at IMAGE_SIZE. */
bool clip_preprocessor_load (const char *folder, int64_t image_size, clip_preprocessor *p,
                             le_error *err);
/* Loads the folder: config, preprocessor settings, weights, tokenizer (vocab.json and
 * merges.txt in the folder or its tokenizer/, or tokenizer.json). DTYPE: CLIP_DTYPE_KEEP or an le_dtype for
 * the matrices. */
clip_model *clip_model_load (const char *folder, int dtype, const backend *be, le_error *err);
void clip_model_free (clip_model *m);
/* FOLDER's tokenizer: vocab.json and merges.txt (there or in tokenizer/), else the BPE
 * model of tokenizer.json (clip-model-tokenizer.c). */
le_clip_tokenizer *clip_model_tokenizer_load (const char *folder, le_error *err);

/* IMG -> OUT // (3, crop, crop): short side resized to shortest_edge with PIL's
 * antialiased bicubic (rounded to 8 bits after each pass, as PIL does), centre crop as
 * transformers does, then (x / 255 - mean) / std. */
bool clip_preprocess (const clip_preprocessor *p, const sd_rgb_image *img, float *out,
                      le_error *err);

/* Image embeddings: PIXELS host // (B, 3, S, S) preprocessed -> OUT host // (B, proj),
 * not normalised (get_image_features). Runs on G (reset before and after). */
bool clip_image_features (clip_model *m, graph *g, const float *pixels, int64_t batch,
                          float *out, le_error *err);
/* The vision tower on the graph: (B, 3, S, S) -> (B, proj). */
tensor *clip_vision_forward (clip_model *m, graph *g, tensor *pixels);

/* Text embeddings of N phrases -> OUT host // (N, proj) (get_text_features): each is
 * tokenized as start, tokens (cut to positions - 2), end. */
bool clip_text_features (clip_model *m, graph *g, const char *const *texts, int64_t n,
                         float *out, le_error *err);
