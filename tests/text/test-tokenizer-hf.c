/* test-tokenizer-hf.c: le_tokenizer against Hugging Face tokenizers. make_tokenizers.py
 * wrote small tokenizer folders and DIR/expected.json with HF's ids and decodings for a
 * test set (Chinese, emoji with ZWJ, runs of spaces and newlines, tabs, numbers, special
 * tokens in text, empty text); every case must give the same ids and the same text.
 * Usage: test-tokenizer-hf DIR */
#include "../core/tap.h"

#include "tokenizer-json.h"
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

static tok_json exp_doc; /* expected.json */
#define E (&exp_doc)

static const char *
field_str (uint32_t obj, const char *key, size_t *len)
{
  return tok_json_str (E, tok_json_get (E, obj, key), len);
}

/* The ids of array node ARR (malloc'd). */
static int32_t *
ids_of (uint32_t arr, size_t *n)
{
  *n = tok_json_count (E, arr);
  int32_t *ids = malloc ((*n + 1) * sizeof *ids);
  size_t k = 0;
  for (uint32_t i = tok_json_first (E, arr); i != LE_JSON_NONE; i = tok_json_next (E, i))
    if (!tok_json_id (E, i, &ids[k++]))
      ids[k - 1] = -1;
  return ids;
}

static void
check_case (le_tokenizer *tok, const char *name, uint32_t c, int index)
{
  size_t text_len;
  const char *text = field_str (c, "text", &text_len);
  le_error err = { 0 };
  for (int special = 0; special <= 1; special++)
    {
      int32_t *ids = NULL;
      size_t n = 0, wn;
      bool ok = le_tokenizer_encode (tok, text, text_len, special, &ids, &n, &err);
      int32_t *want = ids_of (tok_json_get (E, c, special ? "ids_special" : "ids"), &wn);
      bool same = ok && n == wn && memcmp (ids, want, n * sizeof *ids) == 0;
      if (!tap_ok (same, "%s case %d encode%s", name, index,
                   special ? " with special tokens" : ""))
        {
          show ("text", text);
          if (!ok)
            printf ("# error: %s\n", err.message);
          show_ids ("got ", ids, n);
          show_ids ("want", want, wn);
        }
      free (want);
      free (ids);
    }
  /* Decoding HF's ids must give HF's text, with and without special tokens. */
  for (int skip = 0; skip <= 1; skip++)
    {
      size_t n;
      int32_t *ids = ids_of (tok_json_get (E, c, skip ? "ids_special" : "ids"), &n);
      const char *want = field_str (c, skip ? "decoded_skip" : "decoded", NULL);
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
  if (!tap_ok (tok_json_read (E, path, &err), "read %s", path))
    {
      printf ("# %s\n", err.message);
      return tap_done ();
    }
  uint32_t metas = tok_json_get (E, 0, "tokenizers");
  uint32_t cases = tok_json_get (E, 0, "cases");
  int round_trips = 0;
  /* Object members: a key node (the tokenizer's folder name), then its value. */
  for (uint32_t k = tok_json_first (E, metas); k != LE_JSON_NONE;
       k = tok_json_next (E, tok_json_next (E, k)))
    {
      const char *name = tok_json_str (E, k, NULL);
      uint32_t meta = tok_json_next (E, k);
      snprintf (path, sizeof path, "%s/%s", argv[1], name);
      le_tokenizer *tok = le_tokenizer_load (path, &err);
      if (!tap_ok (tok != NULL, "load %s", name))
        {
          printf ("# %s\n", err.message);
          continue;
        }
      int32_t bos = -1, eos = -1, vs = -1;
      tok_json_id (E, tok_json_get (E, meta, "bos"), &bos);
      tok_json_id (E, tok_json_get (E, meta, "eos"), &eos);
      tok_json_id (E, tok_json_get (E, meta, "vocab_size"), &vs);
      tap_ok (le_tokenizer_bos_id (tok) == bos, "%s BOS id %d (want %d)", name,
              (int) le_tokenizer_bos_id (tok), (int) bos);
      tap_ok (le_tokenizer_eos_id (tok) == eos, "%s EOS id %d (want %d)", name,
              (int) le_tokenizer_eos_id (tok), (int) eos);
      tap_ok (le_tokenizer_is_eos (tok, eos) && !le_tokenizer_is_eos (tok, bos),
              "%s EOS id ends generation, BOS does not", name);
      tap_ok (le_tokenizer_vocab_size (tok) == (size_t) vs, "%s vocab size %zu (want %d)",
              name, le_tokenizer_vocab_size (tok), (int) vs);
      int index = 0;
      for (uint32_t c = tok_json_first (E, cases); c != LE_JSON_NONE; c = tok_json_next (E, c))
        {
          if (strcmp (field_str (c, "tokenizer", NULL), name) != 0)
            continue;
          check_case (tok, name, c, index++);
          /* Where HF gives the text back, so must we: the round trip of the issue. */
          if (strcmp (field_str (c, "text", NULL), field_str (c, "decoded", NULL)) == 0)
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
  tok_json_free (E);
  return tap_done ();
}
