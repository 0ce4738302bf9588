/* sd15-load.c: loading SD 1.5 (see sd15.h) from a single LDM .safetensors file or a
 * diffusers folder. What the file is gets decided from tensor names before any weight is
 * read, so SDXL, SD 2.x, SD3, Flux, LoRA files and pickles are refused with their name and
 * what to use instead; then every tensor the architecture walk names is found, checked by
 * shape and uploaded into one param_store under its diffusers name. */
#include "sd15-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "math-common.h"
#include "read-file.h"
#include "safetensors.h"
#include "weights-load.h"

typedef struct {
  st_set *sets[3];             /* unet, vae, text_encoder (the same set, single file) */
  bool ldm;
  int dtype;                   /* SD15_DTYPE_KEEP or le_dtype */
  const st_tensor **src;       /* per declared tensor, for the upload pass */
  int n_src, cap_src;
  param_store *ps;
  bool empty;                  /* sd15_model_new_empty: no file */
  le_dtype empty_dtype;
} load_ctx;

static int
part_index (unsigned part)
{
  return part == SD15_LOAD_UNET ? 0 : part == SD15_LOAD_VAE ? 1 : 2;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);
  return n >= k && strcmp (s + n - k, suffix) == 0;
}

static bool
refuse_pickle (const char *path, le_error *err)
{
  return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a PyTorch pickle (.ckpt/.pt/.bin): "
                  "loading a pickle can run any code its author put in it, so it is never "
                  "opened. Convert it to .safetensors with a tool you trust (for example "
                  "diffusers' convert_original_stable_diffusion_to_diffusers.py, or "
                  "safetensors' convert script) on a file you trust, then use the "
                  ".safetensors file", path);
}

/* A pickle by extension or by its first bytes (zip archive of torch.save, or protocol 2+). */
static bool
is_pickle (const char *path)
{
  static const char *const ext[] = { ".ckpt", ".pt", ".pth", ".bin", ".pkl" };
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
    if (has_suffix (path, ext[i]))
      return true;
  unsigned char m[4];
  return le_read_magic (path, m) && ((m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4)
                    || (m[0] == 0x80 && m[1] >= 2 && m[1] <= 5));
}

static bool
any_prefix (const st_set *s, const char *prefix)
{
  size_t k = strlen (prefix);
  for (size_t i = 0; i < st_set_count (s); i++)
    if (strncmp (st_set_at (s, i)->name, prefix, k) == 0)
      return true;
  return false;
}

static bool
any_infix (const st_set *s, const char *infix)
{
  for (size_t i = 0; i < st_set_count (s); i++)
    if (strstr (st_set_at (s, i)->name, infix))
      return true;
  return false;
}

sd_file_kind
sd15_detect_kind (const st_set *s)
{
  if (any_prefix (s, "conditioner.embedders.") || any_prefix (s, "model.diffusion_model.label_emb."))
    return SD_FILE_SDXL;
  if (any_prefix (s, "cond_stage_model.model."))
    return SD_FILE_SD2;
  if (any_prefix (s, "model.diffusion_model.joint_blocks.") || any_prefix (s, "text_encoders."))
    return SD_FILE_SD3;
  if (any_prefix (s, "double_blocks.") || any_prefix (s, "model.diffusion_model.double_blocks."))
    return SD_FILE_FLUX;
  if (any_prefix (s, "lora_unet_") || any_prefix (s, "lora_te"))
    return SD_FILE_LORA_KOHYA;
  if (any_infix (s, ".lora_A.") || any_infix (s, ".lora_down."))
    return SD_FILE_LORA_PEFT;
  if (!any_prefix (s, "model.diffusion_model.input_blocks."))
    return any_prefix (s, "down_blocks.") || any_prefix (s, "conv_in.")
           || any_prefix (s, "encoder.down_blocks.") || any_prefix (s, "text_model.")
           ? SD_FILE_DIFFUSERS_PART : SD_FILE_UNKNOWN;
  const st_tensor *k =
    st_set_find (s, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight");
  if (k && k->ndim == 2 && k->shape[1] == 1024)
    return SD_FILE_SD2;
  return SD_FILE_SD15;
}

const char *
sd15_kind_name (sd_file_kind k)
{
  static const char *const names[] = {
    "unknown model", "SD 1.5", "SD 2.x", "SDXL", "Stable Diffusion 3", "Flux",
    "kohya LoRA", "PEFT/diffusers LoRA", "single diffusers component",
  };
  return k <= SD_FILE_DIFFUSERS_PART ? names[k] : names[0];
}

/* Names the architecture of a single file that is not SD 1.5, or accepts it. */
static bool
check_ldm_family (const st_set *s, const char *path, unsigned parts, le_error *err)
{
  switch (sd15_detect_kind (s))
    {
    case SD_FILE_SD15:
      break;
    case SD_FILE_SDXL:
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s is an SDXL checkpoint (it has "
                      "conditioner.embedders / label_emb): SDXL is not supported yet; use an "
                      "SD 1.5 checkpoint as base_model", path);
    case SD_FILE_SD2:
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s is an SD 2.x checkpoint (OpenCLIP text "
                      "encoder cond_stage_model.model.*, 1024-wide context): SD 2.x is not "
                      "supported yet; use an SD 1.5 checkpoint as base_model", path);
    case SD_FILE_SD3:
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a Stable Diffusion 3 checkpoint: not "
                      "supported; use an SD 1.5 checkpoint as base_model", path);
    case SD_FILE_FLUX:
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a Flux checkpoint: not supported; use "
                      "an SD 1.5 checkpoint as base_model", path);
    case SD_FILE_LORA_KOHYA:
    case SD_FILE_LORA_PEFT:
      return le_fail (err, LE_ERR_INVALID, "%s is a LoRA file, not a base model: set "
                      "base_model to the SD 1.5 checkpoint the LoRA was trained on", path);
    case SD_FILE_DIFFUSERS_PART:
      return le_fail (err, LE_ERR_INVALID, "%s holds one diffusers component (UNet, VAE or "
                      "text encoder weights without their folder): give base_model the "
                      "diffusers folder (with model_index.json, unet/, vae/, text_encoder/)",
                      path);
    default:
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s is not a Stable Diffusion 1.5 checkpoint: "
                      "it has no model.diffusion_model.input_blocks.* tensors", path);
    }
  if ((parts & SD15_LOAD_VAE) && !any_prefix (s, "first_stage_model."))
    return le_fail (err, LE_ERR_FORMAT, "%s has no VAE (no first_stage_model.* tensors): "
                    "use a checkpoint with the VAE included, or the model's diffusers folder",
                    path);
  if ((parts & SD15_LOAD_TEXT) && !any_prefix (s, "cond_stage_model.transformer."))
    return le_fail (err, LE_ERR_FORMAT, "%s has no text encoder (no "
                    "cond_stage_model.transformer.* tensors): use a full SD 1.5 checkpoint, "
                    "or the model's diffusers folder", path);
  return true;
}

/* Opens one component of a diffusers folder: FOLDER/SUB/NAME.safetensors or its sharded
 * index; a .bin-only component is refused as a pickle. */
static st_set *
open_component (const char *folder, const char *sub, const char *name, le_error *err)
{
  char dir[1100], path[1200];
  struct stat st;
  snprintf (dir, sizeof dir, "%s/%s", folder, sub);
  if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      const char *what = strcmp (sub, "vae") == 0 ? "VAE" : strcmp (sub, "unet") == 0
                         ? "UNet" : "text encoder";
      le_fail (err, LE_ERR_FORMAT, "%s has no %s: the folder %s/ is missing (a diffusers "
               "SD 1.5 folder has unet/, vae/, text_encoder/ and tokenizer/)", folder, what,
               sub);
      return NULL;
    }
  /* plain, sharded, then the fp16 variant diffusers downloads with variant="fp16" */
  static const char *const forms[] = { "%s/%s.safetensors.index.json", "%s/%s.safetensors",
                                       "%s/%s.fp16.safetensors.index.json",
                                       "%s/%s.fp16.safetensors" };
  bool found = false;
  for (size_t i = 0; i < sizeof forms / sizeof *forms && !found; i++)
    {
      snprintf (path, sizeof path, forms[i], dir, name);
      found = stat (path, &st) == 0;
    }
  if (!found)
    {
      snprintf (path, sizeof path, "%s/%s.safetensors", dir, name);
      char bin[1200];
      snprintf (bin, sizeof bin, "%s/%s.bin", dir, name);
      if (stat (bin, &st) == 0)
        {
          refuse_pickle (bin, err);
          return NULL;
        }
      le_fail (err, LE_ERR_FORMAT, "%s is missing: the %s/ weights of a diffusers folder are "
               "%s.safetensors", path, sub, name);
      return NULL;
    }
  return st_set_open (path, err);
}

static bool
check_model_index (const char *folder, le_error *err)
{
  char path[1100];
  snprintf (path, sizeof path, "%s/model_index.json", folder);
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return true;               /* optional: the components' configs say enough */
  char buf[4096];
  size_t n = fread (buf, 1, sizeof buf - 1, fp);
  fclose (fp);
  buf[n] = 0;
  static const char *const other[][2] = {
    { "StableDiffusionXL", "SDXL" }, { "StableDiffusion3", "Stable Diffusion 3" },
    { "FluxPipeline", "Flux" }, { "\"text_encoder_2\"", "SDXL" },
  };
  for (size_t i = 0; i < sizeof other / sizeof *other; i++)
    if (strstr (buf, other[i][0]))
      return le_fail (err, LE_ERR_UNSUPPORTED, "%s: this is a %s pipeline, not SD 1.5; it "
                      "is not supported yet, use an SD 1.5 model as base_model", path,
                      other[i][1]);
  return true;
}

static le_dtype
file_dtype (st_dtype d)
{
  return d == ST_F16 ? LE_F16 : d == ST_BF16 ? LE_BF16 : LE_F32;
}

/* Declares one tensor: finds it, checks its shape, chooses its dtype. */
static bool
declare (sd_walk *w, sd_module *mod, tensor **slot, const sd15_name *nm)
{
  (void) mod;
  load_ctx *lc = w->user;
  const st_tensor *src = NULL;
  le_dtype dt = LE_F32;
  if (!lc->empty)
    {
      const st_set *s = lc->sets[part_index (nm->part)];
      const char *name = lc->ldm ? nm->ldm : strchr (nm->diffusers, '.') + 1;
      src = st_set_find (s, name);
      static const char te_new[] = "cond_stage_model.transformer.text_model.";
      if (src == NULL && lc->ldm && strncmp (name, te_new, sizeof te_new - 1) == 0)
        {
          /* older checkpoints store CLIP without the text_model. level */
          char old[200];
          snprintf (old, sizeof old, "cond_stage_model.transformer.%s",
                    name + sizeof te_new - 1);
          src = st_set_find (s, old);
        }
      const char *file = st_set_n_files (s) ? st_path (st_set_file (s, 0)) : "model";
      if (src == NULL)
        return le_fail (w->err, LE_ERR_FORMAT, "%s: tensor %s is missing (an SD 1.5 model "
                        "with these widths has it); the file is incomplete or another "
                        "architecture", file, name);
      int64_t want[4];
      int wn = nm->ndim;
      memcpy (want, nm->shape, sizeof want);
      if (lc->ldm && nm->ldm_conv1x1 && src->ndim == 4)
        {
          wn = 4;
          want[2] = want[3] = 1;
        }
      if (!weights_shape_is (src, wn, want))
        {
          char got[96], exp[96];
          weights_shape_text (got, sizeof got, src->ndim, src->shape);
          weights_shape_text (exp, sizeof exp, wn, want);
          return le_fail (w->err, LE_ERR_FORMAT, "%s: tensor %s has shape %s, expected %s "
                          "from the model's config", src->file_path, name, got, exp);
        }
      if (src->dtype != ST_F32 && src->dtype != ST_F16 && src->dtype != ST_BF16)
        return le_fail (w->err, LE_ERR_UNSUPPORTED, "%s: tensor %s is %s; SD 1.5 weights "
                        "must be F32, F16 or BF16", src->file_path, name,
                        st_dtype_name (src->dtype));
      dt = file_dtype (src->dtype);
    }
  else
    dt = lc->empty_dtype;
  if (nm->ndim == 1)
    dt = LE_F32;               /* norms and biases: the ops want F32 */
  else if (lc->dtype != SD15_DTYPE_KEEP)
    dt = (le_dtype) lc->dtype;
  tensor *t = param_store_add (lc->ps, nm->diffusers, dt, nm->ndim, nm->shape, false, w->err);
  if (t == NULL)
    return false;
  *slot = t;
  if (lc->n_src == lc->cap_src)
    {
      int cap = lc->cap_src ? 2 * lc->cap_src : 1024;
      const st_tensor **p = realloc (lc->src, (size_t) cap * sizeof *p);
      if (p == NULL)
        return le_fail (w->err, LE_ERR_MEMORY, "out of memory loading SD 1.5");
      lc->src = p;
      lc->cap_src = cap;
    }
  lc->src[lc->n_src++] = src;
  return true;
}

static sd15_model *
model_alloc (const sd15_config *cfg, const backend *be, le_error *err)
{
  sd15_model *m = le_calloc (1, sizeof *m, "SD 1.5 model", err);
  if (m == NULL)
    return NULL;
  m->cfg = *cfg;
  m->be = be;
  m->text.layers = le_calloc ((size_t) cfg->clip_layers + 1, sizeof (clip_layer),
                              "CLIP layers", err);
  m->base = m->text.layers ? param_store_new (be, err) : NULL;
  if (m->base == NULL)
    {
      sd15_model_free (m);
      return NULL;
    }
  return m;
}

static bool
build (sd15_model *m, load_ctx *lc, unsigned parts, le_error *err)
{
  lc->ps = m->base;
  sd_walk w = { .visit = declare, .user = lc, .err = err };
  if (!sd_walk_model (m, parts, &w))
    return false;
  if (!param_store_commit (m->base, err))
    return false;
  m->parts = parts;
  if (lc->empty)
    {
      for (int i = 0; i < m->base->n_tensors; i++)
        m->be->memset_zero (m->base->tensors[i]->data, tensor_bytes (m->base->tensors[i]));
      return m->be->sync (err);
    }
  return weights_upload_all (m->base, NULL, lc->src, false, err);
}

sd15_model *
sd15_model_new_empty (const sd15_config *cfg, unsigned parts, le_dtype dtype,
                      const backend *be, le_error *err)
{
  sd15_model *m = model_alloc (cfg, be, err);
  if (m == NULL)
    return NULL;
  load_ctx lc = { .empty = true, .empty_dtype = dtype, .dtype = SD15_DTYPE_KEEP };
  bool ok = build (m, &lc, parts, err);
  free (lc.src);
  if (!ok)
    {
      sd15_model_free (m);
      return NULL;
    }
  return m;
}

sd15_model *
sd15_model_load (const char *path, unsigned parts, int dtype, const backend *be,
                 le_error *err)
{
  struct stat st;
  if (stat (path, &st) != 0)
    {
      le_fail (err, LE_ERR_IO, "base model %s: %s", path, strerror (errno));
      return NULL;
    }
  load_ctx lc = { .dtype = dtype };
  sd15_config cfg;
  bool single = !S_ISDIR (st.st_mode);
  if (single)
    {
      if (is_pickle (path))
        {
          refuse_pickle (path, err);
          return NULL;
        }
      st_set *s = st_set_open (path, err);
      if (s == NULL)
        {
          le_error_prefix (err, "base model %s (a truncated or damaged download? get the "
                           "file again)", path);
          return NULL;
        }
      if (!check_ldm_family (s, path, parts, err) || !sd15_config_from_ldm (s, path, &cfg, err))
        {
          st_set_close (s);
          return NULL;
        }
      lc.sets[0] = lc.sets[1] = lc.sets[2] = s;
      lc.ldm = true;
    }
  else
    {
      if (!check_model_index (path, err))
        return NULL;
      static const char *const subs[3] = { "unet", "vae", "text_encoder" };
      static const char *const files[3] = { "diffusion_pytorch_model",
                                            "diffusion_pytorch_model", "model" };
      /* components first, so a missing vae/ is named as such rather than by its config */
      for (int i = 0; i < 3; i++)
        if ((parts & (1u << i)) && (lc.sets[i] = open_component (path, subs[i], files[i], err)) == NULL)
          {
            for (int j = 0; j < i; j++)
              st_set_close (lc.sets[j]);
            return NULL;
          }
      if (!sd15_config_from_diffusers_parts (path, parts, &cfg, err))
        {
          for (int j = 0; j < 3; j++)
            st_set_close (lc.sets[j]);
          return NULL;
        }
    }
  sd15_model *m = model_alloc (&cfg, be, err);
  bool ok = m && build (m, &lc, parts, err);
  free (lc.src);
  for (int i = 0; i < 3; i++)
    if (lc.sets[i] && (i == 0 || lc.sets[i] != lc.sets[i - 1]))
      st_set_close (lc.sets[i]);
  if (!ok)
    {
      sd15_model_free (m);
      return NULL;
    }
  snprintf (m->source, sizeof m->source, "%s", path);
  m->single_file = single;
  return m;
}

void
sd15_model_free (sd15_model *m)
{
  if (m == NULL)
    return;
  if (m->lora_unet)
    lora_set_free (m->lora_unet);
  if (m->lora_conv)
    lora_set_free (m->lora_conv);
  if (m->lora_text)
    lora_set_free (m->lora_text);
  free (m->loras);
  if (m->base)
    param_store_free (m->base);
  free (m->text.layers);
  free (m);
}

int64_t
sd15_n_base_params (const sd15_model *m)
{
  return param_store_numel (m->base);
}

bool
sd15_model_fill_random (sd15_model *m, uint64_t seed, le_error *err)
{
  uint64_t rng = seed * 0x2545F4914F6CDD1Dull + 11;
  bool ok = true;
  for (int i = 0; ok && i < m->base->n_tensors; i++)
    {
      tensor *t = m->base->tensors[i];
      int64_t fan_in = 1;
      for (int d = 1; d < t->ndim; d++)
        fan_in *= t->shape[d];
      bool bias = has_suffix (t->name, ".bias");
      float scale = t->ndim >= 2 ? 1.0f / sqrtf ((float) fan_in) : 0.1f;
      float base = t->ndim == 1 && !bias ? 1.0f : 0.0f;
      float *f = le_malloc ((size_t) t->numel * sizeof *f, "random weights", err);
      void *conv = t->dtype == LE_F32 || f == NULL ? NULL
                   : le_malloc (tensor_bytes (t), "random weights", err);
      if (f == NULL || (t->dtype != LE_F32 && conv == NULL))
        {
          free (f);
          return false;
        }
      for (int64_t k = 0; k < t->numel; k++)
        f[k] = base + scale * (float) ((double) (le_splitmix64_next (&rng) >> 11) / 4503599627370496.0 - 1);
      if (conv)
        tensor_convert_host (conv, t->dtype, f, LE_F32, (size_t) t->numel);
      ok = param_store_upload (m->base, t, conv ? conv : (void *) f, tensor_bytes (t), err);
      free (conv);
      free (f);
    }
  return ok && m->be->sync (err);
}
