/* kohya-merge.c: SD LoRA merge into a single-file LDM checkpoint (see kohya-merge.h). */
#include "kohya-merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kohya.h"
#include "safetensors.h"

static st_dtype
st_of (le_dtype d)
{
  return d == LE_F16 ? ST_F16 : d == LE_BF16 ? ST_BF16 : ST_F32;
}

bool
sd_merge_lora (const char *base, const char *lora, float weight, const char *out,
               int *n_merged, le_error *err)
{
  sd15_model *m = sd15_model_load (base, SD15_LOAD_ALL, SD15_DTYPE_KEEP, &backend_cpu, err);
  if (m == NULL)
    return false;
  if (!kohya_load (m, lora, weight, err))
    {
      sd15_model_free (m);
      return false;
    }
  sd15_name *names = NULL;
  size_t n = 0;
  bool ok = sd15_names (&m->cfg, SD15_LOAD_ALL, &names, &n, err);
  st_write_tensor *ts = ok ? calloc (n, sizeof *ts) : NULL;
  void **owned = ok ? calloc (n, sizeof *owned) : NULL;
  ok = ok && ts && owned;
  int merged = 0;
  for (size_t i = 0; ok && i < n; i++)
    {
      const sd15_name *nm = &names[i];
      tensor *t = param_store_get (m->base, nm->diffusers);
      if (t == NULL)
        {
          ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor %s is missing after loading", base,
                        nm->diffusers);
          break;
        }
      ts[i].name = nm->ldm;
      ts[i].dtype = st_of (t->dtype);
      ts[i].ndim = t->ndim;
      for (int d = 0; d < t->ndim; d++)
        ts[i].shape[d] = t->shape[d];
      if (nm->ldm_conv1x1 && t->ndim == 2)
        {
          ts[i].ndim = 4;
          ts[i].shape[2] = ts[i].shape[3] = 1;
        }
      ts[i].data = t->data;      /* the CPU backend's memory is host memory */
      /* an adapted module's weight: merge in F32, store in the tensor's dtype */
      for (int k = 0; k < sd15_lora_count (m); k++)
        {
          const sd15_lora_entry *e = sd15_lora_at (m, k);
          if (e->module->w != t)
            continue;
          float *w = malloc ((size_t) t->numel * sizeof *w);
          float *mw = malloc ((size_t) t->numel * sizeof *mw);
          void *store = malloc ((size_t) t->numel * dtype_size (t->dtype));
          ok = w && mw && store;
          if (ok)
            {
              tensor_convert_host (w, LE_F32, t->data, t->dtype, (size_t) t->numel);
              ok = kohya_merge_entry (m, e, w, mw, err);
              tensor_convert_host (store, t->dtype, mw, LE_F32, (size_t) t->numel);
            }
          else
            le_fail (err, LE_ERR_MEMORY, "out of memory merging %s", e->peft);
          free (w);
          free (mw);
          owned[i] = store;
          ts[i].data = store;
          merged++;
          break;
        }
    }
  if (ok)
    {
      char count[32], w[32];
      snprintf (count, sizeof count, "%d", merged);
      snprintf (w, sizeof w, "%g", weight);
      /* the head counts, which the weights cannot tell, as the fixture writes them */
      char heads[32], clip_heads[32];
      snprintf (heads, sizeof heads, "%lld", (long long) m->cfg.heads[0]);
      snprintf (clip_heads, sizeof clip_heads, "%lld", (long long) m->cfg.clip_heads);
      st_write_meta meta[] = { { "format", "pt" }, { "lora_studio_merged_lora", lora },
                               { "lora_studio_merged_weight", w },
                               { "lora_studio_merged_modules", count },
                               { "sd15_unet_heads", heads }, { "sd15_clip_heads", clip_heads } };
      ok = st_write (out, ts, n, meta, 6, err);
    }
  for (size_t i = 0; owned && i < n; i++)
    free (owned[i]);
  free (owned);
  free (ts);
  free (names);
  sd15_model_free (m);
  if (ok && n_merged)
    *n_merged = merged;
  return ok;
}
