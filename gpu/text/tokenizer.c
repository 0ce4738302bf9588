/* tokenizer.c: loading a tokenizer.json (with tokenizer_config.json and config.json)
 * into the pipeline of tokenizer-private.h; refuses what it does not implement by name. */
#include "tokenizer-private.h"

#include "json-tree.h"
#include "tokenizer-split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  le_tokenizer *tok;
  const char *file;
  le_error *err;
} loader;

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
char_field (loader *l, const tjson *v, const char *key, const char *fallback, char out[8])
{
  const char *s = tjson_str (tjson_get (v, key));
  if (s == NULL)
    s = fallback;
  if (strlen (s) >= 8)
    return bad (l, "a replacement character is longer than one character");
  strcpy (out, s);
  return true;
}

static int
prepend_scheme (const tjson *v)
{
  const char *s = tjson_str (tjson_get (v, "prepend_scheme"));
  if (s == NULL) /* files from before prepend_scheme had add_prefix_space */
    {
      const tjson *a = tjson_get (v, "add_prefix_space");
      return (a == NULL || tjson_is_true (a)) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
  if (strcmp (s, "first") == 0)
    return PREPEND_FIRST;
  if (strcmp (s, "never") == 0)
    return PREPEND_NEVER;
  return PREPEND_ALWAYS;
}

/* A {"String": "..."} pattern of Replace or Split; NULL for a Regex pattern. */
static const char *
string_pattern (const tjson *v, size_t *len)
{
  const tjson *s = tjson_get (tjson_get (v, "pattern"), "String");
  if (s == NULL || s->type != TJSON_STRING)
    return NULL;
  *len = s->len;
  return s->str;
}

static bool
load_normalizer (loader *l, const tjson *v)
{
  if (v == NULL || v->type == TJSON_NULL)
    return true;
  const char *type = tjson_str (tjson_get (v, "type"));
  if (type && strcmp (type, "Sequence") == 0)
    {
      const tjson *list = tjson_get (v, "normalizers");
      if (list == NULL || list->type != TJSON_ARRAY)
        return bad (l, "normalizer Sequence has no \"normalizers\" list");
      for (size_t i = 0; i < list->len; i++)
        if (!load_normalizer (l, &list->items[i]))
          return false;
      return true;
    }
  le_tokenizer *t = l->tok;
  tok_norm_step step = { 0 };
  if (type && strcmp (type, "Prepend") == 0)
    {
      const tjson *p = tjson_get (v, "prepend");
      if (p == NULL || p->type != TJSON_STRING)
        return bad (l, "normalizer Prepend has no \"prepend\" string");
      step.kind = NORM_PREPEND;
      if (!(step.a = dup_bytes (p->str, p->len, l->err)))
        return false;
      step.a_len = p->len;
    }
  else if (type && strcmp (type, "Replace") == 0)
    {
      size_t n;
      const char *pat = string_pattern (v, &n);
      const tjson *c = tjson_get (v, "content");
      if (pat == NULL)
        return unsupported (l, "normalizer", "Replace with a regex pattern", NULL);
      if (n == 0 || c == NULL || c->type != TJSON_STRING)
        return bad (l, "normalizer Replace needs a non-empty pattern and a content string");
      step.kind = NORM_REPLACE;
      step.a = dup_bytes (pat, n, l->err);
      step.b = dup_bytes (c->str, c->len, l->err);
      step.a_len = n;
      step.b_len = c->len;
      if (!step.a || !step.b)
        {
          free (step.a);
          free (step.b);
          return false;
        }
    }
  else
    return unsupported (l, "normalizer", type, "only Prepend and Replace (Llama 2 style) are");
  tok_norm_step *n = realloc (t->norms, (t->n_norms + 1) * sizeof *n);
  if (n == NULL)
    {
      free (step.a);
      free (step.b);
      return le_fail (l->err, LE_ERR_MEMORY, "out of memory loading %s", l->file);
    }
  t->norms = n;
  t->norms[t->n_norms++] = step;
  return true;
}

static bool
push_pre (loader *l, tok_pre_step step)
{
  le_tokenizer *t = l->tok;
  tok_pre_step *p = realloc (t->pres, (t->n_pres + 1) * sizeof *p);
  if (p == NULL)
    return le_fail (l->err, LE_ERR_MEMORY, "out of memory loading %s", l->file);
  t->pres = p;
  t->pres[t->n_pres++] = step;
  return true;
}

static bool
load_pre_tokenizer (loader *l, const tjson *v)
{
  if (v == NULL || v->type == TJSON_NULL)
    return true;
  const char *type = tjson_str (tjson_get (v, "type"));
  tok_pre_step step = { 0 };
  if (type && strcmp (type, "Sequence") == 0)
    {
      const tjson *list = tjson_get (v, "pretokenizers");
      if (list == NULL || list->type != TJSON_ARRAY)
        return bad (l, "pre_tokenizer Sequence has no \"pretokenizers\" list");
      for (size_t i = 0; i < list->len; i++)
        if (!load_pre_tokenizer (l, &list->items[i]))
          return false;
      return true;
    }
  if (type && strcmp (type, "ByteLevel") == 0)
    {
      step.kind = PRE_BYTELEVEL;
      step.add_prefix_space = tjson_is_true (tjson_get (v, "add_prefix_space"));
      const tjson *r = tjson_get (v, "use_regex");
      step.use_regex = r == NULL || tjson_is_true (r);
      return push_pre (l, step);
    }
  if (type && strcmp (type, "Split") == 0)
    {
      const char *regex = tjson_str (tjson_get (tjson_get (v, "pattern"), "Regex"));
      const char *behavior = tjson_str (tjson_get (v, "behavior"));
      if (regex == NULL)
        return unsupported (l, "pre_tokenizer", "Split without a Regex pattern", NULL);
      if (behavior == NULL || strcmp (behavior, "Isolated") != 0
          || tjson_is_true (tjson_get (v, "invert")))
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
      step.prepend_scheme = prepend_scheme (v);
      const tjson *s = tjson_get (v, "split");
      step.split = s == NULL || tjson_is_true (s);
      return push_pre (l, step);
    }
  return unsupported (l, "pre_tokenizer", type,
                      "only ByteLevel, Split (GPT-2/Llama 3 regex) and Metaspace are");
}

static bool
load_decoder (loader *l, const tjson *v)
{
  if (v == NULL || v->type == TJSON_NULL)
    return true;
  le_tokenizer *t = l->tok;
  const char *type = tjson_str (tjson_get (v, "type"));
  if (type && strcmp (type, "Sequence") == 0)
    {
      const tjson *list = tjson_get (v, "decoders");
      if (list == NULL || list->type != TJSON_ARRAY)
        return bad (l, "decoder Sequence has no \"decoders\" list");
      for (size_t i = 0; i < list->len; i++)
        if (!load_decoder (l, &list->items[i]))
          return false;
      return true;
    }
  tok_dec_step step = { 0 };
  if (type && strcmp (type, "ByteLevel") == 0)
    step.kind = DEC_BYTELEVEL;
  else if (type && strcmp (type, "ByteFallback") == 0)
    step.kind = DEC_BYTEFALLBACK;
  else if (type && strcmp (type, "Fuse") == 0)
    step.kind = DEC_FUSE;
  else if (type && strcmp (type, "Strip") == 0)
    {
      long long start = 0, stop = 0;
      step.kind = DEC_STRIP;
      if (!char_field (l, v, "content", " ", step.content))
        return false;
      tjson_int (tjson_get (v, "start"), &start);
      tjson_int (tjson_get (v, "stop"), &stop);
      step.start = (int) (start < 0 ? 0 : start > 64 ? 64 : start);
      step.stop = (int) (stop < 0 ? 0 : stop > 64 ? 64 : stop);
    }
  else if (type && strcmp (type, "Metaspace") == 0)
    {
      step.kind = DEC_METASPACE;
      if (!char_field (l, v, "replacement", "\xe2\x96\x81", step.content))
        return false;
      step.prepend_scheme = prepend_scheme (v);
    }
  else if (type && strcmp (type, "Replace") == 0)
    {
      size_t n;
      const char *pat = string_pattern (v, &n);
      const tjson *c = tjson_get (v, "content");
      if (pat == NULL || n == 0 || c == NULL || c->type != TJSON_STRING)
        return unsupported (l, "decoder", "Replace without a plain string pattern", NULL);
      step.kind = DEC_REPLACE;
      step.a = dup_bytes (pat, n, l->err);
      step.b = dup_bytes (c->str, c->len, l->err);
      step.a_len = n;
      step.b_len = c->len;
      if (!step.a || !step.b)
        {
          free (step.a);
          free (step.b);
          return false;
        }
    }
  else
    return unsupported (l, "decoder", type,
                        "only ByteLevel, Metaspace, Replace, ByteFallback, Fuse and Strip are");
  tok_dec_step *d = realloc (t->decs, (t->n_decs + 1) * sizeof *d);
  if (d == NULL)
    {
      free (step.a);
      free (step.b);
      return le_fail (l->err, LE_ERR_MEMORY, "out of memory loading %s", l->file);
    }
  t->decs = d;
  t->decs[t->n_decs++] = step;
  return true;
}

static bool
load_model (loader *l, const tjson *model)
{
  le_tokenizer *t = l->tok;
  if (model == NULL || model->type != TJSON_OBJECT)
    return bad (l, "there is no \"model\" object");
  const char *type = tjson_str (tjson_get (model, "type"));
  if (type != NULL && strcmp (type, "BPE") != 0)
    return unsupported (l, "tokenizer model", type,
                        "only BPE (LLaMA, Llama 2/3, Mistral, TinyLlama, GPT-2) is");
  const tjson *vocab = tjson_get (model, "vocab");
  if (vocab == NULL || vocab->type != TJSON_OBJECT)
    return bad (l, "the BPE model has no \"vocab\" object");
  const tjson *merges = tjson_get (model, "merges");
  if (merges == NULL || merges->type != TJSON_ARRAY)
    return bad (l, "the BPE model has no \"merges\" list");
  if (tjson_str (tjson_get (model, "continuing_subword_prefix"))
      || tjson_str (tjson_get (model, "end_of_word_suffix")))
    return unsupported (l, "BPE option", "continuing_subword_prefix/end_of_word_suffix", NULL);

  if (!tok_bpe_init (&t->bpe, vocab->len, l->err))
    return false;
  for (size_t i = 0; i < vocab->len; i++)
    {
      long long id;
      if (!tjson_int (&vocab->items[i], &id) || id < 0 || id >= (1 << 30))
        {
          le_fail (l->err, LE_ERR_FORMAT, "%s: vocab entry \"%.60s\" has no valid id",
                   l->file, vocab->keys[i]);
          return false;
        }
      if (!tok_bpe_add_token (&t->bpe, vocab->keys[i], vocab->key_lens[i], (int32_t) id, l->err))
        return le_error_prefix (l->err, "%s", l->file);
    }
  for (size_t i = 0; i < merges->len; i++)
    {
      const tjson *m = &merges->items[i];
      const char *a, *b;
      size_t an, bn;
      if (m->type == TJSON_STRING)
        {
          const char *sp = memchr (m->str, ' ', m->len);
          if (sp == NULL)
            {
              le_fail (l->err, LE_ERR_FORMAT, "%s: merge %zu \"%.60s\" is not two tokens "
                       "separated by a space", l->file, i, m->str);
              return false;
            }
          a = m->str, an = (size_t) (sp - m->str);
          b = sp + 1, bn = m->len - an - 1;
        }
      else if (m->type == TJSON_ARRAY && m->len == 2 && m->items[0].type == TJSON_STRING
               && m->items[1].type == TJSON_STRING)
        {
          a = m->items[0].str, an = m->items[0].len;
          b = m->items[1].str, bn = m->items[1].len;
        }
      else
        {
          le_fail (l->err, LE_ERR_FORMAT, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]",
                   l->file, i);
          return false;
        }
      if (!tok_bpe_add_merge (&t->bpe, a, an, b, bn, (int32_t) i, l->err))
        return le_error_prefix (l->err, "%s", l->file);
    }

  t->unk_id = -1;
  const char *unk = tjson_str (tjson_get (model, "unk_token"));
  if (unk)
    t->unk_id = tok_strmap_get (&t->bpe.vocab, unk, strlen (unk));
  t->byte_fallback = tjson_is_true (tjson_get (model, "byte_fallback"));
  t->fuse_unk = tjson_is_true (tjson_get (model, "fuse_unk"));
  t->ignore_merges = tjson_is_true (tjson_get (model, "ignore_merges"));
  for (int b = 0; b < 256; b++)
    {
      char name[8];
      snprintf (name, sizeof name, "<0x%02X>", b);
      t->byte_ids[b] = tok_strmap_get (&t->bpe.vocab, name, 6);
    }
  return true;
}

static bool
load_added_tokens (loader *l, const tjson *list)
{
  le_tokenizer *t = l->tok;
  if (list == NULL || list->type == TJSON_NULL)
    return true;
  if (list->type != TJSON_ARRAY)
    return bad (l, "\"added_tokens\" is not a list");
  t->added = le_calloc (list->len, sizeof *t->added, "the added tokens", l->err);
  if (t->added == NULL)
    return false;
  for (size_t i = 0; i < list->len; i++)
    {
      const tjson *a = &list->items[i];
      const tjson *content = tjson_get (a, "content");
      long long id;
      if (content == NULL || content->type != TJSON_STRING || content->len == 0
          || !tjson_int (tjson_get (a, "id"), &id) || id < 0 || id >= (1 << 30))
        {
          le_fail (l->err, LE_ERR_FORMAT, "%s: added token %zu needs a non-empty \"content\" "
                   "and an \"id\"", l->file, i);
          return false;
        }
      tok_added *d = &t->added[t->n_added];
      if (!(d->content = dup_bytes (content->str, content->len, l->err)))
        return false;
      d->len = content->len;
      d->id = (int32_t) id;
      d->special = tjson_is_true (tjson_get (a, "special"));
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
load_post_processor (loader *l, const tjson *v)
{
  le_tokenizer *t = l->tok;
  if (v == NULL || v->type == TJSON_NULL)
    return true;
  const char *type = tjson_str (tjson_get (v, "type"));
  if (type && strcmp (type, "Sequence") == 0)
    {
      const tjson *list = tjson_get (v, "processors");
      if (list == NULL || list->type != TJSON_ARRAY)
        return bad (l, "post_processor Sequence has no \"processors\" list");
      for (size_t i = 0; i < list->len; i++)
        if (!load_post_processor (l, &list->items[i]))
          return false;
      return true;
    }
  if (type && strcmp (type, "ByteLevel") == 0)
    return true; /* only moves offsets */
  if (type == NULL || strcmp (type, "TemplateProcessing") != 0)
    return unsupported (l, "post_processor", type, "only TemplateProcessing and ByteLevel are");
  const tjson *single = tjson_get (v, "single");
  const tjson *specials = tjson_get (v, "special_tokens");
  if (single == NULL || single->type != TJSON_ARRAY)
    return bad (l, "post_processor TemplateProcessing has no \"single\" template");
  bool seen_sequence = false;
  t->n_prefix = t->n_suffix = 0;
  for (size_t i = 0; i < single->len; i++)
    {
      const tjson *item = &single->items[i];
      if (tjson_get (item, "Sequence"))
        {
          seen_sequence = true;
          continue;
        }
      const char *name = tjson_str (tjson_get (tjson_get (item, "SpecialToken"), "id"));
      if (name == NULL)
        return bad (l, "post_processor template item is neither Sequence nor SpecialToken");
      const tjson *ids = tjson_get (tjson_get (specials, name), "ids");
      if (ids == NULL || ids->type != TJSON_ARRAY)
        {
          le_fail (l->err, LE_ERR_FORMAT, "%s: post_processor special token \"%.60s\" has no ids",
                   l->file, name);
          return false;
        }
      for (size_t k = 0; k < ids->len; k++)
        {
          long long id;
          size_t *count = seen_sequence ? &t->n_suffix : &t->n_prefix;
          int32_t *dst = seen_sequence ? t->suffix : t->prefix;
          if (!tjson_int (&ids->items[k], &id) || id < 0 || id >= (1 << 30) || *count >= 8)
            return bad (l, "post_processor special token ids are not valid");
          dst[(*count)++] = (int32_t) id;
        }
    }
  return true;
}

/* bos_token / eos_token of tokenizer_config.json: a string or {"content": ...}. */
static int32_t
config_token (const le_tokenizer *t, const tjson *cfg, const char *key)
{
  const tjson *v = tjson_get (cfg, key);
  const char *s = tjson_str (v);
  if (s == NULL)
    s = tjson_str (tjson_get (v, "content"));
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

/* Reads DIR/NAME if it exists; *out stays NULL when it does not. */
static bool
read_optional_json (const char *dir, const char *name, tjson **out, le_error *err)
{
  char path[4096];
  struct stat st;
  *out = NULL;
  if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
    return le_fail (err, LE_ERR_INVALID, "path too long: %s", dir);
  if (stat (path, &st) != 0)
    return true;
  *out = tjson_parse_file (path, err);
  return *out != NULL;
}

static bool
load_configs (le_tokenizer *t, const char *dir, bool has_template, le_error *err)
{
  tjson *tcfg = NULL, *mcfg = NULL;
  if (!read_optional_json (dir, "tokenizer_config.json", &tcfg, err)
      || !read_optional_json (dir, "config.json", &mcfg, err))
    {
      tjson_free (tcfg);
      return false;
    }
  t->bos_id = config_token (t, tcfg, "bos_token");
  t->eos_id = config_token (t, tcfg, "eos_token");
  long long id;
  const tjson *bos = tjson_get (mcfg, "bos_token_id");
  if (t->bos_id < 0 && tjson_int (bos, &id) && id >= 0 && id < (1 << 30))
    t->bos_id = (int32_t) id;
  const tjson *eos = tjson_get (mcfg, "eos_token_id");
  add_stop (t, t->eos_id);
  if (eos && eos->type == TJSON_ARRAY)
    {
      for (size_t i = 0; i < eos->len; i++)
        if (tjson_int (&eos->items[i], &id) && id >= 0 && id < (1 << 30))
          {
            if (t->eos_id < 0)
              t->eos_id = (int32_t) id;
            add_stop (t, (int32_t) id);
          }
    }
  else if (tjson_int (eos, &id) && id >= 0 && id < (1 << 30))
    {
      if (t->eos_id < 0)
        t->eos_id = (int32_t) id;
      add_stop (t, (int32_t) id);
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
  /* Without a post-processor template, the tokenizer_config flags say what encode adds
   * (the slow LlamaTokenizer's defaults: BOS yes, EOS no). */
  if (!has_template && tcfg != NULL)
    {
      const tjson *ab = tjson_get (tcfg, "add_bos_token");
      const tjson *ae = tjson_get (tcfg, "add_eos_token");
      if (tjson_is_true (ab) && t->bos_id >= 0)
        t->prefix[t->n_prefix++] = t->bos_id;
      if (tjson_is_true (ae) && t->eos_id >= 0)
        t->suffix[t->n_suffix++] = t->eos_id;
    }
  tjson_free (tcfg);
  tjson_free (mcfg);
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

  tjson *root = tjson_parse_file (file, err);
  if (root == NULL)
    return NULL;
  le_tokenizer *t = le_calloc (1, sizeof *t, "a tokenizer", err);
  if (t == NULL)
    {
      tjson_free (root);
      return NULL;
    }
  t->bos_id = t->eos_id = t->unk_id = -1;
  loader l = { t, file, err };
  bool ok = root->type == TJSON_OBJECT ? true : bad (&l, "the top level is not an object");
  ok = ok && load_model (&l, tjson_get (root, "model"));
  ok = ok && load_added_tokens (&l, tjson_get (root, "added_tokens"));
  ok = ok && load_normalizer (&l, tjson_get (root, "normalizer"));
  ok = ok && load_pre_tokenizer (&l, tjson_get (root, "pre_tokenizer"));
  const tjson *dec = tjson_get (root, "decoder");
  t->has_decoder = dec != NULL && dec->type != TJSON_NULL;
  ok = ok && load_decoder (&l, dec);
  const tjson *post = tjson_get (root, "post_processor");
  ok = ok && load_post_processor (&l, post);
  ok = ok && load_configs (t, dir, post != NULL && post->type != TJSON_NULL, err);
  tjson_free (root);
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
