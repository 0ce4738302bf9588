/* tokenizer.c: loading a tokenizer.json (with tokenizer_config.json and config.json)
 * into the pipeline of tokenizer-private.h; refuses what it does not implement by name. */
#include "tokenizer-private.h"

#include "tokenizer-json.h"
#include "tokenizer-split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  le_tokenizer *tok;
  const tok_json *j;
  const char *file;
  le_error *err;
} loader;

#define J (l->j) /* the document every loader function reads */
#define ABSENT(v) (tok_json_type (J, v) == LE_JSON_NULL)

/* Walks I over the elements of array LIST. */
#define EACH(I, LIST) for (uint32_t I = tok_json_first (J, LIST); I != LE_JSON_NONE; I = tok_json_next (J, I))

static char *
dup_bytes (const char *s, size_t n, le_error *err)
{
  char *d = le_malloc (n + 1, "a tokenizer string", err);
  if (d)
    {
      memcpy (d, s, n);
      d[n] = '\0';
    }
  return d;
}

static bool
unsupported (loader *l, const char *part, const char *type, const char *why)
{
  return le_fail (l->err, LE_ERR_UNSUPPORTED, "%s: %s \"%s\" is not supported%s%s", l->file,
                  part, type ? type : "(no type)", why ? ": " : "", why ? why : "");
}

static bool
bad (loader *l, const char *what)
{
  return le_fail (l->err, LE_ERR_FORMAT, "%s: %s", l->file, what);
}

/* A one-character string field (Metaspace replacement, Strip content). */
static bool
char_field (loader *l, uint32_t v, const char *key, const char *fallback, char out[8])
{
  const char *s = tok_json_str (J, tok_json_get (J, v, key), NULL);
  if (s == NULL)
    s = fallback;
  if (strlen (s) >= 8)
    return bad (l, "a replacement character is longer than one character");
  strcpy (out, s);
  return true;
}

static int
prepend_scheme (const loader *l, uint32_t v)
{
  const char *s = tok_json_str (J, tok_json_get (J, v, "prepend_scheme"), NULL);
  if (s == NULL) /* files from before prepend_scheme had add_prefix_space */
    {
      uint32_t a = tok_json_get (J, v, "add_prefix_space");
      return (ABSENT (a) || tok_json_true (J, a)) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
  if (strcmp (s, "first") == 0)
    return PREPEND_FIRST;
  if (strcmp (s, "never") == 0)
    return PREPEND_NEVER;
  return PREPEND_ALWAYS;
}

/* A {"String": "..."} pattern of Replace or Split; NULL for a Regex pattern. */
static const char *
string_pattern (const loader *l, uint32_t v, size_t *len)
{
  return tok_json_str (J, tok_json_get (J, tok_json_get (J, v, "pattern"), "String"), len);
}

typedef bool (*load_fn) (loader *l, uint32_t v);

/* A Sequence of WHAT (normalizer, pre_tokenizer, ...): each element of V's KEY list, in
 * order, loaded by LOAD. */
static bool
load_sequence (loader *l, uint32_t v, const char *what, const char *key, load_fn load)
{
  uint32_t list = tok_json_get (J, v, key);
  if (tok_json_type (J, list) != LE_JSON_ARRAY)
    return le_fail (l->err, LE_ERR_FORMAT, "%s: %s Sequence has no \"%s\" list", l->file,
                    what, key);
  EACH (i, list)
    if (!load (l, i))
      return false;
  return true;
}

typedef enum { REPLACE_COPIED, REPLACE_REGEX, REPLACE_INCOMPLETE, REPLACE_NO_MEMORY } replace_read;

/* A Replace step (normalizer or decoder): its {"String": ...} pattern into *A and its
 * content into *B, both copied; nothing is kept unless both are. */
static replace_read
read_replace (loader *l, uint32_t v, char **a, size_t *a_len, char **b, size_t *b_len)
{
  size_t n, cn;
  const char *pat = string_pattern (l, v, &n);
  const char *c = tok_json_str (J, tok_json_get (J, v, "content"), &cn);
  if (pat == NULL)
    return REPLACE_REGEX;
  if (n == 0 || c == NULL)
    return REPLACE_INCOMPLETE;
  *a = dup_bytes (pat, n, l->err);
  *b = dup_bytes (c, cn, l->err);
  *a_len = n;
  *b_len = cn;
  if (*a && *b)
    return REPLACE_COPIED;
  free (*a);
  free (*b);
  *a = *b = NULL;
  return REPLACE_NO_MEMORY;
}

/* Appends the SIZE bytes of STEP to the step array whose pointer is at LIST (a
 * tok_norm_step **, tok_pre_step ** or tok_dec_step **) holding *N steps. Without memory
 * it frees the strings A and B that STEP owns, so callers just return. The array pointer
 * is read and written with memcpy, so one function serves the three step types. */
static bool
push_step (loader *l, void *list, size_t *n, const void *step, size_t size, char *a, char *b)
{
  char *steps;
  memcpy (&steps, list, sizeof steps);
  char *grown = realloc (steps, (*n + 1) * size);
  if (grown == NULL)
    {
      free (a);
      free (b);
      return le_fail (l->err, LE_ERR_MEMORY, "out of memory loading %s", l->file);
    }
  memcpy (grown + *n * size, step, size);
  memcpy (list, &grown, sizeof grown);
  (*n)++;
  return true;
}

static bool
load_normalizer (loader *l, uint32_t v)
{
  if (ABSENT (v))
    return true;
  const char *type = tok_json_str (J, tok_json_get (J, v, "type"), NULL);
  if (type && strcmp (type, "Sequence") == 0)
    return load_sequence (l, v, "normalizer", "normalizers", load_normalizer);
  le_tokenizer *t = l->tok;
  tok_norm_step step = { 0 };
  if (type && strcmp (type, "Prepend") == 0)
    {
      size_t pn;
      const char *p = tok_json_str (J, tok_json_get (J, v, "prepend"), &pn);
      if (p == NULL)
        return bad (l, "normalizer Prepend has no \"prepend\" string");
      step.kind = NORM_PREPEND;
      if (!(step.a = dup_bytes (p, pn, l->err)))
        return false;
      step.a_len = pn;
    }
  else if (type && strcmp (type, "Replace") == 0)
    {
      switch (read_replace (l, v, &step.a, &step.a_len, &step.b, &step.b_len))
        {
        case REPLACE_REGEX:
          return unsupported (l, "normalizer", "Replace with a regex pattern", NULL);
        case REPLACE_INCOMPLETE:
          return bad (l, "normalizer Replace needs a non-empty pattern and a content string");
        case REPLACE_NO_MEMORY:
          return false;
        case REPLACE_COPIED:
          break;
        }
      step.kind = NORM_REPLACE;
    }
  else
    return unsupported (l, "normalizer", type, "only Prepend and Replace (Llama 2 style) are");
  return push_step (l, &t->norms, &t->n_norms, &step, sizeof step, step.a, step.b);
}

static bool
push_pre (loader *l, tok_pre_step step)
{
  return push_step (l, &l->tok->pres, &l->tok->n_pres, &step, sizeof step, NULL, NULL);
}

static bool
load_pre_tokenizer (loader *l, uint32_t v)
{
  if (ABSENT (v))
    return true;
  const char *type = tok_json_str (J, tok_json_get (J, v, "type"), NULL);
  tok_pre_step step = { 0 };
  if (type && strcmp (type, "Sequence") == 0)
    return load_sequence (l, v, "pre_tokenizer", "pretokenizers", load_pre_tokenizer);
  if (type && strcmp (type, "ByteLevel") == 0)
    {
      step.kind = PRE_BYTELEVEL;
      step.add_prefix_space = tok_json_true (J, tok_json_get (J, v, "add_prefix_space"));
      uint32_t r = tok_json_get (J, v, "use_regex");
      step.use_regex = ABSENT (r) || tok_json_true (J, r);
      return push_pre (l, step);
    }
  if (type && strcmp (type, "Split") == 0)
    {
      const char *regex = tok_json_str (J, tok_json_get (J, tok_json_get (J, v, "pattern"), "Regex"), NULL);
      const char *behavior = tok_json_str (J, tok_json_get (J, v, "behavior"), NULL);
      if (regex == NULL)
        return unsupported (l, "pre_tokenizer", "Split without a Regex pattern", NULL);
      if (behavior == NULL || strcmp (behavior, "Isolated") != 0
          || tok_json_true (J, tok_json_get (J, v, "invert")))
        return unsupported (l, "pre_tokenizer Split behavior", behavior,
                            "only Isolated, not inverted, is");
      if (strcmp (regex, tok_regex_gpt2) == 0)
        step.kind = PRE_SPLIT_GPT2;
      else if (strcmp (regex, tok_regex_llama3) == 0)
        step.kind = PRE_SPLIT_LLAMA3;
      else
        return unsupported (l, "pre_tokenizer Split regex", regex,
                            "only the GPT-2 and Llama 3 patterns are");
      return push_pre (l, step);
    }
  if (type && strcmp (type, "Metaspace") == 0)
    {
      step.kind = PRE_METASPACE;
      if (!char_field (l, v, "replacement", "\xe2\x96\x81", step.replacement))
        return false;
      step.prepend_scheme = prepend_scheme (l, v);
      uint32_t s = tok_json_get (J, v, "split");
      step.split = ABSENT (s) || tok_json_true (J, s);
      return push_pre (l, step);
    }
  return unsupported (l, "pre_tokenizer", type,
                      "only ByteLevel, Split (GPT-2/Llama 3 regex) and Metaspace are");
}

static bool
load_decoder (loader *l, uint32_t v)
{
  if (ABSENT (v))
    return true;
  le_tokenizer *t = l->tok;
  const char *type = tok_json_str (J, tok_json_get (J, v, "type"), NULL);
  if (type && strcmp (type, "Sequence") == 0)
    return load_sequence (l, v, "decoder", "decoders", load_decoder);
  tok_dec_step step = { 0 };
  if (type && strcmp (type, "ByteLevel") == 0)
    step.kind = DEC_BYTELEVEL;
  else if (type && strcmp (type, "ByteFallback") == 0)
    step.kind = DEC_BYTEFALLBACK;
  else if (type && strcmp (type, "Fuse") == 0)
    step.kind = DEC_FUSE;
  else if (type && strcmp (type, "Strip") == 0)
    {
      int32_t start = 0, stop = 0;
      step.kind = DEC_STRIP;
      if (!char_field (l, v, "content", " ", step.content))
        return false;
      tok_json_id (J, tok_json_get (J, v, "start"), &start);
      tok_json_id (J, tok_json_get (J, v, "stop"), &stop);
      step.start = start > 64 ? 64 : start;
      step.stop = stop > 64 ? 64 : stop;
    }
  else if (type && strcmp (type, "Metaspace") == 0)
    {
      step.kind = DEC_METASPACE;
      if (!char_field (l, v, "replacement", "\xe2\x96\x81", step.content))
        return false;
      step.prepend_scheme = prepend_scheme (l, v);
    }
  else if (type && strcmp (type, "Replace") == 0)
    {
      replace_read r = read_replace (l, v, &step.a, &step.a_len, &step.b, &step.b_len);
      if (r == REPLACE_REGEX || r == REPLACE_INCOMPLETE)
        return unsupported (l, "decoder", "Replace without a plain string pattern", NULL);
      if (r == REPLACE_NO_MEMORY)
        return false;
      step.kind = DEC_REPLACE;
    }
  else
    return unsupported (l, "decoder", type,
                        "only ByteLevel, Metaspace, Replace, ByteFallback, Fuse and Strip are");
  return push_step (l, &t->decs, &t->n_decs, &step, sizeof step, step.a, step.b);
}

static bool
load_model (loader *l, uint32_t model)
{
  le_tokenizer *t = l->tok;
  if (tok_json_type (J, model) != LE_JSON_OBJECT)
    return bad (l, "there is no \"model\" object");
  const char *type = tok_json_str (J, tok_json_get (J, model, "type"), NULL);
  if (type != NULL && strcmp (type, "BPE") != 0)
    return unsupported (l, "tokenizer model", type,
                        "only BPE (LLaMA, Llama 2/3, Mistral, TinyLlama, GPT-2) is");
  uint32_t vocab = tok_json_get (J, model, "vocab");
  if (tok_json_type (J, vocab) != LE_JSON_OBJECT)
    return bad (l, "the BPE model has no \"vocab\" object");
  uint32_t merges = tok_json_get (J, model, "merges");
  if (tok_json_type (J, merges) != LE_JSON_ARRAY)
    return bad (l, "the BPE model has no \"merges\" list");
  if (tok_json_str (J, tok_json_get (J, model, "continuing_subword_prefix"), NULL)
      || tok_json_str (J, tok_json_get (J, model, "end_of_word_suffix"), NULL))
    return unsupported (l, "BPE option", "continuing_subword_prefix/end_of_word_suffix", NULL);

  if (!tok_bpe_init (&t->bpe, tok_json_count (J, vocab), l->err))
    return false;
  /* Object members: a key node, then its value node. */
  for (uint32_t k = tok_json_first (J, vocab); k != LE_JSON_NONE;
       k = tok_json_next (J, tok_json_next (J, k)))
    {
      int32_t id;
      size_t kn;
      const char *key = tok_json_str (J, k, &kn);
      if (!tok_json_id (J, tok_json_next (J, k), &id))
        return le_fail (l->err, LE_ERR_FORMAT, "%s: vocab entry \"%.60s\" has no valid id",
                        l->file, key);
      if (!tok_bpe_add_token (&t->bpe, key, kn, id, l->err))
        return le_error_prefix (l->err, "%s", l->file);
    }
  int32_t rank = 0;
  EACH (m, merges)
    {
      const char *a, *b, *str;
      size_t an, bn, sn;
      uint32_t first = tok_json_first (J, m);
      if ((str = tok_json_str (J, m, &sn)) != NULL)
        {
          const char *sp = memchr (str, ' ', sn);
          if (sp == NULL)
            return le_fail (l->err, LE_ERR_FORMAT, "%s: merge %d \"%.60s\" is not two tokens "
                            "separated by a space", l->file, (int) rank, str);
          a = str, an = (size_t) (sp - str);
          b = sp + 1, bn = sn - an - 1;
        }
      else if (tok_json_type (J, m) == LE_JSON_ARRAY && tok_json_count (J, m) == 2
               && (a = tok_json_str (J, first, &an)) != NULL
               && (b = tok_json_str (J, tok_json_next (J, first), &bn)) != NULL)
        ;
      else
        return le_fail (l->err, LE_ERR_FORMAT,
                        "%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", l->file, (int) rank);
      if (!tok_bpe_add_merge (&t->bpe, a, an, b, bn, rank, l->err))
        return le_error_prefix (l->err, "%s", l->file);
      rank++;
    }

  t->unk_id = -1;
  const char *unk = tok_json_str (J, tok_json_get (J, model, "unk_token"), NULL);
  if (unk)
    t->unk_id = tok_strmap_get (&t->bpe.vocab, unk, strlen (unk));
  t->byte_fallback = tok_json_true (J, tok_json_get (J, model, "byte_fallback"));
  t->fuse_unk = tok_json_true (J, tok_json_get (J, model, "fuse_unk"));
  t->ignore_merges = tok_json_true (J, tok_json_get (J, model, "ignore_merges"));
  for (int c = 0; c < 256; c++)
    {
      char name[8];
      snprintf (name, sizeof name, "<0x%02X>", c);
      t->byte_ids[c] = tok_strmap_get (&t->bpe.vocab, name, 6);
    }
  return true;
}

static bool
load_added_tokens (loader *l, uint32_t list)
{
  le_tokenizer *t = l->tok;
  if (ABSENT (list))
    return true;
  if (tok_json_type (J, list) != LE_JSON_ARRAY)
    return bad (l, "\"added_tokens\" is not a list");
  t->added = le_calloc (tok_json_count (J, list), sizeof *t->added, "the added tokens", l->err);
  if (t->added == NULL)
    return false;
  EACH (a, list)
    {
      size_t n;
      const char *content = tok_json_str (J, tok_json_get (J, a, "content"), &n);
      int32_t id;
      if (content == NULL || n == 0 || !tok_json_id (J, tok_json_get (J, a, "id"), &id))
        return le_fail (l->err, LE_ERR_FORMAT, "%s: added token %zu needs a non-empty "
                        "\"content\" and an \"id\"", l->file, t->n_added);
      tok_added *d = &t->added[t->n_added];
      if (!(d->content = dup_bytes (content, n, l->err)))
        return false;
      d->len = n;
      d->id = id;
      d->special = tok_json_true (J, tok_json_get (J, a, "special"));
      t->added_first_byte[(unsigned char) content[0]] = true;
      t->n_added++;
    }
  return true;
}

/* The id of a token string: added tokens first, then the vocabulary. */
int32_t
le_tokenizer_token_id (const le_tokenizer *tok, const char *token)
{
  size_t n = strlen (token);
  for (size_t i = 0; i < tok->n_added; i++)
    if (tok->added[i].len == n && memcmp (tok->added[i].content, token, n) == 0)
      return tok->added[i].id;
  return tok_strmap_get (&tok->bpe.vocab, token, n);
}

static bool
load_post_processor (loader *l, uint32_t v)
{
  le_tokenizer *t = l->tok;
  if (ABSENT (v))
    return true;
  const char *type = tok_json_str (J, tok_json_get (J, v, "type"), NULL);
  if (type && strcmp (type, "Sequence") == 0)
    return load_sequence (l, v, "post_processor", "processors", load_post_processor);
  if (type && strcmp (type, "ByteLevel") == 0)
    return true; /* only moves offsets */
  if (type == NULL || strcmp (type, "TemplateProcessing") != 0)
    return unsupported (l, "post_processor", type, "only TemplateProcessing and ByteLevel are");
  uint32_t single = tok_json_get (J, v, "single");
  uint32_t specials = tok_json_get (J, v, "special_tokens");
  if (tok_json_type (J, single) != LE_JSON_ARRAY)
    return bad (l, "post_processor TemplateProcessing has no \"single\" template");
  bool seen_sequence = false;
  t->n_prefix = t->n_suffix = 0;
  EACH (item, single)
    {
      if (tok_json_get (J, item, "Sequence") != LE_JSON_NONE)
        {
          seen_sequence = true;
          continue;
        }
      const char *name = tok_json_str (J, tok_json_get (J, tok_json_get (J, item, "SpecialToken"), "id"), NULL);
      if (name == NULL)
        return bad (l, "post_processor template item is neither Sequence nor SpecialToken");
      uint32_t ids = tok_json_get (J, tok_json_get (J, specials, name), "ids");
      if (tok_json_type (J, ids) != LE_JSON_ARRAY)
        return le_fail (l->err, LE_ERR_FORMAT, "%s: post_processor special token \"%.60s\" "
                        "has no ids", l->file, name);
      EACH (k, ids)
        {
          int32_t id;
          size_t *count = seen_sequence ? &t->n_suffix : &t->n_prefix;
          int32_t *dst = seen_sequence ? t->suffix : t->prefix;
          if (!tok_json_id (J, k, &id) || *count >= 8)
            return bad (l, "post_processor special token ids are not valid");
          dst[(*count)++] = id;
        }
    }
  return true;
}

/* bos_token / eos_token of tokenizer_config.json: a string or {"content": ...}. */
static int32_t
config_token (const le_tokenizer *t, const tok_json *cfg, const char *key)
{
  if (cfg == NULL)
    return -1;
  uint32_t v = tok_json_get (cfg, tok_json_root (cfg), key);
  const char *s = tok_json_str (cfg, v, NULL);
  if (s == NULL)
    s = tok_json_str (cfg, tok_json_get (cfg, v, "content"), NULL);
  return s ? le_tokenizer_token_id (t, s) : -1;
}

static void
add_stop (le_tokenizer *t, int32_t id)
{
  if (id < 0 || t->n_stop >= sizeof t->stop_ids / sizeof t->stop_ids[0])
    return;
  for (size_t i = 0; i < t->n_stop; i++)
    if (t->stop_ids[i] == id)
      return;
  t->stop_ids[t->n_stop++] = id;
}

/* Reads DIR/NAME into *J if it exists; false only for a file that exists and is broken.
 * *FOUND says whether it was there. */
static bool
read_optional_json (const char *dir, const char *name, tok_json *j, char *path, size_t size,
                    bool *found, le_error *err)
{
  struct stat st;
  *found = false;
  if (snprintf (path, size, "%s/%s", dir, name) >= (int) size)
    return le_fail (err, LE_ERR_INVALID, "path too long: %s", dir);
  if (stat (path, &st) != 0)
    return true;
  *found = true;
  return tok_json_read (j, path, err);
}

static bool
load_configs (le_tokenizer *t, const char *dir, bool has_template, le_error *err)
{
  tok_json tcfg, mcfg;
  char tpath[4200], mpath[4200];
  bool have_t, have_m;
  if (!read_optional_json (dir, "tokenizer_config.json", &tcfg, tpath, sizeof tpath, &have_t, err))
    return false;
  if (!read_optional_json (dir, "config.json", &mcfg, mpath, sizeof mpath, &have_m, err))
    {
      if (have_t)
        tok_json_free (&tcfg);
      return false;
    }
  t->bos_id = config_token (t, have_t ? &tcfg : NULL, "bos_token");
  t->eos_id = config_token (t, have_t ? &tcfg : NULL, "eos_token");
  add_stop (t, t->eos_id);
  if (have_m)
    {
      int32_t id;
      uint32_t bos = tok_json_get (&mcfg, tok_json_root (&mcfg), "bos_token_id");
      if (t->bos_id < 0 && tok_json_id (&mcfg, bos, &id))
        t->bos_id = id;
      /* eos_token_id is a number or, in Llama 3 instruct models, a list. */
      uint32_t eos = tok_json_get (&mcfg, tok_json_root (&mcfg), "eos_token_id");
      uint32_t e = tok_json_type (&mcfg, eos) == LE_JSON_ARRAY ? tok_json_first (&mcfg, eos) : eos;
      for (; e != LE_JSON_NONE; e = e == eos ? LE_JSON_NONE : tok_json_next (&mcfg, e))
        if (tok_json_id (&mcfg, e, &id))
          {
            if (t->eos_id < 0)
              t->eos_id = id;
            add_stop (t, id);
          }
    }
  /* A tokenizer folder without either config (GPT-2 style) still names its BOS and EOS
   * in the post-processor template. */
  if (has_template && t->bos_id < 0 && t->n_prefix > 0)
    t->bos_id = t->prefix[0];
  if (has_template && t->eos_id < 0 && t->n_suffix > 0)
    {
      t->eos_id = t->suffix[t->n_suffix - 1];
      add_stop (t, t->eos_id);
    }
  /* Without a post-processor template, the tokenizer_config flags say what encode adds,
   * as transformers' fast Llama tokenizer does. */
  if (!has_template && have_t)
    {
      uint32_t root = tok_json_root (&tcfg);
      if (tok_json_true (&tcfg, tok_json_get (&tcfg, root, "add_bos_token")) && t->bos_id >= 0)
        t->prefix[t->n_prefix++] = t->bos_id;
      if (tok_json_true (&tcfg, tok_json_get (&tcfg, root, "add_eos_token")) && t->eos_id >= 0)
        t->suffix[t->n_suffix++] = t->eos_id;
    }
  if (have_t)
    tok_json_free (&tcfg);
  if (have_m)
    tok_json_free (&mcfg);
  return true;
}

le_tokenizer *
le_tokenizer_load (const char *path, le_error *err)
{
  char dir[4096], file[4200];
  struct stat st;
  if (stat (path, &st) != 0)
    {
      le_fail (err, LE_ERR_IO, "cannot open tokenizer %s: %s", path, strerror (errno));
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      snprintf (dir, sizeof dir, "%s", path);
      snprintf (file, sizeof file, "%s/tokenizer.json", path);
      if (stat (file, &st) != 0)
        {
          le_fail (err, LE_ERR_IO, "no tokenizer.json in %s: the model folder needs the "
                   "tokenizer.json of its Hugging Face repository", path);
          return NULL;
        }
    }
  else
    {
      snprintf (file, sizeof file, "%s", path);
      snprintf (dir, sizeof dir, "%s", path);
      char *slash = strrchr (dir, '/');
      if (slash)
        *slash = '\0';
      else
        strcpy (dir, ".");
    }

  tok_json doc;
  if (!tok_json_read (&doc, file, err))
    return NULL;
  le_tokenizer *t = le_calloc (1, sizeof *t, "a tokenizer", err);
  if (t == NULL)
    {
      tok_json_free (&doc);
      return NULL;
    }
  t->bos_id = t->eos_id = t->unk_id = -1;
  loader loader_state = { t, &doc, file, err };
  loader *l = &loader_state;
  uint32_t root = tok_json_root (&doc);
  bool ok = tok_json_type (J, root) == LE_JSON_OBJECT || bad (l, "the top level is not an object");
  ok = ok && load_model (l, tok_json_get (J, root, "model"));
  ok = ok && load_added_tokens (l, tok_json_get (J, root, "added_tokens"));
  ok = ok && load_normalizer (l, tok_json_get (J, root, "normalizer"));
  ok = ok && load_pre_tokenizer (l, tok_json_get (J, root, "pre_tokenizer"));
  uint32_t dec = tok_json_get (J, root, "decoder");
  t->has_decoder = !ABSENT (dec);
  ok = ok && load_decoder (l, dec);
  uint32_t post = tok_json_get (J, root, "post_processor");
  ok = ok && load_post_processor (l, post);
  ok = ok && load_configs (t, dir, !ABSENT (post), err);
  tok_json_free (&doc);
  if (!ok)
    {
      le_tokenizer_free (t);
      return NULL;
    }
  return t;
}

void
le_tokenizer_free (le_tokenizer *t)
{
  if (t == NULL)
    return;
  tok_bpe_free (&t->bpe);
  for (size_t i = 0; i < t->n_norms; i++)
    free (t->norms[i].a), free (t->norms[i].b);
  for (size_t i = 0; i < t->n_decs; i++)
    free (t->decs[i].a), free (t->decs[i].b);
  for (size_t i = 0; i < t->n_added; i++)
    free (t->added[i].content);
  free (t->norms);
  free (t->pres);
  free (t->decs);
  free (t->added);
  free (t);
}

const tok_added *
tok_added_by_id (const le_tokenizer *tok, int32_t id)
{
  for (size_t i = 0; i < tok->n_added; i++)
    if (tok->added[i].id == id)
      return &tok->added[i];
  return NULL;
}

size_t
le_tokenizer_vocab_size (const le_tokenizer *tok)
{
  size_t n = tok->bpe.n_ids;
  for (size_t i = 0; i < tok->n_added; i++)
    if ((size_t) tok->added[i].id + 1 > n)
      n = (size_t) tok->added[i].id + 1;
  return n;
}

int32_t le_tokenizer_bos_id (const le_tokenizer *tok) { return tok->bos_id; }
int32_t le_tokenizer_eos_id (const le_tokenizer *tok) { return tok->eos_id; }

bool
le_tokenizer_is_eos (const le_tokenizer *tok, int32_t id)
{
  for (size_t i = 0; i < tok->n_stop; i++)
    if (tok->stop_ids[i] == id)
      return true;
  return false;
}

const char *
le_tokenizer_token (const le_tokenizer *tok, int32_t id)
{
  const tok_added *a = tok_added_by_id (tok, id);
  return a ? a->content : tok_bpe_token (&tok->bpe, id, NULL);
}
