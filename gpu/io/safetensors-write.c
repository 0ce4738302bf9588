/* safetensors-write.c: the streaming, atomic safetensors writer (see safetensors.h). */
#include "safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "json.h"

struct st_sink {
  le_atomic_file *file;
  uint64_t written;
  uint64_t expected;
  const char *name;
};

bool
st_sink_write (st_sink *sink, const void *data, size_t len, le_error *err)
{
  if (len > sink->expected - sink->written)
    return le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" produced more than its %llu bytes",
                    sink->file->path, sink->name, (unsigned long long) sink->expected);
  sink->written += len;
  return le_atomic_write (sink->file, data, len, err);
}

typedef struct {
  char *buf;
  size_t len, cap;
} strbuf;

static bool
sb_reserve (strbuf *sb, size_t more, le_error *err)
{
  if (sb->len + more + 1 <= sb->cap)
    return true;
  size_t cap = sb->cap ? sb->cap : 4096;
  while (cap < sb->len + more + 1)
    cap *= 2;
  char *b = realloc (sb->buf, cap);
  if (b == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory building a safetensors header");
  sb->buf = b;
  sb->cap = cap;
  return true;
}

static bool
sb_str (strbuf *sb, const char *s, le_error *err)
{
  size_t n = strlen (s);
  if (!sb_reserve (sb, n, err))
    return false;
  memcpy (sb->buf + sb->len, s, n + 1);
  sb->len += n;
  return true;
}

static bool
sb_json (strbuf *sb, const char *s, le_error *err)
{
  size_t need = le_json_escape (NULL, 0, 0, s);
  if (!sb_reserve (sb, need, err))
    return false;
  le_json_escape (sb->buf, sb->cap, sb->len, s);
  sb->len += need;
  sb->buf[sb->len] = '\0';
  return true;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Names go into JSON and other tools' dictionaries: unique, UTF-8, not the metadata key. */
static bool
check_names (const char *path, const st_write_tensor *t, size_t n, const st_write_meta *meta,
             size_t n_meta, le_error *err)
{
  const char **names = le_calloc (n + n_meta, sizeof *names, "tensor names", err);
  if (names == NULL)
    return false;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++)
    {
      names[i] = t[i].name;
      if (t[i].name == NULL || !le_utf8_valid (t[i].name, strlen (t[i].name))
          || strcmp (t[i].name, "__metadata__") == 0)
        ok = le_fail (err, LE_ERR_INVALID, "%s: tensor %zu has no usable name", path, i);
      else if ((unsigned) t[i].dtype >= ST_N_DTYPES || t[i].ndim < 0 || t[i].ndim > ST_MAX_DIMS)
        ok = le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" has a bad dtype or rank", path,
                      t[i].name);
      for (int d = 0; ok && d < t[i].ndim; d++)
        if (t[i].shape[d] < 0)
          ok = le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" has a negative dimension",
                        path, t[i].name);
      if (ok && t[i].data == NULL && t[i].fill == NULL)
        ok = le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" has no data", path, t[i].name);
    }
  for (size_t i = 0; i < n_meta && ok; i++)
    {
      if (meta[i].key == NULL || meta[i].value == NULL
          || !le_utf8_valid (meta[i].key, strlen (meta[i].key))
          || !le_utf8_valid (meta[i].value, strlen (meta[i].value)))
        ok = le_fail (err, LE_ERR_INVALID, "%s: metadata entry %zu is not UTF-8 text", path, i);
      names[n + i] = meta[i].key;
    }
  if (ok)
    {
      qsort (names, n, sizeof *names, cmp_str);
      for (size_t i = 1; i < n && ok; i++)
        if (strcmp (names[i], names[i - 1]) == 0)
          ok = le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" is given twice", path, names[i]);
      qsort (names + n, n_meta, sizeof *names, cmp_str);
      for (size_t i = 1; i < n_meta && ok; i++)
        if (strcmp (names[n + i], names[n + i - 1]) == 0)
          ok = le_fail (err, LE_ERR_INVALID, "%s: metadata key \"%s\" is given twice", path,
                        names[n + i]);
    }
  free (names);
  return ok;
}

static uint64_t
tensor_bytes (const st_write_tensor *t)
{
  uint64_t n = st_dtype_size (t->dtype);
  for (int d = 0; d < t->ndim; d++)
    n *= (uint64_t) t->shape[d];
  return n;
}

bool
st_write (const char *path, const st_write_tensor *tensors, size_t n_tensors,
          const st_write_meta *meta, size_t n_meta, le_error *err)
{
  if (!check_names (path, tensors, n_tensors, meta, n_meta, err))
    return false;

  /* Data goes out largest element size first (stable), as the Python writer does, so every
   * tensor starts at a multiple of its element size and readers may use it in place. */
  size_t *order = le_calloc (n_tensors, sizeof *order, "tensor order", err);
  if (order == NULL)
    return false;
  size_t k = 0;
  for (size_t size = 8; size >= 1; size /= 2)
    for (size_t i = 0; i < n_tensors; i++)
      if (st_dtype_size (tensors[i].dtype) == size)
        order[k++] = i;

  strbuf sb = { 0 };
  bool ok = sb_str (&sb, "{", err);
  if (ok && n_meta > 0)
    {
      ok = sb_str (&sb, "\"__metadata__\":{", err);
      for (size_t i = 0; i < n_meta && ok; i++)
        ok = (i == 0 || sb_str (&sb, ",", err)) && sb_json (&sb, meta[i].key, err)
             && sb_str (&sb, ":", err) && sb_json (&sb, meta[i].value, err);
      ok = ok && sb_str (&sb, "}", err);
    }
  uint64_t offset = 0;
  for (size_t i = 0; i < n_tensors && ok; i++)
    {
      const st_write_tensor *t = &tensors[order[i]];
      char num[64];
      ok = ((n_meta == 0 && i == 0) || sb_str (&sb, ",", err)) && sb_json (&sb, t->name, err)
           && sb_str (&sb, ":{\"dtype\":", err) && sb_json (&sb, st_dtype_name (t->dtype), err)
           && sb_str (&sb, ",\"shape\":[", err);
      for (int d = 0; d < t->ndim && ok; d++)
        {
          snprintf (num, sizeof num, "%s%lld", d ? "," : "", (long long) t->shape[d]);
          ok = sb_str (&sb, num, err);
        }
      uint64_t nbytes = tensor_bytes (t);
      snprintf (num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long) offset,
                (unsigned long long) (offset + nbytes));
      ok = ok && sb_str (&sb, num, err);
      offset += nbytes;
    }
  ok = ok && sb_str (&sb, "}", err);
  /* Pad with spaces so the data section starts 8-byte aligned (8 + header length). */
  while (ok && sb.len % 8 != 0)
    ok = sb_str (&sb, " ", err);
  le_atomic_file file;
  if (!ok || !le_atomic_open (&file, path, err))
    {
      free (sb.buf);
      free (order);
      return false;
    }
  unsigned char len_le[8];
  for (int i = 0; i < 8; i++)
    len_le[i] = (unsigned char) ((uint64_t) sb.len >> (8 * i));
  ok = le_atomic_write (&file, len_le, 8, err) && le_atomic_write (&file, sb.buf, sb.len, err);
  free (sb.buf);
  for (size_t i = 0; i < n_tensors && ok; i++)
    {
      const st_write_tensor *t = &tensors[order[i]];
      uint64_t nbytes = tensor_bytes (t);
      if (t->data != NULL)
        ok = le_atomic_write (&file, t->data, nbytes, err);
      else
        {
          st_sink sink = { .file = &file, .expected = nbytes, .name = t->name };
          ok = t->fill (t->user, &sink, err);
          if (ok && sink.written != nbytes)
            ok = le_fail (err, LE_ERR_INVALID, "%s: tensor \"%s\" produced %llu of its %llu bytes",
                          path, t->name, (unsigned long long) sink.written,
                          (unsigned long long) nbytes);
        }
    }
  free (order);
  if (!ok)
    {
      le_atomic_abort (&file);
      return false;
    }
  return le_atomic_commit (&file, err);
}
