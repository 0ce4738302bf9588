/* sd-fixture.c: writes the sd15-tiny fixture (see sd-fixture.h): a tiny CLIP BPE
 * vocabulary built from a few words, the configs of a diffusers folder, and random weights
 * for every tensor the architecture walk names, in diffusers or LDM layout. */
#include "sd-fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "fixture-util.h"
#include "json.h"
#include "safetensors.h"
#include "sd15.h"
#include "tokenizer-bpe.h"

void
sd15_fixture_defaults (sd15_fixture_options *o)
{
  o->layout = SD15_LAYOUT_DIFFUSERS;
  o->dtype = LE_F32;
  o->seed = 1;
}

/* ---- tokenizer ---- */

/* Words whose merges the tiny vocabulary learns (the demo's captions use them). */
static const char *const fixture_words[] = {
  "a", "photo", "of", "the", "cat", "dog", "sitting", "on", "in", "with", "red", "blue",
  "green", "man", "woman", "painting", "style", "portrait", "landscape", "tree", "house",
  "sky", "and", "character", "standing", "smiling", "wearing", "hat", "field", "city",
  NULL
};

static size_t
put_utf8 (char *p, uint32_t cp)
{
  if (cp < 0x80)
    {
      p[0] = (char) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      p[0] = (char) (0xC0 | (cp >> 6));
      p[1] = (char) (0x80 | (cp & 0x3F));
      return 2;
    }
  p[0] = (char) (0xE0 | (cp >> 12));
  p[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
  p[2] = (char) (0x80 | (cp & 0x3F));
  return 3;
}

typedef struct {
  char **tok;
  size_t n, cap;
} str_list;

static bool
list_has (const str_list *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->tok[i], s) == 0)
      return true;
  return false;
}

static bool
list_add (str_list *l, const char *s)
{
  if (l->n == l->cap)
    {
      size_t cap = l->cap ? 2 * l->cap : 1024;
      char **p = realloc (l->tok, cap * sizeof *p);
      if (p == NULL)
        return false;
      l->tok = p;
      l->cap = cap;
    }
  return (l->tok[l->n++] = strdup (s)) != NULL;
}

static void
list_free (str_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->tok[i]);
  free (l->tok);
}

bool
sd15_fixture_write_tokenizer (const char *dir, int64_t *vocab_out, le_error *err)
{
  if (!le_mkdir_p (dir, err))
    return false;
  str_list vocab = { 0 }, merges = { 0 };
  bool ok = true;
  /* CLIP's byte order: the printable ranges first, then the other bytes ascending */
  int order[256], n = 0;
  bool used[256] = { false };
  for (int b = '!'; b <= '~'; b++)
    used[order[n++] = b] = true;
  for (int b = 0xA1; b <= 0xAC; b++)
    used[order[n++] = b] = true;
  for (int b = 0xAE; b <= 0xFF; b++)
    used[order[n++] = b] = true;
  for (int b = 0; b < 256; b++)
    if (!used[b])
      order[n++] = b;
  for (int pass = 0; pass < 2 && ok; pass++)
    for (int i = 0; i < 256 && ok; i++)
      {
        char s[16];
        size_t k = put_utf8 (s, tok_byte_to_unicode ((uint8_t) order[i]));
        strcpy (s + k, pass ? "</w>" : "");
        ok = list_add (&vocab, s);
      }
  /* merges: each word merged left to right, the last symbol carrying </w> */
  for (const char *const *w = fixture_words; *w && ok; w++)
    {
      size_t len = strlen (*w);
      if (len < 2)
        continue;
      char left[64];
      snprintf (left, sizeof left, "%c", (*w)[0]);
      for (size_t i = 1; i < len && ok; i++)
        {
          char right[16], merge[96], joined[80];
          snprintf (right, sizeof right, "%c%s", (*w)[i], i == len - 1 ? "</w>" : "");
          snprintf (merge, sizeof merge, "%.60s %.15s", left, right);
          snprintf (joined, sizeof joined, "%.60s%.15s", left, right);
          if (!list_has (&merges, merge))
            {
              ok = list_add (&merges, merge);
              if (ok && !list_has (&vocab, joined))
                ok = list_add (&vocab, joined);
            }
          snprintf (left, sizeof left, "%.60s", joined);
        }
    }
  ok = ok && list_add (&vocab, "<|startoftext|>") && list_add (&vocab, "<|endoftext|>");
  size_t cap = 64 * vocab.n + 64 * merges.n + 64;
  char *buf = malloc (cap);
  if (!ok || buf == NULL)
    {
      free (buf);
      list_free (&vocab);
      list_free (&merges);
      return le_fail (err, LE_ERR_MEMORY, "out of memory writing the fixture tokenizer");
    }
  size_t pos = 0;
  buf[pos++] = '{';
  for (size_t i = 0; i < vocab.n; i++)
    {
      pos += le_json_escape (buf, cap, pos, vocab.tok[i]);
      pos += (size_t) snprintf (buf + pos, cap - pos, ": %zu%s", i,
                                i + 1 < vocab.n ? ", " : "}\n");
    }
  ok = fixture_write_text (dir, "vocab.json", buf, pos, err);
  pos = (size_t) snprintf (buf, cap, "#version: 0.2\n");
  for (size_t i = 0; i < merges.n; i++)
    pos += (size_t) snprintf (buf + pos, cap - pos, "%s\n", merges.tok[i]);
  ok = ok && fixture_write_text (dir, "merges.txt", buf, pos, err);
  static const char tcfg[] =
    "{\"add_prefix_space\": false, \"bos_token\": \"<|startoftext|>\", "
    "\"clean_up_tokenization_spaces\": true, \"do_lower_case\": true, "
    "\"eos_token\": \"<|endoftext|>\", \"errors\": \"replace\", "
    "\"model_max_length\": 77, \"pad_token\": \"<|endoftext|>\", "
    "\"tokenizer_class\": \"CLIPTokenizer\", \"unk_token\": \"<|endoftext|>\"}\n";
  static const char smap[] =
    "{\"bos_token\": \"<|startoftext|>\", \"eos_token\": \"<|endoftext|>\", "
    "\"pad_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\"}\n";
  ok = ok && fixture_write_text (dir, "tokenizer_config.json", tcfg, sizeof tcfg - 1, err);
  ok = ok && fixture_write_text (dir, "special_tokens_map.json", smap, sizeof smap - 1, err);
  if (vocab_out)
    *vocab_out = (int64_t) vocab.n;
  free (buf);
  list_free (&vocab);
  list_free (&merges);
  return ok;
}

/* ---- configs ---- */

static bool
write_configs (const char *dir, const sd15_config *c, le_error *err)
{
  char path[1200], buf[4096];
  int n;
  static const char *const subs[] = { "unet", "vae", "text_encoder", "scheduler" };
  for (size_t i = 0; i < 4; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, subs[i]);
      if (!le_mkdir_p (path, err))
        return false;
    }
  n = snprintf (buf, sizeof buf,
    "{\n  \"_class_name\": \"StableDiffusionPipeline\",\n  \"_diffusers_version\": \"0.27.0\",\n"
    "  \"feature_extractor\": [null, null],\n  \"requires_safety_checker\": false,\n"
    "  \"safety_checker\": [null, null],\n  \"scheduler\": [\"diffusers\", \"DDPMScheduler\"],\n"
    "  \"text_encoder\": [\"transformers\", \"CLIPTextModel\"],\n"
    "  \"tokenizer\": [\"transformers\", \"CLIPTokenizer\"],\n"
    "  \"unet\": [\"diffusers\", \"UNet2DConditionModel\"],\n"
    "  \"vae\": [\"diffusers\", \"AutoencoderKL\"]\n}\n");
  if (!fixture_write_text (dir, "model_index.json", buf, (size_t) n, err))
    return false;

  char down[256] = "", up[256] = "", bo[128] = "", vdown[256] = "", vup[256] = "",
       vbo[128] = "";
  for (int i = 0; i < c->n_levels; i++)
    {
      const char *sep = i ? ", " : "";
      snprintf (down + strlen (down), sizeof down - strlen (down), "%s\"%s\"", sep,
                c->level_attn[i] ? "CrossAttnDownBlock2D" : "DownBlock2D");
      snprintf (up + strlen (up), sizeof up - strlen (up), "%s\"%s\"", sep,
                c->level_attn[c->n_levels - 1 - i] ? "CrossAttnUpBlock2D" : "UpBlock2D");
      snprintf (bo + strlen (bo), sizeof bo - strlen (bo), "%s%lld", sep,
                (long long) c->block_out[i]);
    }
  for (int i = 0; i < c->vae_levels; i++)
    {
      const char *sep = i ? ", " : "";
      snprintf (vdown + strlen (vdown), sizeof vdown - strlen (vdown), "%s\"DownEncoderBlock2D\"", sep);
      snprintf (vup + strlen (vup), sizeof vup - strlen (vup), "%s\"UpDecoderBlock2D\"", sep);
      snprintf (vbo + strlen (vbo), sizeof vbo - strlen (vbo), "%s%lld", sep,
                (long long) c->vae_block_out[i]);
    }
  n = snprintf (buf, sizeof buf,
    "{\n  \"_class_name\": \"UNet2DConditionModel\",\n  \"_diffusers_version\": \"0.27.0\",\n"
    "  \"act_fn\": \"silu\",\n  \"attention_head_dim\": %lld,\n"
    "  \"block_out_channels\": [%s],\n  \"center_input_sample\": false,\n"
    "  \"cross_attention_dim\": %lld,\n  \"down_block_types\": [%s],\n"
    "  \"downsample_padding\": 1,\n  \"flip_sin_to_cos\": true,\n  \"freq_shift\": 0,\n"
    "  \"in_channels\": %lld,\n  \"layers_per_block\": %d,\n  \"mid_block_scale_factor\": 1,\n"
    "  \"norm_eps\": 1e-05,\n  \"norm_num_groups\": %d,\n  \"out_channels\": %lld,\n"
    "  \"sample_size\": 8,\n  \"up_block_types\": [%s],\n  \"use_linear_projection\": false\n}\n",
    (long long) c->heads[0], bo, (long long) c->cross_dim, down, (long long) c->unet_in,
    c->layers_per_block, c->unet_groups, (long long) c->unet_out, up);
  if (!fixture_write_text (dir, "unet/config.json", buf, (size_t) n, err))
    return false;
  n = snprintf (buf, sizeof buf,
    "{\n  \"_class_name\": \"AutoencoderKL\",\n  \"_diffusers_version\": \"0.27.0\",\n"
    "  \"act_fn\": \"silu\",\n  \"block_out_channels\": [%s],\n  \"down_block_types\": [%s],\n"
    "  \"in_channels\": 3,\n  \"latent_channels\": %lld,\n  \"layers_per_block\": %d,\n"
    "  \"norm_num_groups\": %d,\n  \"out_channels\": 3,\n  \"sample_size\": 64,\n"
    "  \"scaling_factor\": 0.18215,\n  \"up_block_types\": [%s]\n}\n",
    vbo, vdown, (long long) c->latent_channels, c->vae_layers_per_block, c->vae_groups, vup);
  if (!fixture_write_text (dir, "vae/config.json", buf, (size_t) n, err))
    return false;
  n = snprintf (buf, sizeof buf,
    "{\n  \"architectures\": [\"CLIPTextModel\"],\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": %lld,\n  \"eos_token_id\": %lld,\n  \"hidden_act\": \"quick_gelu\",\n"
    "  \"hidden_size\": %lld,\n  \"initializer_factor\": 1.0,\n  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": %lld,\n  \"layer_norm_eps\": 1e-05,\n"
    "  \"max_position_embeddings\": %lld,\n  \"model_type\": \"clip_text_model\",\n"
    "  \"num_attention_heads\": %lld,\n  \"num_hidden_layers\": %lld,\n  \"pad_token_id\": 1,\n"
    "  \"projection_dim\": %lld,\n  \"torch_dtype\": \"float32\",\n  \"vocab_size\": %lld\n}\n",
    (long long) c->clip_vocab - 2, (long long) c->clip_vocab - 1, (long long) c->clip_hidden,
    (long long) c->clip_intermediate, (long long) c->clip_positions,
    (long long) c->clip_heads, (long long) c->clip_layers, (long long) c->clip_hidden,
    (long long) c->clip_vocab);
  if (!fixture_write_text (dir, "text_encoder/config.json", buf, (size_t) n, err))
    return false;
  n = snprintf (buf, sizeof buf,
    "{\n  \"_class_name\": \"DDPMScheduler\",\n  \"_diffusers_version\": \"0.27.0\",\n"
    "  \"beta_end\": 0.012,\n  \"beta_schedule\": \"scaled_linear\",\n  \"beta_start\": 0.00085,\n"
    "  \"clip_sample\": false,\n  \"num_train_timesteps\": 1000,\n"
    "  \"prediction_type\": \"epsilon\",\n  \"set_alpha_to_one\": false,\n"
    "  \"steps_offset\": 1,\n  \"trained_betas\": null\n}\n");
  return fixture_write_text (dir, "scheduler/scheduler_config.json", buf, (size_t) n, err);
}

/* ---- weights ---- */

/* Values in a tensor's dtype: uniform in +-1/sqrt(fan_in) for matrices and kernels, near 1
 * for norm weights, small for biases, so every path of the network carries signal. */
static void *
random_tensor (const sd15_name *nm, le_dtype dt, uint64_t *rng, size_t *bytes)
{
  int64_t fan_in, numel = fixture_numel (nm->ndim, nm->shape, &fan_in);
  bool is_bias = strstr (nm->diffusers, ".bias") != NULL;
  bool is_norm_w = nm->ndim == 1 && !is_bias;
  float scale = nm->ndim >= 2 ? 1.0f / sqrtf ((float) fan_in) : 0.1f;
  return fixture_in_dtype (fixture_uniform (numel, is_norm_w ? 1.0f : 0.0f, scale, rng),
                           numel, dt, bytes);
}

static st_dtype
st_of (le_dtype dt)
{
  return dt == LE_F16 ? ST_F16 : dt == LE_BF16 ? ST_BF16 : ST_F32;
}

bool
sd15_fixture_write (const char *dir, const sd15_fixture_options *o, char *model_path,
                    size_t model_path_len, le_error *err)
{
  char path[1200];
  snprintf (path, sizeof path, "%s/tokenizer", dir);
  int64_t vocab = 0;
  if (!le_mkdir_p (dir, err) || !sd15_fixture_write_tokenizer (path, &vocab, err))
    return false;
  sd15_config c;
  sd15_config_tiny (&c, vocab);
  if (o->layout == SD15_LAYOUT_DIFFUSERS && !write_configs (dir, &c, err))
    return false;
  sd15_name *names = NULL;
  size_t n = 0;
  if (!sd15_names (&c, SD15_LOAD_ALL, &names, &n, err))
    return false;
  st_write_tensor *wt = calloc (n, sizeof *wt);
  void **data = calloc (n, sizeof *data);
  bool ok = wt && data;
  uint64_t rng = o->seed * 0x2545F4914F6CDD1Dull + 7;
  for (size_t i = 0; ok && i < n; i++)
    {
      size_t bytes;
      data[i] = random_tensor (&names[i], o->dtype, &rng, &bytes);
      ok = data[i] != NULL;
      wt[i].dtype = st_of (o->dtype);
      wt[i].data = data[i];
      wt[i].ndim = names[i].ndim;
      for (int d = 0; d < names[i].ndim; d++)
        wt[i].shape[d] = names[i].shape[d];
      if (o->layout == SD15_LAYOUT_SINGLE)
        {
          wt[i].name = names[i].ldm;
          if (names[i].ldm_conv1x1)
            {
              wt[i].ndim = 4;
              wt[i].shape[2] = wt[i].shape[3] = 1;
            }
        }
      else
        wt[i].name = strchr (names[i].diffusers, '.') + 1;
    }
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory writing the sd15-tiny fixture");
  else if (o->layout == SD15_LAYOUT_SINGLE)
    {
      char heads[32], clip_heads[32];
      snprintf (heads, sizeof heads, "%lld", (long long) c.heads[0]);
      snprintf (clip_heads, sizeof clip_heads, "%lld", (long long) c.clip_heads);
      st_write_meta meta[3] = {
        { "sd15_unet_heads", heads }, { "sd15_clip_heads", clip_heads },
        { "format", "pt" },
      };
      snprintf (path, sizeof path, "%s/sd15-tiny.safetensors", dir);
      ok = st_write (path, wt, n, meta, 3, err);
      if (ok && model_path)
        snprintf (model_path, model_path_len, "%s", path);
    }
  else
    {
      static const char *const files[3] = {
        "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors"
      };
      static const unsigned parts[3] = { SD15_LOAD_UNET, SD15_LOAD_VAE, SD15_LOAD_TEXT };
      st_write_meta meta[1] = { { "format", "pt" } };
      for (int p = 0; ok && p < 3; p++)
        {
          /* the component's tensors are contiguous in walk order */
          size_t first = 0, count = 0;
          while (first < n && names[first].part != parts[p])
            first++;
          while (first + count < n && names[first + count].part == parts[p])
            count++;
          snprintf (path, sizeof path, "%s/%s", dir, files[p]);
          ok = st_write (path, wt + first, count, meta, 1, err);
        }
      if (ok && model_path)
        snprintf (model_path, model_path_len, "%s", dir);
    }
  for (size_t i = 0; data && i < n; i++)
    free (data[i]);
  free (data);
  free (wt);
  free (names);
  return ok;
}
