/* llama-load.c: loading an HF LLaMA-family folder into a llama_model (see llama.h):
 * config.json, then every weight checked against it by name and shape, kept in its file
 * dtype (or converted) in one param_store. */
#include "llama.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "lora-peft.h"
#include "read-file.h"
#include "safetensors.h"
#include "weights-load.h"

const char *const llama_linear_names[LLAMA_N_LINEAR] = {
  "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"
};

/* True when the first bytes of PATH are a GGML/GGJT/GGUF magic. */
static bool
is_ggml_file (const char *path)
{
  unsigned char m[4];
  if (!le_read_magic (path, m))
    return false;
  /* GGUF is "GGUF" in file order; the older formats store a u32 'ggml', 'ggmf', 'ggjt'
   * little-endian, so the bytes read "lmgg", "fmgg", "tjgg". */
  return memcmp (m, "GGUF", 4) == 0 || memcmp (m, "lmgg", 4) == 0
         || memcmp (m, "fmgg", 4) == 0 || memcmp (m, "tjgg", 4) == 0;
}

static bool
refuse_ggml (const char *path, le_error *err)
{
  return le_fail (err, LE_ERR_UNSUPPORTED, "%s is a quantised GGML/GGUF file (llama.cpp's "
                  "format): its weights are rounded to a few bits and cannot be trained. "
                  "Use the Hugging Face folder of the same model (config.json, "
                  "tokenizer.json and model.safetensors) as base_model", path);
}

/* Refuses what is not an HF folder before config.json is even looked at: a GGML file
 * given directly, or a folder holding only GGML files. */
static bool
check_not_ggml (const char *folder, le_error *err)
{
  struct stat st;
  if (stat (folder, &st) != 0)
    return le_fail (err, LE_ERR_IO, "%s: %s", folder, strerror (errno));
  if (!S_ISDIR (st.st_mode))
    {
      if (is_ggml_file (folder))
        return refuse_ggml (folder, err);
      return le_fail (err, LE_ERR_INVALID, "%s is a file; a LLaMA-family base_model is a "
                      "Hugging Face folder with config.json and model.safetensors", folder);
    }
  char path[2048];
  snprintf (path, sizeof path, "%s/config.json", folder);
  if (stat (path, &st) == 0)
    return true;
  DIR *d = opendir (folder);
  if (d)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        {
          snprintf (path, sizeof path, "%s/%s", folder, e->d_name);
          if (e->d_name[0] != '.' && is_ggml_file (path))
            {
              closedir (d);
              return refuse_ggml (path, err);
            }
        }
      closedir (d);
    }
  return le_fail (err, LE_ERR_IO, "%s has no config.json; a LLaMA-family base_model is a "
                  "Hugging Face folder with config.json and model.safetensors", folder);
}

/* Declares one frozen tensor after checking the file has it with the expected shape. */
static tensor *
declare (llama_model *m, const st_set *set, const char *name, int ndim, const int64_t *shape,
         int dtype, le_error *err)
{
  const st_tensor *s = st_set_find (set, name);
  if (s == NULL)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: tensor %s is missing from the weights; the folder is "
               "incomplete or not a %s", m->folder, name, m->cfg.architecture);
      return NULL;
    }
  if (!weights_shape_is (s, ndim, shape))
    {
      char got[128], want[128];
      weights_shape_text (got, sizeof got, s->ndim, s->shape);
      weights_shape_text (want, sizeof want, ndim, shape);
      le_fail (err, LE_ERR_FORMAT, "%s: tensor %s has shape %s but config.json (hidden_size "
               "%lld, intermediate_size %lld, heads %lld/%lld kv, vocab_size %lld) needs %s; "
               "config.json does not match the weights", s->file_path, name, got,
               (long long) m->cfg.hidden, (long long) m->cfg.intermediate,
               (long long) m->cfg.n_heads, (long long) m->cfg.n_kv_heads,
               (long long) m->cfg.vocab, want);
      return NULL;
    }
  le_dtype dt;
  if (ndim == 1)
    dt = LE_F32;                 /* norms: every op but products wants F32 */
  else if (dtype != LLAMA_DTYPE_KEEP)
    dt = (le_dtype) dtype;
  else if (s->dtype == ST_F16)
    dt = LE_F16;
  else if (s->dtype == ST_BF16)
    dt = LE_BF16;
  else if (s->dtype == ST_F32 || s->dtype == ST_F64)
    dt = LE_F32;
  else
    {
      le_fail (err, LE_ERR_UNSUPPORTED, "%s: tensor %s is %s; only F32, F16 and BF16 weights "
               "can be loaded", s->file_path, name, st_dtype_name (s->dtype));
      return NULL;
    }
  return param_store_add (m->base, name, dt, ndim, shape, false, err);
}

/* Weights the loader would ignore but that change the maths: refused by name. */
static bool
check_unexpected (llama_model *m, const st_set *set, le_error *err)
{
  for (size_t i = 0; i < st_set_count (set); i++)
    {
      const char *name = st_set_at (set, i)->name;
      int layer;
      if (sscanf (name, "model.layers.%d.", &layer) == 1 && layer >= m->cfg.n_layers)
        return le_fail (err, LE_ERR_FORMAT, "%s: tensor %s belongs to layer %d but config.json "
                        "says num_hidden_layers is %lld; config.json does not match the "
                        "weights", m->folder, name, layer, (long long) m->cfg.n_layers);
      size_t n = strlen (name);
      if (n > 5 && strcmp (name + n - 5, ".bias") == 0 && strncmp (name, "model.", 6) == 0)
        return le_fail (err, LE_ERR_UNSUPPORTED, "%s: tensor %s is a bias, which LLaMA layers "
                        "do not have; this looks like another architecture (Qwen2, Phi, ...) "
                        "that is not supported", m->folder, name);
    }
  return true;
}

llama_model *
llama_model_load (const char *folder, int dtype, const backend *be, le_error *err)
{
  if (!check_not_ggml (folder, err))
    return NULL;
  if (dtype != LLAMA_DTYPE_KEEP && dtype != LE_F32 && dtype != LE_F16 && dtype != LE_BF16)
    {
      le_fail (err, LE_ERR_INVALID, "model dtype must be F32, F16 or BF16");
      return NULL;
    }
  llama_model *m = le_calloc (1, sizeof *m, "model", err);
  if (m == NULL)
    return NULL;
  m->be = be;
  snprintf (m->folder, sizeof m->folder, "%s", folder);
  st_set *set = NULL;
  if (!llama_config_load (folder, &m->cfg, err))
    goto fail;
  set = st_set_open (folder, err);
  if (set == NULL)
    goto fail;
  m->base = param_store_new (be, err);
  if (m->base == NULL)
    goto fail;
  if (!check_unexpected (m, set, err))
    goto fail;
  const llama_config *c = &m->cfg;
  int64_t C = c->hidden, D = c->head_dim, F = c->intermediate;
  int64_t qd = c->n_heads * D, kvd = c->n_kv_heads * D;
  m->layers = le_calloc ((size_t) c->n_layers, sizeof *m->layers, "layers", err);
  if (m->layers == NULL)
    goto fail;
  m->embed = declare (m, set, "model.embed_tokens.weight", 2, (int64_t[]) { c->vocab, C },
                      dtype, err);
  if (m->embed == NULL)
    goto fail;
  for (int64_t l = 0; l < c->n_layers; l++)
    {
      llama_layer *L = &m->layers[l];
      char name[LE_NAME_MAX];
      const int64_t shapes[LLAMA_N_LINEAR][2] = {
        { qd, C }, { kvd, C }, { kvd, C }, { C, qd }, { F, C }, { F, C }, { C, F }
      };
      for (int k = 0; k < LLAMA_N_LINEAR; k++)
        {
          snprintf (name, sizeof name, "model.layers.%lld.%s.%s.weight", (long long) l,
                    k <= LLAMA_O ? "self_attn" : "mlp", llama_linear_names[k]);
          if ((L->w[k] = declare (m, set, name, 2, shapes[k], dtype, err)) == NULL)
            goto fail;
        }
      snprintf (name, sizeof name, "model.layers.%lld.input_layernorm.weight", (long long) l);
      if ((L->attn_norm = declare (m, set, name, 1, &C, dtype, err)) == NULL)
        goto fail;
      snprintf (name, sizeof name, "model.layers.%lld.post_attention_layernorm.weight",
                (long long) l);
      if ((L->mlp_norm = declare (m, set, name, 1, &C, dtype, err)) == NULL)
        goto fail;
    }
  if ((m->norm = declare (m, set, "model.norm.weight", 1, &C, dtype, err)) == NULL)
    goto fail;
  if (c->tie_embeddings)
    m->lm_head = m->embed;
  else if ((m->lm_head = declare (m, set, "lm_head.weight", 2, (int64_t[]) { c->vocab, C },
                                  dtype, err)) == NULL)
    {
      if (st_set_find (set, "lm_head.weight") == NULL)
        le_error_prefix (err, "(config.json has tie_word_embeddings false) ");
      goto fail;
    }
  if (!param_store_commit (m->base, err) || !weights_upload_all (m->base, set, NULL, false, err)
      || !be->sync (err))
    goto fail;
  st_set_close (set);
  return m;
fail:
  st_set_close (set);
  llama_model_free (m);
  return NULL;
}

void
llama_model_free (llama_model *m)
{
  if (m == NULL)
    return;
  lora_set_free (m->lora);
  if (m->lora_targets)
    for (char **p = m->lora_targets; *p; p++)
      free (*p);
  free (m->lora_targets);
  param_store_free (m->base);
  free (m->layers);
  free (m->block_ctx);
  free (m->rope_cos);
  free (m->rope_sin);
  free (m);
}

void
llama_lora_name (char *buf, size_t n, int layer, int k)
{
  snprintf (buf, n, "base_model.model.model.layers.%d.%s.%s", layer,
            k <= LLAMA_O ? "self_attn" : "mlp", llama_linear_names[k]);
}

bool
llama_lora_attach (llama_model *m, const char *const *targets, int rank, float alpha,
                   float dropout, uint64_t seed, le_error *err)
{
  if (m->lora)
    return le_fail (err, LE_ERR_INVALID, "LoRA is already attached to this model");
  int n_targets = 0;
  for (; targets && targets[n_targets]; n_targets++)
    {
      bool known = false;
      for (int k = 0; k < LLAMA_N_LINEAR; k++)
        known |= strcmp (targets[n_targets], llama_linear_names[k]) == 0;
      if (!known)
        return le_fail (err, LE_ERR_INVALID, "target module \"%s\" is not a LLaMA linear "
                        "layer; choose from q_proj, k_proj, v_proj, o_proj, gate_proj, "
                        "up_proj, down_proj", targets[n_targets]);
    }
  if (n_targets == 0)
    return le_fail (err, LE_ERR_INVALID, "target_modules is empty; name at least one of "
                    "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
  m->lora = lora_set_new (m->be, rank, alpha, dropout, err);
  if (m->lora == NULL)
    return false;
  m->lora_targets = calloc ((size_t) n_targets + 1, sizeof (char *));
  if (m->lora_targets == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory");
  for (int i = 0; i < n_targets; i++)
    m->lora_targets[i] = strdup (targets[i]);
  for (int l = 0; l < m->cfg.n_layers; l++)
    for (int k = 0; k < LLAMA_N_LINEAR; k++)
      {
        char name[LORA_NAME_MAX];
        llama_lora_name (name, sizeof name, l, k);
        if (!lora_target_match (targets, name))
          continue;
        tensor *w = m->layers[l].w[k];
        m->layers[l].lora[k] = lora_set_add (m->lora, name, w->shape[0], w->shape[1], err);
        if (m->layers[l].lora[k] == NULL)
          return false;
      }
  return lora_set_commit (m->lora, seed, err);
}

int64_t
llama_n_base_params (const llama_model *m)
{
  return param_store_numel (m->base);
}

int64_t
llama_n_lora_params (const llama_model *m)
{
  return m->lora ? m->lora->ps->n_train : 0;
}

bool
llama_lora_load_adapter (llama_model *m, const char *dir, le_error *err)
{
  peft_adapter_config ac;
  if (!peft_adapter_config_load (dir, &ac, err))
    return false;
  bool ok = llama_lora_attach (m, (const char *const *) ac.target_modules, ac.rank,
                               (float) ac.alpha, (float) ac.dropout, 0, err);
  if (!ok)
    le_error_prefix (err, "%s/adapter_config.json: ", dir);
  peft_adapter_config_clear (&ac);
  return ok && peft_adapter_load_weights (m->lora, dir, err);
}
