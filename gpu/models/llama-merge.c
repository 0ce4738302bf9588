/* llama-merge.c: base + PEFT adapter -> a full model folder (see llama-merge.h). */
#include "llama-merge.h"

#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "hf-config.h"
#include "lora-peft.h"
#include "safetensors.h"

typedef struct {
  const st_tensor *w;            /* base weight */
  const st_tensor *a, *b;        /* adapter, or NULL */
  float scale;
  le_error *err;
} merge_item;

/* The adapter tensor of base weight NAME: "model.X.weight" -> "base_model.model.model.X.lora_?.weight" */
static const st_tensor *
find_lora (const st_file *f, const char *name, char which)
{
  size_t n = strlen (name);
  if (n < 8 || strcmp (name + n - 7, ".weight") != 0)
    return NULL;
  char key[512];
  snprintf (key, sizeof key, "base_model.model.%.*s.lora_%c.weight", (int) (n - 7), name, which);
  return st_find (f, key);
}

/* Streams one merged tensor in the base weight's dtype. */
static bool
fill_merged (void *user, st_sink *sink, le_error *err)
{
  merge_item *it = user;
  const st_tensor *w = it->w;
  int64_t out = w->shape[0], in = w->shape[1], r = it->a->shape[0];
  float *m = malloc ((size_t) w->numel * sizeof *m);
  float *a = malloc ((size_t) it->a->numel * sizeof *a);
  float *b = malloc ((size_t) it->b->numel * sizeof *b);
  bool ok = m && a && b;
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory merging %s", w->name);
  ok = ok && st_to_f32 (w, m, w->numel, err) && st_to_f32 (it->a, a, it->a->numel, err)
       && st_to_f32 (it->b, b, it->b->numel, err);
  if (ok)
    {
      // W (out, in) += scale * B (out, r) @ A (r, in)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) in, (int) r,
                   it->scale, b, (int) r, a, (int) in, 1.0f, m, (int) in);
      if (w->dtype == ST_F32)
        ok = st_sink_write (sink, m, (size_t) w->numel * 4, err);
      else
        {
          uint16_t *h = malloc ((size_t) w->numel * 2);
          ok = h != NULL;
          for (uint64_t i = 0; ok && i < w->numel; i++)
            h[i] = w->dtype == ST_F16 ? st_f32_to_f16 (m[i]) : st_f32_to_bf16 (m[i]);
          ok = ok && st_sink_write (sink, h, (size_t) w->numel * 2, err);
          free (h);
        }
    }
  free (m);
  free (a);
  free (b);
  return ok;
}

static bool
copy_file (const char *from, const char *to, le_error *err)
{
  FILE *in = fopen (from, "rb");
  if (in == NULL)
    return le_fail (err, LE_ERR_IO, "%s: cannot open: %s", from, strerror (errno));
  le_atomic_file f;
  if (!le_atomic_open (&f, to, err))
    {
      fclose (in);
      return false;
    }
  char buf[65536];
  size_t n;
  bool ok = true;
  while (ok && (n = fread (buf, 1, sizeof buf, in)) > 0)
    ok = le_atomic_write (&f, buf, n, err);
  fclose (in);
  if (!ok)
    {
      le_atomic_abort (&f);
      return false;
    }
  return le_atomic_commit (&f, err);
}

static void
remove_tree (const char *dir)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return;
  struct dirent *e;
  char path[4400];
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      {
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        unlink (path);
      }
  closedir (d);
  rmdir (dir);
}

bool
llama_merge_adapter (const char *base_folder, const char *adapter_dir, double weight,
                     const char *out_dir, le_error *err)
{
  llama_config cfg;
  if (!llama_config_load (base_folder, &cfg, err))
    return false;
  struct stat st;
  if (stat (out_dir, &st) == 0 && rmdir (out_dir) != 0)
    return le_fail (err, LE_ERR_INVALID, "%s already exists and is not empty; choose another "
                    "--out or remove it", out_dir);
  peft_adapter_config ac;
  if (!peft_adapter_config_load (adapter_dir, &ac, err))
    return false;
  float scale = (float) (weight * ac.alpha / ac.rank);
  peft_adapter_config_clear (&ac);
  char path[4400], tmp[3000];
  snprintf (path, sizeof path, "%s/adapter_model.safetensors", adapter_dir);
  st_file *af = st_open (path, err);
  if (af == NULL)
    return false;
  st_set *set = st_set_open (base_folder, err);
  if (set == NULL)
    {
      st_close (af);
      return false;
    }
  size_t n = st_set_count (set);
  st_write_tensor *ts = calloc (n ? n : 1, sizeof *ts);
  merge_item *items = calloc (n ? n : 1, sizeof *items);
  bool ok = ts && items;
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory");
  size_t used = 0;
  for (size_t i = 0; ok && i < n; i++)
    {
      const st_tensor *w = st_set_at (set, i);
      ts[i].name = w->name;
      ts[i].dtype = w->dtype;
      ts[i].ndim = w->ndim;
      memcpy (ts[i].shape, w->shape, sizeof ts[i].shape);
      const st_tensor *a = find_lora (af, w->name, 'A'), *b = find_lora (af, w->name, 'B');
      if (a == NULL && b == NULL)
        {
          ts[i].data = w->data;
          continue;
        }
      if (a == NULL || b == NULL || w->ndim != 2 || a->ndim != 2 || b->ndim != 2
          || a->shape[1] != w->shape[1] || b->shape[0] != w->shape[0]
          || a->shape[0] != b->shape[1])
        {
          ok = le_fail (err, LE_ERR_FORMAT, "%s: the LoRA tensors of %s are missing or do not "
                        "fit its shape; the adapter was trained for another model", path,
                        w->name);
          break;
        }
      if (w->dtype != ST_F32 && w->dtype != ST_F16 && w->dtype != ST_BF16)
        {
          ok = le_fail (err, LE_ERR_UNSUPPORTED, "%s: %s is %s; only F32, F16 and BF16 "
                        "weights can be merged", st_path (af), w->name, st_dtype_name (w->dtype));
          break;
        }
      items[i] = (merge_item) { w, a, b, scale, err };
      ts[i].fill = fill_merged;
      ts[i].user = &items[i];
      used += 2;
    }
  if (ok && used != st_count (af))
    ok = le_fail (err, LE_ERR_FORMAT, "%s: %zu of its %zu tensors match no weight of %s; the "
                  "adapter was trained for another model", path, st_count (af) - used,
                  st_count (af), base_folder);
  snprintf (tmp, sizeof tmp, "%s.partial-%ld", out_dir, (long) getpid ());
  if (ok)
    ok = le_mkdir_p (tmp, err);
  if (ok)
    {
      snprintf (path, sizeof path, "%s/model.safetensors", tmp);
      st_write_meta meta[] = { { "format", "pt" } };
      ok = st_write (path, ts, n, meta, 1, err);
    }
  static const char *const copied[] = {
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "tokenizer.model",
  };
  for (size_t i = 0; ok && i < sizeof copied / sizeof copied[0]; i++)
    {
      snprintf (path, sizeof path, "%s/%s", base_folder, copied[i]);
      if (stat (path, &st) != 0)
        continue;
      char to[4400];
      snprintf (to, sizeof to, "%s/%s", tmp, copied[i]);
      ok = copy_file (path, to, err);
    }
  if (ok && rename (tmp, out_dir) != 0)
    ok = le_fail (err, LE_ERR_IO, "cannot rename %s to %s: %s", tmp, out_dir, strerror (errno));
  if (!ok)
    remove_tree (tmp);
  free (ts);
  free (items);
  st_set_close (set);
  st_close (af);
  return ok;
}
