/* clip-tokenizer.c: the CLIP tokenizer of clip-tokenizer.h: loading (vocab.json +
 * merges.txt, or OpenAI's merges file, gzip or not), cleaning, the CLIP split, BPE. */
#include "clip-tokenizer.h"

#include "tokenizer-bpe.h"
#include "tokenizer-json.h"
#include "tokenizer-split.h"
#include "tokenizer-unicode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* The reference reads merges lines [1, 49152 - 256 - 2 + 1): the first line is a
 * version header, and the vocabulary has room for exactly this many merges. */
#define CLIP_MAX_MERGES (49152 - 256 - 2)

static const char START_TEXT[] = "<|startoftext|>";
static const char END_TEXT[] = "<|endoftext|>";

struct le_clip_tokenizer {
  tok_bpe bpe;
  int32_t start_id, end_id;
};

/* Reads a whole file, gunzipping it when it is gzip (zlib reads plain files as they are). */
static char *
read_file (const char *path, size_t *len, le_error *err)
{
  gzFile f = gzopen (path, "rb");
  if (f == NULL)
    {
      le_fail (err, LE_ERR_IO, "cannot open %s: %s", path, strerror (errno ? errno : ENOMEM));
      return NULL;
    }
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc (cap + 1);
  for (;;)
    {
      if (buf == NULL)
        {
          gzclose (f);
          le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
          return NULL;
        }
      size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
      int got = gzread (f, buf + n, (unsigned) want);
      if (got < 0)
        {
          int zerr;
          const char *msg = gzerror (f, &zerr);
          le_fail (err, LE_ERR_FORMAT, "%s is damaged: %s", path, msg);
          free (buf);
          gzclose (f);
          return NULL;
        }
      n += (size_t) got;
      if (got == 0)
        {
          /* A stream cut short reads as an early end; zlib says so only here. */
          int zerr;
          const char *msg = gzerror (f, &zerr);
          if (zerr != Z_OK && zerr != Z_STREAM_END)
            {
              le_fail (err, LE_ERR_FORMAT, "%s is damaged: %s", path, msg);
              free (buf);
              gzclose (f);
              return NULL;
            }
          break;
        }
      if (n == cap)
        {
          cap *= 2;
          char *nb = realloc (buf, cap + 1);
          if (nb == NULL)
            free (buf);
          buf = nb;
        }
    }
  gzclose (f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Adds every merge line "a b" after the header, up to CLIP_MAX_MERGES, as the reference
 * does (text stripped, split on newlines, each line split on whitespace). */
static bool
add_merges (le_clip_tokenizer *t, char *text, size_t len, const char *path, le_error *err)
{
  /* Strip the text's trailing whitespace, as .strip() does (leading: the header line). */
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'
                     || text[len - 1] == '\t'))
    len--;
  text[len] = '\0';
  char *line = memchr (text, '\n', len);
  if (line == NULL)
    return le_fail (err, LE_ERR_FORMAT, "%s has no merges (only a header line)", path);
  line++;
  int32_t rank = 0;
  while (line != NULL && line < text + len && rank < CLIP_MAX_MERGES)
    {
      char *end = strchr (line, '\n');
      if (end)
        *end = '\0';
      char *a = line, *b, *stop;
      while (*a == ' ' || *a == '\t' || *a == '\r') a++;
      b = a;
      while (*b && *b != ' ' && *b != '\t' && *b != '\r') b++;
      size_t an = (size_t) (b - a);
      while (*b == ' ' || *b == '\t') b++;
      stop = b;
      while (*stop && *stop != ' ' && *stop != '\t' && *stop != '\r') stop++;
      if (an == 0 || stop == b)
        return le_fail (err, LE_ERR_FORMAT, "%s: merge line %d is not two tokens", path,
                        (int) rank + 2);
      if (!tok_bpe_add_merge (&t->bpe, a, an, b, (size_t) (stop - b), rank, err))
        return le_error_prefix (err, "%s", path);
      rank++;
      line = end ? end + 1 : NULL;
    }
  return true;
}

/* The standard vocabulary of OpenAI's merges file: bytes, bytes with </w>, merges, specials. */
static bool
load_bpe_file (le_clip_tokenizer *t, const char *path, le_error *err)
{
  size_t len;
  char *text = read_file (path, &len, err);
  if (text == NULL)
    return false;
  bool ok = tok_bpe_init (&t->bpe, 50000, err);
  int32_t id = 0;
  /* Byte characters in code point order, which is bytes_to_unicode()'s order. */
  for (int pass = 0; ok && pass < 2; pass++)
    for (uint32_t cp = 0; ok && cp < 256 + 68; cp++)
      {
        if (tok_unicode_to_byte (cp) < 0)
          continue;
        char s[16];
        size_t n = tok_utf8_encode (cp, s);
        if (pass == 1)
          memcpy (s + n, "</w>", 4), n += 4;
        ok = tok_bpe_add_token (&t->bpe, s, n, id++, err);
      }
  /* Each merge's result is the next id: walk the lines once for the vocabulary, then
   * add_merges walks them again for the ranks. */
  char *copy = ok ? malloc (len + 1) : NULL;
  if (ok && copy == NULL)
    ok = le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
  if (ok)
    {
      memcpy (copy, text, len + 1);
      char *line = strchr (copy, '\n');
      int32_t count = 0;
      while (ok && line && count < CLIP_MAX_MERGES)
        {
          line++;
          char *end = strchr (line, '\n');
          if (end)
            *end = '\0';
          char joined[1024];
          size_t n = 0;
          for (char *p = line; *p && n < sizeof joined - 1; p++)
            if (*p != ' ' && *p != '\t' && *p != '\r')
              joined[n++] = *p;
          if (n > 0)
            {
              /* A repeated string keeps its later id, as the reference's dict does. */
              ok = tok_bpe_add_token (&t->bpe, joined, n, id++, err);
              count++;
            }
          line = end;
        }
      free (copy);
    }
  ok = ok && tok_bpe_add_token (&t->bpe, START_TEXT, strlen (START_TEXT), id++, err);
  ok = ok && tok_bpe_add_token (&t->bpe, END_TEXT, strlen (END_TEXT), id++, err);
  ok = ok && add_merges (t, text, len, path, err);
  free (text);
  return ok;
}

static bool
load_folder (le_clip_tokenizer *t, const char *dir, le_error *err)
{
  char path[4200];
  snprintf (path, sizeof path, "%s/vocab.json", dir);
  tok_json vocab;
  if (!tok_json_read (&vocab, path, err))
    return false;
  uint32_t root = tok_json_root (&vocab);
  bool ok = tok_json_type (&vocab, root) == LE_JSON_OBJECT
            || le_fail (err, LE_ERR_FORMAT, "%s is not a JSON object of token ids", path);
  ok = ok && tok_bpe_init (&t->bpe, tok_json_count (&vocab, root), err);
  /* Object members: a key node, then its value node. */
  for (uint32_t k = ok ? tok_json_first (&vocab, root) : LE_JSON_NONE; ok && k != LE_JSON_NONE;
       k = tok_json_next (&vocab, tok_json_next (&vocab, k)))
    {
      int32_t id;
      size_t kn;
      const char *key = tok_json_str (&vocab, k, &kn);
      if (!tok_json_id (&vocab, tok_json_next (&vocab, k), &id))
        ok = le_fail (err, LE_ERR_FORMAT, "%s: \"%.60s\" has no valid id", path, key);
      else
        ok = tok_bpe_add_token (&t->bpe, key, kn, id, err);
    }
  tok_json_free (&vocab);
  if (!ok)
    return false;
  snprintf (path, sizeof path, "%s/merges.txt", dir);
  size_t len;
  char *text = read_file (path, &len, err);
  if (text == NULL)
    return false;
  ok = add_merges (t, text, len, path, err);
  free (text);
  return ok;
}

static bool
is_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

le_clip_tokenizer *
le_clip_tokenizer_load (const char *path, le_error *err)
{
  struct stat st;
  char buf[4200];
  if (stat (path, &st) != 0)
    {
      le_fail (err, LE_ERR_IO, "no CLIP tokenizer at %s: %s", path, strerror (errno));
      return NULL;
    }
  le_clip_tokenizer *t = le_calloc (1, sizeof *t, "the CLIP tokenizer", err);
  if (t == NULL)
    return NULL;
  bool ok;
  if (S_ISDIR (st.st_mode))
    {
      snprintf (buf, sizeof buf, "%s/vocab.json", path);
      if (is_file (buf))
        ok = load_folder (t, path, err);
      else
        {
          snprintf (buf, sizeof buf, "%s/tokenizer/vocab.json", path);
          if (is_file (buf))
            {
              snprintf (buf, sizeof buf, "%s/tokenizer", path);
              ok = load_folder (t, buf, err);
            }
          else
            ok = le_fail (err, LE_ERR_IO, "no CLIP tokenizer in %s: looked for vocab.json "
                          "and merges.txt there and in %s/tokenizer/", path, path);
        }
    }
  else
    ok = load_bpe_file (t, path, err);
  if (ok)
    {
      t->start_id = tok_strmap_get (&t->bpe.vocab, START_TEXT, strlen (START_TEXT));
      t->end_id = tok_strmap_get (&t->bpe.vocab, END_TEXT, strlen (END_TEXT));
      if (t->start_id < 0 || t->end_id < 0)
        ok = le_fail (err, LE_ERR_FORMAT, "%s: the vocabulary has no %s or %s token", path,
                      START_TEXT, END_TEXT);
    }
  if (!ok)
    {
      le_clip_tokenizer_free (t);
      return NULL;
    }
  return t;
}

le_clip_tokenizer *
le_clip_tokenizer_load_first (const char *const *paths, size_t n_paths, le_error *err)
{
  char looked[900] = "";
  size_t used = 0;
  for (size_t i = 0; i < n_paths; i++)
    {
      struct stat st;
      char inner[4200];
      if (paths[i] == NULL)
        continue;
      /* A file, or a folder with the files (directly or in tokenizer/), is the one: its
       * errors matter. An empty or unrelated folder is passed over. */
      bool usable = stat (paths[i], &st) == 0 && S_ISREG (st.st_mode);
      snprintf (inner, sizeof inner, "%s/vocab.json", paths[i]);
      usable = usable || is_file (inner);
      snprintf (inner, sizeof inner, "%s/tokenizer/vocab.json", paths[i]);
      usable = usable || is_file (inner);
      if (usable)
        return le_clip_tokenizer_load (paths[i], err);
      int w = snprintf (looked + used, sizeof looked - used, "%s%s", used ? ", " : "", paths[i]);
      if (w > 0)
        used = used + (size_t) w < sizeof looked ? used + (size_t) w : sizeof looked - 1;
    }
  le_fail (err, LE_ERR_IO, "no CLIP tokenizer found; looked in: %s. Set the tokenizer path "
           "in the config or use a model folder with tokenizer/vocab.json and merges.txt",
           used ? looked : "(nowhere: no candidate paths)");
  return NULL;
}

void
le_clip_tokenizer_free (le_clip_tokenizer *t)
{
  if (t == NULL)
    return;
  tok_bpe_free (&t->bpe);
  free (t);
}

/* One regex piece (already lower case): bytes to printable characters, the last one with
 * </w>, then merges. */
static bool
encode_piece (const le_clip_tokenizer *t, const char *s, size_t n, tok_ids *out, le_error *err)
{
  if ((n == strlen (START_TEXT) && memcmp (s, START_TEXT, n) == 0))
    return tok_ids_push (out, t->start_id, err);
  if ((n == strlen (END_TEXT) && memcmp (s, END_TEXT, n) == 0))
    return tok_ids_push (out, t->end_id, err);
  tok_ids syms = { 0 };
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++)
    {
      char c[16];
      size_t cl = tok_utf8_encode (tok_byte_to_unicode ((uint8_t) s[i]), c);
      if (i == n - 1)
        memcpy (c + cl, "</w>", 4), cl += 4;
      int32_t id = tok_strmap_get (&t->bpe.vocab, c, cl);
      ok = tok_ids_push (&syms, id >= 0 ? id : t->end_id, err); /* unknown: the unk token */
    }
  size_t m = ok ? tok_bpe_merge (&t->bpe, syms.ids, syms.len) : 0;
  for (size_t i = 0; ok && i < m; i++)
    ok = tok_ids_push (out, syms.ids[i], err);
  tok_ids_clear (&syms);
  return ok;
}

/* Appends the lower case of the word W (N bytes) to OUT, as Python's str.lower(). */
static bool
lower_word (const char *w, size_t n, char *out, size_t *out_len)
{
  size_t o = 0;
  uint32_t prev = 0;
  for (size_t i = 0; i < n;)
    {
      uint32_t cp, lo;
      size_t l = tok_utf8_decode (w + i, n - i, &cp);
      i += l;
      if (cp == 0x130) /* İ lowers to i + combining dot above */
        {
          out[o++] = 'i';
          o += tok_utf8_encode (0x307, out + o);
          prev = cp;
          continue;
        }
      lo = tok_uc_lower (cp);
      if (cp == 0x3A3) /* final sigma: after a letter and not before one */
        {
          uint32_t next = 0;
          if (i < n)
            tok_utf8_decode (w + i, n - i, &next);
          if (prev && tok_uc_is_letter (prev) && !(next && tok_uc_is_letter (next)))
            lo = 0x3C2;
        }
      o += tok_utf8_encode (lo, out + o);
      prev = cp;
    }
  *out_len = o;
  return true;
}

/* A segment between special tokens: BasicTokenizer cleaning, words, lower case, split, BPE. */
static bool
encode_segment (const le_clip_tokenizer *t, const char *s, size_t n, tok_ids *out, le_error *err)
{
  /* Cleaning can triple the text (spaces around CJK); lower case at most doubles it. */
  char *clean = le_malloc (n * 3 + 1, "CLIP text", err);
  char *low = le_malloc (n * 6 + 8, "CLIP text", err);
  bool ok = clean && low;
  size_t c = 0;
  for (size_t i = 0; ok && i < n;)
    {
      uint32_t cp;
      size_t l = tok_utf8_decode (s + i, n - i, &cp);
      int cls = tok_uc_class (cp);
      bool ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cls == TOK_UC_ZS;
      if (ws)
        clean[c++] = ' ';
      else if (cp == 0 || cp == 0xFFFD || cls == TOK_UC_C)
        ; /* control and format characters (ZWJ too) are dropped */
      else if (tok_uc_is_cjk (cp))
        {
          clean[c++] = ' ';
          memcpy (clean + c, s + i, l);
          c += l;
          clean[c++] = ' ';
        }
      else
        {
          memcpy (clean + c, s + i, l);
          c += l;
        }
      i += l;
    }
  for (size_t i = 0; ok && i < c;)
    {
      /* Words are separated by White_Space (what Python's str.split() uses here). */
      uint32_t cp;
      size_t l = tok_utf8_decode (clean + i, c - i, &cp);
      if (tok_uc_is_space (cp))
        {
          i += l;
          continue;
        }
      size_t end = i;
      while (end < c)
        {
          l = tok_utf8_decode (clean + end, c - end, &cp);
          if (tok_uc_is_space (cp))
            break;
          end += l;
        }
      size_t ln;
      lower_word (clean + i, end - i, low, &ln);
      for (size_t k = 0; ok && k < ln;)
        {
          size_t m = tok_split_clip (low, ln, k);
          if (m == 0)
            {
              uint32_t skip;
              k += tok_utf8_decode (low + k, ln - k, &skip);
              continue;
            }
          ok = encode_piece (t, low + k, m, out, err);
          k += m;
        }
      i = end;
    }
  free (clean);
  free (low);
  return ok;
}

static bool
valid_utf8 (const char *str, size_t n)
{
  for (size_t i = 0; i < n;)
    {
      uint32_t cp;
      size_t l = tok_utf8_decode (str + i, n - i, &cp);
      if ((l == 1 && (unsigned char) str[i] >= 0x80) || (cp >= 0xD800 && cp <= 0xDFFF)
          || cp > 0x10FFFF || (l == 2 && cp < 0x80) || (l == 3 && cp < 0x800)
          || (l == 4 && cp < 0x10000))
        return false;
      i += l;
    }
  return true;
}

bool
le_clip_tokenizer_tokenize (const le_clip_tokenizer *t, const char *text, int32_t **ids,
                            size_t *n_ids, le_error *err)
{
  size_t n = strlen (text);
  *ids = NULL;
  *n_ids = 0;
  if (!valid_utf8 (text, n))
    return le_fail (err, LE_ERR_INVALID, "caption is not valid UTF-8: save it as UTF-8");
  tok_ids out = { 0 };
  bool ok = true;
  size_t seg = 0;
  /* The special tokens are cut out first, case-sensitively, like added tokens in HF. */
  for (size_t i = 0; ok && i <= n; i++)
    {
      size_t sl = 0;
      int32_t id = -1;
      if (i < n && strncmp (text + i, START_TEXT, strlen (START_TEXT)) == 0)
        sl = strlen (START_TEXT), id = t->start_id;
      else if (i < n && strncmp (text + i, END_TEXT, strlen (END_TEXT)) == 0)
        sl = strlen (END_TEXT), id = t->end_id;
      if (sl == 0 && i < n)
        continue;
      if (i > seg)
        ok = encode_segment (t, text + seg, i - seg, &out, err);
      if (sl == 0)
        break;
      ok = ok && tok_ids_push (&out, id, err);
      i += sl - 1;
      seg = i + 1;
    }
  if (!ok)
    {
      tok_ids_clear (&out);
      return false;
    }
  if (out.ids == NULL)
    out.ids = malloc (sizeof *out.ids);
  *ids = out.ids;
  *n_ids = out.len;
  return true;
}

bool
le_clip_tokenizer_encode (const le_clip_tokenizer *t, const char *text,
                          int32_t ids[LE_CLIP_CONTEXT], size_t *n_tokens, le_error *err)
{
  int32_t *tokens;
  size_t n;
  if (!le_clip_tokenizer_tokenize (t, text, &tokens, &n, err))
    return false;
  if (n_tokens)
    *n_tokens = n;
  size_t keep = n < LE_CLIP_CONTEXT - 2 ? n : LE_CLIP_CONTEXT - 2;
  ids[0] = t->start_id;
  memcpy (ids + 1, tokens, keep * sizeof *ids);
  for (size_t i = keep + 1; i < LE_CLIP_CONTEXT; i++)
    ids[i] = t->end_id; /* the end token, then padding with the same id */
  free (tokens);
  return true;
}

char *
le_clip_tokenizer_decode (const le_clip_tokenizer *t, const int32_t *ids, size_t n,
                          le_error *err)
{
  size_t cap = 64, len = 0;
  char *out = malloc (cap);
  for (size_t i = 0; out && i < n; i++)
    {
      if (ids[i] == t->start_id || ids[i] == t->end_id)
        continue;
      size_t tl;
      const char *tok = tok_bpe_token (&t->bpe, ids[i], &tl);
      if (tok == NULL)
        {
          free (out);
          le_fail (err, LE_ERR_INVALID, "CLIP token id %d is not in the vocabulary", (int) ids[i]);
          return NULL;
        }
      while (len + tl + 2 > cap)
        {
          char *nb = realloc (out, cap *= 2);
          if (nb == NULL)
            free (out);
          out = nb;
          if (out == NULL)
            break;
        }
      for (size_t k = 0; out && k < tl;)
        {
          if (tl - k >= 4 && memcmp (tok + k, "</w>", 4) == 0)
            {
              out[len++] = ' ';
              k += 4;
              continue;
            }
          uint32_t cp;
          k += tok_utf8_decode (tok + k, tl - k, &cp);
          int b = tok_unicode_to_byte (cp);
          out[len++] = (char) (b >= 0 ? b : '?');
        }
    }
  if (out == NULL)
    {
      le_fail (err, LE_ERR_MEMORY, "out of memory decoding CLIP tokens");
      return NULL;
    }
  while (len > 0 && out[len - 1] == ' ')
    len--;
  out[len] = '\0';
  return out;
}

int32_t le_clip_tokenizer_start_id (const le_clip_tokenizer *t) { return t->start_id; }
int32_t le_clip_tokenizer_end_id (const le_clip_tokenizer *t) { return t->end_id; }
size_t le_clip_tokenizer_vocab_size (const le_clip_tokenizer *t) { return t->bpe.n_ids; }
