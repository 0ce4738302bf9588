/* safetensors.c: the validating reader and the streaming writer of safetensors.h. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors stores little-endian data; this reader assumes a little-endian host"
#endif

#define BROKEN "the file is damaged or was not written by a safetensors writer: re-download or re-export it"
#define TRUNCATED "the file is truncated: re-download or re-export it"

struct st_file {
  char *path;
  void *map;            /* whole file when opened from disk */
  size_t map_len;
  le_json_doc doc;
  st_tensor *tensors;   /* sorted by name */
  size_t n_tensors;
  const char **meta;    /* key, value, key, value, ... sorted by key */
  size_t n_meta;
};

static const struct { const char *name; size_t size; } dtype_info[ST_N_DTYPES] = {
  [ST_F64] = { "F64", 8 }, [ST_F32] = { "F32", 4 }, [ST_F16] = { "F16", 2 },
  [ST_BF16] = { "BF16", 2 }, [ST_I64] = { "I64", 8 }, [ST_I32] = { "I32", 4 },
  [ST_I16] = { "I16", 2 }, [ST_I8] = { "I8", 1 }, [ST_U64] = { "U64", 8 },
  [ST_U32] = { "U32", 4 }, [ST_U16] = { "U16", 2 }, [ST_U8] = { "U8", 1 },
  [ST_BOOL] = { "BOOL", 1 }, [ST_F8_E4M3] = { "F8_E4M3", 1 }, [ST_F8_E5M2] = { "F8_E5M2", 1 },
};

const char *
st_dtype_name (st_dtype dtype)
{
  return (unsigned) dtype < ST_N_DTYPES ? dtype_info[dtype].name : "?";
}

size_t
st_dtype_size (st_dtype dtype)
{
  return (unsigned) dtype < ST_N_DTYPES ? dtype_info[dtype].size : 0;
}

bool
st_dtype_from_name (const char *name, st_dtype *out)
{
  for (int i = 0; i < ST_N_DTYPES; i++)
    if (strcmp (name, dtype_info[i].name) == 0)
      {
        *out = (st_dtype) i;
        return true;
      }
  return false;
}

/* ---- reading ---- */

static bool
file_fail (le_error *err, const char *path, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

static bool
file_fail (le_error *err, const char *path, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  char msg[900];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return le_fail (err, LE_ERR_FORMAT, "%s: %s", path, msg);
}

static int
cmp_tensor_name (const void *a, const void *b)
{
  return strcmp (((const st_tensor *) a)->name, ((const st_tensor *) b)->name);
}

typedef struct {
  uint64_t begin, end;
  size_t index;
} span;

static int
cmp_span (const void *a, const void *b)
{
  const span *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

static int
cmp_meta (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static bool
parse_metadata (st_file *f, uint32_t obj, le_error *err)
{
  const le_json_doc *doc = &f->doc;
  if (doc->nodes[obj].type != LE_JSON_OBJECT)
    return file_fail (err, f->path, "__metadata__ is not an object of strings; " BROKEN);
  size_t n = doc->nodes[obj].count;
  f->meta = le_calloc (n * 2, sizeof *f->meta, "safetensors metadata", err);
  if (f->meta == NULL)
    return false;
  size_t i = 0;
  for (uint32_t k = doc->nodes[obj].first; k != LE_JSON_NONE; i++)
    {
      uint32_t v = doc->nodes[k].next;
      const char *key = le_json_string (doc, k);
      if (doc->nodes[v].type != LE_JSON_STRING)
        return file_fail (err, f->path, "__metadata__ value of \"%.200s\" is not a string; " BROKEN, key);
      f->meta[2 * i] = key;
      f->meta[2 * i + 1] = le_json_string (doc, v);
      k = doc->nodes[v].next;
    }
  f->n_meta = n;
  qsort (f->meta, n, 2 * sizeof *f->meta, cmp_meta);
  for (size_t j = 1; j < n; j++)
    if (strcmp (f->meta[2 * j], f->meta[2 * j - 2]) == 0)
      return file_fail (err, f->path, "__metadata__ key \"%.200s\" appears twice; " BROKEN, f->meta[2 * j]);
  return true;
}

static bool
parse_tensor (st_file *f, const char *name, uint32_t len, uint32_t obj, st_tensor *t,
              span *sp, uint64_t data_len, le_error *err)
{
  const le_json_doc *doc = &f->doc;
  if (strlen (name) != len)
    return file_fail (err, f->path, "a tensor name contains a NUL character; " BROKEN);
  if (doc->nodes[obj].type != LE_JSON_OBJECT)
    return file_fail (err, f->path, "tensor \"%.200s\": entry is not an object; " BROKEN, name);
  uint32_t jd = le_json_member (doc, obj, "dtype");
  uint32_t js = le_json_member (doc, obj, "shape");
  uint32_t jo = le_json_member (doc, obj, "data_offsets");
  if (jd == LE_JSON_NONE || js == LE_JSON_NONE || jo == LE_JSON_NONE)
    return file_fail (err, f->path, "tensor \"%.200s\": needs dtype, shape and data_offsets; " BROKEN, name);
  t->name = name;
  t->file_path = f->path;
  const char *dt = le_json_string (doc, jd);
  if (dt == NULL)
    return file_fail (err, f->path, "tensor \"%.200s\": dtype is not a string; " BROKEN, name);
  if (!st_dtype_from_name (dt, &t->dtype))
    return file_fail (err, f->path, "tensor \"%.200s\": unknown dtype \"%.40s\" (known: F64 F32 F16 BF16 "
                      "I64 I32 I16 I8 U64 U32 U16 U8 BOOL F8_E4M3 F8_E5M2); " BROKEN, name, dt);
  if (doc->nodes[js].type != LE_JSON_ARRAY)
    return file_fail (err, f->path, "tensor \"%.200s\": shape is not a list; " BROKEN, name);
  if (doc->nodes[js].count > ST_MAX_DIMS)
    return file_fail (err, f->path, "tensor \"%.200s\": %u dimensions, at most %d are supported; " BROKEN,
                      name, doc->nodes[js].count, ST_MAX_DIMS);
  t->ndim = (int) doc->nodes[js].count;
  uint64_t numel = 1;
  bool overflow = false;
  int d = 0;
  for (uint32_t k = doc->nodes[js].first; k != LE_JSON_NONE; k = doc->nodes[k].next, d++)
    {
      uint64_t dim;
      if (!le_json_uint64 (doc, k, &dim) || dim > INT64_MAX)
        return file_fail (err, f->path, "tensor \"%.200s\": shape entry %d is not a non-negative integer; " BROKEN,
                          name, d);
      t->shape[d] = (int64_t) dim;
      if (dim != 0 && numel > UINT64_MAX / dim)
        overflow = true;
      else
        numel *= dim;
    }
  /* A zero dimension makes the product 0 even after an "overflow" in another one. */
  for (d = 0; d < t->ndim; d++)
    if (t->shape[d] == 0)
      numel = 0, overflow = false;
  size_t esize = st_dtype_size (t->dtype);
  if (overflow || numel > UINT64_MAX / esize)
    return file_fail (err, f->path, "tensor \"%.200s\": shape is impossibly large; " BROKEN, name);
  t->numel = numel;
  t->nbytes = numel * esize;
  if (doc->nodes[jo].type != LE_JSON_ARRAY || doc->nodes[jo].count != 2)
    return file_fail (err, f->path, "tensor \"%.200s\": data_offsets is not [begin, end]; " BROKEN, name);
  uint32_t jb = doc->nodes[jo].first, je = doc->nodes[jb].next;
  uint64_t begin, end;
  if (!le_json_uint64 (doc, jb, &begin) || !le_json_uint64 (doc, je, &end))
    return file_fail (err, f->path, "tensor \"%.200s\": data_offsets are not non-negative integers; " BROKEN, name);
  if (end < begin)
    return file_fail (err, f->path, "tensor \"%.200s\": data_offsets end before they begin; " BROKEN, name);
  if (end - begin != t->nbytes)
    return file_fail (err, f->path, "tensor \"%.200s\": %s %s of %llu elements needs %llu bytes "
                      "but data_offsets give %llu; " BROKEN, name, st_dtype_name (t->dtype),
                      t->ndim ? "shape" : "scalar", (unsigned long long) numel,
                      (unsigned long long) t->nbytes, (unsigned long long) (end - begin));
  if (end > data_len)
    return file_fail (err, f->path, "tensor \"%.200s\" needs bytes up to %llu of the data section "
                      "but the file holds only %llu; " TRUNCATED, name,
                      (unsigned long long) end, (unsigned long long) data_len);
  sp->begin = begin;
  sp->end = end;
  return true;
}

static bool
parse_header (st_file *f, const unsigned char *base, size_t size, le_error *err)
{
  if (size < 8)
    return file_fail (err, f->path, "only %zu bytes, too short for a safetensors file; " TRUNCATED, size);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--)
    hlen = (hlen << 8) | base[i];
  if (hlen > ST_MAX_HEADER)
    return file_fail (err, f->path, "the header claims %llu bytes, more than the %u MB a real "
                      "header needs; " BROKEN, (unsigned long long) hlen, ST_MAX_HEADER >> 20);
  if (hlen > size - 8)
    return file_fail (err, f->path, "the header claims %llu bytes but only %zu follow; " TRUNCATED,
                      (unsigned long long) hlen, size - 8);
  const char *header = (const char *) base + 8;
  if (!le_utf8_valid (header, hlen))
    return file_fail (err, f->path, "the header is not valid UTF-8; " BROKEN);
  le_error jerr = { 0 };
  if (!le_json_parse (&f->doc, header, hlen, &jerr))
    {
      if (jerr.code == LE_ERR_MEMORY)
        return le_fail (err, LE_ERR_MEMORY, "%s: %s", f->path, jerr.message);
      return file_fail (err, f->path, "the header is not valid JSON (%s); " BROKEN, jerr.message);
    }
  const le_json_doc *doc = &f->doc;
  if (doc->nodes[0].type != LE_JSON_OBJECT)
    return file_fail (err, f->path, "the header is not a JSON object; " BROKEN);

  const unsigned char *data = base + 8 + hlen;
  uint64_t data_len = size - 8 - hlen;
  size_t n_members = doc->nodes[0].count;
  f->tensors = le_calloc (n_members, sizeof *f->tensors, "safetensors header", err);
  span *spans = le_calloc (n_members, sizeof *spans, "safetensors header", err);
  if (f->tensors == NULL || spans == NULL)
    {
      free (spans);
      return false;
    }
  size_t n = 0;
  bool have_meta = false, ok = true;
  for (uint32_t k = doc->nodes[0].first; k != LE_JSON_NONE && ok;)
    {
      uint32_t v = doc->nodes[k].next;
      const char *key = le_json_string (doc, k);
      if (strcmp (key, "__metadata__") == 0)
        {
          if (have_meta)
            ok = file_fail (err, f->path, "__metadata__ appears twice; " BROKEN);
          else
            ok = parse_metadata (f, v, err);
          have_meta = true;
        }
      else
        {
          ok = parse_tensor (f, key, doc->nodes[k].count, v, &f->tensors[n], &spans[n],
                             data_len, err);
          spans[n].index = n;
          n++;
        }
      k = doc->nodes[v].next;
    }
  if (!ok)
    {
      free (spans);
      return false;
    }
  f->n_tensors = n;

  /* The format requires the tensors to tile the data section exactly. */
  qsort (spans, n, sizeof *spans, cmp_span);
  uint64_t at = 0;
  for (size_t i = 0; i < n && ok; i++)
    {
      st_tensor *t = &f->tensors[spans[i].index];
      if (spans[i].begin < at)
        ok = file_fail (err, f->path, "tensor \"%.200s\" overlaps tensor \"%.200s\"; " BROKEN, t->name,
                        f->tensors[spans[i - 1].index].name);
      else if (spans[i].begin > at)
        ok = file_fail (err, f->path, "bytes %llu to %llu of the data section before tensor \"%.200s\" "
                        "belong to no tensor; " BROKEN, (unsigned long long) at,
                        (unsigned long long) spans[i].begin, t->name);
      t->data = data + spans[i].begin;
      at = spans[i].end;
    }
  free (spans);
  if (!ok)
    return false;
  if (at != data_len)
    return file_fail (err, f->path, "%llu bytes after the last tensor belong to no tensor; " BROKEN,
                      (unsigned long long) (data_len - at));

  qsort (f->tensors, n, sizeof *f->tensors, cmp_tensor_name);
  for (size_t i = 1; i < n; i++)
    if (strcmp (f->tensors[i].name, f->tensors[i - 1].name) == 0)
      return file_fail (err, f->path, "tensor \"%.200s\" appears twice in the header; " BROKEN,
                        f->tensors[i].name);
  return true;
}

static st_file *
file_new (const char *path, le_error *err)
{
  st_file *f = le_calloc (1, sizeof *f, "safetensors file", err);
  if (f == NULL)
    return NULL;
  f->path = strdup (path);
  if (f->path == NULL)
    {
      free (f);
      le_fail (err, LE_ERR_MEMORY, "out of memory");
      return NULL;
    }
  return f;
}

st_file *
st_open_memory (const void *data, size_t len, const char *label, le_error *err)
{
  st_file *f = file_new (label ? label : "(memory)", err);
  if (f == NULL)
    return NULL;
  if (!parse_header (f, data, len, err))
    {
      st_close (f);
      return NULL;
    }
  return f;
}

st_file *
st_open (const char *path, le_error *err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      le_fail (err, LE_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      le_fail (err, LE_ERR_IO, "%s: not a regular file", path);
      close (fd);
      return NULL;
    }
  st_file *f = file_new (path, err);
  if (f == NULL)
    {
      close (fd);
      return NULL;
    }
  size_t size = (size_t) st.st_size;
  if (size > 0)
    {
      f->map = mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (f->map == MAP_FAILED)
        {
          f->map = NULL;
          le_fail (err, LE_ERR_IO, "%s: cannot map the file: %s", path, strerror (errno));
          close (fd);
          st_close (f);
          return NULL;
        }
      f->map_len = size;
    }
  close (fd);
  if (!parse_header (f, f->map, size, err))
    {
      st_close (f);
      return NULL;
    }
  return f;
}

void
st_close (st_file *f)
{
  if (f == NULL)
    return;
  if (f->map != NULL)
    munmap (f->map, f->map_len);
  le_json_free (&f->doc);
  free (f->tensors);
  free (f->meta);
  free (f->path);
  free (f);
}

const char *st_path (const st_file *f) { return f->path; }
size_t st_count (const st_file *f) { return f->n_tensors; }

const st_tensor *
st_at (const st_file *f, size_t i)
{
  return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const st_tensor *
st_find (const st_file *f, const char *name)
{
  st_tensor key = { .name = name };
  return bsearch (&key, f->tensors, f->n_tensors, sizeof key, cmp_tensor_name);
}

size_t st_metadata_count (const st_file *f) { return f->n_meta; }

bool
st_metadata_at (const st_file *f, size_t i, const char **key, const char **value)
{
  if (i >= f->n_meta)
    return false;
  *key = f->meta[2 * i];
  *value = f->meta[2 * i + 1];
  return true;
}

const char *
st_metadata_get (const st_file *f, const char *key)
{
  const char **hit = bsearch (&key, f->meta, f->n_meta, 2 * sizeof *f->meta, cmp_meta);
  return hit ? hit[1] : NULL;
}

/* ---- conversion ---- */

static inline uint32_t f32_bits (float f) { uint32_t u; memcpy (&u, &f, 4); return u; }
static inline float bits_f32 (uint32_t u) { float f; memcpy (&f, &u, 4); return f; }

float
st_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  if (exp == 0x1F)
    return bits_f32 (sign | 0x7F800000 | (mant << 13));
  if (exp == 0)
    {
      float v = (float) mant * (1.0f / 16777216.0f); /* mant * 2^-24 */
      return sign ? -v : v;
    }
  return bits_f32 (sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t
st_f32_to_f16 (float f)
{
  uint32_t u = f32_bits (f);
  uint16_t sign = (uint16_t) ((u >> 16) & 0x8000);
  uint32_t abs = u & 0x7FFFFFFF;
  if (abs > 0x7F800000) /* NaN: one quiet NaN with the sign, as PyTorch makes it */
    return sign | 0x7E00;
  if (abs >= 0x477FF000) /* rounds to >= 65520: infinity */
    return sign | 0x7C00;
  if (abs < 0x38800000) /* below the smallest normal half: subnormal or zero */
    {
      /* Add a magic number so the FPU rounds to nearest even at the 2^-24 position. */
      float v = bits_f32 (abs) + 0.5f;
      return sign | (uint16_t) (f32_bits (v) - f32_bits (0.5f));
    }
  uint32_t mant_odd = (abs >> 13) & 1;
  abs += 0xC8000FFF + mant_odd; /* rebias exponent (-112 << 23) and round to nearest even */
  return sign | (uint16_t) (abs >> 13);
}

float
st_bf16_to_f32 (uint16_t h)
{
  return bits_f32 ((uint32_t) h << 16);
}

uint16_t
st_f32_to_bf16 (float f)
{
  uint32_t u = f32_bits (f);
  if ((u & 0x7FFFFFFF) > 0x7F800000) /* NaN: PyTorch's canonical bf16 NaN */
    return 0x7FC0;
  u += 0x7FFF + ((u >> 16) & 1);
  return (uint16_t) (u >> 16);
}

static float
f8_e4m3_to_f32 (uint8_t b)
{
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  int exp = (b >> 3) & 0xF, mant = b & 7;
  if (exp == 0xF && mant == 7)
    return NAN;
  if (exp == 0)
    return sign * ldexpf ((float) mant, -9);
  return sign * ldexpf ((float) (8 + mant), exp - 10);
}

static double
element (const st_tensor *t, uint64_t i)
{
  const unsigned char *p = (const unsigned char *) t->data + i * st_dtype_size (t->dtype);
  union { double d; float f; int64_t i64; int32_t i32; int16_t i16; int8_t i8;
          uint64_t u64; uint32_t u32; uint16_t u16; uint8_t u8; } v;
  memcpy (&v, p, st_dtype_size (t->dtype));
  switch (t->dtype)
    {
    case ST_F64: return v.d;
    case ST_F32: return v.f;
    case ST_F16: return st_f16_to_f32 (v.u16);
    case ST_BF16: return st_bf16_to_f32 (v.u16);
    case ST_I64: return (double) v.i64;
    case ST_I32: return v.i32;
    case ST_I16: return v.i16;
    case ST_I8: return v.i8;
    case ST_U64: return (double) v.u64;
    case ST_U32: return v.u32;
    case ST_U16: return v.u16;
    case ST_U8: return v.u8;
    case ST_BOOL: return v.u8 != 0;
    case ST_F8_E4M3: return f8_e4m3_to_f32 (v.u8);
    case ST_F8_E5M2: return st_f16_to_f32 ((uint16_t) (v.u8 << 8));
    case ST_N_DTYPES: break;
    }
  return 0;
}

static bool
check_count (const st_tensor *t, uint64_t count, le_error *err)
{
  if (count != t->numel)
    return le_fail (err, LE_ERR_INVALID, "%s: tensor \"%.200s\" has %llu elements, %llu were expected",
                    t->file_path, t->name, (unsigned long long) t->numel,
                    (unsigned long long) count);
  return true;
}

bool
st_to_f32 (const st_tensor *t, float *out, uint64_t count, le_error *err)
{
  if (!check_count (t, count, err))
    return false;
  if (t->dtype == ST_F32)
    memcpy (out, t->data, t->nbytes);
  else if (t->dtype == ST_F16 || t->dtype == ST_BF16)
    {
      const unsigned char *p = t->data;
      for (uint64_t i = 0; i < count; i++)
        {
          uint16_t h;
          memcpy (&h, p + 2 * i, 2);
          out[i] = t->dtype == ST_F16 ? st_f16_to_f32 (h) : st_bf16_to_f32 (h);
        }
    }
  else
    for (uint64_t i = 0; i < count; i++)
      out[i] = (float) element (t, i);
  return true;
}

static bool
to_half (const st_tensor *t, uint16_t *out, uint64_t count, st_dtype want, le_error *err)
{
  if (!check_count (t, count, err))
    return false;
  if (t->dtype == want)
    {
      memcpy (out, t->data, t->nbytes);
      return true;
    }
  for (uint64_t i = 0; i < count; i++)
    {
      float v;
      if (t->dtype == ST_F32)
        memcpy (&v, (const unsigned char *) t->data + 4 * i, 4);
      else
        v = (float) element (t, i);
      out[i] = want == ST_F16 ? st_f32_to_f16 (v) : st_f32_to_bf16 (v);
    }
  return true;
}

bool
st_to_f16 (const st_tensor *t, uint16_t *out, uint64_t count, le_error *err)
{
  return to_half (t, out, count, ST_F16, err);
}

bool
st_to_bf16 (const st_tensor *t, uint16_t *out, uint64_t count, le_error *err)
{
  return to_half (t, out, count, ST_BF16, err);
}
