/* test-hostile.c: hand-made broken and hostile safetensors files are refused with a
 * message naming the file, the tensor and what to do, and every truncation of a valid
 * file is reported as truncation; nothing crashes. */
#include "io-test.h"
#include "json.h"
#include "safetensors.h"

static char *dir;
static char path[4200];

/* Writes u64 LEN (or the header's real length when LEN is UINT64_MAX), HEADER, DATA. */
static void
make_file (uint64_t len, const char *header, size_t data_len)
{
  size_t hl = strlen (header);
  if (len == UINT64_MAX)
    len = hl;
  unsigned char *buf = calloc (1, 8 + hl + data_len + 1);
  for (int i = 0; i < 8; i++)
    buf[i] = (unsigned char) (len >> (8 * i));
  memcpy (buf + 8, header, hl);
  write_bytes (path, buf, 8 + hl + data_len);
  free (buf);
}

/* The file must be refused; the message must name the file and contain each NEEDLE. */
static void
refused (const char *what, uint64_t len, const char *header, size_t data_len,
         const char *needle1, const char *needle2)
{
  make_file (len, header, data_len);
  le_error err = { 0 };
  st_file *f = st_open (path, &err);
  bool ok = f == NULL && err.code == LE_ERR_FORMAT && strstr (err.message, path) != NULL
            && (needle1 == NULL || strstr (err.message, needle1) != NULL)
            && (needle2 == NULL || strstr (err.message, needle2) != NULL);
  tap_ok (ok, "%s is refused: %s", what, f ? "(it opened)" : err.message);
  st_close (f);
}

static void
accepted (const char *what, const char *header, size_t data_len, size_t n_tensors)
{
  make_file (UINT64_MAX, header, data_len);
  le_error err = { 0 };
  st_file *f = st_open (path, &err);
  tap_ok (f != NULL && st_count (f) == n_tensors, "%s is accepted (%s)", what, err.message);
  st_close (f);
}

static void
test_hostile_headers (void)
{
  const char *fix = "re-download or re-export";
  for (size_t n = 0; n < 8; n++)
    {
      write_bytes (path, "\x10\0\0\0\0\0\0", n);
      le_error err = { 0 };
      st_file *f = st_open (path, &err);
      tap_ok (f == NULL && strstr (err.message, "truncated") != NULL, "a %zu-byte file is refused", n);
    }

  /* A header length that does not fit the file or our limit, or a header that is no
   * JSON object: the error names the file, NEEDLE1 and NEEDLE2 (when not NULL). */
  const struct {
    const char *what;
    uint64_t len;
    const char *header;
    size_t data_len;
    const char *needle1, *needle2;
  } bad_header[] = {
    { "a header length larger than the file", 1000, "{}", 0, "truncated", fix },
    { "header length 2^63", 1ULL << 63, "{}", 0, "MB", fix },
    { "header length 2^64-1", UINT64_MAX - 1, "{}", 0, fix, NULL },
    { "a header over 100 MB", 200u << 20, "{}", 0, "100 MB", NULL },
    { "a header that is not JSON", UINT64_MAX, "hello world", 0, "not valid JSON", fix },
    { "a header that is a JSON array", UINT64_MAX, "[]", 0, "not a JSON object", NULL },
    { "an empty header", UINT64_MAX, "", 0, "JSON", NULL },
    { "trailing text after the JSON", UINT64_MAX, "{} x", 0, "trailing", NULL },
    { "a trailing comma", UINT64_MAX, "{\"__metadata__\":{\"a\":\"b\",}}", 0, "JSON", NULL },
  };
  for (size_t i = 0; i < sizeof bad_header / sizeof bad_header[0]; i++)
    refused (bad_header[i].what, bad_header[i].len, bad_header[i].header,
             bad_header[i].data_len, bad_header[i].needle1, bad_header[i].needle2);

  char *bomb = malloc (300000);
  strcpy (bomb, "{\"a\":{\"dtype\":\"F32\",\"shape\":");
  size_t p = strlen (bomb);
  for (int i = 0; i < 100000; i++)
    bomb[p++] = '[';
  bomb[p] = '\0';
  refused ("a nesting depth bomb (100000 brackets)", UINT64_MAX, bomb, 0, "nested too deeply", NULL);
  free (bomb);

  size_t many_len = 2 * (size_t) LE_JSON_MAX_NODES + 64;
  char *many = malloc (many_len + 1);
  strcpy (many, "{\"__metadata__\":{\"a\":\"b\"},\"x\":[");
  p = strlen (many);
  while (p + 4 < many_len)
    many[p++] = '0', many[p++] = ',';
  strcpy (many + p, "0]}");
  refused ("a header of millions of tiny values", UINT64_MAX, many, 0, "more values", NULL);
  free (many);

  /* Headers of the right length whose tensors or metadata are wrong: the error names
   * the file, NEEDLE1 and NEEDLE2 (when not NULL). */
  static const struct {
    const char *what, *header;
    size_t data_len;
    const char *needle1, *needle2;
  } bad[] = {
    { "a negative shape",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}",
      8, "\"w\"", "non-negative" },
    { "a fractional shape",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
      4, "\"w\"", NULL },
    { "a shape whose product overflows",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}",
      4, "\"w\"", "large" },
    { "a byte size that overflows",
      "{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}",
      4, "\"w\"", NULL },
    { "nine dimensions",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
      4, "\"w\"", "dimensions" },
    { "overlapping offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
      12, "overlaps", NULL },
    { "two tensors on the same bytes",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, "overlaps", NULL },
    { "a gap in coverage",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
      20, "no tensor", "\"b\"" },
    { "data not starting at offset 0",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
      12, "no tensor", NULL },
    { "bytes after the last tensor",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      12, "after the last", NULL },
    { "offsets past the end of the file",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
      8, "\"a\"", "truncated" },
    { "offsets too large for 64 bits",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999999]}}",
      8, "\"a\"", NULL },
    { "end before begin",
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}",
      8, "\"a\"", NULL },
    { "a byte range that does not match the shape",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
      8, "needs 12 bytes", "\"a\"" },
    { "an unknown dtype",
      "{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, "Q4_K", "\"a\"" },
    { "a dtype that is not a string",
      "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, "\"a\"", NULL },
    { "a missing data_offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
      8, "\"a\"", NULL },
    { "three offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}",
      8, "\"a\"", NULL },
    { "a tensor entry that is a string",
      "{\"a\":\"F32\"}",
      0, "\"a\"", NULL },
    { "duplicate names",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      8, "twice", "\"a\"" },
    { "a non-UTF-8 name",
      "{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "UTF-8", NULL },
    { "an overlong UTF-8 encoding",
      "{\"\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "UTF-8", NULL },
    { "a UTF-16 surrogate encoded as UTF-8",
      "{\"\xed\xa0\x80\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "UTF-8", NULL },
    { "a lone surrogate escape",
      "{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "surrogate", NULL },
    { "a NUL inside a name",
      "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "NUL", NULL },
    { "a raw control character in a name",
      "{\"a\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      4, "control", NULL },
    { "a metadata value that is not a string",
      "{\"__metadata__\":{\"steps\":100}}",
      0, "steps", NULL },
    { "__metadata__ twice",
      "{\"__metadata__\":{},\"__metadata__\":{}}",
      0, "twice", NULL },
    { "a duplicate metadata key",
      "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}",
      0, "twice", NULL },
    { "NaN in the header",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}}",
      4, "JSON", NULL },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    refused (bad[i].what, UINT64_MAX, bad[i].header, bad[i].data_len, bad[i].needle1,
             bad[i].needle2);

  accepted ("an empty header with no data", "{}", 0, 0);
  accepted ("metadata only", "{\"__metadata__\":{\"k\":\"v\"}}", 0, 0);
  accepted ("zero-size tensors next to data, a scalar, whitespace padding",
            "{\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]},"
            "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
            "\"y\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[4,4]},"
            "\"b\":{\"dtype\":\"BOOL\",\"shape\":[2,2],\"data_offsets\":[4,8]}}   \n ", 8, 4);
}

/* Every prefix of a valid file is refused as truncated, from disk and from memory. */
static void
test_truncation (void)
{
  float w[12] = { 0 };
  uint16_t h[5] = { 0 };
  st_write_tensor t[] = {
    { .name = "a", .dtype = ST_F32, .ndim = 2, .shape = { 3, 4 }, .data = w },
    { .name = "b.bias", .dtype = ST_F16, .ndim = 1, .shape = { 5 }, .data = h },
    { .name = "c", .dtype = ST_I8, .ndim = 1, .shape = { 3 }, .data = w },
  };
  st_write_meta meta[] = { { "ss_network_dim", "4" } };
  le_error err = { 0 };
  if (!tap_ok (st_write (path, t, 3, meta, 1, &err), "writes a small valid file"))
    return;
  size_t len = 0;
  unsigned char *full = read_bytes (path, &len);
  if (!tap_ok (full != NULL, "reads it back"))
    return;
  st_file *f = st_open_memory (full, len, "full", &err);
  tap_ok (f != NULL && st_count (f) == 3, "the whole file opens");
  st_close (f);
  bool all_mem = true, all_disk = true;
  char tpath[4300];
  snprintf (tpath, sizeof tpath, "%s/cut.safetensors", dir);
  for (size_t n = 0; n < len; n++)
    {
      unsigned char *copy = malloc (n + 1); /* exact size, so ASan sees any overread */
      memcpy (copy, full, n);
      err.code = LE_OK;
      f = st_open_memory (copy, n, "cut", &err);
      if (f != NULL || strstr (err.message, "truncated") == NULL)
        {
          all_mem = false;
          tap_diag ("cut at %zu: %s", n, f ? "opened" : err.message);
        }
      st_close (f);
      free (copy);
      write_bytes (tpath, full, n);
      f = st_open (tpath, &err);
      if (f != NULL || strstr (err.message, "truncated") == NULL || strstr (err.message, tpath) == NULL)
        all_disk = false;
      st_close (f);
    }
  tap_ok (all_mem, "each of the %zu truncations is reported as truncated (memory)", len);
  tap_ok (all_disk, "each truncation on disk is reported as truncated, naming the file");

  /* Flipping bytes anywhere never crashes; it is either refused or still a valid file. */
  unsigned int seed = 12345;
  int opened = 0, refused_n = 0;
  for (int i = 0; i < 20000; i++)
    {
      unsigned char *copy = malloc (len);
      memcpy (copy, full, len);
      int flips = 1 + (int) (rand_r (&seed) % 3);
      for (int k = 0; k < flips; k++)
        copy[rand_r (&seed) % len] = (unsigned char) rand_r (&seed);
      f = st_open_memory (copy, len, "flip", &err);
      if (f != NULL)
        {
          opened++;
          for (size_t j = 0; j < st_count (f); j++)
            {
              const st_tensor *x = st_at (f, j);
              float *out = malloc (x->numel * 4 + 4);
              st_to_f32 (x, out, x->numel, &err);
              free (out);
            }
        }
      else
        refused_n++;
      st_close (f);
      free (copy);
    }
  tap_ok (opened + refused_n == 20000 && refused_n > 0, "20000 random corruptions: %d refused, %d "
          "still valid, no crash", refused_n, opened);
  free (full);
}

static void
test_json (void)
{
  le_json_doc doc;
  le_error err = { 0 };
  const char *good = " {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}} ";
  bool ok = le_json_parse (&doc, good, strlen (good), &err);
  tap_ok (ok, "parses a document with every kind of value (%s)", err.message);
  if (ok)
    {
      uint32_t a = le_json_member (&doc, 0, "a");
      const le_json_node *arr = le_json_node_at (&doc, a);
      uint32_t e = arr->first;
      uint64_t one = 0;
      double d = 0;
      bool vals = arr->count == 6 && le_json_uint64 (&doc, e, &one) && one == 1;
      e = doc.nodes[e].next;
      vals = vals && !le_json_uint64 (&doc, e, &one) && le_json_double (&doc, e, &d) && d == -2500.0;
      e = doc.nodes[doc.nodes[doc.nodes[doc.nodes[e].next].next].next].next;
      vals = vals && strcmp (le_json_string (&doc, e), "\xc3\xa9\xf0\x9f\x98\x80\n") == 0;
      tap_ok (vals, "numbers, escapes and surrogate pairs decode correctly");
      tap_ok (le_json_member (&doc, 0, "zz") == LE_JSON_NONE, "absent member is NONE");
      le_json_free (&doc);
    }
  const char *bad[] = { "01", "1.", "-", "+1", "1e", "[1,]", "{\"a\"}", "{\"a\":1,}", "\"\\x\"",
                        "\"abc", "tru", "nul", "[1 2]", "{1:2}", "\"\\u12\"", "[\"\\udc00\"]",
                        "'a'", "[1]]", "/* c */ 1", "\xef\xbb\xbf{}" };
  bool all = true;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (le_json_parse (&doc, bad[i], strlen (bad[i]), &err))
      {
        all = false;
        tap_diag ("accepted: %s", bad[i]);
        le_json_free (&doc);
      }
  tap_ok (all, "refuses %zu kinds of invalid JSON", sizeof bad / sizeof bad[0]);
  char deep[200];
  memset (deep, '[', 64);
  memset (deep + 64, ']', 64);
  deep[128] = 0;
  ok = le_json_parse (&doc, deep, 128, &err);
  tap_ok (ok, "accepts nesting up to %d", LE_JSON_MAX_DEPTH);
  if (ok)
    le_json_free (&doc);
  memset (deep, '[', 66);
  memset (deep + 66, ']', 66);
  tap_ok (!le_json_parse (&doc, deep, 132, &err), "refuses nesting beyond the limit");
  uint64_t big;
  const char *u = "[18446744073709551615, 18446744073709551616]";
  ok = le_json_parse (&doc, u, strlen (u), &err);
  tap_ok (ok && le_json_uint64 (&doc, doc.nodes[0].first, &big) && big == UINT64_MAX
          && !le_json_uint64 (&doc, doc.nodes[doc.nodes[0].first].next, &big),
          "uint64 limits: the largest fits, one more does not");
  if (ok)
    le_json_free (&doc);
  char esc[64];
  size_t n = le_json_escape (esc, sizeof esc, 0, "a\"b\\c\n\x01");
  tap_ok (n == 17 && memcmp (esc, "\"a\\\"b\\\\c\\n\\u0001\"", 17) == 0, "escapes quotes, "
          "backslashes and control characters");
}

int
main (void)
{
  dir = test_tmpdir ("st-hostile");
  snprintf (path, sizeof path, "%s/hostile.safetensors", dir);
  test_json ();
  test_hostile_headers ();
  test_truncation ();
  rm_rf (dir);
  free (dir);
  return tap_done ();
}
