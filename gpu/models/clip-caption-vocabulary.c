/* clip-caption-vocabulary.c: the tag vocabulary file (clip-caption.h): categories in
 * brackets with pick=one|many and max=N, one phrase a line, # comments. */
#include "clip-caption.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_PHRASE 200

static uint64_t
fnv1a (const char *s, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t) s[i]) * 0x100000001b3ull;
  return h;
}

static char *
trimmed (const char *s, size_t n)
{
  while (n > 0 && (*s == ' ' || *s == '\t'))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    n--;
  char *out = malloc (n + 1);
  if (out)
    {
      memcpy (out, s, n);
      out[n] = '\0';
    }
  return out;
}

static bool
grow (void **p, int *cap, int need, size_t size)
{
  if (need <= *cap)
    return true;
  int cap2 = *cap ? *cap * 2 : 64;
  while (cap2 < need)
    cap2 *= 2;
  void *q = realloc (*p, (size_t) cap2 * size);
  if (q == NULL)
    return false;
  *p = q;
  *cap = cap2;
  return true;
}

/* "[name] pick=one max=2" */
static bool
parse_header (char *line, const char *label, int lineno, caption_category *c, le_error *err)
{
  char *close = strchr (line, ']');
  if (close == NULL || close == line + 1)
    return le_fail (err, LE_ERR_FORMAT, "%s:%d: a category line is \"[name] pick=one\" or "
                    "\"[name] pick=many max=2\"", label, lineno);
  *close = '\0';
  c->name = strdup (line + 1);
  c->pick_one = false;
  c->max = 2;
  bool have_pick = false;
  for (char *tok = strtok (close + 1, " \t"); tok != NULL; tok = strtok (NULL, " \t"))
    {
      if (strcmp (tok, "pick=one") == 0 || strcmp (tok, "pick=many") == 0)
        {
          c->pick_one = strcmp (tok, "pick=one") == 0;
          have_pick = true;
        }
      else if (strncmp (tok, "max=", 4) == 0 && atoi (tok + 4) >= 1 && atoi (tok + 4) <= 100)
        c->max = atoi (tok + 4);
      else
        return le_fail (err, LE_ERR_FORMAT, "%s:%d: unknown category option \"%s\" (pick=one, "
                        "pick=many, max=N with N from 1 to 100)", label, lineno, tok);
    }
  if (!have_pick)
    return le_fail (err, LE_ERR_FORMAT, "%s:%d: category [%s] needs pick=one or pick=many",
                    label, lineno, c->name);
  return c->name != NULL || le_fail (err, LE_ERR_MEMORY, "out of memory");
}

bool
caption_vocabulary_parse (const char *text, size_t len, const char *label,
                          caption_vocabulary *v, le_error *err)
{
  memset (v, 0, sizeof *v);
  if (!le_utf8_valid (text, len) || memchr (text, '\0', len) != NULL)
    return le_fail (err, LE_ERR_FORMAT, "%s is not UTF-8 text", label);
  v->hash = fnv1a (text, len);
  int cap_p = 0, cap_c = 0, lineno = 0;
  bool ok = true;
  for (size_t pos = 0; ok && pos < len; )
    {
      const char *nl = memchr (text + pos, '\n', len - pos);
      size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
      lineno++;
      char *line = trimmed (text + pos, n);
      pos += n + 1;
      if (line == NULL)
        ok = le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", label);
      else if (line[0] == '\0' || line[0] == '#')
        ;
      else if (line[0] == '[')
        {
          ok = grow ((void **) &v->categories, &cap_c, v->n_categories + 1,
                     sizeof *v->categories);
          if (!ok)
            le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", label);
          caption_category *c = ok ? &v->categories[v->n_categories] : NULL;
          if (ok)
            {
              memset (c, 0, sizeof *c);
              ok = parse_header (line, label, lineno, c, err);
              v->n_categories++;
              c->first = v->n_phrases;
            }
        }
      else if (v->n_categories == 0)
        ok = le_fail (err, LE_ERR_FORMAT, "%s:%d: phrase \"%s\" comes before any [category] "
                      "line", label, lineno, line);
      else if (strlen (line) > MAX_PHRASE || strchr (line, ',') != NULL)
        ok = le_fail (err, LE_ERR_FORMAT, "%s:%d: a phrase is at most %d bytes without commas "
                      "(commas separate the tags of a caption)", label, lineno, MAX_PHRASE);
      else if (!grow ((void **) &v->phrases, &cap_p, v->n_phrases + 1, sizeof *v->phrases))
        ok = le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", label);
      else
        {
          v->phrases[v->n_phrases++] = line;
          v->categories[v->n_categories - 1].count++;
          line = NULL;
        }
      free (line);
    }
  for (int i = 0; ok && i < v->n_categories; i++)
    if (v->categories[i].count == 0)
      ok = le_fail (err, LE_ERR_FORMAT, "%s: category [%s] has no phrases", label,
                    v->categories[i].name);
  if (ok && v->n_phrases == 0)
    ok = le_fail (err, LE_ERR_FORMAT, "%s has no phrases", label);
  if (!ok)
    caption_vocabulary_clear (v);
  return ok;
}

bool
caption_vocabulary_load (const char *path, caption_vocabulary *v, le_error *err)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return le_fail (err, LE_ERR_IO, "cannot read the vocabulary %s: %s", path,
                    strerror (errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc (cap);
  bool ok = buf != NULL;
  while (ok)
    {
      size_t got = fread (buf + n, 1, cap - n, fp);
      n += got;
      if (n < cap)
        break;
      if (cap >= (16u << 20))
        {
          ok = le_fail (err, LE_ERR_FORMAT, "%s is over 16 MB; a vocabulary is a text file "
                        "of phrases", path);
          break;
        }
      char *g = realloc (buf, cap * 2);
      ok = g != NULL;
      buf = g ? g : buf;
      cap *= 2;
    }
  if (ok && ferror (fp))
    ok = le_fail (err, LE_ERR_IO, "cannot read the vocabulary %s", path);
  fclose (fp);
  if (buf == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
  ok = ok && caption_vocabulary_parse (buf, n, path, v, err);
  free (buf);
  return ok;
}

void
caption_vocabulary_clear (caption_vocabulary *v)
{
  for (int i = 0; i < v->n_phrases; i++)
    free (v->phrases[i]);
  for (int i = 0; i < v->n_categories; i++)
    free (v->categories[i].name);
  free (v->phrases);
  free (v->categories);
  memset (v, 0, sizeof *v);
}
