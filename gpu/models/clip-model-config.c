/* clip-model-config.c: a CLIPModel folder's config.json and preprocessor_config.json
 * (clip-model.h). Missing keys take transformers' CLIPTextConfig / CLIPVisionConfig
 * defaults, as older OpenAI folders leave them out; the weights' shapes are checked
 * against the result when they are loaded. Other architectures are refused by name. */
#include "clip-model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json-config.h"
#include "read-file.h"

/* Number member KEY of OBJ, leniently (any number; get_int truncates): older
 * OpenAI folders write what transformers accepts. False when absent. */
static bool
get_number (const le_json_doc *d, uint32_t obj, const char *key, double *out)
{
  uint32_t v = obj == LE_JSON_NONE ? LE_JSON_NONE : le_json_member (d, obj, key);
  return v != LE_JSON_NONE && le_json_double (d, v, out);
}

static bool
get_int (const le_json_doc *d, uint32_t obj, const char *key, int64_t *out)
{
  double x;
  bool found = get_number (d, obj, key, &x);
  if (found)
    *out = (int64_t) x;
  return found;
}

static bool
read_tower (const le_json_doc *d, uint32_t obj, const char *which, const char *label,
            clip_tower_config *t, le_error *err)
{
  get_int (d, obj, "hidden_size", &t->hidden);
  get_int (d, obj, "num_hidden_layers", &t->layers);
  get_int (d, obj, "num_attention_heads", &t->heads);
  get_int (d, obj, "intermediate_size", &t->intermediate);
  double eps;
  if (get_number (d, obj, "layer_norm_eps", &eps))
    t->eps = (float) eps;
  const char *act = le_json_config_string (d, obj, "hidden_act");
  if (act != NULL && strcmp (act, "quick_gelu") != 0 && strcmp (act, "gelu") != 0)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s: %s hidden_act \"%s\" is not supported "
                    "(quick_gelu or gelu)", label, which, act);
  if (act != NULL)
    t->quick_gelu = strcmp (act, "quick_gelu") == 0;
  if (t->hidden < 1 || t->layers < 1 || t->heads < 1 || t->intermediate < 1
      || t->hidden % t->heads != 0 || t->hidden > (1 << 16) || t->layers > 256)
    return le_fail (err, LE_ERR_FORMAT, "%s: %s hidden_size %lld, num_attention_heads %lld, "
                    "num_hidden_layers %lld do not describe a CLIP tower", label, which,
                    (long long) t->hidden, (long long) t->heads, (long long) t->layers);
  return true;
}

/* Says what FOLDER is when it is not a CLIP model. */
static bool
refuse_not_folder (const char *folder, le_error *err)
{
  struct stat st;
  if (stat (folder, &st) != 0)
    return le_fail (err, LE_ERR_IO, "%s: %s; give --model the folder of a Hugging Face "
                    "CLIPModel (config.json, model.safetensors, vocab.json, merges.txt)",
                    folder, strerror (errno));
  size_t n = strlen (folder);
  if (!S_ISDIR (st.st_mode))
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a single file%s; captioning needs the "
                    "folder of a Hugging Face CLIPModel such as openai/clip-vit-base-patch32 "
                    "(config.json, model.safetensors, vocab.json, merges.txt)", folder,
                    n > 12 && strcmp (folder + n - 12, ".safetensors") == 0
                    ? " (a Stable Diffusion checkpoint or LoRA, not a CLIP model)" : "");
  char path[2048];
  snprintf (path, sizeof path, "%s/model_index.json", folder);
  if (stat (path, &st) == 0)
    return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a diffusers (Stable Diffusion) folder, "
                    "not a CLIP model: its text_encoder has no vision tower. Give the folder "
                    "of a Hugging Face CLIPModel such as openai/clip-vit-base-patch32", folder);
  return le_fail (err, LE_ERR_IO, "%s has no config.json; give the folder of a Hugging Face "
                  "CLIPModel (config.json, model.safetensors, vocab.json, merges.txt)", folder);
}

bool
clip_config_load (const char *folder, clip_config *c, le_error *err)
{
  memset (c, 0, sizeof *c);
  /* transformers 4.40 defaults (CLIPTextConfig, CLIPVisionConfig, CLIPConfig) */
  c->text = (clip_tower_config) { 512, 12, 8, 2048, 1e-5f, true };
  c->vision = (clip_tower_config) { 768, 12, 12, 3072, 1e-5f, true };
  c->vocab = 49408;
  c->positions = 77;
  c->eos_token_id = 2;
  c->image_size = 224;
  c->patch_size = 32;
  c->channels = 3;
  c->projection_dim = 512;

  char path[2048];
  snprintf (path, sizeof path, "%s/config.json", folder);
  size_t len = 0;
  /* why it cannot be read is told by what FOLDER is, not by the read's error */
  char *text = le_read_file (path, 64u << 20, "a config file", &len, NULL);
  if (text == NULL)
    return refuse_not_folder (folder, err);
  le_json_doc d = { 0 };
  if (!le_json_parse (&d, text, len, err))
    {
      le_error_prefix (err, "%s", path);
      free (text);
      return false;
    }
  bool ok = true;
  const char *type = le_json_config_string (&d, 0, "model_type");
  uint32_t archs = le_json_member (&d, 0, "architectures");
  const char *arch = NULL;
  if (archs != LE_JSON_NONE && d.nodes[archs].type == LE_JSON_ARRAY && d.nodes[archs].count > 0
      && d.nodes[d.nodes[archs].first].type == LE_JSON_STRING)
    arch = le_json_string (&d, d.nodes[archs].first);
  uint32_t tc = le_json_member (&d, 0, "text_config");
  uint32_t vc = le_json_member (&d, 0, "vision_config");
  if ((arch != NULL && strcmp (arch, "CLIPModel") != 0)
      || (type != NULL && strcmp (type, "clip") != 0) || tc == LE_JSON_NONE
      || vc == LE_JSON_NONE)
    {
      const char *what = arch ? arch : type ? type : "not a CLIPModel";
      ok = le_fail (err, LE_ERR_UNSUPPORTED, "%s describes %s (%s%s%s), not a CLIPModel with "
                    "text_config and vision_config; captioning needs a Hugging Face CLIP "
                    "model folder such as openai/clip-vit-base-patch32", path, what,
                    type ? "model_type " : "", type ? type : "", type ? "" : "no model_type");
    }
  ok = ok && read_tower (&d, tc, "text_config", path, &c->text, err)
       && read_tower (&d, vc, "vision_config", path, &c->vision, err);
  if (ok)
    {
      get_int (&d, tc, "vocab_size", &c->vocab);
      get_int (&d, tc, "max_position_embeddings", &c->positions);
      int64_t eos = c->eos_token_id;
      get_int (&d, tc, "eos_token_id", &eos);
      c->eos_token_id = (int32_t) eos;
      get_int (&d, vc, "image_size", &c->image_size);
      get_int (&d, vc, "patch_size", &c->patch_size);
      get_int (&d, vc, "num_channels", &c->channels);
      get_int (&d, 0, "projection_dim", &c->projection_dim);
      if (c->vocab < 3 || c->positions < 3 || c->channels != 3 || c->patch_size < 1
          || c->image_size < c->patch_size || c->image_size % c->patch_size != 0
          || c->image_size > 4096 || c->projection_dim < 1)
        ok = le_fail (err, LE_ERR_FORMAT, "%s: vocab_size %lld, max_position_embeddings "
                      "%lld, image_size %lld, patch_size %lld, num_channels %lld or "
                      "projection_dim %lld is out of range", path, (long long) c->vocab,
                      (long long) c->positions, (long long) c->image_size,
                      (long long) c->patch_size, (long long) c->channels,
                      (long long) c->projection_dim);
    }
  le_json_free (&d);
  free (text);
  return ok;
}

/* preprocessor_config.json: size (an int or {"shortest_edge": N}), crop_size (an int or
 * {"height": H, "width": W}), image_mean, image_std. Absent: OpenAI's at image_size. */
bool
clip_preprocessor_load (const char *folder, int64_t image_size, clip_preprocessor *p,
                        le_error *err)
{
  static const float mean[3] = { 0.48145466f, 0.4578275f, 0.40821073f };
  static const float std[3] = { 0.26862954f, 0.26130258f, 0.27577711f };
  p->shortest_edge = p->crop = (int) image_size;
  memcpy (p->mean, mean, sizeof mean);
  memcpy (p->std, std, sizeof std);
  char path[2048];
  snprintf (path, sizeof path, "%s/preprocessor_config.json", folder);
  size_t len = 0;
  char *text = le_read_file (path, 64u << 20, "a config file", &len, NULL);
  if (text == NULL)
    return true;               /* optional: CLIP's own numbers above */
  le_json_doc d = { 0 };
  if (!le_json_parse (&d, text, len, err))
    {
      le_error_prefix (err, "%s", path);
      free (text);
      return false;
    }
  int64_t v;
  uint32_t size = le_json_member (&d, 0, "size");
  if (get_int (&d, 0, "size", &v) || get_int (&d, size, "shortest_edge", &v))
    p->shortest_edge = (int) v;
  uint32_t crop = le_json_member (&d, 0, "crop_size");
  if (get_int (&d, 0, "crop_size", &v) || get_int (&d, crop, "height", &v))
    p->crop = (int) v;
  const char *keys[2] = { "image_mean", "image_std" };
  float *dst[2] = { p->mean, p->std };
  bool ok = true;
  for (int k = 0; k < 2; k++)
    {
      uint32_t a = le_json_member (&d, 0, keys[k]);
      if (a == LE_JSON_NONE)
        continue;
      uint32_t e = d.nodes[a].type == LE_JSON_ARRAY && d.nodes[a].count == 3
                   ? d.nodes[a].first : LE_JSON_NONE;
      for (int i = 0; i < 3 && ok; i++, e = e == LE_JSON_NONE ? e : d.nodes[e].next)
        {
          double x;
          if (e == LE_JSON_NONE || !le_json_double (&d, e, &x) || (k == 1 && x <= 0))
            ok = le_fail (err, LE_ERR_FORMAT, "%s: %s must be three numbers%s", path,
                          keys[k], k == 1 ? " above 0" : "");
          else
            dst[k][i] = (float) x;
        }
    }
  if (ok && (p->shortest_edge < 1 || p->crop < 1 || p->crop > p->shortest_edge
             || p->crop != image_size))
    ok = le_fail (err, LE_ERR_FORMAT, "%s: size %d and crop_size %d do not fit the model's "
                  "image_size %lld", path, p->shortest_edge, p->crop, (long long) image_size);
  le_json_free (&d);
  free (text);
  return ok;
}
