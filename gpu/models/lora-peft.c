/* lora-peft.c: PEFT adapter folders (adapter_model.safetensors + adapter_config.json). */
#include "lora-peft.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "json.h"
#include "read-file.h"
#include "safetensors.h"

static int
compare_names (const void *a, const void *b)
{
  return strcmp (((const st_write_tensor *) a)->name, ((const st_write_tensor *) b)->name);
}

/* A growing string buffer for the JSON text. */
typedef struct {
  char *s;
  size_t len, cap;
  bool failed;
} text_buf;

static void
buf_add (text_buf *b, const char *s)
{
  size_t n = strlen (s);
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap)
    {
      size_t cap = (b->len + n + 1) * 2;
      char *grown = realloc (b->s, cap);
      if (grown == NULL)
        {
          b->failed = true;
          return;
        }
      b->s = grown;
      b->cap = cap;
    }
  memcpy (b->s + b->len, s, n + 1);
  b->len += n;
}

static void
buf_add_string (text_buf *b, const char *s)
{
  size_t need = le_json_escape (NULL, 0, 0, s);
  char *tmp = malloc (need + 1);
  if (tmp == NULL)
    {
      b->failed = true;
      return;
    }
  le_json_escape (tmp, need + 1, 0, s);
  tmp[need] = '\0';
  buf_add (b, tmp);
  free (tmp);
}

static bool
write_config (const lora_set *set, const char *path, const char *task_type,
              const char *base_model, const char *const *targets, le_error *err)
{
  text_buf b = { 0 };
  char num[96];
  buf_add (&b, "{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n"
               "  \"base_model_name_or_path\": ");
  buf_add_string (&b, base_model ? base_model : "");
  buf_add (&b, ",\n  \"bias\": \"none\",\n  \"fan_in_fan_out\": false,\n"
               "  \"inference_mode\": true,\n  \"init_lora_weights\": true,\n"
               "  \"layers_pattern\": null,\n  \"layers_to_transform\": null,\n");
  /* %.7g: the decimal the user wrote (floats hold about 7 digits) */
  snprintf (num, sizeof num, "  \"lora_alpha\": %.7g,\n  \"lora_dropout\": %.7g,\n",
            (double) set->alpha, (double) set->dropout);
  buf_add (&b, num);
  buf_add (&b, "  \"modules_to_save\": null,\n  \"peft_type\": \"LORA\",\n");
  snprintf (num, sizeof num, "  \"r\": %d,\n  \"rank_pattern\": {},\n", set->rank);
  buf_add (&b, num);
  buf_add (&b, "  \"revision\": null,\n  \"target_modules\": [");
  for (int i = 0; targets && targets[i]; i++)
    {
      buf_add (&b, i ? ", " : "");
      buf_add_string (&b, targets[i]);
    }
  buf_add (&b, "],\n  \"task_type\": ");
  buf_add_string (&b, task_type ? task_type : "CAUSAL_LM");
  buf_add (&b, ",\n  \"use_dora\": false,\n  \"use_rslora\": false\n}\n");
  if (b.failed)
    {
      free (b.s);
      return le_fail (err, LE_ERR_MEMORY, "out of memory writing %s", path);
    }
  le_atomic_file f;
  bool ok = le_atomic_open (&f, path, err);
  if (ok && !le_atomic_write (&f, b.s, b.len, err))
    {
      le_atomic_abort (&f);
      ok = false;
    }
  else if (ok)
    ok = le_atomic_commit (&f, err);
  free (b.s);
  return ok;
}

bool
peft_adapter_save (const lora_set *set, const char *dir, const char *task_type,
                   const char *base_model, const char *const *target_modules, le_error *err)
{
  if (!le_mkdir_p (dir, err))
    return false;
  size_t n = 2 * (size_t) set->n;
  st_write_tensor *ts = le_calloc (n ? n : 1, sizeof *ts, "adapter tensors", err);
  char (*names)[LORA_NAME_MAX + 32] = le_calloc (n ? n : 1, sizeof *names, "adapter names",
                                                 err);
  float *host = le_calloc ((size_t) set->ps->n_train + 1, sizeof *host, "adapter weights", err);
  bool ok = ts && names && host;
  if (ok)
    {
      set->be->copy_d2h (host, set->ps->train_data, (size_t) set->ps->n_train * sizeof *host);
      ok = set->be->sync (err);
    }
  for (int i = 0; ok && i < set->n; i++)
    {
      const lora_linear *l = set->items[i];
      for (int k = 0; k < 2; k++)
        {
          const tensor *t = k == 0 ? l->a : l->b;
          size_t j = 2 * (size_t) i + (size_t) k;
          snprintf (names[j], sizeof names[j], "%s.lora_%c.weight", l->name, k ? 'B' : 'A');
          ts[j].name = names[j];
          ts[j].dtype = ST_F32;
          ts[j].ndim = 2;
          ts[j].shape[0] = t->shape[0];
          ts[j].shape[1] = t->shape[1];
          ts[j].data = host + ((float *) t->data - set->ps->train_data);
        }
    }
  if (ok)
    {
      qsort (ts, n, sizeof *ts, compare_names);
      char path[2048];
      snprintf (path, sizeof path, "%s/adapter_model.safetensors", dir);
      st_write_meta meta[] = { { "format", "pt" } };
      ok = st_write (path, ts, n, meta, 1, err);
      snprintf (path, sizeof path, "%s/adapter_config.json", dir);
      ok = ok && write_config (set, path, task_type, base_model, target_modules, err);
    }
  free (ts);
  free (names);
  free (host);
  return ok;
}

void
peft_adapter_config_clear (peft_adapter_config *cfg)
{
  if (cfg->target_modules)
    for (char **p = cfg->target_modules; *p; p++)
      free (*p);
  free (cfg->target_modules);
  memset (cfg, 0, sizeof *cfg);
}

bool
peft_adapter_config_load (const char *dir, peft_adapter_config *cfg, le_error *err)
{
  memset (cfg, 0, sizeof *cfg);
  char path[2048];
  snprintf (path, sizeof path, "%s/adapter_config.json", dir);
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return le_fail (err, LE_ERR_IO, "%s: cannot open: %s (an adapter folder holds "
                    "adapter_config.json and adapter_model.safetensors)", path, strerror (errno));
  char *text = malloc (1 << 20);
  size_t len = text ? fread (text, 1, (1 << 20) - 1, fp) : 0;
  fclose (fp);
  if (text == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
  le_json_doc doc;
  if (!le_json_parse (&doc, text, len, err))
    {
      free (text);
      return le_error_prefix (err, "%s: ", path);
    }
  bool ok = false;
  uint32_t v;
  uint64_t r;
  double d;
  if (doc.nodes[0].type != LE_JSON_OBJECT)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: not a JSON object", path);
      goto out;
    }
  v = le_json_member (&doc, 0, "peft_type");
  if (v != LE_JSON_NONE && doc.nodes[v].type == LE_JSON_STRING
      && strcmp (le_json_string (&doc, v), "LORA") != 0)
    {
      le_fail (err, LE_ERR_UNSUPPORTED, "%s: peft_type %s is not supported; only LORA", path,
               le_json_string (&doc, v));
      goto out;
    }
  v = le_json_member (&doc, 0, "r");
  if (v == LE_JSON_NONE || !le_json_uint64 (&doc, v, &r) || r < 1 || r > 65536)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: \"r\" must be a positive integer", path);
      goto out;
    }
  cfg->rank = (int) r;
  cfg->alpha = cfg->rank;
  v = le_json_member (&doc, 0, "lora_alpha");
  if (v != LE_JSON_NONE && (!le_json_double (&doc, v, &d) || !(d > 0)))
    {
      le_fail (err, LE_ERR_FORMAT, "%s: \"lora_alpha\" must be a positive number", path);
      goto out;
    }
  if (v != LE_JSON_NONE)
    cfg->alpha = d;
  v = le_json_member (&doc, 0, "lora_dropout");
  if (v != LE_JSON_NONE && le_json_double (&doc, v, &d))
    cfg->dropout = d;
  v = le_json_member (&doc, 0, "use_rslora");
  if (v != LE_JSON_NONE && doc.nodes[v].type == LE_JSON_TRUE)
    {
      le_fail (err, LE_ERR_UNSUPPORTED, "%s: use_rslora adapters are not supported", path);
      goto out;
    }
  v = le_json_member (&doc, 0, "task_type");
  if (v != LE_JSON_NONE && doc.nodes[v].type == LE_JSON_STRING)
    snprintf (cfg->task_type, sizeof cfg->task_type, "%s", le_json_string (&doc, v));
  v = le_json_member (&doc, 0, "base_model_name_or_path");
  if (v != LE_JSON_NONE && doc.nodes[v].type == LE_JSON_STRING)
    snprintf (cfg->base_model, sizeof cfg->base_model, "%s", le_json_string (&doc, v));
  v = le_json_member (&doc, 0, "target_modules");
  if (v == LE_JSON_NONE || (doc.nodes[v].type != LE_JSON_ARRAY
                            && doc.nodes[v].type != LE_JSON_STRING))
    {
      le_fail (err, LE_ERR_FORMAT, "%s: \"target_modules\" must be a list of module names",
               path);
      goto out;
    }
  {
    uint32_t count = doc.nodes[v].type == LE_JSON_ARRAY ? doc.nodes[v].count : 1;
    cfg->target_modules = calloc (count + 1, sizeof (char *));
    if (cfg->target_modules == NULL)
      {
        le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
        goto out;
      }
    uint32_t e = doc.nodes[v].type == LE_JSON_ARRAY ? doc.nodes[v].first : v;
    for (uint32_t i = 0; i < count; i++, e = doc.nodes[e].next)
      {
        if (doc.nodes[e].type != LE_JSON_STRING)
          {
            le_fail (err, LE_ERR_FORMAT, "%s: \"target_modules\" must hold strings", path);
            goto out;
          }
        cfg->target_modules[i] = strdup (le_json_string (&doc, e));
      }
  }
  ok = true;
out:
  le_json_free (&doc);
  free (text);
  if (!ok)
    peft_adapter_config_clear (cfg);
  return ok;
}

bool
peft_adapter_load_weights (lora_set *set, const char *path, le_error *err)
{
  char file[2048];
  le_file_in_folder (file, sizeof file, path, "adapter_model.safetensors");
  st_file *f = st_open (file, err);
  if (f == NULL)
    return false;
  bool ok = true;
  size_t used = 0;
  float *host = NULL;
  for (int i = 0; ok && i < set->n; i++)
    {
      const lora_linear *l = set->items[i];
      for (int k = 0; ok && k < 2; k++)
        {
          tensor *t = k == 0 ? l->a : l->b;
          char name[LORA_NAME_MAX + 32];
          snprintf (name, sizeof name, "%s.lora_%c.weight", l->name, k ? 'B' : 'A');
          const st_tensor *s = st_find (f, name);
          if (s == NULL)
            {
              ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor %s is missing (was the adapter "
                            "trained for this model and these target_modules?)", file, name);
              break;
            }
          if (s->ndim != 2 || s->shape[0] != t->shape[0] || s->shape[1] != t->shape[1])
            {
              ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor %s has shape (%lld, %lld), "
                            "expected (%lld, %lld)", file, name,
                            (long long) s->shape[0], (long long) (s->ndim > 1 ? s->shape[1] : 1),
                            (long long) t->shape[0], (long long) t->shape[1]);
              break;
            }
          float *grown = realloc (host, (size_t) t->numel * sizeof *host);
          if (grown == NULL)
            {
              ok = le_fail (err, LE_ERR_MEMORY, "out of memory loading %s", file);
              break;
            }
          host = grown;
          ok = st_to_f32 (s, host, (uint64_t) t->numel, err)
               && lora_tensor_from_host (set, t, host, err);
          used++;
        }
    }
  if (ok && used != st_count (f))
    for (size_t i = 0; i < st_count (f); i++)
      {
        const char *name = st_at (f, i)->name;
        bool known = false;
        for (int j = 0; j < set->n && !known; j++)
          known = strncmp (name, set->items[j]->name, strlen (set->items[j]->name)) == 0
                  && name[strlen (set->items[j]->name)] == '.';
        if (!known)
          {
            ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor %s does not belong to any LoRA "
                          "module of this model", file, name);
            break;
          }
      }
  free (host);
  st_close (f);
  return ok;
}
