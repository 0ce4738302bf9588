/* kohya.c: writing and reading SD LoRA files in kohya and diffusers naming, and the
 * merge arithmetic W + scale * up @ down (see kohya.h). */
#include "kohya.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lora_set *
entry_set (const sd15_model *m, const sd15_lora_entry *e)
{
  if (e->text_encoder)
    return m->lora_text;
  for (int i = 0; m->lora_conv && i < m->lora_conv->n; i++)
    if (m->lora_conv->items[i] == e->lora)
      return m->lora_conv;
  return m->lora_unet;
}

bool
kohya_save (const sd15_model *m, const char *path, bool diffusers_names,
            const st_write_meta *meta, size_t n_meta, le_error *err)
{
  int n = sd15_lora_count (m);
  if (n == 0)
    return le_fail (err, LE_ERR_INVALID, "%s: the model has no LoRA to save", path);
  st_write_tensor *ts = calloc ((size_t) n * 3, sizeof *ts);
  char (*names)[200] = calloc ((size_t) n * 3, sizeof *names);
  float **bufs = calloc ((size_t) n * 3, sizeof *bufs);
  bool ok = ts && names && bufs;
  if (!ok)
    le_fail (err, LE_ERR_MEMORY, "out of memory saving %s", path);
  int k = 0;
  for (int i = 0; ok && i < n; i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      const lora_linear *l = e->lora;
      lora_set *set = entry_set (m, e);
      int64_t r = l->a->shape[0];
      float *a = malloc ((size_t) l->a->numel * sizeof *a);
      float *b = malloc ((size_t) l->b->numel * sizeof *b);
      float *alpha = malloc (sizeof *alpha);
      bufs[k] = a;
      bufs[k + 1] = b;
      bufs[k + 2] = alpha;
      if (a == NULL || b == NULL || alpha == NULL)
        {
          ok = le_fail (err, LE_ERR_MEMORY, "out of memory saving %s", path);
          break;
        }
      ok = lora_tensor_to_host (set, l->a, a, err) && lora_tensor_to_host (set, l->b, b, err);
      *alpha = l->scale * (float) r;
      const char *base = diffusers_names ? e->peft : e->kohya;
      snprintf (names[k], 200, "%s.%s", base, diffusers_names ? "lora_A.weight" : "lora_down.weight");
      snprintf (names[k + 1], 200, "%s.%s", base, diffusers_names ? "lora_B.weight" : "lora_up.weight");
      snprintf (names[k + 2], 200, "%s.alpha", base);
      const tensor *w = e->module->w;
      ts[k] = (st_write_tensor) { .name = names[k], .dtype = ST_F32, .data = a };
      ts[k + 1] = (st_write_tensor) { .name = names[k + 1], .dtype = ST_F32, .data = b };
      if (w->ndim == 4)
        {
          ts[k].ndim = 4;
          ts[k].shape[0] = r;
          ts[k].shape[1] = w->shape[1];
          ts[k].shape[2] = w->shape[2];
          ts[k].shape[3] = w->shape[3];
          ts[k + 1].ndim = 4;
          ts[k + 1].shape[0] = w->shape[0];
          ts[k + 1].shape[1] = r;
          ts[k + 1].shape[2] = 1;
          ts[k + 1].shape[3] = 1;
        }
      else
        {
          ts[k].ndim = 2;
          ts[k].shape[0] = r;
          ts[k].shape[1] = l->in;
          ts[k + 1].ndim = 2;
          ts[k + 1].shape[0] = l->out;
          ts[k + 1].shape[1] = r;
        }
      k += 2;
      /* diffusers' PEFT files carry no alpha tensors: the scale is in the metadata */
      if (!diffusers_names)
        {
          ts[k] = (st_write_tensor) { .name = names[k], .dtype = ST_F32, .ndim = 0,
                                      .data = alpha };
          k++;
        }
    }
  if (ok)
    ok = st_write (path, ts, (size_t) k, meta, n_meta, err);
  for (int i = 0; bufs && i < n * 3; i++)
    free (bufs[i]);
  free (bufs);
  free (names);
  free (ts);
  return ok;
}

static const char *const all_unet[] = {
  "to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "proj_in", "proj_out",
  NULL
};

/* The down/A tensor of module BASE in either naming, or NULL. */
static const st_tensor *
find_down (const st_file *f, const sd15_lora_entry *e, const st_tensor **up,
           const st_tensor **alpha)
{
  char name[220];
  snprintf (name, sizeof name, "%s.lora_down.weight", e->kohya);
  const st_tensor *d = st_find (f, name);
  if (d != NULL)
    {
      snprintf (name, sizeof name, "%s.lora_up.weight", e->kohya);
      *up = st_find (f, name);
      snprintf (name, sizeof name, "%s.alpha", e->kohya);
      *alpha = st_find (f, name);
      return d;
    }
  snprintf (name, sizeof name, "%s.lora_A.weight", e->peft);
  d = st_find (f, name);
  snprintf (name, sizeof name, "%s.lora_B.weight", e->peft);
  *up = st_find (f, name);
  snprintf (name, sizeof name, "%s.alpha", e->peft);
  *alpha = st_find (f, name);
  return d;
}

static bool
is_down (const char *name)
{
  size_t n = strlen (name);
  return (n > 17 && strcmp (name + n - 17, ".lora_down.weight") == 0)
         || (n > 14 && strcmp (name + n - 14, ".lora_A.weight") == 0);
}

bool
kohya_load (sd15_model *m, const char *path, float weight, le_error *err)
{
  st_file *f = st_open (path, err);
  if (f == NULL)
    return false;
  /* ranks from the file: first linear UNet, conv UNet and text encoder adapter */
  int rank = 0, conv_rank = 0, te = 0;
  size_t n_down = 0;
  for (size_t i = 0; i < st_count (f); i++)
    {
      const st_tensor *t = st_at (f, i);
      if (!is_down (t->name))
        continue;
      n_down++;
      bool text = strncmp (t->name, "lora_te_", 8) == 0 || strncmp (t->name, "text_encoder.", 13) == 0;
      bool conv = t->ndim == 4 && (t->shape[2] > 1 || t->shape[3] > 1);
      if (text)
        te = te ? te : (int) t->shape[0];
      else if (conv)
        conv_rank = conv_rank ? conv_rank : (int) t->shape[0];
      else if (rank == 0)
        rank = (int) t->shape[0];
    }
  if (n_down == 0)
    {
      st_close (f);
      return le_fail (err, LE_ERR_FORMAT,
                      "%s: no LoRA tensors (.lora_down.weight or .lora_A.weight) in this "
                      "file; pick a LoRA made for SD 1.5", path);
    }
  sd15_lora_options o;
  sd15_lora_defaults (&o);
  o.unet_targets = all_unet;
  o.rank = rank ? rank : (te ? te : conv_rank);
  o.alpha = (float) o.rank;
  o.conv_rank = conv_rank;
  o.text_encoder = te > 0;
  if (te && rank && te != rank)
    {
      st_close (f);
      return le_fail (err, LE_ERR_UNSUPPORTED,
                      "%s: the text encoder adapters have rank %d and the UNet's %d; LoRAs "
                      "with different ranks per part are not supported yet", path, te, rank);
    }
  if (!sd15_lora_attach (m, &o, err))
    {
      st_close (f);
      return false;
    }
  size_t used = 0;
  bool ok = true;
  for (int i = 0; ok && i < sd15_lora_count (m); i++)
    {
      const sd15_lora_entry *e = sd15_lora_at (m, i);
      lora_linear *l = e->lora;
      const st_tensor *up = NULL, *al = NULL;
      const st_tensor *down = find_down (f, e, &up, &al);
      if (down == NULL)
        continue;
      used++;
      if (up == NULL || (uint64_t) l->a->numel != down->numel
          || (uint64_t) l->b->numel != up->numel)
        {
          ok = le_fail (err, LE_ERR_FORMAT,
                        "%s: tensor %s has shape or rank that does not fit module %s of "
                        "this model (or its up tensor is missing)", path, down->name,
                        e->peft);
          break;
        }
      float *a = malloc ((size_t) down->numel * sizeof *a);
      float *b = malloc ((size_t) up->numel * sizeof *b);
      float alpha = (float) l->a->shape[0];
      ok = a && b && st_to_f32 (down, a, down->numel, err) && st_to_f32 (up, b, up->numel, err);
      if (ok && al != NULL && al->numel == 1)
        ok = st_to_f32 (al, &alpha, 1, err);
      lora_set *set = entry_set (m, e);
      if (ok)
        ok = lora_tensor_from_host (set, l->a, a, err) && lora_tensor_from_host (set, l->b, b, err);
      l->scale = weight * alpha / (float) l->a->shape[0];
      free (a);
      free (b);
    }
  if (ok && used != n_down)
    {
      for (size_t i = 0; i < st_count (f); i++)
        {
          const st_tensor *t = st_at (f, i);
          if (!is_down (t->name))
            continue;
          bool found = false;
          for (int j = 0; j < sd15_lora_count (m) && !found; j++)
            {
              const sd15_lora_entry *e = sd15_lora_at (m, j);
              size_t lk = strlen (e->kohya), lp = strlen (e->peft);
              found = (strncmp (t->name, e->kohya, lk) == 0 && t->name[lk] == '.')
                      || (strncmp (t->name, e->peft, lp) == 0 && t->name[lp] == '.');
            }
          if (!found)
            {
              ok = le_fail (err, LE_ERR_FORMAT,
                            "%s: %s matches no module of this SD 1.5 model (%zu of %zu "
                            "adapters do not fit); is the LoRA made for another model "
                            "(SDXL, SD 2)?", path, t->name, n_down - used, n_down);
              break;
            }
        }
    }
  st_close (f);
  return ok;
}

bool
kohya_merge_entry (const sd15_model *m, const sd15_lora_entry *e, const float *w_in,
                   float *w_out, le_error *err)
{
  const lora_linear *l = e->lora;
  lora_set *set = entry_set (m, e);
  int64_t r = l->a->shape[0], in = l->in, out = l->out;
  float *a = malloc ((size_t) (r * in) * sizeof *a);
  float *b = malloc ((size_t) (out * r) * sizeof *b);
  bool ok = a && b && lora_tensor_to_host (set, l->a, a, err)
            && lora_tensor_to_host (set, l->b, b, err);
  if (ok)
    for (int64_t o = 0; o < out; o++)
      for (int64_t i = 0; i < in; i++)
        {
          double s = 0;
          for (int64_t k = 0; k < r; k++)
            s += (double) b[o * r + k] * a[k * in + i];
          w_out[o * in + i] = (float) (w_in[o * in + i] + l->scale * s);
        }
  else if (a == NULL || b == NULL)
    le_fail (err, LE_ERR_MEMORY, "out of memory merging %s", e->peft);
  free (a);
  free (b);
  return ok;
}
