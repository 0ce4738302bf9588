/* safetensors-set.c: a model's weights as one set of tensors, from a single file or the
 * shards listed by an HF model.safetensors.index.json (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"

struct st_set {
  st_file **files;
  size_t n_files;
  const st_tensor **all;  /* every tensor of every file, sorted by name */
  size_t n_all;
};

static int
cmp_ptr_name (const void *a, const void *b)
{
  return strcmp ((*(const st_tensor *const *) a)->name, (*(const st_tensor *const *) b)->name);
}

static bool
ends_with (const char *s, const char *tail)
{
  size_t n = strlen (s), m = strlen (tail);
  return n >= m && strcmp (s + n - m, tail) == 0;
}

static char *
join (const char *dir, const char *name)
{
  size_t n = strlen (dir) + strlen (name) + 2;
  char *p = malloc (n);
  if (p != NULL)
    snprintf (p, n, "%s/%s", dir, name);
  return p;
}

static bool
read_small_file (const char *path, char **out, size_t *len, le_error *err)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return le_fail (err, LE_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc (cap);
  while (buf != NULL)
    {
      if (n == cap)
        {
          if (cap >= ST_MAX_HEADER)
            {
              free (buf);
              fclose (fp);
              return le_fail (err, LE_ERR_FORMAT, "%s: larger than %u MB; not a shard index",
                              path, ST_MAX_HEADER >> 20);
            }
          char *b = realloc (buf, cap * 2);
          if (b == NULL)
            {
              free (buf);
              buf = NULL;
              break;
            }
          buf = b;
          cap *= 2;
        }
      size_t got = fread (buf + n, 1, cap - n, fp);
      n += got;
      if (got == 0)
        break;
    }
  bool bad = ferror (fp);
  fclose (fp);
  if (buf == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
  if (bad)
    {
      free (buf);
      return le_fail (err, LE_ERR_IO, "%s: read error", path);
    }
  *out = buf;
  *len = n;
  return true;
}

static bool
add_file (st_set *s, const char *path, le_error *err)
{
  st_file **files = realloc (s->files, (s->n_files + 1) * sizeof *files);
  if (files == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory");
  s->files = files;
  st_file *f = st_open (path, err);
  if (f == NULL)
    return false;
  s->files[s->n_files++] = f;
  return true;
}

static bool
open_index (st_set *s, const char *index_path, le_error *err)
{
  char *text = NULL;
  size_t len = 0;
  if (!read_small_file (index_path, &text, &len, err))
    return false;
  le_json_doc doc;
  le_error jerr = { 0 };
  if (!le_json_parse (&doc, text, len, &jerr))
    {
      free (text);
      return le_fail (err, LE_ERR_FORMAT, "%s: %s; re-download the model", index_path, jerr.message);
    }
  char *dir = strdup (index_path);
  char *slash = dir ? strrchr (dir, '/') : NULL;
  if (dir != NULL)
    {
      if (slash != NULL)
        *slash = '\0';
      else
        strcpy (dir, ".");
    }
  bool ok = dir != NULL || le_fail (err, LE_ERR_MEMORY, "out of memory");
  uint32_t map = ok ? le_json_member (&doc, 0, "weight_map") : LE_JSON_NONE;
  if (ok && (map == LE_JSON_NONE || doc.nodes[map].type != LE_JSON_OBJECT))
    ok = le_fail (err, LE_ERR_FORMAT, "%s: no \"weight_map\" object; re-download the model", index_path);
  /* Open each shard once, in the order the index first names it. */
  const char **shard_of = NULL;
  if (ok)
    {
      shard_of = calloc (doc.nodes[map].count + 1, sizeof *shard_of);
      if (shard_of == NULL)
        ok = le_fail (err, LE_ERR_MEMORY, "out of memory");
    }
  const char **opened = NULL;
  size_t n_opened = 0;
  if (ok)
    {
      opened = calloc (doc.nodes[map].count + 1, sizeof *opened);
      if (opened == NULL)
        ok = le_fail (err, LE_ERR_MEMORY, "out of memory");
    }
  size_t i = 0;
  for (uint32_t k = ok ? doc.nodes[map].first : LE_JSON_NONE; k != LE_JSON_NONE && ok; i++)
    {
      uint32_t v = doc.nodes[k].next;
      const char *shard = le_json_string (&doc, v);
      const char *name = le_json_string (&doc, k);
      if (shard == NULL || shard[0] == '\0' || shard[0] == '/' || strstr (shard, "..") != NULL)
        {
          ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor \"%.200s\" maps to a file name that is not a "
                        "plain file next to the index; re-download the model", index_path, name);
          break;
        }
      shard_of[i] = shard;
      size_t j = 0;
      while (j < n_opened && strcmp (opened[j], shard) != 0)
        j++;
      if (j == n_opened)
        {
          char *path = join (dir, shard);
          ok = path != NULL ? add_file (s, path, err) : le_fail (err, LE_ERR_MEMORY, "out of memory");
          if (!ok && err != NULL && err->code == LE_ERR_IO)
            le_error_prefix (err, "shard listed in %s is missing or unreadable (incomplete download?)",
                             index_path);
          free (path);
          opened[n_opened++] = shard;
        }
      if (ok)
        {
          const st_tensor *t = st_find (s->files[j], name);
          if (t == NULL)
            ok = le_fail (err, LE_ERR_FORMAT, "%s: tensor \"%.200s\" should be in %s but is not; "
                          "re-download the model", index_path, name, shard);
        }
      k = doc.nodes[v].next;
    }
  free (opened);
  free (shard_of);
  free (dir);
  le_json_free (&doc);
  free (text);
  return ok;
}

st_set *
st_set_open (const char *path, le_error *err)
{
  st_set *s = le_calloc (1, sizeof *s, "safetensors set", err);
  if (s == NULL)
    return NULL;
  struct stat st;
  bool ok;
  if (stat (path, &st) != 0)
    ok = le_fail (err, LE_ERR_IO, "%s: %s", path, strerror (errno));
  else if (S_ISDIR (st.st_mode))
    {
      char *index = join (path, "model.safetensors.index.json");
      char *single = join (path, "model.safetensors");
      if (index == NULL || single == NULL)
        ok = le_fail (err, LE_ERR_MEMORY, "out of memory");
      else if (stat (index, &st) == 0)
        ok = open_index (s, index, err);
      else if (stat (single, &st) == 0)
        ok = add_file (s, single, err);
      else
        ok = le_fail (err, LE_ERR_IO, "%s: holds neither model.safetensors nor "
                      "model.safetensors.index.json; is this a Hugging Face model folder?", path);
      free (index);
      free (single);
    }
  else if (ends_with (path, ".json"))
    ok = open_index (s, path, err);
  else
    ok = add_file (s, path, err);

  size_t total = 0;
  for (size_t i = 0; ok && i < s->n_files; i++)
    total += st_count (s->files[i]);
  if (ok)
    {
      s->all = le_calloc (total, sizeof *s->all, "tensor list", err);
      ok = s->all != NULL;
    }
  for (size_t i = 0; ok && i < s->n_files; i++)
    for (size_t j = 0; j < st_count (s->files[i]); j++)
      s->all[s->n_all++] = st_at (s->files[i], j);
  if (ok)
    {
      qsort (s->all, s->n_all, sizeof *s->all, cmp_ptr_name);
      for (size_t i = 1; i < s->n_all && ok; i++)
        if (strcmp (s->all[i]->name, s->all[i - 1]->name) == 0)
          ok = le_fail (err, LE_ERR_FORMAT, "tensor \"%.200s\" is in both %s and %s; re-download the model",
                        s->all[i]->name, s->all[i - 1]->file_path, s->all[i]->file_path);
    }
  if (!ok)
    {
      st_set_close (s);
      return NULL;
    }
  return s;
}

void
st_set_close (st_set *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_files; i++)
    st_close (s->files[i]);
  free (s->files);
  free (s->all);
  free (s);
}

size_t st_set_count (const st_set *s) { return s->n_all; }
size_t st_set_n_files (const st_set *s) { return s->n_files; }

const st_tensor *
st_set_at (const st_set *s, size_t i)
{
  return i < s->n_all ? s->all[i] : NULL;
}

const st_file *
st_set_file (const st_set *s, size_t i)
{
  return i < s->n_files ? s->files[i] : NULL;
}

const st_tensor *
st_set_find (const st_set *s, const char *name)
{
  st_tensor key = { .name = name };
  const st_tensor *kp = &key;
  const st_tensor **hit = bsearch (&kp, s->all, s->n_all, sizeof *s->all, cmp_ptr_name);
  return hit ? *hit : NULL;
}
