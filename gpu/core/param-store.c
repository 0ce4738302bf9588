/* param-store.c: named tensors in one frozen, one trainable and one gradient allocation
 * (see param-store.h). */
#include "param-store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FROZEN_ALIGN 256

param_store *
param_store_new (const backend *be, le_error *err)
{
  param_store *ps = le_calloc (1, sizeof *ps, "a parameter store", err);
  if (ps)
    ps->be = be;
  return ps;
}

void
param_store_free (param_store *ps)
{
  if (ps == NULL)
    return;
  if (ps->frozen_data)
    ps->be->free (ps->frozen_data);
  if (ps->train_data)
    ps->be->free (ps->train_data);
  if (ps->train_grad)
    ps->be->free (ps->train_grad);
  for (int i = 0; i < ps->n_tensors; i++)
    free (ps->tensors[i]);
  free (ps->tensors);
  free (ps);
}

tensor *
param_store_get (const param_store *ps, const char *name)
{
  for (int i = 0; i < ps->n_tensors; i++)
    if (strcmp (ps->tensors[i]->name, name) == 0)
      return ps->tensors[i];
  return NULL;
}

int64_t
param_store_numel (const param_store *ps)
{
  int64_t n = 0;
  for (int i = 0; i < ps->n_tensors; i++)
    n += ps->tensors[i]->numel;
  return n;
}

tensor *
param_store_add (param_store *ps, const char *name, le_dtype dt, int ndim,
                 const int64_t *shape, bool requires_grad, le_error *err)
{
  if (ps->committed)
    {
      le_fail (err, LE_ERR_INVALID, "parameter %s declared after the store was committed", name);
      return NULL;
    }
  if (strlen (name) >= LE_NAME_MAX)
    {
      le_fail (err, LE_ERR_INVALID, "parameter name too long (%zu bytes, at most %d): %s",
               strlen (name), LE_NAME_MAX - 1, name);
      return NULL;
    }
  if (param_store_get (ps, name))
    {
      le_fail (err, LE_ERR_INVALID, "parameter %s declared twice", name);
      return NULL;
    }
  if (requires_grad && dt != LE_F32)
    {
      le_fail (err, LE_ERR_INVALID, "trainable parameter %s must be F32, not %s", name,
               dtype_name (dt));
      return NULL;
    }
  if (ps->n_tensors == ps->cap_tensors)
    {
      int cap = ps->cap_tensors ? 2 * ps->cap_tensors : 64;
      tensor **grown = realloc (ps->tensors, (size_t) cap * sizeof *grown);
      if (grown == NULL)
        {
          le_fail (err, LE_ERR_MEMORY, "out of memory declaring parameter %s", name);
          return NULL;
        }
      ps->tensors = grown;
      ps->cap_tensors = cap;
    }
  tensor *t = le_calloc (1, sizeof *t, name, err);
  if (t == NULL)
    return NULL;
  snprintf (t->name, sizeof t->name, "%s", name);
  t->dtype = dt;
  t->device = ps->be->device;
  t->requires_grad = requires_grad;
  t->is_param = true;
  if (!tensor_set_shape (t, ndim, shape, err))
    {
      free (t);
      return NULL;
    }
  ps->tensors[ps->n_tensors++] = t;
  return t;
}

bool
param_store_commit (param_store *ps, le_error *err)
{
  if (ps->committed)
    return le_fail (err, LE_ERR_INVALID, "parameter store committed twice");
  size_t frozen = 0;
  int64_t train = 0;
  for (int i = 0; i < ps->n_tensors; i++)
    {
      tensor *t = ps->tensors[i];
      if (t->requires_grad)
        train += t->numel;
      else
        frozen = (frozen + FROZEN_ALIGN - 1) / FROZEN_ALIGN * FROZEN_ALIGN + tensor_bytes (t);
    }
  if (frozen && !(ps->frozen_data = ps->be->alloc (frozen, err)))
    return le_error_prefix (err, "frozen weights (%zu MiB)", frozen >> 20);
  if (train)
    {
      size_t bytes = (size_t) train * sizeof (float);
      if (!(ps->train_data = ps->be->alloc (bytes, err))
          || !(ps->train_grad = ps->be->alloc (bytes, err)))
        return le_error_prefix (err, "trainable weights (%zu MiB)", bytes >> 20);
      ps->be->memset_zero (ps->train_data, bytes);
      ps->be->memset_zero (ps->train_grad, bytes);
    }
  ps->frozen_bytes = frozen;
  ps->n_train = train;
  size_t off = 0;
  int64_t toff = 0;
  for (int i = 0; i < ps->n_tensors; i++)
    {
      tensor *t = ps->tensors[i];
      if (t->requires_grad)
        {
          t->data = ps->train_data + toff;
          t->grad = ps->train_grad + toff;
          toff += t->numel;
        }
      else
        {
          off = (off + FROZEN_ALIGN - 1) / FROZEN_ALIGN * FROZEN_ALIGN;
          t->data = (char *) ps->frozen_data + off;
          off += tensor_bytes (t);
        }
    }
  ps->committed = true;
  return true;
}

bool
param_store_upload (param_store *ps, tensor *t, const void *host, size_t bytes, le_error *err)
{
  if (!ps->committed)
    return le_fail (err, LE_ERR_INVALID, "parameter %s uploaded before commit", t->name);
  if (bytes != tensor_bytes (t))
    return le_fail (err, LE_ERR_INVALID, "parameter %s holds %zu bytes, got %zu", t->name,
                    tensor_bytes (t), bytes);
  ps->be->copy_h2d (t->data, host, bytes);
  return true;
}

void
param_store_zero_grad (param_store *ps)
{
  if (ps->n_train)
    ps->be->memset_zero (ps->train_grad, (size_t) ps->n_train * sizeof (float));
}
