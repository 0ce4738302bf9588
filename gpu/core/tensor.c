/* tensor.c: dtype names and sizes, shapes, host-side dtype conversion (see tensor.h). */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

#include "math-common.h"

size_t
dtype_size (le_dtype dt)
{
  switch (dt)
    {
    case LE_F32: return 4;
    case LE_F16: return 2;
    case LE_BF16: return 2;
    case LE_I32: return 4;
    }
  return 0;
}

const char *
dtype_name (le_dtype dt)
{
  switch (dt)
    {
    case LE_F32: return "F32";
    case LE_F16: return "F16";
    case LE_BF16: return "BF16";
    case LE_I32: return "I32";
    }
  return "?";
}

bool
dtype_from_name (const char *name, le_dtype *out)
{
  static const le_dtype all[] = { LE_F32, LE_F16, LE_BF16, LE_I32 };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (strcmp (name, dtype_name (all[i])) == 0)
      {
        *out = all[i];
        return true;
      }
  return false;
}

bool
tensor_set_shape (tensor *t, int ndim, const int64_t *shape, le_error *err)
{
  if (ndim < 1 || ndim > LE_MAX_DIMS)
    return le_fail (err, LE_ERR_INVALID, "tensor %s: %d dims, expected 1 to %d",
                    t->name, ndim, LE_MAX_DIMS);
  int64_t numel = 1;
  for (int d = 0; d < LE_MAX_DIMS; d++)
    {
      int64_t s = d < ndim ? shape[d] : 1;
      if (s < 1)
        return le_fail (err, LE_ERR_INVALID, "tensor %s: dim %d has size %lld",
                        t->name, d, (long long) s);
      t->shape[d] = s;
      numel *= s;
    }
  t->ndim = ndim;
  t->numel = numel;
  return true;
}

size_t
tensor_bytes (const tensor *t)
{
  return (size_t) t->numel * dtype_size (t->dtype);
}

bool
tensor_same_shape (const tensor *a, const tensor *b)
{
  if (a->ndim != b->ndim)
    return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d])
      return false;
  return true;
}

const char *
tensor_shape_str (const tensor *t, char *buf, size_t n)
{
  size_t off = 0;
  off += (size_t) snprintf (buf + off, n - off, "(");
  for (int d = 0; d < t->ndim && off < n; d++)
    off += (size_t) snprintf (buf + off, n - off, d ? ", %lld" : "%lld",
                              (long long) t->shape[d]);
  if (off < n)
    snprintf (buf + off, n - off, ")");
  return buf;
}

static float
load_f (const void *src, le_dtype dt, size_t i)
{
  switch (dt)
    {
    case LE_F16: return le_f16_to_f32 (((const uint16_t *) src)[i]);
    case LE_BF16: return le_bf16_to_f32 (((const uint16_t *) src)[i]);
    case LE_I32: return (float) ((const int32_t *) src)[i];
    default: return ((const float *) src)[i];
    }
}

void
tensor_convert_host (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, size_t n)
{
  if (dst_dt == src_dt)
    {
      memmove (dst, src, n * dtype_size (dst_dt));
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      float v = load_f (src, src_dt, i);
      switch (dst_dt)
        {
        case LE_F16: ((uint16_t *) dst)[i] = le_f32_to_f16 (v); break;
        case LE_BF16: ((uint16_t *) dst)[i] = le_f32_to_bf16 (v); break;
        case LE_I32: ((int32_t *) dst)[i] = (int32_t) v; break;
        default: ((float *) dst)[i] = v; break;
        }
    }
}
