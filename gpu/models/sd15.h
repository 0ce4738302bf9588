/* sd15.h: Stable Diffusion 1.5 (UNet, VAE, CLIP ViT-L/14 text encoder) loaded from a
 * single-file LDM .safetensors or a diffusers folder, with forward code written once on
 * the core ops (autograd gives the backward) and LoRA / LoCon on chosen modules.
 *
 * Naming. Inside the engine every tensor has its diffusers name with the component in
 * front: "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
 * "vae.encoder.mid_block.attentions.0.to_q.weight",
 * "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.weight". The LDM name of
 * each ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
 * "first_stage_model.encoder.mid.attn_1.q.weight", "cond_stage_model.transformer.
 * text_model.encoder.layers.0.self_attn.q_proj.weight") comes from the same walk over the
 * architecture (sd-names.c), so the mapping covers exactly the tensors the model has.
 * kohya LoRA names derive from the diffusers module path: lora_unet_<path, dots as
 * underscores>, lora_te_<path>.
 *
 * The architecture is parameterised by sd15_config so the tiny fixture and the full model
 * run the same code. Big weights (linear, conv, embeddings) stay in their file dtype
 * (F32/F16/BF16) or are converted to a chosen one; 1-D tensors (norms, biases) are F32.
 *
 * Typical use (trainer):
 *   sd15_model *m = sd15_model_load (path, SD15_LOAD_ALL, SD15_DTYPE_KEEP, be, &err);
 *   sd15_lora_options lo; sd15_lora_defaults (&lo); lo.rank = 8;
 *   sd15_lora_attach (m, &lo, &err);
 *   m->checkpointing = true;
 *   tensor *ctx = sd15_text_forward (m, g, ids, B, clip_skip);    // (B, 77, 768)
 *   tensor *eps = sd15_unet_forward (m, g, noisy, timesteps, ctx);  // (B, 4, h, w)
 *   loss = op_mse (g, eps, noise); graph_backward (g, loss, &err);
 *   for each i < sd15_lora_count (m): sd15_lora_at (m, i)->kohya ... (saving)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "lora.h"
#include "param-store.h"

#define SD_MAX_LEVELS 4
#define SD_MAX_LAYERS 4       /* layers_per_block (UNet) and VAE resnets per block + 1 */
#define SD_PATH_MAX 96

typedef struct {
  /* UNet (diffusers unet/config.json) */
  int64_t unet_in, unet_out;                /* 4, 4 */
  int n_levels;                             /* len(block_out_channels): 4 */
  int64_t block_out[SD_MAX_LEVELS];         /* 320, 640, 1280, 1280 */
  bool level_attn[SD_MAX_LEVELS];           /* CrossAttnDownBlock2D at level i (the up block
                                             * of the same resolution mirrors it) */
  int64_t heads[SD_MAX_LEVELS];             /* attention_head_dim: 8 (diffusers' SD 1.5
                                             * config names the head COUNT so) */
  int layers_per_block;                     /* 2 */
  int transformer_layers;                   /* 1 */
  int64_t cross_dim;                        /* 768 */
  int unet_groups;                          /* 32 */
  float unet_eps;                           /* norm_eps 1e-5 (resnets, conv_norm_out) */
  /* VAE (vae/config.json) */
  int vae_levels;                           /* 4 */
  int64_t vae_block_out[SD_MAX_LEVELS];     /* 128, 256, 512, 512 */
  int vae_layers_per_block;                 /* 2 (decoder: + 1) */
  int64_t latent_channels;                  /* 4 */
  int vae_groups;                           /* 32 */
  float vae_scale;                          /* scaling_factor 0.18215 */
  /* CLIP text encoder (text_encoder/config.json) */
  int64_t clip_vocab;                       /* 49408 */
  int64_t clip_hidden;                      /* 768 */
  int64_t clip_layers;                      /* 12 */
  int64_t clip_heads;                       /* 12 */
  int64_t clip_intermediate;                /* 3072 */
  int64_t clip_positions;                   /* 77 */
  float clip_eps;                           /* 1e-5 */
} sd15_config;

/* SD 1.5 as released. */
void sd15_config_default (sd15_config *c);
/* The fixture's tiny widths (block_out (32, 64), 1 layer per block, 4 heads of 8 at the
 * first level, context 32, CLIP hidden 32 x 2 layers x 4 heads, VAE (32, 32, 64, 64) so
 * latents are 1/8 of the image as in SD 1.5); CLIP_VOCAB is the tokenizer's size. */
void sd15_config_tiny (sd15_config *c, int64_t clip_vocab);

/* Pixels per latent along each side: 2^(vae_levels - 1), 8 for SD 1.5 and sd15-tiny. */
int64_t sd15_latent_factor (const sd15_config *c);
/* The UNet needs latent sides that are multiples of this: 2^(n_levels - 1). */
int64_t sd15_unet_multiple (const sd15_config *c);

/* A module: linear (w // (out, in)), conv (w // (out, in, kh, kw)), norm or embedding
 * (w // (C) or (V, C)), with its bias and, when targeted, a LoRA. */
typedef struct {
  tensor *w;                    /* NULL when the module does not exist (no shortcut) */
  tensor *b;                    /* (out) F32 or NULL */
  lora_linear *lora;            /* A // (r, in * kh * kw), B // (out, r) */
  float lora_dropout;           /* on the LoRA's input, training mode only */
  char path[SD_PATH_MAX];       /* diffusers module path without component:
                                 * "down_blocks.0.resnets.0.conv1" */
} sd_module;

typedef struct {
  sd_module norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut;
  float eps;
  int groups;
} sd_resnet;

typedef struct {
  sd_module to_q, to_k, to_v, to_out;   /* to_out is diffusers to_out.0 */
  int64_t heads;
} sd_attention;

typedef struct {
  sd_module norm1, norm2, norm3, ff_in, ff_out;  /* ff.net.0.proj, ff.net.2 */
  sd_attention attn1, attn2;
} sd_transformer_block;

/* Transformer2DModel with conv projections (SpatialTransformer in LDM). */
typedef struct {
  sd_module norm, proj_in, proj_out;
  sd_transformer_block blocks[2];
  int n_blocks;
  int groups;
} sd_spatial_transformer;

typedef struct {
  sd_resnet resnets[SD_MAX_LAYERS];
  sd_spatial_transformer attns[SD_MAX_LAYERS];
  int n_resnets;
  bool has_attn;
  sd_module sampler;            /* downsamplers.0.conv / upsamplers.0.conv; w NULL if none */
} sd_block;

typedef struct {
  sd_module conv_in, time_1, time_2, norm_out, conv_out;
  sd_block down[SD_MAX_LEVELS], up[SD_MAX_LEVELS];
  sd_resnet mid_res[2];
  sd_spatial_transformer mid_attn;
} sd_unet;

/* The VAE's single-head mid-block attention (group_norm, then q/k/v/out linear). */
typedef struct {
  sd_module group_norm;
  sd_attention attn;
} sd_vae_attention;

typedef struct {
  sd_module conv_in, norm_out, conv_out;
  sd_block blocks[SD_MAX_LEVELS];       /* encoder down / decoder up */
  sd_resnet mid_res[2];
  sd_vae_attention mid_attn;
} sd_vae_coder;

typedef struct {
  sd_vae_coder enc, dec;
  sd_module quant_conv, post_quant_conv;
} sd_vae;

typedef struct {
  sd_module ln1, q, k, v, out, ln2, fc1, fc2;
} clip_layer;

typedef struct {
  sd_module tok, pos, final_ln;
  clip_layer *layers;           /* (clip_layers) */
} clip_text;

/* One LoRA of the model, with both names it is saved under. */
typedef struct {
  lora_linear *lora;
  lora_set *set;                /* the set it lives in (lora_tensor_to_host, its alpha) */
  sd_module *module;
  char kohya[160];              /* "lora_unet_down_blocks_0_..._attn1_to_q" */
  char peft[160];               /* "unet.down_blocks.0....attn1.to_q" (= lora->name) */
  bool text_encoder;
  bool conv;                    /* the base is a conv (1x1 proj/shortcut or 3x3 LoCon):
                                 * kohya files store A as (r, in, kh, kw) and B as
                                 * (out, r, 1, 1); in memory they are (r, in*kh*kw), (out, r) */
  int64_t kh, kw;
} sd15_lora_entry;

enum { SD15_LOAD_UNET = 1, SD15_LOAD_VAE = 2, SD15_LOAD_TEXT = 4, SD15_LOAD_ALL = 7 };
#define SD15_DTYPE_KEEP (-1)

typedef struct {
  sd15_config cfg;
  const backend *be;
  param_store *base;            /* frozen weights, diffusers names with component */
  unsigned parts;               /* SD15_LOAD_* actually loaded */
  sd_unet unet;
  sd_vae vae;
  clip_text text;
  lora_set *lora_unet;          /* linear LoRA (and 1x1 proj_in/proj_out) of the UNet */
  lora_set *lora_conv;          /* LoCon on 3x3 convolutions (conv_rank) or NULL */
  lora_set *lora_text;          /* text encoder LoRA (its own learning rate) or NULL */
  sd15_lora_entry *loras;
  int n_loras, cap_loras;
  float lora_dropout;           /* dropout on LoRA inputs (training mode only) */
  bool checkpointing;           /* graph_checkpoint per UNet resnet / transformer */
  char source[1024];            /* the path loaded */
  bool single_file;
} sd15_model;

/* Loads PATH: a single-file .safetensors (LDM names) or a diffusers folder
 * (model_index.json, unet/, vae/, text_encoder/ with config.json and
 * diffusion_pytorch_model.safetensors / model.safetensors). PARTS selects components.
 * DTYPE: SD15_DTYPE_KEEP or an le_dtype for the big weights.
 * Refused by name: SD 2.x, SDXL, SD3, Flux and other non-SD-1.5 files, .ckpt/.pt pickles,
 * truncated files, a missing VAE or text encoder, tensors whose shape disagrees. */
sd15_model *sd15_model_load (const char *path, unsigned parts, int dtype, const backend *be,
                             le_error *err);
void sd15_model_free (sd15_model *m);
/* A model with CFG's architecture whose weights are all zero (for benchmarks: the caller
 * may fill m->base tensors), no file read. */
sd15_model *sd15_model_new_empty (const sd15_config *cfg, unsigned parts, le_dtype dtype,
                                  const backend *be, le_error *err);

/* Fills every base weight with seeded random values (uniform +-1/sqrt(fan_in) for
 * matrices and kernels, near 1 for norm weights, small biases), as the fixture does: for
 * benchmarks of the full-size model without a download. */
bool sd15_model_fill_random (sd15_model *m, uint64_t seed, le_error *err);

/* Reads the architecture from a diffusers folder's config.json files (unet/, vae/,
 * text_encoder/); errors name the file and key. */
bool sd15_config_from_diffusers (const char *folder, sd15_config *cfg, le_error *err);
/* Infers the architecture of a single LDM file from its tensor shapes (widths, levels,
 * layers, vocabulary); errors name the file and what is missing. */
struct st_set;
bool sd15_config_from_ldm (const struct st_set *s, const char *label, sd15_config *cfg,
                           le_error *err);

/* What a single .safetensors file holds, from its tensor names alone (for loading and for
 * `lora-engine inspect`). */
typedef enum {
  SD_FILE_UNKNOWN = 0,
  SD_FILE_SD15,             /* LDM names, 768-wide context */
  SD_FILE_SD2,              /* OpenCLIP cond_stage_model.model.* or 1024-wide context */
  SD_FILE_SDXL,             /* conditioner.embedders.*, label_emb */
  SD_FILE_SD3,              /* joint_blocks */
  SD_FILE_FLUX,             /* double_blocks */
  SD_FILE_LORA_KOHYA,       /* lora_unet_* / lora_te_* with lora_down / lora_up */
  SD_FILE_LORA_PEFT,        /* *.lora_A.weight / *.lora_B.weight */
  SD_FILE_DIFFUSERS_PART,   /* one diffusers component (down_blocks.* at the top) */
} sd_file_kind;
struct st_set;
sd_file_kind sd15_detect_kind (const struct st_set *s);
/* "SD 1.5", "SDXL", "kohya LoRA", ... */
const char *sd15_kind_name (sd_file_kind k);

/* ---- names (sd-names.c) ---- */
typedef struct {
  char diffusers[160];          /* "unet.conv_in.weight" */
  char ldm[160];                /* "model.diffusion_model.input_blocks.0.0.weight" */
  int ndim;
  int64_t shape[4];             /* diffusers shape */
  bool ldm_conv1x1;             /* LDM stores it as (out, in, 1, 1): VAE attention q/k/v/out */
  unsigned part;                /* SD15_LOAD_UNET / VAE / TEXT */
} sd15_name;

/* Every tensor of CFG's architecture for PARTS, in walk order. *OUT is malloc'd. */
bool sd15_names (const sd15_config *cfg, unsigned parts, sd15_name **out, size_t *n,
                 le_error *err);

/* ---- forward (sd-unet.c, sd-vae.c, clip-text.c) ---- */
/* eps prediction. x // (B, Cin, H, W), H and W multiples of 2^(levels-1);
 * TIMESTEPS host (B); context // (B, T, cross_dim). -> (B, Cout, H, W) */
tensor *sd15_unet_forward (sd15_model *m, graph *g, tensor *x, const float *timesteps,
                           tensor *context);
/* [cos, sin] sinusoidal embedding of host TIMESTEPS (B) -> (B, DIM) arena tensor. */
tensor *sd15_timestep_embedding (graph *g, const float *timesteps, int64_t batch,
                                 int64_t dim);
/* Token ids (host, B x 77) -> (B, 77, clip_hidden): the hidden state after
 * clip_layers - (clip_skip - 1) layers with the final layer norm applied (clip_skip 1 is
 * the last layer, 2 the one before: kohya/A1111's convention). */
tensor *sd15_text_forward (sd15_model *m, graph *g, const int32_t *ids, int64_t batch,
                           int64_t t, int clip_skip);
/* x // (B, 3, H, W) in [-1, 1] -> mean, logvar // (B, latent, H/8, W/8) (unscaled: the
 * training latent is (mean + exp(logvar / 2) * noise) * vae_scale). */
bool sd15_vae_encode (sd15_model *m, graph *g, tensor *x, tensor **mean, tensor **logvar);
/* z // (B, latent, h, w), already divided by vae_scale -> (B, 3, 8h, 8w) */
tensor *sd15_vae_decode (sd15_model *m, graph *g, tensor *z);

/* ---- LoRA (sd15-lora.c) ---- */
typedef struct {
  const char *const *unet_targets;  /* NULL-terminated; default to_q, to_k, to_v, to_out.0;
                                     * also ff.net.0.proj, ff.net.2, proj_in, proj_out,
                                     * or "ff" for both ff layers */
  int rank;                         /* 4 */
  float alpha;                      /* rank */
  float dropout;                    /* 0 */
  int conv_rank;                    /* > 0: LoCon (kohya's conv_dim) on every 3x3 conv of
                                     * the ResNet blocks and samplers; the ResNets'
                                     * time_emb_proj and conv_shortcut then get a LoRA of
                                     * `rank` too, as kohya does */
  float conv_alpha;                 /* conv_rank when 0 */
  bool text_encoder;                /* LoRA on the text encoder too */
  const char *const *text_targets;  /* default q_proj, k_proj, v_proj, out_proj, fc1, fc2 */
  uint64_t seed;
} sd15_lora_options;

void sd15_lora_defaults (sd15_lora_options *o);
/* Attaches adapters (A Kaiming-uniform from the seed, B zero); an unknown target is an
 * error that lists the valid ones. */
bool sd15_lora_attach (sd15_model *m, const sd15_lora_options *o, le_error *err);
/* The adapters O would attach to a model of CFG, without weights (for naming tests and
 * inspecting full-size layouts): kohya and PEFT names, shapes. *OUT is malloc'd. */
typedef struct {
  char kohya[160];
  char peft[160];
  int64_t out, in, kh, kw;     /* the base module's weight */
  bool text_encoder, conv;     /* conv: the base is a conv (1x1 proj or 3x3 LoCon) */
} sd15_lora_name;
bool sd15_lora_names (const sd15_config *cfg, const sd15_lora_options *o,
                      sd15_lora_name **out, size_t *n, le_error *err);
int sd15_lora_count (const sd15_model *m);
const sd15_lora_entry *sd15_lora_at (const sd15_model *m, int i);
/* kohya name of a diffusers module path: ("unet", "down_blocks.0.resnets.0.conv1") ->
 * "lora_unet_down_blocks_0_resnets_0_conv1"; component "text_encoder" -> lora_te_. */
void sd15_kohya_name (char *buf, size_t n, bool text_encoder, const char *path);

/* A module's forward with its LoRA (used by the models; exposed for tests). M may be
 * NULL in all of these (it is not read on the hot path).
 * linear: x // (..., in) -> (..., out). conv: x // (B, Cin, H, W). */
tensor *sd_linear (graph *g, const sd15_model *m, const sd_module *mod, tensor *x);
/* pad is symmetric; pad < 0 means SD's VAE downsampling pad (0, 1, 0, 1). */
tensor *sd_conv (graph *g, const sd15_model *m, const sd_module *mod, tensor *x, int stride,
                 int pad);

/* ---- parts for block-level tests ---- */
/* TEMB_ACT // (B, temb) is silu(time embedding), NULL in the VAE. */
tensor *sd_resnet_forward (graph *g, const sd15_model *m, const sd_resnet *r, tensor *x,
                           tensor *temb_act);
/* x // (B, C, H, W), context // (B, T, cross_dim) */
tensor *sd_transformer_forward (graph *g, const sd15_model *m,
                                const sd_spatial_transformer *t, tensor *x, tensor *context);
/* x // (B, T, C); context // (B, S, Cc) or NULL (self-attention) */
tensor *sd_attention_forward (graph *g, const sd15_model *m, const sd_attention *a,
                              tensor *x, tensor *context);
/* x // (B, T, C), src // (B, S, Cs) -> (B, T, C): softmax attention of HEADS heads through
 * the TO_Q, TO_K, TO_V projections (x itself as SRC for self-attention), heads merged back,
 * before the output projection; the UNet's and both CLIP towers' attention */
tensor *sd_multihead_attention (graph *g, const sd15_model *m, const sd_module *to_q,
                                const sd_module *to_k, const sd_module *to_v, tensor *x,
                                tensor *src, int64_t heads, bool causal);
/* x // (B, C, H, W) -> same: the VAE mid-block attention with its residual */
tensor *sd_vae_attention_forward (graph *g, const sd15_model *m, const sd_vae_attention *a,
                                  tensor *x);
/* x // (B, T, C) -> same: one pre-LN CLIP encoder layer of either tower, HEADS heads,
 * causal attention (text) or not (vision), quick GELU or erf GELU; M gives sd_linear its
 * LoRA (NULL: none). */
tensor *clip_encoder_layer (graph *g, const sd15_model *m, const clip_layer *l, tensor *x,
                            int64_t heads, float eps, bool causal, bool quick_gelu);
/* x // (B, T, C) -> same: a layer of M's text encoder (causal, quick GELU) */
tensor *clip_layer_forward (graph *g, const sd15_model *m, const clip_layer *l, tensor *x);

/* Parameter counts (for logs). */
int64_t sd15_n_base_params (const sd15_model *m);
int64_t sd15_n_lora_params (const sd15_model *m);
