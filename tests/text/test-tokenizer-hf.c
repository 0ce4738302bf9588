/* test-tokenizer-hf.c: le_tokenizer against Hugging Face tokenizers. make_tokenizers.py
 * wrote small tokenizer folders and DIR/expected.json with HF's ids and decodings for a
 * test set (Chinese, emoji with ZWJ, runs of spaces and newlines, tabs, numbers, special
 * tokens in text, empty text); every case must give the same ids and the same text.
 * Usage: test-tokenizer-hf DIR */
#include "tap.h"

#include "json-tree.h"
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

/* Prints a string with escapes so a failing case can be read in the TAP log. */
static void
show (const char *label, const char *s)
{
  printf ("# %s: \"", label);
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if (*p == '\n') printf ("\\n");
      else if (*p == '\r') printf ("\\r");
      else if (*p == '\t') printf ("\\t");
      else putchar (*p);
    }
  printf ("\"\n");
}

static void
show_ids (const char *label, const int32_t *ids, size_t n)
{
  printf ("# %s:", label);
  for (size_t i = 0; i < n; i++)
    printf (" %d", (int) ids[i]);
  printf ("\n");
}

static bool
same_ids (const tjson *want, const int32_t *ids, size_t n)
{
  if (want == NULL || want->type != TJSON_ARRAY || want->len != n)
    return false;
  for (size_t i = 0; i < n; i++)
    {
      long long v;
      if (!tjson_int (&want->items[i], &v) || v != ids[i])
        return false;
    }
  return true;
}

static int32_t *
ids_of (const tjson *arr, size_t *n)
{
  *n = arr->len;
  int32_t *ids = malloc ((arr->len + 1) * sizeof *ids);
  for (size_t i = 0; i < arr->len; i++)
    {
      long long v = -1;
      tjson_int (&arr->items[i], &v);
      ids[i] = (int32_t) v;
    }
  return ids;
}

static void
check_case (le_tokenizer *tok, const char *name, const tjson *c, int index)
{
  const tjson *text = tjson_get (c, "text");
  le_error err = { 0 };
  for (int special = 0; special <= 1; special++)
    {
      int32_t *ids = NULL;
      size_t n = 0;
      bool ok = le_tokenizer_encode (tok, text->str, text->len, special, &ids, &n, &err);
      const tjson *want = tjson_get (c, special ? "ids_special" : "ids");
      if (!tap_ok (ok && same_ids (want, ids, n), "%s case %d encode%s", name, index,
                   special ? " with special tokens" : ""))
        {
          show ("text", text->str);
          if (!ok)
            printf ("# error: %s\n", err.message);
          show_ids ("got ", ids, n);
          size_t wn;
          int32_t *w = ids_of (want, &wn);
          show_ids ("want", w, wn);
          free (w);
        }
      free (ids);
    }
  /* Decoding HF's ids must give HF's text, with and without special tokens. */
  for (int skip = 0; skip <= 1; skip++)
    {
      size_t n;
      int32_t *ids = ids_of (tjson_get (c, skip ? "ids_special" : "ids"), &n);
      const char *want = tjson_str (tjson_get (c, skip ? "decoded_skip" : "decoded"));
      char *got = le_tokenizer_decode (tok, ids, n, skip, &err);
      if (!tap_ok (got && strcmp (got, want) == 0, "%s case %d decode%s", name, index,
                   skip ? " skipping special tokens" : ""))
        {
          show ("want", want);
          show ("got ", got ? got : err.message);
        }
      free (got);
      free (ids);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR (made by make_tokenizers.py)\n", argv[0]);
      return 2;
    }
  char path[4096];
  le_error err = { 0 };
  snprintf (path, sizeof path, "%s/expected.json", argv[1]);
  tjson *exp = tjson_parse_file (path, &err);
  if (!tap_ok (exp != NULL, "read %s", path))
    {
      printf ("# %s\n", err.message);
      return tap_done ();
    }
  const tjson *metas = tjson_get (exp, "tokenizers");
  const tjson *cases = tjson_get (exp, "cases");
  int round_trips = 0;
  for (size_t t = 0; t < metas->len; t++)
    {
      const char *name = metas->keys[t];
      const tjson *meta = &metas->items[t];
      snprintf (path, sizeof path, "%s/%s", argv[1], name);
      le_tokenizer *tok = le_tokenizer_load (path, &err);
      if (!tap_ok (tok != NULL, "load %s", name))
        {
          printf ("# %s\n", err.message);
          continue;
        }
      long long bos, eos, vs;
      tjson_int (tjson_get (meta, "bos"), &bos);
      tjson_int (tjson_get (meta, "eos"), &eos);
      tjson_int (tjson_get (meta, "vocab_size"), &vs);
      tap_ok (le_tokenizer_bos_id (tok) == bos, "%s BOS id %d (want %lld)", name,
              (int) le_tokenizer_bos_id (tok), bos);
      tap_ok (le_tokenizer_eos_id (tok) == eos, "%s EOS id %d (want %lld)", name,
              (int) le_tokenizer_eos_id (tok), eos);
      tap_ok (le_tokenizer_is_eos (tok, (int32_t) eos) && !le_tokenizer_is_eos (tok, (int32_t) bos),
              "%s EOS id ends generation, BOS does not", name);
      tap_ok (le_tokenizer_vocab_size (tok) == (size_t) vs, "%s vocab size %zu (want %lld)",
              name, le_tokenizer_vocab_size (tok), vs);
      int index = 0;
      for (size_t i = 0; i < cases->len; i++)
        {
          const tjson *c = &cases->items[i];
          if (strcmp (tjson_str (tjson_get (c, "tokenizer")), name) != 0)
            continue;
          check_case (tok, name, c, index++);
          /* Where HF gives the text back, so must we: the round trip of the issue. */
          const char *text = tjson_str (tjson_get (c, "text"));
          if (strcmp (text, tjson_str (tjson_get (c, "decoded"))) == 0)
            round_trips++;
        }
      if (strcmp (name, "llama3") == 0)
        {
          /* config.json's eos_token_id list: every id in it stops generation. */
          int32_t eot = le_tokenizer_token_id (tok, "<|eot_id|>");
          tap_ok (eot >= 0 && le_tokenizer_is_eos (tok, eot), "llama3 <|eot_id|> ends generation");
        }
      le_tokenizer_free (tok);
    }
  /* The test set must exercise the round trip broadly, not only trivially. */
  tap_ok (round_trips >= 60, "%d cases decode back to their exact text", round_trips);
  tjson_free (exp);
  return tap_done ();
}
