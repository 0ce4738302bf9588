/* safetensors.h: reading and writing .safetensors files, and HF sharded sets.
 *
 * Format: u64 little-endian header length N, N bytes of a JSON object
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {"key": "value", ...}}
 * then the data section; offsets are relative to its start. The reader maps the file and
 * checks everything before handing out a pointer: header length within the file and at
 * most ST_MAX_HEADER, strict JSON, known dtypes, shapes whose byte size matches the
 * offsets, tensors inside the data section, no overlaps, no gaps, nothing after the end.
 * Tensors are kept sorted by name (binary search; SD 1.5 has ~1100 of them).
 *
 * The writer streams: it writes the header, then each tensor's bytes straight from the
 * caller's memory (or from a callback that produces them in chunks), into a temporary file
 * that replaces the target atomically. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ST_MAX_HEADER (100u * 1024u * 1024u)
#define ST_MAX_DIMS 8

/* safetensors' own dtype strings; independent of the engine's tensor dtypes. */
typedef enum {
  ST_F64, ST_F32, ST_F16, ST_BF16,
  ST_I64, ST_I32, ST_I16, ST_I8,
  ST_U64, ST_U32, ST_U16, ST_U8,
  ST_BOOL, ST_F8_E4M3, ST_F8_E5M2,
  ST_N_DTYPES
} st_dtype;

const char *st_dtype_name (st_dtype dtype);          /* "F32" */
bool st_dtype_from_name (const char *name, st_dtype *out);
size_t st_dtype_size (st_dtype dtype);               /* bytes per element */

typedef struct {
  const char *name;
  st_dtype dtype;
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  uint64_t numel;
  uint64_t nbytes;
  const void *data;       /* inside the mapped file; valid until st_close. Aligned to the
                           * element size in files we write, maybe not in others'. */
  const char *file_path;  /* the file it lives in */
} st_tensor;

typedef struct st_file st_file;

st_file *st_open (const char *path, le_error *err);
/* The same checks on bytes in memory (the fuzz target uses this); DATA must outlive it. */
st_file *st_open_memory (const void *data, size_t len, const char *label, le_error *err);
void st_close (st_file *f);

const char *st_path (const st_file *f);
size_t st_count (const st_file *f);
const st_tensor *st_at (const st_file *f, size_t i);           /* sorted by name */
const st_tensor *st_find (const st_file *f, const char *name);  /* NULL when absent */

size_t st_metadata_count (const st_file *f);
bool st_metadata_at (const st_file *f, size_t i, const char **key, const char **value);
const char *st_metadata_get (const st_file *f, const char *key); /* NULL when absent */

/* Converts the tensor's elements (float or integer dtypes) to F32, F16 or BF16 (rounded to
 * nearest even). COUNT must equal t->numel; the error names the tensor otherwise. */
bool st_to_f32 (const st_tensor *t, float *out, uint64_t count, le_error *err);
bool st_to_f16 (const st_tensor *t, uint16_t *out, uint64_t count, le_error *err);
bool st_to_bf16 (const st_tensor *t, uint16_t *out, uint64_t count, le_error *err);

float st_f16_to_f32 (uint16_t h);
uint16_t st_f32_to_f16 (float f);
float st_bf16_to_f32 (uint16_t h);
uint16_t st_f32_to_bf16 (float f);

/* A model as one set: a single .safetensors file, or an HF sharded index
 * (model.safetensors.index.json with "weight_map": name -> shard file), or a folder holding
 * either (model.safetensors.index.json is preferred over model.safetensors). */
typedef struct st_set st_set;

st_set *st_set_open (const char *path, le_error *err);
void st_set_close (st_set *s);
size_t st_set_count (const st_set *s);
const st_tensor *st_set_at (const st_set *s, size_t i);          /* sorted by name */
const st_tensor *st_set_find (const st_set *s, const char *name);
size_t st_set_n_files (const st_set *s);
const st_file *st_set_file (const st_set *s, size_t i);

/* Writing. A tensor's bytes come from DATA (NBYTES of them, in the file's dtype), or, when
 * DATA is NULL, from FILL called once to push them through st_sink_write in any chunks. */
typedef struct st_sink st_sink;
bool st_sink_write (st_sink *sink, const void *data, size_t len, le_error *err);

typedef struct {
  const char *name;
  st_dtype dtype;
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  const void *data;
  bool (*fill) (void *user, st_sink *sink, le_error *err);
  void *user;
} st_write_tensor;

typedef struct {
  const char *key;
  const char *value;
} st_write_meta;

/* Writes PATH atomically. Names must be unique UTF-8. The data section holds 8-byte
 * tensors first, then 4-, 2- and 1-byte ones (each group in the given order), so that every
 * tensor is aligned to its element size; FILL callbacks run in that order. */
bool st_write (const char *path,
               const st_write_tensor *tensors, size_t n_tensors,
               const st_write_meta *meta, size_t n_meta,
               le_error *err);
