/* clip-caption.c: the vocabulary's text embeddings with their on-disk cache, and the
 * caption rule (clip-caption.h). */
#include "clip-caption.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-file.h"

#define CACHE_MAGIC "LSCLIPTE"
#define CACHE_VERSION 1u

void
caption_normalize_rows (float *x, int64_t n, int64_t dim)
{
  for (int64_t i = 0; i < n; i++)
    {
      double s = 0;
      for (int64_t j = 0; j < dim; j++)
        s += (double) x[i * dim + j] * x[i * dim + j];
      if (s > 0)
        for (int64_t j = 0; j < dim; j++)
          x[i * dim + j] = (float) (x[i * dim + j] / sqrt (s));
    }
}

static uint64_t
mix (uint64_t h, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  return h;
}

static uint64_t
mix_file (uint64_t h, const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return mix (h, 0);
  h = mix (h, (uint64_t) st.st_size);
  h = mix (h, (uint64_t) st.st_mtim.tv_sec);
  return mix (h, (uint64_t) st.st_mtim.tv_nsec);
}

/* What the embeddings depend on: the weights (size, mtime of the single file or of the
 * index and its shards' usual names), config.json, the tokenizer and the vocabulary. */
static uint64_t
cache_key (const clip_model *m, const caption_vocabulary *v)
{
  static const char *const files[] = { "model.safetensors", "model.safetensors.index.json",
                                       "config.json", "vocab.json", "merges.txt" };
  uint64_t h = 0xcbf29ce484222325ull;
  char path[2048];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    {
      snprintf (path, sizeof path, "%s/%s", m->folder, files[i]);
      h = mix_file (h, path);
    }
  h = mix (h, v->hash);
  h = mix (h, (uint64_t) v->n_phrases);
  return mix (h, (uint64_t) m->cfg.projection_dim);
}

typedef struct {
  char magic[8];
  uint32_t version, pad;
  uint64_t key, n, dim;
} cache_header;

static bool
cache_read (const char *path, uint64_t key, int64_t n, int64_t dim, float *out)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return false;
  cache_header h;
  bool ok = fread (&h, sizeof h, 1, fp) == 1 && memcmp (h.magic, CACHE_MAGIC, 8) == 0
            && h.version == CACHE_VERSION && h.key == key && h.n == (uint64_t) n
            && h.dim == (uint64_t) dim
            && fread (out, sizeof *out, (size_t) (n * dim), fp) == (size_t) (n * dim);
  fclose (fp);
  for (int64_t i = 0; ok && i < n * dim; i++)
    ok = isfinite (out[i]);
  return ok;
}

/* A failed write only costs the next run the computation: it is not an error. */
static void
cache_write (const char *dir, const char *path, uint64_t key, int64_t n, int64_t dim,
             const float *emb)
{
  le_error err = { 0 };
  le_atomic_file f;
  cache_header h = { { 0 }, CACHE_VERSION, 0, key, (uint64_t) n, (uint64_t) dim };
  memcpy (h.magic, CACHE_MAGIC, 8);
  if (le_mkdir_p (dir, &err) && le_atomic_open (&f, path, &err))
    {
      if (le_atomic_write (&f, &h, sizeof h, &err)
          && le_atomic_write (&f, emb, (size_t) (n * dim) * sizeof *emb, &err))
        le_atomic_commit (&f, &err);
      else
        le_atomic_abort (&f);
    }
}

bool
caption_text_embeddings (clip_model *m, graph *g, const caption_vocabulary *v,
                         const char *cache_dir, float **out, bool *from_cache, le_error *err)
{
  int64_t n = v->n_phrases, dim = m->cfg.projection_dim;
  float *emb = le_malloc ((size_t) (n * dim) * sizeof *emb, "the vocabulary embeddings", err);
  if (emb == NULL)
    return false;
  uint64_t key = cache_key (m, v);
  char path[2048] = "";
  if (cache_dir != NULL)
    snprintf (path, sizeof path, "%s/clip-text-%016llx.bin", cache_dir,
              (unsigned long long) key);
  *from_cache = cache_dir != NULL && cache_read (path, key, n, dim, emb);
  if (!*from_cache)
    {
      if (!clip_text_features (m, g, (const char *const *) v->phrases, n, emb, err))
        {
          free (emb);
          return false;
        }
      caption_normalize_rows (emb, n, dim);
      if (cache_dir != NULL)
        cache_write (cache_dir, path, key, n, dim, emb);
    }
  *out = emb;
  return true;
}

void
caption_options_default (caption_options *o)
{
  o->max_tags = 8;
  o->margin = 0.03f;
  o->trigger = NULL;
}

static void
append (char **buf, size_t *len, size_t *cap, const char *s)
{
  size_t n = strlen (s), sep = *len ? 2 : 0;
  if (*buf == NULL)
    return;
  if (*len + sep + n + 1 > *cap)
    {
      size_t cap2 = (*len + sep + n + 1) * 2;
      char *g = realloc (*buf, cap2);
      if (g == NULL)
        {
          free (*buf);
          *buf = NULL;
          return;
        }
      *buf = g;
      *cap = cap2;
    }
  if (sep)
    memcpy (*buf + *len, ", ", 2);
  memcpy (*buf + *len + sep, s, n + 1);
  *len += sep + n;
}

char *
caption_select (const caption_vocabulary *v, const float *text, int64_t dim,
                const float *image, const caption_options *o, float *scores)
{
  int n = v->n_phrases;
  float *s = malloc ((size_t) n * sizeof *s);
  int *order = malloc ((size_t) n * sizeof *order);
  int *cat_of = malloc ((size_t) n * sizeof *cat_of);
  int *used = calloc ((size_t) v->n_categories + 1, sizeof *used);
  size_t cap = 256, len = 0;
  char *out = malloc (cap);
  if (s == NULL || order == NULL || cat_of == NULL || used == NULL || out == NULL)
    {
      free (s), free (order), free (cat_of), free (used), free (out);
      return NULL;
    }
  out[0] = '\0';
  double norm = 0;
  for (int64_t j = 0; j < dim; j++)
    norm += (double) image[j] * image[j];
  norm = norm > 0 ? sqrt (norm) : 1;
  for (int c = 0; c < v->n_categories; c++)
    for (int i = 0; i < v->categories[c].count; i++)
      cat_of[v->categories[c].first + i] = c;
  for (int i = 0; i < n; i++)
    {
      double d = 0;
      for (int64_t j = 0; j < dim; j++)
        d += (double) text[(int64_t) i * dim + j] * image[j];
      s[i] = (float) (d / norm);
    }
  if (o->trigger != NULL && o->trigger[0] != '\0')
    append (&out, &len, &cap, o->trigger);
  int tags = 0;
  for (int c = 0; c < v->n_categories && tags < o->max_tags; c++)
    {
      const caption_category *cat = &v->categories[c];
      if (!cat->pick_one)
        continue;
      int best = cat->first;
      for (int i = cat->first; i < cat->first + cat->count; i++)
        if (s[i] > s[best])
          best = i;
      append (&out, &len, &cap, v->phrases[best]);
      tags++;
    }
  /* pick-many: by descending score (ties: file order), near the best */
  int m = 0;
  float best_many = -INFINITY;
  for (int i = 0; i < n; i++)
    if (!v->categories[cat_of[i]].pick_one)
      {
        order[m++] = i;
        if (s[i] > best_many)
          best_many = s[i];
      }
  for (int a = 1; a < m; a++)          /* insertion sort: stable, vocabularies are small */
    {
      int x = order[a], b = a - 1;
      while (b >= 0 && s[order[b]] < s[x])
        {
          order[b + 1] = order[b];
          b--;
        }
      order[b + 1] = x;
    }
  for (int a = 0; a < m && tags < o->max_tags; a++)
    {
      int i = order[a];
      if (s[i] < best_many - o->margin)
        break;
      if (used[cat_of[i]] >= v->categories[cat_of[i]].max)
        continue;
      used[cat_of[i]]++;
      append (&out, &len, &cap, v->phrases[i]);
      tags++;
    }
  if (scores != NULL)
    memcpy (scores, s, (size_t) n * sizeof *s);
  free (s), free (order), free (cat_of), free (used);
  return out;
}
