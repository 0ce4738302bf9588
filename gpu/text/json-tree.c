/* json-tree.c: the strict JSON reader of json-tree.h: recursive descent with a depth limit, UTF-8
 * validated in strings, \u escapes with surrogate pairs, no trailing commas, no comments. */
#include "json-tree.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJSON_MAX_DEPTH 256

typedef struct {
  const char *s;
  size_t len;
  size_t pos;
  const char *name;
  le_error *err;
} parser;

static bool parse_value (parser *p, tjson *out, int depth);

static bool
fail_at (parser *p, const char *what)
{
  size_t line = 1, col = 1;
  for (size_t i = 0; i < p->pos && i < p->len; i++)
    {
      if (p->s[i] == '\n')
        line++, col = 1;
      else
        col++;
    }
  return le_fail (p->err, LE_ERR_FORMAT, "%s: broken JSON at line %zu, column %zu: %s",
                  p->name, line, col, what);
}

static void
skip_ws (parser *p)
{
  while (p->pos < p->len)
    {
      char c = p->s[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

static bool
literal (parser *p, const char *word)
{
  size_t n = strlen (word);
  if (p->len - p->pos < n || memcmp (p->s + p->pos, word, n) != 0)
    return fail_at (p, "unexpected character");
  p->pos += n;
  return true;
}

static int
hex4 (parser *p)
{
  if (p->len - p->pos < 4)
    return -1;
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      char c = p->s[p->pos + i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return -1;
    }
  p->pos += 4;
  return v;
}

static size_t
put_utf8 (char *o, unsigned cp)
{
  if (cp < 0x80) { o[0] = (char) cp; return 1; }
  if (cp < 0x800) { o[0] = (char) (0xC0 | cp >> 6); o[1] = (char) (0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000)
    {
      o[0] = (char) (0xE0 | cp >> 12); o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
      o[2] = (char) (0x80 | (cp & 0x3F));
      return 3;
    }
  o[0] = (char) (0xF0 | cp >> 18); o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3F)); o[3] = (char) (0x80 | (cp & 0x3F));
  return 4;
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0 when it is not one. */
static size_t
utf8_valid_len (const unsigned char *s, size_t n)
{
  unsigned c = s[0];
  size_t need;
  unsigned cp, min;
  if (c < 0x80) return 1;
  else if ((c & 0xE0) == 0xC0) need = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) need = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) need = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++)
    {
      if ((s[i] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i] & 0x3F);
    }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need;
}

/* Parses a string at p->pos (on the opening quote) into a malloc'd buffer. */
static bool
parse_string (parser *p, char **out, size_t *out_len)
{
  p->pos++; /* opening quote */
  /* The decoded string is never longer than the raw one. */
  size_t end = p->pos;
  while (end < p->len && p->s[end] != '"')
    end += (p->s[end] == '\\') ? 2 : 1;
  if (end >= p->len)
    return fail_at (p, "unterminated string");
  char *buf = malloc (end - p->pos + 1);
  if (buf == NULL)
    return le_fail (p->err, LE_ERR_MEMORY, "%s: out of memory reading JSON", p->name);
  size_t n = 0;
  while (p->pos < p->len)
    {
      unsigned char c = (unsigned char) p->s[p->pos];
      if (c == '"')
        {
          p->pos++;
          buf[n] = '\0';
          *out = buf;
          *out_len = n;
          return true;
        }
      if (c < 0x20)
        {
          free (buf);
          return fail_at (p, "control character in string (escape it)");
        }
      if (c == '\\')
        {
          p->pos++;
          if (p->pos >= p->len)
            break;
          char e = p->s[p->pos++];
          switch (e)
            {
            case '"': buf[n++] = '"'; break;
            case '\\': buf[n++] = '\\'; break;
            case '/': buf[n++] = '/'; break;
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            case 'n': buf[n++] = '\n'; break;
            case 'r': buf[n++] = '\r'; break;
            case 't': buf[n++] = '\t'; break;
            case 'u':
              {
                int cp = hex4 (p);
                if (cp < 0)
                  {
                    free (buf);
                    return fail_at (p, "bad \\u escape");
                  }
                if (cp >= 0xD800 && cp <= 0xDBFF)
                  {
                    int lo = -1;
                    if (p->len - p->pos >= 2 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u')
                      {
                        p->pos += 2;
                        lo = hex4 (p);
                      }
                    if (lo < 0xDC00 || lo > 0xDFFF)
                      {
                        free (buf);
                        return fail_at (p, "unpaired surrogate in \\u escape");
                      }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  }
                else if (cp >= 0xDC00 && cp <= 0xDFFF)
                  {
                    free (buf);
                    return fail_at (p, "unpaired surrogate in \\u escape");
                  }
                /* A \u escape takes 6 raw bytes and gives at most 4 (12 -> 4 for pairs). */
                n += put_utf8 (buf + n, (unsigned) cp);
                break;
              }
            default:
              free (buf);
              return fail_at (p, "unknown escape in string");
            }
          continue;
        }
      size_t k = utf8_valid_len ((const unsigned char *) p->s + p->pos, p->len - p->pos);
      if (k == 0)
        {
          free (buf);
          return fail_at (p, "invalid UTF-8 in string");
        }
      memcpy (buf + n, p->s + p->pos, k);
      n += k;
      p->pos += k;
    }
  free (buf);
  return fail_at (p, "unterminated string");
}

static bool
parse_number (parser *p, tjson *out)
{
  size_t start = p->pos;
  const char *s = p->s;
  size_t i = p->pos;
  if (i < p->len && s[i] == '-') i++;
  if (i >= p->len || s[i] < '0' || s[i] > '9')
    return fail_at (p, "bad number");
  if (s[i] == '0') i++;
  else while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
  if (i < p->len && s[i] == '.')
    {
      i++;
      if (i >= p->len || s[i] < '0' || s[i] > '9')
        return fail_at (p, "bad number");
      while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
  if (i < p->len && (s[i] == 'e' || s[i] == 'E'))
    {
      i++;
      if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
      if (i >= p->len || s[i] < '0' || s[i] > '9')
        return fail_at (p, "bad number");
      while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
  char tmp[64];
  size_t n = i - start;
  if (n >= sizeof tmp)
    n = sizeof tmp - 1; /* strtod of a prefix this long is still the right magnitude */
  memcpy (tmp, s + start, n);
  tmp[n] = '\0';
  out->type = TJSON_NUMBER;
  out->number = strtod (tmp, NULL);
  p->pos = i;
  return true;
}

/* Appends a zeroed slot to a growing member array. */
static tjson *
grow (parser *p, tjson *v, size_t *cap, bool with_keys)
{
  if (v->len == *cap)
    {
      size_t nc = *cap ? *cap * 2 : 4;
      tjson *items = realloc (v->items, nc * sizeof *items);
      if (items == NULL)
        goto oom;
      v->items = items;
      if (with_keys)
        {
          char **keys = realloc (v->keys, nc * sizeof *keys);
          if (keys == NULL)
            goto oom;
          v->keys = keys;
          size_t *kl = realloc (v->key_lens, nc * sizeof *kl);
          if (kl == NULL)
            goto oom;
          v->key_lens = kl;
        }
      *cap = nc;
    }
  memset (&v->items[v->len], 0, sizeof v->items[0]);
  return &v->items[v->len];
oom:
  le_fail (p->err, LE_ERR_MEMORY, "%s: out of memory reading JSON", p->name);
  return NULL;
}

static void
free_members (tjson *v)
{
  if (v->type == TJSON_STRING)
    free (v->str);
  if (v->type == TJSON_ARRAY || v->type == TJSON_OBJECT)
    {
      for (size_t i = 0; i < v->len; i++)
        {
          free_members (&v->items[i]);
          if (v->keys)
            free (v->keys[i]);
        }
      free (v->items);
      free (v->keys);
      free (v->key_lens);
    }
}

static bool
parse_container (parser *p, tjson *out, int depth, bool object)
{
  if (depth >= TJSON_MAX_DEPTH)
    return fail_at (p, "nested too deeply");
  out->type = object ? TJSON_OBJECT : TJSON_ARRAY;
  char close = object ? '}' : ']';
  size_t cap = 0;
  p->pos++;
  skip_ws (p);
  if (p->pos < p->len && p->s[p->pos] == close)
    {
      p->pos++;
      return true;
    }
  for (;;)
    {
      char *key = NULL;
      size_t key_len = 0;
      skip_ws (p);
      if (object)
        {
          if (p->pos >= p->len || p->s[p->pos] != '"')
            return fail_at (p, "expected a string key");
          if (!parse_string (p, &key, &key_len))
            return false;
          skip_ws (p);
          if (p->pos >= p->len || p->s[p->pos] != ':')
            {
              free (key);
              return fail_at (p, "expected ':'");
            }
          p->pos++;
        }
      tjson *slot = grow (p, out, &cap, object);
      if (slot == NULL)
        {
          free (key);
          return false;
        }
      if (object)
        {
          out->keys[out->len] = key;
          out->key_lens[out->len] = key_len;
        }
      out->len++;
      if (!parse_value (p, slot, depth + 1))
        return false;
      skip_ws (p);
      if (p->pos >= p->len)
        return fail_at (p, object ? "unterminated object" : "unterminated array");
      char c = p->s[p->pos++];
      if (c == close)
        return true;
      if (c != ',')
        return fail_at (p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool
parse_value (parser *p, tjson *out, int depth)
{
  skip_ws (p);
  if (p->pos >= p->len)
    return fail_at (p, "unexpected end of file");
  switch (p->s[p->pos])
    {
    case '{': return parse_container (p, out, depth, true);
    case '[': return parse_container (p, out, depth, false);
    case '"':
      out->type = TJSON_STRING;
      return parse_string (p, &out->str, &out->len);
    case 't': out->type = TJSON_TRUE; return literal (p, "true");
    case 'f': out->type = TJSON_FALSE; return literal (p, "false");
    case 'n': out->type = TJSON_NULL; return literal (p, "null");
    default:
      if (p->s[p->pos] != '-' && (p->s[p->pos] < '0' || p->s[p->pos] > '9'))
        return fail_at (p, "expected a value");
      return parse_number (p, out);
    }
}

tjson *
tjson_parse (const char *text, size_t len, const char *name, le_error *err)
{
  parser p = { text, len, 0, name ? name : "JSON", err };
  tjson *root = le_calloc (1, sizeof *root, "a JSON document", err);
  if (root == NULL)
    return NULL;
  if (!parse_value (&p, root, 0))
    {
      tjson_free (root);
      return NULL;
    }
  skip_ws (&p);
  if (p.pos != len)
    {
      fail_at (&p, "text after the end of the document");
      tjson_free (root);
      return NULL;
    }
  return root;
}

tjson *
tjson_parse_file (const char *path, le_error *err)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      le_fail (err, LE_ERR_IO, "cannot open %s: %s", path, strerror (errno));
      return NULL;
    }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc (cap);
  while (buf != NULL)
    {
      size_t n = fread (buf + len, 1, cap - len, f);
      len += n;
      if (len < cap)
        break;
      cap *= 2;
      char *nb = realloc (buf, cap);
      if (nb == NULL)
        free (buf);
      buf = nb;
    }
  bool bad = ferror (f);
  fclose (f);
  if (buf == NULL)
    {
      le_fail (err, LE_ERR_MEMORY, "out of memory reading %s", path);
      return NULL;
    }
  if (bad)
    {
      free (buf);
      le_fail (err, LE_ERR_IO, "cannot read %s", path);
      return NULL;
    }
  tjson *v = tjson_parse (buf, len, path, err);
  free (buf);
  return v;
}

void
tjson_free (tjson *v)
{
  if (v == NULL)
    return;
  free_members (v);
  free (v);
}

const tjson *
tjson_get (const tjson *v, const char *key)
{
  if (v == NULL || v->type != TJSON_OBJECT)
    return NULL;
  size_t n = strlen (key);
  for (size_t i = 0; i < v->len; i++)
    if (v->key_lens[i] == n && memcmp (v->keys[i], key, n) == 0)
      return &v->items[i];
  return NULL;
}

const char *
tjson_str (const tjson *v)
{
  return (v != NULL && v->type == TJSON_STRING) ? v->str : NULL;
}

bool
tjson_is_true (const tjson *v)
{
  return v != NULL && v->type == TJSON_TRUE;
}

bool
tjson_int (const tjson *v, long long *out)
{
  if (v == NULL || v->type != TJSON_NUMBER || !isfinite (v->number)
      || v->number != floor (v->number) || fabs (v->number) > 9.0e15)
    return false;
  *out = (long long) v->number;
  return true;
}
