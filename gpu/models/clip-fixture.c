/* clip-fixture.c: writes the clip-tiny CLIPModel folder (clip-fixture.h): text tower 32 wide
 * x 2 layers x 4 heads (quick_gelu), vision tower 32 wide x 2 layers x 4 heads on 32-pixel
 * images in 8-pixel patches (gelu, so both activations are exercised), projection 16. */
#include "clip-fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "fixture-util.h"
#include "safetensors.h"
#include "sd-fixture.h"

enum {
  TEXT_HIDDEN = 32, TEXT_LAYERS = 2, TEXT_HEADS = 4, TEXT_FF = 64, POSITIONS = 77,
  VIS_HIDDEN = 32, VIS_LAYERS = 2, VIS_HEADS = 4, VIS_FF = 64, IMAGE = 32, PATCH = 8,
  PROJ = 16,
};

void
clip_fixture_defaults (clip_fixture_options *o)
{
  o->dtype = LE_F32;
  o->seed = 1;
}

typedef struct {
  char name[192];
  int ndim;
  int64_t shape[4];
  int kind;                     /* 0 matrix, 1 norm weight, 2 bias, 3 table, 4 the vision
                                 * tower's class token and positions, 5 patch kernel */
} fixture_name;

typedef struct {
  fixture_name *v;
  size_t n;
} name_list;

static void
add (name_list *l, int kind, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
     const char *fmt, const char *prefix, int layer, const char *suffix)
{
  fixture_name *f = &l->v[l->n++];
  char stem[96];
  snprintf (stem, sizeof stem, fmt, prefix, layer);
  snprintf (f->name, sizeof f->name, "%s%s", stem, suffix);
  f->kind = kind;
  f->ndim = ndim;
  f->shape[0] = d0;
  f->shape[1] = d1;
  f->shape[2] = d2;
  f->shape[3] = d3;
}

static void
add_layer (name_list *l, const char *tower, int i, int64_t C, int64_t F)
{
  static const char *const norms[2] = { "layer_norm1", "layer_norm2" };
  static const char *const proj[4] = { "q_proj", "k_proj", "v_proj", "out_proj" };
  char suf[64];
  for (int k = 0; k < 2; k++)
    {
      snprintf (suf, sizeof suf, ".%s.weight", norms[k]);
      add (l, 1, 1, C, 0, 0, 0, "%s.encoder.layers.%d", tower, i, suf);
      snprintf (suf, sizeof suf, ".%s.bias", norms[k]);
      add (l, 2, 1, C, 0, 0, 0, "%s.encoder.layers.%d", tower, i, suf);
    }
  for (int k = 0; k < 4; k++)
    {
      snprintf (suf, sizeof suf, ".self_attn.%s.weight", proj[k]);
      add (l, 0, 2, C, C, 0, 0, "%s.encoder.layers.%d", tower, i, suf);
      snprintf (suf, sizeof suf, ".self_attn.%s.bias", proj[k]);
      add (l, 2, 1, C, 0, 0, 0, "%s.encoder.layers.%d", tower, i, suf);
    }
  add (l, 0, 2, F, C, 0, 0, "%s.encoder.layers.%d", tower, i, ".mlp.fc1.weight");
  add (l, 2, 1, F, 0, 0, 0, "%s.encoder.layers.%d", tower, i, ".mlp.fc1.bias");
  add (l, 0, 2, C, F, 0, 0, "%s.encoder.layers.%d", tower, i, ".mlp.fc2.weight");
  add (l, 2, 1, C, 0, 0, 0, "%s.encoder.layers.%d", tower, i, ".mlp.fc2.bias");
}

static void
all_names (name_list *l, int64_t vocab)
{
  int64_t grid = IMAGE / PATCH;
  add (l, 3, 2, vocab, TEXT_HIDDEN, 0, 0, "%s", "text_model", 0,
       ".embeddings.token_embedding.weight");
  add (l, 3, 2, POSITIONS, TEXT_HIDDEN, 0, 0, "%s", "text_model", 0,
       ".embeddings.position_embedding.weight");
  for (int i = 0; i < TEXT_LAYERS; i++)
    add_layer (l, "text_model", i, TEXT_HIDDEN, TEXT_FF);
  add (l, 1, 1, TEXT_HIDDEN, 0, 0, 0, "%s", "text_model", 0, ".final_layer_norm.weight");
  add (l, 2, 1, TEXT_HIDDEN, 0, 0, 0, "%s", "text_model", 0, ".final_layer_norm.bias");
  add (l, 0, 2, PROJ, TEXT_HIDDEN, 0, 0, "%s", "text_projection", 0, ".weight");
  add (l, 4, 1, VIS_HIDDEN, 0, 0, 0, "%s", "vision_model", 0, ".embeddings.class_embedding");
  add (l, 5, 4, VIS_HIDDEN, 3, PATCH, PATCH, "%s", "vision_model", 0,
       ".embeddings.patch_embedding.weight");
  add (l, 4, 2, grid * grid + 1, VIS_HIDDEN, 0, 0, "%s", "vision_model", 0,
       ".embeddings.position_embedding.weight");
  add (l, 1, 1, VIS_HIDDEN, 0, 0, 0, "%s", "vision_model", 0, ".pre_layrnorm.weight");
  add (l, 2, 1, VIS_HIDDEN, 0, 0, 0, "%s", "vision_model", 0, ".pre_layrnorm.bias");
  for (int i = 0; i < VIS_LAYERS; i++)
    add_layer (l, "vision_model", i, VIS_HIDDEN, VIS_FF);
  add (l, 1, 1, VIS_HIDDEN, 0, 0, 0, "%s", "vision_model", 0, ".post_layernorm.weight");
  add (l, 2, 1, VIS_HIDDEN, 0, 0, 0, "%s", "vision_model", 0, ".post_layernorm.bias");
  add (l, 0, 2, PROJ, VIS_HIDDEN, 0, 0, "%s", "visual_projection", 0, ".weight");
  add (l, 3, 0, 0, 0, 0, 0, "%s", "logit_scale", 0, "");
}

/* Uniform +-1/sqrt(fan_in) for matrices, near 1 for norm weights, small biases, +-1 text
 * tables (CLIP's embeddings are wide too); logit_scale is CLIP's ln(1/0.07). The vision
 * tower's class token and positions are small and its patch kernel strong, so that the
 * image, not the constant tokens, decides the embedding: different images get different
 * captions, and the caption tests can tell a broken vision tower. */
static void *
random_tensor (const fixture_name *nm, le_dtype dt, uint64_t *rng, size_t *bytes)
{
  int64_t fan_in, numel = fixture_numel (nm->ndim, nm->shape, &fan_in);
  float scale = nm->kind == 0 ? 1.0f / sqrtf ((float) fan_in)
                : nm->kind == 5 ? 8.0f / sqrtf ((float) fan_in)
                : nm->kind == 3 ? 1.0f : nm->kind == 4 ? 0.02f : 0.1f;
  float *f = fixture_uniform (numel, nm->kind == 1 ? 1.0f : 0.0f, scale, rng);
  if (f != NULL && nm->ndim == 0)
    f[0] = 2.6592f;
  return fixture_in_dtype (f, numel, dt, bytes);
}

static bool
write_configs (const char *dir, int64_t vocab, le_dtype dt, le_error *err)
{
  char buf[4096];
  const char *torch = dt == LE_F16 ? "float16" : dt == LE_BF16 ? "bfloat16" : "float32";
  snprintf (buf, sizeof buf,
    "{\n  \"architectures\": [\"CLIPModel\"],\n  \"initializer_factor\": 1.0,\n"
    "  \"logit_scale_init_value\": 2.6592,\n  \"model_type\": \"clip\",\n"
    "  \"projection_dim\": %d,\n"
    "  \"text_config\": {\n    \"bos_token_id\": %lld,\n    \"eos_token_id\": %lld,\n"
    "    \"pad_token_id\": %lld,\n    \"hidden_act\": \"quick_gelu\",\n"
    "    \"hidden_size\": %d,\n    \"intermediate_size\": %d,\n    \"layer_norm_eps\": 1e-05,\n"
    "    \"max_position_embeddings\": %d,\n    \"model_type\": \"clip_text_model\",\n"
    "    \"num_attention_heads\": %d,\n    \"num_hidden_layers\": %d,\n"
    "    \"projection_dim\": %d,\n    \"vocab_size\": %lld\n  },\n"
    "  \"torch_dtype\": \"%s\",\n  \"transformers_version\": \"4.40.0\",\n"
    "  \"vision_config\": {\n    \"hidden_act\": \"gelu\",\n    \"hidden_size\": %d,\n"
    "    \"image_size\": %d,\n    \"intermediate_size\": %d,\n    \"layer_norm_eps\": 1e-05,\n"
    "    \"model_type\": \"clip_vision_model\",\n    \"num_attention_heads\": %d,\n"
    "    \"num_channels\": 3,\n    \"num_hidden_layers\": %d,\n    \"patch_size\": %d,\n"
    "    \"projection_dim\": %d\n  }\n}\n",
    PROJ, (long long) vocab - 2, (long long) vocab - 1, (long long) vocab - 1, TEXT_HIDDEN,
    TEXT_FF, POSITIONS, TEXT_HEADS, TEXT_LAYERS, PROJ, (long long) vocab, torch, VIS_HIDDEN,
    IMAGE, VIS_FF, VIS_HEADS, VIS_LAYERS, PATCH, PROJ);
  if (!fixture_write_text (dir, "config.json", buf, strlen (buf), err))
    return false;
  snprintf (buf, sizeof buf,
    "{\n  \"crop_size\": {\"height\": %d, \"width\": %d},\n  \"do_center_crop\": true,\n"
    "  \"do_convert_rgb\": true,\n  \"do_normalize\": true,\n  \"do_rescale\": true,\n"
    "  \"do_resize\": true,\n"
    "  \"image_mean\": [0.48145466, 0.4578275, 0.40821073],\n"
    "  \"image_processor_type\": \"CLIPImageProcessor\",\n"
    "  \"image_std\": [0.26862954, 0.26130258, 0.27577711],\n  \"resample\": 3,\n"
    "  \"rescale_factor\": 0.00392156862745098,\n  \"size\": {\"shortest_edge\": %d}\n}\n",
    IMAGE, IMAGE, IMAGE);
  return fixture_write_text (dir, "preprocessor_config.json", buf, strlen (buf), err);
}

bool
clip_fixture_write (const char *dir, const clip_fixture_options *o, le_error *err)
{
  int64_t vocab = 0;
  if (!le_mkdir_p (dir, err) || !sd15_fixture_write_tokenizer (dir, &vocab, err)
      || !write_configs (dir, vocab, o->dtype, err))
    return false;
  fixture_name names[128];
  name_list l = { names, 0 };
  all_names (&l, vocab);
  st_write_tensor wt[128];
  void *data[128] = { 0 };
  memset (wt, 0, sizeof wt);
  uint64_t rng = o->seed * 0x2545F4914F6CDD1Dull + 11;
  st_dtype sdt = o->dtype == LE_F16 ? ST_F16 : o->dtype == LE_BF16 ? ST_BF16 : ST_F32;
  bool ok = true;
  for (size_t i = 0; ok && i < l.n; i++)
    {
      size_t bytes;
      data[i] = random_tensor (&names[i], o->dtype, &rng, &bytes);
      ok = data[i] != NULL;
      wt[i].name = names[i].name;
      wt[i].dtype = sdt;
      wt[i].data = data[i];
      wt[i].ndim = names[i].ndim;
      memcpy (wt[i].shape, names[i].shape, sizeof names[i].shape);
    }
  char path[1200];
  snprintf (path, sizeof path, "%s/model.safetensors", dir);
  st_write_meta meta[1] = { { "format", "pt" } };
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory writing the clip-tiny fixture");
  else
    ok = st_write (path, wt, l.n, meta, 1, err);
  for (size_t i = 0; i < l.n; i++)
    free (data[i]);
  return ok;
}
