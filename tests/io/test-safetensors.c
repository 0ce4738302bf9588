/* test-safetensors.c: the safetensors reader against files written by the Python
 * `safetensors` package (every dtype, metadata, shards), the writer against the Python
 * reader, round trips, half-type rounding against torch, and atomic replacement.
 * argv[1]: the venv's python3; argv[2]: this folder (scripts). */
#include <dirent.h>

#include "io-test.h"
#include "json.h"
#include "safetensors.h"

static const char *python, *scripts, *ref;

static unsigned char *
ref_file (const char *name, size_t *len)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", ref, name);
  return read_bytes (path, len);
}

static void
test_python_files (void)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/all.safetensors", ref);
  le_error err = { 0 };
  st_file *f = st_open (path, &err);
  if (!tap_ok (f != NULL, "opens the file the Python package wrote (%s)", err.message))
    return;
  size_t mlen;
  char *manifest = (char *) ref_file ("manifest.txt", &mlen);
  size_t n_lines = 0;
  for (char *line = strtok (manifest, "\n"); line; line = strtok (NULL, "\n"), n_lines++)
    {
      char name[256], dtype[16];
      int ndim, used;
      sscanf (line, "%255s %15s %d%n", name, dtype, &ndim, &used);
      long long shape[8] = { 0 };
      char *p = line + used;
      for (int d = 0; d < ndim; d++)
        shape[d] = strtoll (p, &p, 10);
      const st_tensor *t = st_find (f, name);
      if (!tap_ok (t != NULL, "finds tensor %s", name))
        continue;
      bool shape_ok = t->ndim == ndim;
      for (int d = 0; shape_ok && d < ndim; d++)
        shape_ok = t->shape[d] == shape[d];
      tap_ok (strcmp (st_dtype_name (t->dtype), dtype) == 0 && shape_ok,
              "%s has dtype %s and the shape Python wrote", name, dtype);
      char fname[300];
      snprintf (fname, sizeof fname, "%s.f32", name);
      size_t elen;
      unsigned char *expect = ref_file (fname, &elen);
      float *got = malloc (t->numel * 4 + 4);
      bool conv = st_to_f32 (t, got, t->numel, &err);
      tap_ok (conv && elen == t->numel * 4 && memcmp (got, expect, elen) == 0,
              "%s converts to F32 exactly as torch does", name);
      free (got);
      free (expect);
    }
  tap_ok (n_lines == st_count (f), "tensor count %zu matches the %zu written", st_count (f), n_lines);
  free (manifest);

  bool sorted = true;
  for (size_t i = 1; i < st_count (f); i++)
    sorted = sorted && strcmp (st_at (f, i - 1)->name, st_at (f, i)->name) < 0;
  tap_ok (sorted && st_at (f, st_count (f)) == NULL, "iteration is in name order and bounded");
  tap_ok (st_find (f, "missing") == NULL && st_find (f, "") == NULL, "an absent name is NULL");

  /* Metadata against the JSON the script dumped. */
  size_t jlen;
  char *json = (char *) ref_file ("metadata.json", &jlen);
  le_json_doc doc;
  bool parsed = le_json_parse (&doc, json, jlen, &err);
  bool meta_ok = parsed && doc.nodes[0].count == st_metadata_count (f);
  for (uint32_t k = parsed ? doc.nodes[0].first : LE_JSON_NONE; k != LE_JSON_NONE;)
    {
      uint32_t v = doc.nodes[k].next;
      const char *got = st_metadata_get (f, le_json_string (&doc, k));
      meta_ok = meta_ok && got != NULL && strcmp (got, le_json_string (&doc, v)) == 0;
      k = doc.nodes[v].next;
    }
  tap_ok (meta_ok, "__metadata__ (unicode, quotes, escapes) reads back as Python wrote it");
  tap_ok (st_metadata_get (f, "nope") == NULL, "absent metadata key is NULL");
  if (parsed)
    le_json_free (&doc);
  free (json);

  /* Rounding F32 -> F16/BF16 (ties, overflow, subnormals, NaN, inf) bit-exact with torch. */
  const st_tensor *c = st_find (f, "conv");
  size_t l16, lb16;
  unsigned char *want16 = ref_file ("conv.f16", &l16), *wantb16 = ref_file ("conv.bf16", &lb16);
  uint16_t *h = malloc (c->numel * 2);
  bool ok16 = st_to_f16 (c, h, c->numel, &err) && l16 == c->numel * 2 && memcmp (h, want16, l16) == 0;
  if (!ok16)
    for (uint64_t i = 0; i < c->numel && i < 40; i++)
      if (h[i] != ((uint16_t *) want16)[i])
        tap_diag ("f16 %llu: got %04x want %04x", (unsigned long long) i, h[i], ((uint16_t *) want16)[i]);
  tap_ok (ok16, "F32 -> F16 rounds like torch on %llu values", (unsigned long long) c->numel);
  /* NaN payloads differ between torch's scalar and vector paths: any NaN matches a NaN. */
  bool okb = st_to_bf16 (c, h, c->numel, &err) && lb16 == c->numel * 2;
  for (uint64_t i = 0; okb && i < c->numel; i++)
    {
      uint16_t want = ((uint16_t *) wantb16)[i];
      okb = h[i] == want || (isnan (st_bf16_to_f32 (h[i])) && isnan (st_bf16_to_f32 (want)));
      if (!okb)
        tap_diag ("bf16 %llu: got %04x want %04x", (unsigned long long) i, h[i], want);
    }
  tap_ok (okb, "F32 -> BF16 rounds like torch");
  free (h);
  free (want16);
  free (wantb16);

  const st_tensor *t16 = st_find (f, "f16");
  uint16_t raw[16];
  tap_ok (st_to_f16 (t16, raw, 16, &err) && memcmp (raw, t16->data, 32) == 0,
          "F16 -> F16 is a copy");
  err.code = LE_OK;
  tap_ok (!st_to_f32 (t16, (float *) raw, 3, &err) && err.code == LE_ERR_INVALID
          && strstr (err.message, "f16") != NULL, "a wrong element count is an error naming the tensor");
  st_close (f);
}

static void
check_set (st_set *s, const char *how)
{
  tap_ok (st_set_count (s) == 4 && st_set_n_files (s) == 2, "%s: 4 tensors in 2 shards", how);
  const char *names[] = { "embed.weight", "layers.0.w", "layers.1.w", "lm_head.weight" };
  bool all = true;
  for (int i = 0; i < 4; i++)
    {
      const st_tensor *t = st_set_find (s, names[i]);
      char fname[300];
      snprintf (fname, sizeof fname, "shard.%s.f32", names[i]);
      size_t len;
      unsigned char *want = ref_file (fname, &len);
      all = all && t != NULL && t->nbytes == len && memcmp (t->data, want, len) == 0
            && st_set_at (s, (size_t) i) == t;
      free (want);
    }
  tap_ok (all, "%s: every tensor found, in name order, with the values written", how);
}

static void
test_sharded (void)
{
  char path[4096];
  le_error err = { 0 };
  snprintf (path, sizeof path, "%s/sharded", ref);
  st_set *s = st_set_open (path, &err);
  if (tap_ok (s != NULL, "opens an HF sharded folder (%s)", err.message))
    {
      check_set (s, "folder");
      st_set_close (s);
    }
  snprintf (path, sizeof path, "%s/sharded/model.safetensors.index.json", ref);
  s = st_set_open (path, &err);
  if (tap_ok (s != NULL, "opens model.safetensors.index.json"))
    {
      check_set (s, "index");
      st_set_close (s);
    }
  snprintf (path, sizeof path, "%s/all.safetensors", ref);
  s = st_set_open (path, &err);
  tap_ok (s != NULL && st_set_n_files (s) == 1 && st_set_find (s, "f32") != NULL,
          "a single file is a set of one");
  st_set_close (s);

  /* Broken sets: a missing shard, a tensor the index puts in the wrong shard, a name in
   * two shards, an index pointing outside its folder. */
  char *dir = test_tmpdir ("st-set");
  char cmd[8192];
  snprintf (cmd, sizeof cmd, "cp %s/sharded/* %s/ && rm %s/model-00002-of-00002.safetensors",
            ref, dir, dir);
  if (system (cmd) != 0)
    tap_diag ("copy failed");
  err.code = LE_OK;
  s = st_set_open (dir, &err);
  tap_ok (s == NULL && err.code == LE_ERR_IO && strstr (err.message, "model-00002-of-00002") != NULL
          && strstr (err.message, "index") != NULL, "a missing shard is named: %s", err.message);

  snprintf (path, sizeof path, "%s/model.safetensors.index.json", dir);
  const char *wrong = "{\"weight_map\": {\"embed.weight\": \"model-00001-of-00002.safetensors\","
                      " \"lm_head.weight\": \"model-00001-of-00002.safetensors\"}}";
  write_bytes (path, wrong, strlen (wrong));
  s = st_set_open (path, &err);
  tap_ok (s == NULL && strstr (err.message, "lm_head.weight") != NULL,
          "a tensor missing from its shard is named: %s", err.message);

  snprintf (cmd, sizeof cmd, "cp %s/sharded/model-00001-of-00002.safetensors %s/copy.safetensors", ref, dir);
  if (system (cmd) != 0)
    tap_diag ("copy failed");
  const char *dup = "{\"weight_map\": {\"embed.weight\": \"model-00001-of-00002.safetensors\","
                    " \"layers.0.w\": \"copy.safetensors\"}}";
  write_bytes (path, dup, strlen (dup));
  s = st_set_open (path, &err);
  tap_ok (s == NULL && strstr (err.message, "in both") != NULL, "a tensor in two shards is refused: %s",
          err.message);

  const char *escape = "{\"weight_map\": {\"embed.weight\": \"../../etc/passwd\"}}";
  write_bytes (path, escape, strlen (escape));
  s = st_set_open (path, &err);
  tap_ok (s == NULL && err.code == LE_ERR_FORMAT, "an index pointing outside its folder is refused");

  const char *notjson = "{\"weight_map\": {";
  write_bytes (path, notjson, strlen (notjson));
  s = st_set_open (path, &err);
  tap_ok (s == NULL && err.code == LE_ERR_FORMAT && strstr (err.message, "index.json"),
          "an index that is not JSON is refused, naming it: %s", err.message);

  const char *nomap = "{\"metadata\": {}}";
  write_bytes (path, nomap, strlen (nomap));
  s = st_set_open (path, &err);
  tap_ok (s == NULL && strstr (err.message, "weight_map") != NULL, "an index without weight_map is refused");
  rm_rf (dir);
  free (dir);

  /* A folder with a single model.safetensors; a folder with neither. */
  dir = test_tmpdir ("st-single");
  snprintf (cmd, sizeof cmd, "cp %s/all.safetensors %s/model.safetensors", ref, dir);
  if (system (cmd) != 0)
    tap_diag ("copy failed");
  s = st_set_open (dir, &err);
  tap_ok (s != NULL && st_set_n_files (s) == 1 && st_set_find (s, "bf16") != NULL,
          "a folder with model.safetensors opens as a set");
  st_set_close (s);
  snprintf (cmd, sizeof cmd, "%s/model.safetensors", dir);
  unlink (cmd);
  err.code = LE_OK;
  s = st_set_open (dir, &err);
  tap_ok (s == NULL && err.code == LE_ERR_IO && strstr (err.message, "model.safetensors.index.json"),
          "a folder with no weights says what it looked for: %s", err.message);
  rm_rf (dir);
  free (dir);
}

/* ---- writer ---- */

typedef struct {
  const float *src;
  size_t n;
} fill_ctx;

/* Produces F16 bytes from F32 in chunks of 7 values, as a GPU download would. */
static bool
fill_f16 (void *user, st_sink *sink, le_error *err)
{
  fill_ctx *c = user;
  for (size_t i = 0; i < c->n; i += 7)
    {
      uint16_t chunk[7];
      size_t k = c->n - i < 7 ? c->n - i : 7;
      for (size_t j = 0; j < k; j++)
        chunk[j] = st_f32_to_f16 (c->src[i + j]);
      if (!st_sink_write (sink, chunk, k * 2, err))
        return false;
    }
  return true;
}

static bool
fill_short (void *user, st_sink *sink, le_error *err)
{
  return st_sink_write (sink, "abc", 3, err);
}

static void
test_writer (void)
{
  char *dir = test_tmpdir ("st-write");
  char path[4096], exp[4096];
  snprintf (path, sizeof path, "%s/out.safetensors", dir);
  snprintf (exp, sizeof exp, "%s/expect", dir);
  mkdir (exp, 0777);

  float w[6 * 5];
  for (int i = 0; i < 30; i++)
    w[i] = sinf ((float) i) * 3.0f;
  int64_t ids[4] = { -3, 0, 7, 1LL << 40 };
  uint8_t flags[3] = { 1, 0, 1 };
  uint16_t bf[4];
  for (int i = 0; i < 4; i++)
    bf[i] = st_f32_to_bf16 (w[i] * 100);
  double scalar = 2.25;
  fill_ctx fc = { w, 30 };
  st_write_tensor t[] = {
    { .name = "lora_unet_down.lora_down.weight", .dtype = ST_F32, .ndim = 2, .shape = { 6, 5 }, .data = w },
    { .name = "ids", .dtype = ST_I64, .ndim = 1, .shape = { 4 }, .data = ids },
    { .name = "flags", .dtype = ST_BOOL, .ndim = 1, .shape = { 3 }, .data = flags },
    { .name = "b", .dtype = ST_BF16, .ndim = 2, .shape = { 2, 2 }, .data = bf },
    { .name = "scalar", .dtype = ST_F64, .ndim = 0, .data = &scalar },
    { .name = "empty", .dtype = ST_F32, .ndim = 2, .shape = { 0, 4 }, .data = w },
    { .name = "half.from.fill", .dtype = ST_F16, .ndim = 2, .shape = { 5, 6 }, .fill = fill_f16, .user = &fc },
    { .name = "caf\xc3\xa9 \"q\"", .dtype = ST_U8, .ndim = 1, .shape = { 3 }, .data = flags },
  };
  size_t nt = sizeof t / sizeof t[0];
  st_write_meta meta[] = {
    { "ss_network_dim", "16" }, { "ss_tag_frequency", "{\"a\": {\"cat\": 3}}" },
    { "note", "line\nbreak\ttab \xe7\x8c\xab" },
  };
  le_error err = { 0 };
  bool ok = st_write (path, t, nt, meta, 3, &err);
  tap_ok (ok, "writes tensors of several dtypes, a fill callback and metadata (%s)", err.message);

  /* What Python must find. */
  char p2[20000];
  snprintf (p2, sizeof p2, "%s/manifest.txt", exp);
  FILE *mf = fopen (p2, "w");
  for (size_t i = 0; i < nt; i++)
    {
      fprintf (mf, "%s %s %d", t[i].name, st_dtype_name (t[i].dtype), t[i].ndim);
      for (int d = 0; d < t[i].ndim; d++)
        fprintf (mf, " %lld", (long long) t[i].shape[d]);
      fprintf (mf, "\n");
    }
  fclose (mf);
  /* Names with spaces break the manifest's split: rename that one in the check. */
  st_file *f = ok ? st_open (path, &err) : NULL;
  tap_ok (f != NULL && st_count (f) == nt, "our reader opens what our writer wrote (%s)", err.message);
  bool same = f != NULL;
  for (size_t i = 0; same && i < nt; i++)
    {
      const st_tensor *r = st_find (f, t[i].name);
      same = r != NULL && r->dtype == t[i].dtype && r->ndim == t[i].ndim;
      if (same && t[i].data != NULL)
        same = memcmp (r->data, t[i].data, r->nbytes) == 0;
      char bin[4400];
      snprintf (bin, sizeof bin, "%s/%s.bin", exp, t[i].name);
      if (r != NULL)
        write_bytes (bin, r->data, r->nbytes);
    }
  const st_tensor *half = f ? st_find (f, "half.from.fill") : NULL;
  bool fill_ok = half != NULL && half->nbytes == 60;
  for (int i = 0; fill_ok && i < 30; i++)
    {
      uint16_t hv;
      memcpy (&hv, (const char *) half->data + 2 * i, 2);
      fill_ok = hv == st_f32_to_f16 (w[i]);
    }
  tap_ok (same && fill_ok, "round trip: every byte and the chunked fill come back");
  bool aligned_data = f != NULL;
  for (size_t i = 0; f != NULL && i < st_count (f); i++)
    aligned_data = aligned_data
                   && (uintptr_t) st_at (f, i)->data % st_dtype_size (st_at (f, i)->dtype) == 0;
  tap_ok (aligned_data, "every tensor is aligned to its element size, whatever the given order");
  tap_ok (f != NULL && st_metadata_count (f) == 3 && strcmp (st_metadata_get (f, "note"), meta[2].value) == 0
          && strcmp (st_metadata_get (f, "ss_tag_frequency"), meta[1].value) == 0,
          "round trip: metadata with quotes, newlines and UTF-8");
  st_close (f);
  snprintf (p2, sizeof p2, "%s/metadata.json", exp);
  mf = fopen (p2, "w");
  fprintf (mf, "{");
  for (int i = 0; i < 3; i++)
    {
      char buf[512];
      size_t n = le_json_escape (buf, sizeof buf, 0, meta[i].key);
      fprintf (mf, "%s%.*s:", i ? "," : "", (int) n, buf);
      n = le_json_escape (buf, sizeof buf, 0, meta[i].value);
      fprintf (mf, "%.*s", (int) n, buf);
    }
  fprintf (mf, "}");
  fclose (mf);
  /* The name with a space cannot go through the whitespace-split manifest: drop it there. */
  snprintf (p2, sizeof p2, "grep -v '^caf' %s/manifest.txt > %s/m && mv %s/m %s/manifest.txt", exp, exp, exp, exp);
  if (system (p2) != 0)
    tap_diag ("manifest edit failed");
  t[nt - 1].name = "plain_u8";
  ok = st_write (path, t, nt, meta, 3, &err);
  snprintf (p2, sizeof p2, "%s/plain_u8.bin", exp);
  write_bytes (p2, flags, 3);
  snprintf (p2, sizeof p2, "echo 'plain_u8 U8 1 3' >> %s/manifest.txt", exp);
  if (system (p2) != 0)
    tap_diag ("manifest edit failed");
  int rc = run_python (python, "'%s/check_written.py' '%s' '%s'", scripts, path, exp);
  tap_ok (ok && rc == 0, "the Python safetensors package reads our file: names, dtypes, shapes, "
          "bytes, metadata, 8-byte aligned data");

  /* Header padding for every name length mod 8. */
  bool aligned = true;
  for (int len = 1; len <= 16; len++)
    {
      char name[32];
      memset (name, 'x', (size_t) len);
      name[len] = '\0';
      st_write_tensor one = { .name = name, .dtype = ST_F32, .ndim = 1, .shape = { 3 }, .data = w };
      aligned = aligned && st_write (path, &one, 1, NULL, 0, &err);
      size_t blen;
      unsigned char *b = read_bytes (path, &blen);
      uint64_t hl = 0;
      memcpy (&hl, b, 8);
      aligned = aligned && (8 + hl) % 8 == 0 && (b[8 + hl - 1] == ' ' || b[8 + hl - 1] == '}')
                && blen == 8 + hl + 12;
      free (b);
      st_file *g = st_open (path, &err);
      aligned = aligned && g != NULL && st_find (g, name) != NULL;
      st_close (g);
    }
  tap_ok (aligned, "the header is space-padded so the data starts 8-byte aligned, for any name length");

  /* Refusals, and the old file survives a failed write. */
  st_write_tensor keep = { .name = "keep", .dtype = ST_F32, .ndim = 1, .shape = { 2 }, .data = w };
  st_write (path, &keep, 1, NULL, 0, &err);
  size_t before_len;
  unsigned char *before = read_bytes (path, &before_len);
  st_write_tensor dupl[2] = { keep, keep };
  err.code = LE_OK;
  tap_ok (!st_write (path, dupl, 2, NULL, 0, &err) && strstr (err.message, "keep") != NULL,
          "duplicate tensor names are refused: %s", err.message);
  st_write_meta dm[2] = { { "a", "1" }, { "a", "2" } };
  tap_ok (!st_write (path, &keep, 1, dm, 2, &err), "duplicate metadata keys are refused");
  st_write_tensor bad_utf8 = keep;
  bad_utf8.name = "bad\xff";
  tap_ok (!st_write (path, &bad_utf8, 1, NULL, 0, &err), "a non-UTF-8 name is refused");
  st_write_tensor neg = keep;
  neg.shape[0] = -1;
  tap_ok (!st_write (path, &neg, 1, NULL, 0, &err), "a negative dimension is refused");
  st_write_tensor shortfill = { .name = "s", .dtype = ST_F32, .ndim = 1, .shape = { 4 }, .fill = fill_short };
  err.code = LE_OK;
  tap_ok (!st_write (path, &shortfill, 1, NULL, 0, &err) && err.code == LE_ERR_INVALID,
          "a fill that produces the wrong byte count fails: %s", err.message);
  size_t after_len;
  unsigned char *after = read_bytes (path, &after_len);
  tap_ok (after_len == before_len && memcmp (before, after, before_len) == 0,
          "a failed write leaves the previous file untouched");
  free (before);
  free (after);
  DIR *d = opendir (dir);
  struct dirent *e;
  int stray = 0;
  while ((e = readdir (d)) != NULL)
    if (strstr (e->d_name, ".tmp-") != NULL)
      stray++;
  closedir (d);
  tap_ok (stray == 0, "no temporary files are left behind");
  char ro[4200];
  snprintf (ro, sizeof ro, "%s/no/such/folder/x.safetensors", dir);
  err.code = LE_OK;
  tap_ok (!st_write (ro, &keep, 1, NULL, 0, &err) && err.code == LE_ERR_IO
          && strstr (err.message, "x.safetensors") != NULL, "an unwritable path is an I/O error naming it");
  rm_rf (dir);
  free (dir);
}

static void
test_half_math (void)
{
  /* Every F16 bit pattern survives F16 -> F32 -> F16 (NaNs stay NaN). */
  bool ok = true;
  for (uint32_t h = 0; h < 65536 && ok; h++)
    {
      float f = st_f16_to_f32 ((uint16_t) h);
      uint16_t back = st_f32_to_f16 (f);
      ok = isnan (f) ? (back & 0x7C00) == 0x7C00 && (back & 0x3FF) != 0 : back == h;
      if (!ok)
        tap_diag ("f16 %04x -> %g -> %04x", h, f, back);
    }
  tap_ok (ok, "all 65536 F16 values round-trip through F32");
  ok = true;
  for (uint32_t h = 0; h < 65536 && ok; h++)
    {
      float f = st_bf16_to_f32 ((uint16_t) h);
      ok = isnan (f) || st_f32_to_bf16 (f) == h;
    }
  tap_ok (ok, "all BF16 values round-trip through F32");
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      fprintf (stderr, "usage: %s PYTHON SCRIPTS_DIR\n", argv[0]);
      return 2;
    }
  python = argv[1];
  scripts = argv[2];
  test_half_math ();
  if (access (python, X_OK) != 0)
    {
      tap_diag ("no reference Python at %s: skipping the checks against it", python);
      return tap_done ();
    }
  char *dir = test_tmpdir ("st-ref");
  ref = dir;
  if (!tap_ok (run_python (python, "'%s/make_safetensors.py' '%s'", scripts, dir) == 0,
               "the Python safetensors package writes the reference files"))
    return tap_done ();
  test_python_files ();
  test_sharded ();
  test_writer ();
  rm_rf (dir);
  free (dir);
  return tap_done ();
}
