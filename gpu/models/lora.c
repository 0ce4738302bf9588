/* lora.c: LoRA adapters on frozen linear layers (see lora.h). */
#include "lora.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "math-common.h"
#include "ops.h"

lora_set *
lora_set_new (const backend *be, int rank, float alpha, float dropout, le_error *err)
{
  if (rank < 1)
    {
      le_fail (err, LE_ERR_INVALID, "lora_rank must be at least 1, not %d", rank);
      return NULL;
    }
  if (!(alpha > 0))
    {
      le_fail (err, LE_ERR_INVALID, "lora_alpha must be positive");
      return NULL;
    }
  if (!(dropout >= 0 && dropout < 1))
    {
      le_fail (err, LE_ERR_INVALID, "lora_dropout must be in [0, 1), not %g", dropout);
      return NULL;
    }
  lora_set *set = le_calloc (1, sizeof *set, "LoRA set", err);
  if (set == NULL)
    return NULL;
  set->ps = param_store_new (be, err);
  if (set->ps == NULL)
    {
      free (set);
      return NULL;
    }
  set->be = be;
  set->rank = rank;
  set->alpha = alpha;
  set->dropout = dropout;
  set->owns_ps = true;
  snprintf (set->prefix, sizeof set->prefix, "lora");
  return set;
}

lora_set *
lora_set_new_shared (lora_set *owner, const char *prefix, int rank, float alpha,
                     float dropout, le_error *err)
{
  if (strcmp (prefix, owner->prefix) == 0)
    {
      le_fail (err, LE_ERR_INVALID, "LoRA sets sharing a store need distinct name prefixes");
      return NULL;
    }
  lora_set *set = lora_set_new (owner->be, rank, alpha, dropout, err);
  if (set == NULL)
    return NULL;
  param_store_free (set->ps);
  set->ps = owner->ps;
  set->owns_ps = false;
  snprintf (set->prefix, sizeof set->prefix, "%s", prefix);
  return set;
}

void
lora_set_free (lora_set *set)
{
  if (set == NULL)
    return;
  for (int i = 0; i < set->n; i++)
    free (set->items[i]);
  free (set->items);
  if (set->owns_ps)
    param_store_free (set->ps);
  free (set);
}

lora_linear *
lora_set_add (lora_set *set, const char *name, int64_t out, int64_t in, le_error *err)
{
  if (strlen (name) >= LORA_NAME_MAX)
    {
      le_fail (err, LE_ERR_INVALID, "LoRA module name too long: %s", name);
      return NULL;
    }
  if (lora_set_find (set, name))
    {
      le_fail (err, LE_ERR_INVALID, "LoRA module %s added twice", name);
      return NULL;
    }
  if (set->n == set->cap)
    {
      int cap = set->cap ? 2 * set->cap : 64;
      lora_linear **grown = realloc (set->items, (size_t) cap * sizeof *grown);
      if (grown == NULL)
        {
          le_fail (err, LE_ERR_MEMORY, "out of memory declaring LoRA modules");
          return NULL;
        }
      set->items = grown;
      set->cap = cap;
    }
  lora_linear *l = le_calloc (1, sizeof *l, "LoRA module", err);
  if (l == NULL)
    return NULL;
  snprintf (l->name, sizeof l->name, "%s", name);
  l->in = in;
  l->out = out;
  l->scale = set->alpha / (float) set->rank;
  /* The store's names are short (its limit is LE_NAME_MAX); the PEFT name lives here. */
  char pname[64];
  snprintf (pname, sizeof pname, "%s.%d.A", set->prefix, set->n);
  l->a = param_store_add (set->ps, pname, LE_F32, 2, (int64_t[]) { set->rank, in }, true, err);
  snprintf (pname, sizeof pname, "%s.%d.B", set->prefix, set->n);
  if (l->a)
    l->b = param_store_add (set->ps, pname, LE_F32, 2, (int64_t[]) { out, set->rank }, true,
                            err);
  if (l->b == NULL)
    {
      free (l);
      return NULL;
    }
  set->items[set->n++] = l;
  return l;
}

lora_linear *
lora_set_find (const lora_set *set, const char *name)
{
  for (int i = 0; i < set->n; i++)
    if (strcmp (set->items[i]->name, name) == 0)
      return set->items[i];
  return NULL;
}

bool
lora_set_commit (lora_set *set, uint64_t seed, le_error *err)
{
  if (set->n == 0)
    return le_fail (err, LE_ERR_INVALID, "no layer matched the LoRA target modules");
  /* a shared store is committed by the first of its sets; commit zeroes it (B = 0) */
  if (!set->ps->committed && !param_store_commit (set->ps, err))
    return false;
  /* only this set's A are written, one tensor at a time, so the other sets of a shared
   * store keep their values */
  int64_t most = 0;
  for (int i = 0; i < set->n; i++)
    most = set->items[i]->a->numel > most ? set->items[i]->a->numel : most;
  float *host = le_calloc ((size_t) most, sizeof *host, "LoRA init", err);
  if (host == NULL)
    return false;
  uint64_t state = seed;
  for (int i = 0; i < set->n; i++)
    {
      lora_linear *l = set->items[i];
      /* kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / 6), bound = gain * sqrt(3 / fan_in)
       * = 1 / sqrt(fan_in). */
      float bound = 1.0f / sqrtf ((float) l->in);
      for (int64_t k = 0; k < l->a->numel; k++)
        {
          double u = (double) (le_splitmix64_next (&state) >> 11) * (1.0 / 9007199254740992.0);
          host[k] = (float) ((2.0 * u - 1.0) * bound);
        }
      set->be->copy_h2d (l->a->data, host, (size_t) l->a->numel * sizeof *host);
    }
  free (host);
  param_store_zero_grad (set->ps);
  return set->be->sync (err);
}

tensor *
lora_linear_forward (graph *g, const lora_linear *lora, tensor *x, tensor *w, tensor *bias,
                     float dropout)
{
  tensor *y = op_linear (g, x, w, bias);             // (..., out)
  if (lora == NULL || y == NULL)
    return y;
  tensor *xd = dropout > 0 ? op_dropout (g, x, dropout) : x;
  tensor *h = op_linear (g, xd, lora->a, NULL);      // (..., r)
  tensor *d = op_linear (g, h, lora->b, NULL);       // (..., out)
  d = op_scale (g, d, lora->scale);
  return op_add (g, y, d);
}

bool
lora_target_match (const char *const *targets, const char *module_path)
{
  size_t plen = strlen (module_path);
  for (; targets && *targets; targets++)
    {
      size_t tlen = strlen (*targets);
      if (tlen == 0 || tlen > plen)
        continue;
      /* whole path, or a suffix that starts after a '.' (PEFT's rule for plain names) */
      if (strcmp (module_path + plen - tlen, *targets) == 0
          && (tlen == plen || module_path[plen - tlen - 1] == '.'))
        return true;
    }
  return false;
}

bool
lora_tensor_to_host (const lora_set *set, const tensor *t, float *host, le_error *err)
{
  set->be->copy_d2h (host, t->data, (size_t) t->numel * sizeof (float));
  return set->be->sync (err);
}

bool
lora_tensor_from_host (lora_set *set, tensor *t, const float *host, le_error *err)
{
  set->be->copy_h2d (t->data, host, (size_t) t->numel * sizeof (float));
  return set->be->sync (err);
}
