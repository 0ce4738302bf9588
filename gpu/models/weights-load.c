/* weights-load.c: the shape checks and the one upload loop from safetensors into a
 * param_store that every model loader shares (see weights-load.h). */
#include "weights-load.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

bool
weights_shape_is (const st_tensor *s, int ndim, const int64_t *shape)
{
  bool same = s->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = s->shape[i] == shape[i];
  return same;
}

void
weights_shape_text (char *buf, size_t n, int ndim, const int64_t *shape)
{
  snprintf (buf, n, "(");
  for (int i = 0; i < ndim; i++)
    snprintf (buf + strlen (buf), n - strlen (buf), "%s%lld", i ? ", " : "",
              (long long) shape[i]);
  snprintf (buf + strlen (buf), n - strlen (buf), ")");
}

/* Drops the mapped file's pages of a tensor that was just copied from the resident set.
 * Without it the whole file stayed resident next to its copy until the end of loading:
 * peak RSS of ViT-B/32 in F32 was 1172 MB where 658 MB stay (bench/caption-bench.py).
 * The mapping is read-only and private, so a page touched again (a neighbour tensor's
 * first bytes) is read back from the file. */
static void
release_source (const st_tensor *s)
{
  long page = sysconf (_SC_PAGESIZE);
  if (page <= 0 || s->nbytes == 0)
    return;
  uintptr_t a = (uintptr_t) s->data, start = a - a % (uintptr_t) page;
  madvise ((void *) start, (size_t) (a + s->nbytes - start), MADV_DONTNEED);
}

static bool
same_dtype (le_dtype t, st_dtype s)
{
  return (t == LE_F32 && s == ST_F32) || (t == LE_F16 && s == ST_F16)
         || (t == LE_BF16 && s == ST_BF16);
}

/* Converts S to T's dtype (F32, F16 or BF16) into BUF, which holds tensor_bytes (T). */
static bool
convert (const tensor *t, const st_tensor *s, void *buf, le_error *err)
{
  if (t->dtype == LE_F32)
    return st_to_f32 (s, buf, (uint64_t) t->numel, err);
  if (t->dtype == LE_F16)
    return st_to_f16 (s, buf, (uint64_t) t->numel, err);
  return st_to_bf16 (s, buf, (uint64_t) t->numel, err);
}

bool
weights_upload_all (param_store *ps, const st_set *set, const st_tensor *const *src,
                    bool release_pages, le_error *err)
{
  void *buf = NULL;
  size_t cap = 0;
  bool ok = true;
  for (int i = 0; ok && i < ps->n_tensors; i++)
    {
      tensor *t = ps->tensors[i];
      const st_tensor *s = src ? src[i] : st_set_find (set, t->name);
      if (s == NULL)
        continue;
      size_t bytes = tensor_bytes (t);
      if (same_dtype (t->dtype, s->dtype))
        ok = param_store_upload (ps, t, s->data, bytes, err);
      else
        {
          if (bytes > cap)
            {
              void *grown = realloc (buf, bytes);
              if (grown == NULL)
                {
                  ok = le_fail (err, LE_ERR_MEMORY, "out of memory converting %s", s->name);
                  break;
                }
              buf = grown;
              cap = bytes;
            }
          ok = convert (t, s, buf, err) && param_store_upload (ps, t, buf, bytes, err);
        }
      if (release_pages)
        release_source (s);
    }
  free (buf);
  return ok;
}
