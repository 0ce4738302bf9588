/* text-dataset.c: reading a text-generation dataset folder (see text-dataset.h). */
#include "text-dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "read-file.h"

static int
compare_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);
  return n >= k && strcmp (s + n - k, suffix) == 0;
}

static bool
blank (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
      return false;
  return true;
}

/* Appends one sample: BOS + prompt + text + EOS; the tokens of TEXT and EOS count, and
 * those of PROMPT count only when prompt_counts. */
static bool
add_sample (text_dataset *ds, const le_tokenizer *tok, int64_t seq_len, int file,
            int64_t line, const char *prompt, size_t prompt_len, const char *text,
            size_t text_len, le_error *err)
{
  int32_t *p_ids = NULL, *t_ids = NULL;
  size_t n_p = 0, n_t = 0;
  if ((prompt && !le_tokenizer_encode (tok, prompt, prompt_len, false, &p_ids, &n_p, err))
      || !le_tokenizer_encode (tok, text, text_len, false, &t_ids, &n_t, err))
    {
      free (p_ids);
      le_error_prefix (err, "%s:%lld: ", ds->files[file], (long long) line);
      return false;
    }
  int64_t n = 2 + (int64_t) n_p + (int64_t) n_t;
  if (ds->n_samples % 256 == 0)
    {
      text_sample *grown = realloc (ds->samples, (size_t) (ds->n_samples + 256) * sizeof *grown);
      if (grown == NULL)
        {
          free (p_ids);
          free (t_ids);
          return le_fail (err, LE_ERR_MEMORY, "out of memory reading the dataset");
        }
      ds->samples = grown;
    }
  text_sample *s = &ds->samples[ds->n_samples];
  s->ids = malloc ((size_t) n * sizeof *s->ids);
  s->count = malloc ((size_t) n);
  if (s->ids == NULL || s->count == NULL)
    {
      free (s->ids);
      free (s->count);
      free (p_ids);
      free (t_ids);
      return le_fail (err, LE_ERR_MEMORY, "out of memory reading the dataset");
    }
  int64_t k = 0;
  s->ids[k] = le_tokenizer_bos_id (tok);
  s->count[k++] = 0;
  for (size_t i = 0; i < n_p; i++, k++)
    {
      s->ids[k] = p_ids[i];
      s->count[k] = 0;
    }
  for (size_t i = 0; i < n_t; i++, k++)
    {
      s->ids[k] = t_ids[i];
      s->count[k] = 1;
    }
  s->ids[k] = le_tokenizer_eos_id (tok);
  s->count[k++] = 1;
  free (p_ids);
  free (t_ids);
  if (n > seq_len)
    {
      if (ds->n_cut++ == 0)
        snprintf (ds->first_cut, sizeof ds->first_cut, "%s:%lld", ds->files[file],
                  (long long) line);
      n = seq_len;
    }
  s->n = n;
  s->file = file;
  s->line = line;
  for (int64_t i = 0; i < n; i++)
    ds->counted += s->count[i];
  ds->n_samples++;
  return true;
}

/* A string member of a JSON line, or NULL. */
static const char *
json_str (const le_json_doc *doc, const char *key, size_t *len)
{
  uint32_t v = le_json_member (doc, 0, key);
  if (v == LE_JSON_NONE || doc->nodes[v].type != LE_JSON_STRING)
    return NULL;
  *len = doc->nodes[v].count;
  return le_json_string (doc, v);
}

static bool
read_one_file (text_dataset *ds, const le_tokenizer *tok, int64_t seq_len, int file,
               le_error *err)
{
  const char *path = ds->files[file];
  bool jsonl = has_suffix (path, ".jsonl");
  size_t len;
  char *text = le_read_file (path, 0, NULL, &len, err);
  if (text == NULL)
    return false;
  bool ok = true;
  int64_t line = 0;
  for (char *p = text; ok && p < text + len; )
    {
      char *end = memchr (p, '\n', (size_t) (text + len - p));
      size_t n = end ? (size_t) (end - p) : (size_t) (text + len - p);
      line++;
      if (n > 0 && p[n - 1] == '\r')
        n--;
      if (!blank (p, n))
        {
          if (!jsonl)
            ok = add_sample (ds, tok, seq_len, file, line, NULL, 0, p, n, err);
          else
            {
              le_json_doc doc;
              if (!le_json_parse (&doc, p, n, err))
                {
                  le_error_prefix (err, "%s:%lld: not a JSON line: ", path, (long long) line);
                  ok = false;
                }
              else
                {
                  size_t lt = 0, lp = 0, lc = 0;
                  const char *t = doc.nodes[0].type == LE_JSON_OBJECT
                                  ? json_str (&doc, "text", &lt) : NULL;
                  const char *pr = doc.nodes[0].type == LE_JSON_OBJECT
                                   ? json_str (&doc, "prompt", &lp) : NULL;
                  const char *co = doc.nodes[0].type == LE_JSON_OBJECT
                                   ? json_str (&doc, "completion", &lc) : NULL;
                  if (t)
                    ok = add_sample (ds, tok, seq_len, file, line, NULL, 0, t, lt, err);
                  else if (pr && co)
                    ok = add_sample (ds, tok, seq_len, file, line, pr, lp, co, lc, err);
                  else
                    ok = le_fail (err, LE_ERR_FORMAT, "%s:%lld: a JSON line needs a \"text\" "
                                  "string, or \"prompt\" and \"completion\" strings", path,
                                  (long long) line);
                  le_json_free (&doc);
                }
            }
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  free (text);
  return ok;
}

text_dataset *
text_dataset_load (const char *dir, const le_tokenizer *tok, int64_t sequence_length,
                   le_error *err)
{
  if (sequence_length < 2)
    {
      le_fail (err, LE_ERR_INVALID, "sequence_length must be at least 2");
      return NULL;
    }
  if (le_tokenizer_bos_id (tok) < 0 || le_tokenizer_eos_id (tok) < 0)
    {
      le_fail (err, LE_ERR_FORMAT, "the tokenizer has no BOS or EOS token; set bos_token and "
               "eos_token in tokenizer_config.json or bos_token_id/eos_token_id in "
               "config.json");
      return NULL;
    }
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      le_fail (err, LE_ERR_IO, "%s: cannot open the data folder: %s", dir, strerror (errno));
      return NULL;
    }
  text_dataset *ds = le_calloc (1, sizeof *ds, "dataset", err);
  if (ds == NULL)
    {
      closedir (d);
      return NULL;
    }
  ds->pad_id = le_tokenizer_eos_id (tok);
  ds->sequence_length = sequence_length;
  int cap = 0;
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.' || !(has_suffix (e->d_name, ".txt")
                                   || has_suffix (e->d_name, ".jsonl")))
        continue;
      if (ds->n_files == cap)
        {
          cap = cap ? cap * 2 : 16;
          char **grown = realloc (ds->files, (size_t) cap * sizeof *grown);
          if (grown == NULL)
            {
              ok = le_fail (err, LE_ERR_MEMORY, "out of memory listing %s", dir);
              break;
            }
          ds->files = grown;
        }
      size_t n = strlen (dir) + strlen (e->d_name) + 2;
      ds->files[ds->n_files] = malloc (n);
      if (ds->files[ds->n_files] == NULL)
        {
          ok = le_fail (err, LE_ERR_MEMORY, "out of memory listing %s", dir);
          break;
        }
      snprintf (ds->files[ds->n_files++], n, "%s/%s", dir, e->d_name);
    }
  closedir (d);
  if (ok && ds->n_files == 0)
    ok = le_fail (err, LE_ERR_INVALID, "%s holds no .txt or .jsonl files; put the training "
                  "text there (one sample per line)", dir);
  if (ok)
    qsort (ds->files, (size_t) ds->n_files, sizeof *ds->files, compare_str);
  for (int i = 0; ok && i < ds->n_files; i++)
    ok = read_one_file (ds, tok, sequence_length, i, err);
  if (ok && ds->n_samples == 0)
    ok = le_fail (err, LE_ERR_INVALID, "%s: the .txt and .jsonl files hold no samples (every "
                  "line is empty)", dir);
  if (!ok)
    {
      text_dataset_free (ds);
      return NULL;
    }
  return ds;
}

void
text_dataset_free (text_dataset *ds)
{
  if (ds == NULL)
    return;
  for (int64_t i = 0; i < ds->n_samples; i++)
    {
      free (ds->samples[i].ids);
      free (ds->samples[i].count);
    }
  free (ds->samples);
  for (int i = 0; i < ds->n_files; i++)
    free (ds->files[i]);
  free (ds->files);
  free (ds);
}

const char *
text_dataset_cut_warning (text_dataset *ds)
{
  if (ds->n_cut == 0)
    return NULL;
  snprintf (ds->warning, sizeof ds->warning, "%lld sample%s longer than sequence_length "
            "%lld %s cut (the end of %s is not trained on); the first is at %s; raise "
            "sequence_length or split long lines", (long long) ds->n_cut,
            ds->n_cut == 1 ? "" : "s", (long long) ds->sequence_length,
            ds->n_cut == 1 ? "was" : "were",
            ds->n_cut == 1 ? "it" : "them", ds->first_cut);
  return ds->warning;
}

void
text_dataset_batch (const text_dataset *ds, const int64_t *idx, int64_t batch, int64_t t,
                    int32_t *tokens, uint8_t *count)
{
  for (int64_t b = 0; b < batch; b++)
    {
      const text_sample *s = &ds->samples[idx[b]];
      int64_t n = s->n < t ? s->n : t;
      for (int64_t i = 0; i < t; i++)
        {
          tokens[b * t + i] = i < n ? s->ids[i] : ds->pad_id;
          count[b * t + i] = i < n ? s->count[i] : 0;
        }
    }
}

int64_t
text_dataset_batch_len (const text_dataset *ds, const int64_t *idx, int64_t batch)
{
  int64_t t = 0;
  for (int64_t b = 0; b < batch; b++)
    if (ds->samples[idx[b]].n > t)
      t = ds->samples[idx[b]].n;
  return t;
}
