/* tokenizer-json.c: the accessors of tokenizer-json.h over gpu/io's JSON parser. */
#include "tokenizer-json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
tok_json_read (tok_json *j, const char *path, le_error *err)
{
  memset (j, 0, sizeof *j);
  j->path = path;
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return le_fail (err, LE_ERR_IO, "cannot open %s: %s", path, strerror (errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc (cap);
  while (buf != NULL)
    {
      len += fread (buf + len, 1, cap - len, f);
      if (len < cap)
        break;
      cap *= 2;
      char *nb = realloc (buf, cap);
      if (nb == NULL)
        free (buf);
      buf = nb;
    }
  bool bad = ferror (f);
  fclose (f);
  if (buf == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
  if (bad)
    {
      free (buf);
      return le_fail (err, LE_ERR_IO, "cannot read %s", path);
    }
  j->text = buf;
  if (!le_json_parse (&j->doc, buf, len, err))
    {
      free (buf);
      j->text = NULL;
      return le_error_prefix (err, "%s", path);
    }
  return true;
}

void
tok_json_free (tok_json *j)
{
  if (j->text)
    le_json_free (&j->doc);
  free (j->text);
  memset (j, 0, sizeof *j);
}

le_json_type
tok_json_type (const tok_json *j, uint32_t i)
{
  return i < j->doc.n_nodes ? (le_json_type) j->doc.nodes[i].type : LE_JSON_NULL;
}

uint32_t
tok_json_get (const tok_json *j, uint32_t i, const char *key)
{
  return i < j->doc.n_nodes ? le_json_member (&j->doc, i, key) : LE_JSON_NONE;
}

const char *
tok_json_str (const tok_json *j, uint32_t i, size_t *len)
{
  if (tok_json_type (j, i) != LE_JSON_STRING)
    return NULL;
  if (len)
    *len = j->doc.nodes[i].count;
  return le_json_string (&j->doc, i);
}

bool
tok_json_true (const tok_json *j, uint32_t i)
{
  return tok_json_type (j, i) == LE_JSON_TRUE;
}

bool
tok_json_id (const tok_json *j, uint32_t i, int32_t *out)
{
  uint64_t v;
  if (i >= j->doc.n_nodes || !le_json_uint64 (&j->doc, i, &v) || v >= (1u << 30))
    return false;
  *out = (int32_t) v;
  return true;
}

uint32_t
tok_json_count (const tok_json *j, uint32_t i)
{
  le_json_type t = tok_json_type (j, i);
  return (t == LE_JSON_ARRAY || t == LE_JSON_OBJECT) ? j->doc.nodes[i].count : 0;
}
