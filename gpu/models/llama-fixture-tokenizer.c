/* llama-fixture-tokenizer.c: writes the fixture's byte-level BPE tokenizer.json: 256 byte
 * tokens in GPT-2's byte-to-unicode spelling, merges learned here from a built-in text,
 * and <s>, </s> as special tokens, in the layout the Hugging Face tokenizers library reads. */
#include "llama-fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "json.h"

/* The text the merges are learned from; any English text works. */
static const char training_text[] =
  "The old lighthouse keeper walked along the shore every morning before the sun rose. "
  "He counted the boats in the harbour, listened to the gulls, and wrote the weather in "
  "a small notebook that he kept in the pocket of his coat. When the wind came from the "
  "north, the waves were high and the fishermen stayed at home; when it came from the "
  "south, the sea was calm and the boats went out early. The keeper liked both kinds of "
  "days. On stormy days he read books about distant countries, and on calm days he "
  "painted the rocks, the water and the light. Children from the village often visited "
  "him in the afternoon. They asked him about the ships he had seen and the storms he "
  "had watched, and he told them stories about sailors, whales and islands far away. "
  "In the evening he climbed the stairs of the tower, lit the lamp, and watched the "
  "beam turn slowly over the dark water, so that every ship at sea would know where "
  "the land was and where the rocks were hidden under the waves. "
  "Training a model on a few lines of text teaches it the way a domain speaks: the "
  "words it prefers, the length of its sentences, the shape of its answers. A small "
  "adapter learns this while the large model stays frozen, and the adapter can be "
  "shared, merged into the model, or removed again. 0123456789 12 34 56 78 90 100 2024.";

/* GPT-2's byte-to-unicode map: printable bytes stand for themselves, the others are
 * shifted to U+0100 and up, so that every byte is a visible character. */
static void
byte_to_utf8 (int b, char out[3])
{
  int cp;
  if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))
    cp = b;
  else
    {
      int n = 0;
      for (int x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255)))
          n++;
      cp = 256 + n;
    }
  if (cp < 0x80)
    {
      out[0] = (char) cp;
      out[1] = 0;
    }
  else
    {
      out[0] = (char) (0xC0 | (cp >> 6));
      out[1] = (char) (0x80 | (cp & 0x3F));
      out[2] = 0;
    }
}

#define SYM_MAX 96
#define WORD_MAX 48

typedef struct {
  int sym[WORD_MAX];
  int n;
  int freq;
} word;

static int
char_class (unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return 1;
  if (c >= '0' && c <= '9')
    return 2;
  if (c == ' ' || c == '\n' || c == '\t')
    return 3;
  return 4;
}

/* Splits the text roughly as GPT-2's pre-tokenizer does (" ?letters", " ?digits",
 * " ?punctuation"); exactness does not matter, any merges learned are valid BPE. */
static int
split_words (word *words, int cap)
{
  int n = 0;
  const unsigned char *t = (const unsigned char *) training_text;
  size_t len = strlen (training_text);
  for (size_t i = 0; i < len; )
    {
      size_t start = i;
      if (t[i] == ' ' && i + 1 < len && char_class (t[i + 1]) != 3)
        i++;
      int cls = char_class (t[i]);
      while (i < len && char_class (t[i]) == cls && i - start < WORD_MAX)
        i++;
      word w = { .n = 0, .freq = 1 };
      for (size_t k = start; k < i; k++)
        w.sym[w.n++] = t[k];
      int found = -1;
      for (int k = 0; k < n && found < 0; k++)
        if (words[k].n == w.n && memcmp (words[k].sym, w.sym, sizeof (int) * (size_t) w.n) == 0)
          found = k;
      if (found >= 0)
        words[found].freq++;
      else if (n < cap)
        words[n++] = w;
    }
  return n;
}

static bool
add (char **buf, size_t *len, size_t *cap, const char *s)
{
  size_t n = strlen (s);
  if (*len + n + 1 > *cap)
    {
      size_t c = (*len + n + 1) * 2;
      char *g = realloc (*buf, c);
      if (g == NULL)
        return false;
      *buf = g;
      *cap = c;
    }
  memcpy (*buf + *len, s, n + 1);
  *len += n;
  return true;
}

static bool
add_json_string (char **buf, size_t *len, size_t *cap, const char *s)
{
  char tmp[4 * SYM_MAX + 8];
  size_t n = le_json_escape (tmp, sizeof tmp - 1, 0, s);
  tmp[n < sizeof tmp ? n : sizeof tmp - 1] = 0;
  return add (buf, len, cap, tmp);
}

bool
llama_fixture_write_tokenizer (const char *dir, int merges, int64_t *vocab_out, le_error *err)
{
  if (merges < 0 || merges > 2000)
    return le_fail (err, LE_ERR_INVALID, "merges must be between 0 and 2000");
  int n_sym = 256 + merges;
  char (*sym)[SYM_MAX] = calloc ((size_t) n_sym, SYM_MAX);
  int (*pairs)[2] = calloc ((size_t) merges + 1, sizeof *pairs);
  word *words = calloc (1024, sizeof *words);
  int *counts = calloc ((size_t) n_sym * (size_t) n_sym, sizeof *counts);
  char *out = NULL;
  size_t len = 0, cap = 0;
  bool ok = sym && pairs && words && counts;
  if (!ok)
    goto done;
  for (int b = 0; b < 256; b++)
    byte_to_utf8 (b, sym[b]);
  int n_words = split_words (words, 1024);
  int learned = 0;
  for (; learned < merges; learned++)
    {
      /* the most frequent adjacent pair; ties go to the smallest ids, for determinism */
      memset (counts, 0, (size_t) n_sym * (size_t) n_sym * sizeof *counts);
      for (int w = 0; w < n_words; w++)
        for (int i = 0; i + 1 < words[w].n; i++)
          counts[words[w].sym[i] * n_sym + words[w].sym[i + 1]] += words[w].freq;
      int best_a = -1, best_b = -1, best = 0;
      for (bool unique = false; !unique; )
        {
          best = 0;
          for (int a = 0; a < 256 + learned; a++)
            for (int b = 0; b < 256 + learned; b++)
              if (counts[a * n_sym + b] > best && strlen (sym[a]) + strlen (sym[b]) < SYM_MAX)
                {
                  best = counts[a * n_sym + b];
                  best_a = a;
                  best_b = b;
                }
          /* a vocabulary holds each string once: skip a pair that spells a known token */
          unique = true;
          if (best < 2)
            break;
          char joined[2 * SYM_MAX];
          snprintf (joined, sizeof joined, "%s%s", sym[best_a], sym[best_b]);
          for (int k = 0; k < 256 + learned && unique; k++)
            unique = strcmp (sym[k], joined) != 0;
          if (!unique)
            counts[best_a * n_sym + best_b] = 0;
        }
      if (best < 2)
        break;
      int id = 256 + learned;
      snprintf (sym[id], SYM_MAX, "%s%s", sym[best_a], sym[best_b]);
      pairs[learned][0] = best_a;
      pairs[learned][1] = best_b;
      for (int w = 0; w < n_words; w++)
        {
          int k = 0;
          for (int i = 0; i < words[w].n; i++)
            if (i + 1 < words[w].n && words[w].sym[i] == best_a && words[w].sym[i + 1] == best_b)
              {
                words[w].sym[k++] = id;
                i++;
              }
            else
              words[w].sym[k++] = words[w].sym[i];
          words[w].n = k;
        }
    }
  int bos = 256 + learned, eos = bos + 1;
  char num[256];
  ok = add (&out, &len, &cap, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n"
            "  \"padding\": null,\n  \"added_tokens\": [\n");
  for (int k = 0; k < 2 && ok; k++)
    {
      snprintf (num, sizeof num, "    {\"id\": %d, \"content\": \"%s\", \"single_word\": false, "
                "\"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
                "\"special\": true}%s\n", k ? eos : bos, k ? "</s>" : "<s>", k ? "" : ",");
      ok = add (&out, &len, &cap, num);
    }
  snprintf (num, sizeof num, "%d", bos);
  ok = ok && add (&out, &len, &cap,
    "  ],\n  \"normalizer\": null,\n"
    "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
    "\"trim_offsets\": true, \"use_regex\": true},\n"
    "  \"post_processor\": {\"type\": \"TemplateProcessing\", "
    "\"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, "
    "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], "
    "\"pair\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, "
    "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, "
    "{\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "
    "\"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [")
    && add (&out, &len, &cap, num)
    && add (&out, &len, &cap, "], \"tokens\": [\"<s>\"]}}},\n"
    "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
    "\"trim_offsets\": true, \"use_regex\": true},\n"
    "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
    "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
    "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n"
    "    \"vocab\": {");
  for (int i = 0; ok && i < 256 + learned; i++)
    {
      ok = add (&out, &len, &cap, i ? ", " : "") && add_json_string (&out, &len, &cap, sym[i]);
      snprintf (num, sizeof num, ": %d", i);
      ok = ok && add (&out, &len, &cap, num);
    }
  ok = ok && add (&out, &len, &cap, "},\n    \"merges\": [");
  for (int i = 0; ok && i < learned; i++)
    {
      char m[2 * SYM_MAX + 2];
      snprintf (m, sizeof m, "%s %s", sym[pairs[i][0]], sym[pairs[i][1]]);
      ok = add (&out, &len, &cap, i ? ", " : "") && add_json_string (&out, &len, &cap, m);
    }
  ok = ok && add (&out, &len, &cap, "]\n  }\n}\n");
  if (!ok)
    {
      le_fail (err, LE_ERR_MEMORY, "out of memory writing the tokenizer");
      goto done;
    }
  char path[2048];
  snprintf (path, sizeof path, "%s/tokenizer.json", dir);
  ok = le_atomic_write_file (path, out, len, err);
  if (ok)
    {
      snprintf (path, sizeof path, "%s/tokenizer_config.json", dir);
      const char *tc = "{\n  \"add_bos_token\": true,\n  \"add_eos_token\": false,\n"
                       "  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\",\n"
                       "  \"clean_up_tokenization_spaces\": false,\n"
                       "  \"model_max_length\": 2048,\n"
                       "  \"tokenizer_class\": \"PreTrainedTokenizerFast\"\n}\n";
      ok = le_atomic_write_file (path, tc, strlen (tc), err);
    }
  *vocab_out = eos + 1;
done:
  if (!ok && err && err->code == LE_OK)
    le_fail (err, LE_ERR_MEMORY, "out of memory learning the tokenizer");
  free (sym);
  free (pairs);
  free (words);
  free (counts);
  free (out);
  return ok;
}
