/* test-clip-tokenizer.c: the CLIP tokenizer against a table of reference ids.
 * Usage: test-clip-tokenizer TABLE.tsv TOKENIZER... ; each TOKENIZER (OpenAI's merges
 * file, or a vocab.json + merges.txt folder) must give, for every line "escaped
 * prompt<TAB>77 ids" of the table (made by make_clip_expected.py with transformers'
 * CLIPTokenizer), exactly those ids. */
#include "../core/tap.h"

#include "clip-tokenizer.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *prompt;
  int32_t ids[LE_CLIP_CONTEXT];
} row;

static void
unescape (char *s)
{
  char *o = s;
  for (; *s; s++)
    {
      if (*s == '\\' && s[1])
        {
          s++;
          *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
        }
      else
        *o++ = *s;
    }
  *o = '\0';
}

static row *
read_table (const char *path, size_t *n_rows)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return NULL;
  row *rows = NULL;
  size_t n = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline (&line, &cap, f)) > 0)
    {
      if (line[len - 1] == '\n')
        line[--len] = '\0';
      char *tab = strrchr (line, '\t');
      if (tab == NULL)
        continue;
      *tab = '\0';
      rows = realloc (rows, (n + 1) * sizeof *rows);
      row *r = &rows[n++];
      r->prompt = strdup (line);
      unescape (r->prompt);
      char *p = tab + 1;
      for (int i = 0; i < LE_CLIP_CONTEXT; i++)
        {
          r->ids[i] = (int32_t) strtol (p, &p, 10);
          if (*p == ',')
            p++;
        }
    }
  free (line);
  fclose (f);
  *n_rows = n;
  return rows;
}

static void
check_tokenizer (const char *path, const row *rows, size_t n_rows)
{
  le_error err = { 0 };
  le_clip_tokenizer *tok = le_clip_tokenizer_load (path, &err);
  if (!tap_ok (tok != NULL, "load %s", path))
    {
      printf ("# %s\n", err.message);
      return;
    }
  tap_ok (le_clip_tokenizer_start_id (tok) == 49406 && le_clip_tokenizer_end_id (tok) == 49407
          && le_clip_tokenizer_vocab_size (tok) == 49408,
          "start 49406, end 49407, 49408 ids");
  for (size_t i = 0; i < n_rows; i++)
    {
      int32_t ids[LE_CLIP_CONTEXT];
      size_t n_tokens = 0;
      bool ok = le_clip_tokenizer_encode (tok, rows[i].prompt, ids, &n_tokens, &err);
      bool same = ok && memcmp (ids, rows[i].ids, sizeof ids) == 0;
      if (!tap_ok (same, "prompt %zu gives the reference ids", i))
        {
          printf ("# prompt: %s\n# got :", rows[i].prompt);
          for (int k = 0; ok && k < LE_CLIP_CONTEXT && k < 30; k++)
            printf (" %d", (int) ids[k]);
          printf ("\n# want:");
          for (int k = 0; k < LE_CLIP_CONTEXT && k < 30; k++)
            printf (" %d", (int) rows[i].ids[k]);
          printf ("\n");
        }
    }

  /* Truncation keeps the end token and reports how long the text really was. */
  int32_t ids[LE_CLIP_CONTEXT];
  size_t n_tokens = 0;
  char long_text[4000] = "";
  for (int i = 0; i < 200; i++)
    strcat (long_text, "cat ");
  le_clip_tokenizer_encode (tok, long_text, ids, &n_tokens, &err);
  tap_ok (n_tokens == 200 && ids[75] != 49407 && ids[76] == 49407,
          "200 words: %zu tokens reported, cut to 75 plus the end token", n_tokens);

  int32_t *bare;
  size_t n_bare;
  bool ok = le_clip_tokenizer_tokenize (tok, "a photo of sks dog", &bare, &n_bare, &err);
  char *text = ok ? le_clip_tokenizer_decode (tok, bare, n_bare, &err) : NULL;
  tap_ok (text && strcmp (text, "a photo of sks dog") == 0, "decode gives the prompt back (%s)",
          text ? text : err.message);
  free (text);
  free (bare);

  tap_ok (!le_clip_tokenizer_encode (tok, "bad \xff byte", ids, NULL, &err)
          && strstr (err.message, "UTF-8"), "invalid UTF-8 is refused: %s", err.message);
  le_clip_tokenizer_free (tok);
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      fprintf (stderr, "usage: %s TABLE.tsv TOKENIZER...\n", argv[0]);
      return 2;
    }
  size_t n_rows = 0;
  row *rows = read_table (argv[1], &n_rows);
  if (!tap_ok (rows != NULL && n_rows >= 20, "read %zu prompts from %s", n_rows, argv[1]))
    return tap_done ();
  for (int i = 2; i < argc; i++)
    check_tokenizer (argv[i], rows, n_rows);
  for (size_t i = 0; i < n_rows; i++)
    free (rows[i].prompt);
  free (rows);
  return tap_done ();
}
