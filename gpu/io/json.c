/* json.c: the strict JSON parser of json.h. Recursive descent, depth-limited. */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const unsigned char *s;
  size_t len;
  size_t pos;
  le_json_doc *doc;
  uint32_t cap_nodes;
  size_t str_len;
  le_error *err;
} parser;

static bool
fail_at (parser *p, const char *what)
{
  return le_fail (p->err, LE_ERR_FORMAT, "invalid JSON at byte %zu: %s", p->pos, what);
}

static void
skip_ws (parser *p)
{
  while (p->pos < p->len)
    {
      unsigned char c = p->s[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

static uint32_t
new_node (parser *p, le_json_type type)
{
  le_json_doc *doc = p->doc;
  if (doc->n_nodes >= LE_JSON_MAX_NODES)
    return LE_JSON_NONE;
  if (doc->n_nodes == p->cap_nodes)
    {
      uint32_t cap = p->cap_nodes ? p->cap_nodes * 2 : 64;
      le_json_node *nodes = realloc (doc->nodes, (size_t) cap * sizeof *nodes);
      if (nodes == NULL)
        return LE_JSON_NONE;
      doc->nodes = nodes;
      p->cap_nodes = cap;
    }
  uint32_t i = doc->n_nodes++;
  memset (&doc->nodes[i], 0, sizeof doc->nodes[i]);
  doc->nodes[i].type = (uint8_t) type;
  doc->nodes[i].first = LE_JSON_NONE;
  doc->nodes[i].next = LE_JSON_NONE;
  return i;
}

/* Length of the UTF-8 sequence at S (at most AVAIL bytes), or 0 when malformed. */
static size_t
utf8_seq (const unsigned char *s, size_t avail)
{
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (avail < n)
    return 0;
  for (size_t i = 1; i < n; i++)
    {
      if ((s[i] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3F);
    }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF
      || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

bool
le_utf8_valid (const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *) s;
  for (size_t i = 0; i < len;)
    {
      size_t n = utf8_seq (u + i, len - i);
      if (n == 0)
        return false;
      i += n;
    }
  return true;
}

static int
hex4 (const unsigned char *s, uint32_t *out)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    {
      unsigned char c = s[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return 0;
    }
  *out = v;
  return 1;
}

static void
put_utf8 (char *out, size_t *pos, uint32_t cp)
{
  if (cp < 0x80)
    out[(*pos)++] = (char) cp;
  else if (cp < 0x800)
    {
      out[(*pos)++] = (char) (0xC0 | (cp >> 6));
      out[(*pos)++] = (char) (0x80 | (cp & 0x3F));
    }
  else if (cp < 0x10000)
    {
      out[(*pos)++] = (char) (0xE0 | (cp >> 12));
      out[(*pos)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
      out[(*pos)++] = (char) (0x80 | (cp & 0x3F));
    }
  else
    {
      out[(*pos)++] = (char) (0xF0 | (cp >> 18));
      out[(*pos)++] = (char) (0x80 | ((cp >> 12) & 0x3F));
      out[(*pos)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
      out[(*pos)++] = (char) (0x80 | (cp & 0x3F));
    }
}

/* The string buffer has room for the whole input plus a NUL per string: a decoded string
 * is never longer than its literal (quotes included), so no bounds checks are needed. */
static bool
parse_string (parser *p, uint32_t node)
{
  p->pos++; /* opening quote */
  size_t start = p->str_len;
  char *out = p->doc->strings;
  for (;;)
    {
      if (p->pos >= p->len)
        return fail_at (p, "unterminated string");
      unsigned char c = p->s[p->pos];
      if (c == '"')
        {
          p->pos++;
          break;
        }
      if (c < 0x20)
        return fail_at (p, "control character in string");
      if (c == '\\')
        {
          if (p->pos + 1 >= p->len)
            return fail_at (p, "unterminated escape");
          unsigned char e = p->s[p->pos + 1];
          p->pos += 2;
          switch (e)
            {
            case '"': out[p->str_len++] = '"'; break;
            case '\\': out[p->str_len++] = '\\'; break;
            case '/': out[p->str_len++] = '/'; break;
            case 'b': out[p->str_len++] = '\b'; break;
            case 'f': out[p->str_len++] = '\f'; break;
            case 'n': out[p->str_len++] = '\n'; break;
            case 'r': out[p->str_len++] = '\r'; break;
            case 't': out[p->str_len++] = '\t'; break;
            case 'u':
              {
                uint32_t cp;
                if (p->pos + 4 > p->len || !hex4 (p->s + p->pos, &cp))
                  return fail_at (p, "bad \\u escape");
                p->pos += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                  return fail_at (p, "lone low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF)
                  {
                    uint32_t lo;
                    if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u'
                        || !hex4 (p->s + p->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                      return fail_at (p, "lone high surrogate in \\u escape");
                    p->pos += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  }
                put_utf8 (out, &p->str_len, cp);
                break;
              }
            default:
              p->pos -= 1;
              return fail_at (p, "unknown escape");
            }
          continue;
        }
      size_t n = utf8_seq (p->s + p->pos, p->len - p->pos);
      if (n == 0)
        return fail_at (p, "string is not valid UTF-8");
      memcpy (out + p->str_len, p->s + p->pos, n);
      p->str_len += n;
      p->pos += n;
    }
  size_t len = p->str_len - start;
  if (len > UINT32_MAX)
    return fail_at (p, "string too long");
  out[p->str_len++] = '\0';
  p->doc->nodes[node].text = start;
  p->doc->nodes[node].count = (uint32_t) len;
  return true;
}

static bool
is_digit (unsigned char c)
{
  return c >= '0' && c <= '9';
}

static bool
parse_number (parser *p, uint32_t node)
{
  size_t start = p->pos;
  if (p->pos < p->len && p->s[p->pos] == '-')
    p->pos++;
  if (p->pos >= p->len || !is_digit (p->s[p->pos]))
    return fail_at (p, "bad number");
  if (p->s[p->pos] == '0')
    {
      p->pos++;
      if (p->pos < p->len && is_digit (p->s[p->pos]))
        return fail_at (p, "number with a leading zero");
    }
  else
    while (p->pos < p->len && is_digit (p->s[p->pos]))
      p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '.')
    {
      p->pos++;
      if (p->pos >= p->len || !is_digit (p->s[p->pos]))
        return fail_at (p, "bad fraction");
      while (p->pos < p->len && is_digit (p->s[p->pos]))
        p->pos++;
    }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
    {
      p->pos++;
      if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
        p->pos++;
      if (p->pos >= p->len || !is_digit (p->s[p->pos]))
        return fail_at (p, "bad exponent");
      while (p->pos < p->len && is_digit (p->s[p->pos]))
        p->pos++;
    }
  if (p->pos - start > 512)
    return fail_at (p, "number too long");
  p->doc->nodes[node].text = start;
  p->doc->nodes[node].text_len = (uint32_t) (p->pos - start);
  return true;
}

static bool
match_word (parser *p, const char *word)
{
  size_t n = strlen (word);
  if (p->len - p->pos < n || memcmp (p->s + p->pos, word, n) != 0)
    return fail_at (p, "unexpected character");
  p->pos += n;
  return true;
}

static bool parse_value (parser *p, int depth, uint32_t *out);

static bool
node_fail (parser *p)
{
  if (p->doc->n_nodes >= LE_JSON_MAX_NODES)
    return fail_at (p, "more values than any real header holds");
  return le_fail (p->err, LE_ERR_MEMORY, "out of memory parsing JSON");
}

static bool
parse_container (parser *p, int depth, uint32_t node, bool object)
{
  char close = object ? '}' : ']';
  p->pos++;
  skip_ws (p);
  if (p->pos < p->len && p->s[p->pos] == (unsigned char) close)
    {
      p->pos++;
      return true;
    }
  uint32_t last = LE_JSON_NONE;
  uint32_t count = 0;
  for (;;)
    {
      skip_ws (p);
      if (object)
        {
          if (p->pos >= p->len || p->s[p->pos] != '"')
            return fail_at (p, "expected a string key");
          uint32_t key = new_node (p, LE_JSON_STRING);
          if (key == LE_JSON_NONE)
            return node_fail (p);
          if (!parse_string (p, key))
            return false;
          if (last == LE_JSON_NONE)
            p->doc->nodes[node].first = key;
          else
            p->doc->nodes[last].next = key;
          last = key;
          skip_ws (p);
          if (p->pos >= p->len || p->s[p->pos] != ':')
            return fail_at (p, "expected ':'");
          p->pos++;
        }
      uint32_t value;
      if (!parse_value (p, depth + 1, &value))
        return false;
      if (last == LE_JSON_NONE)
        p->doc->nodes[node].first = value;
      else
        p->doc->nodes[last].next = value;
      last = value;
      count++;
      skip_ws (p);
      if (p->pos >= p->len)
        return fail_at (p, object ? "unterminated object" : "unterminated array");
      if (p->s[p->pos] == ',')
        {
          p->pos++;
          continue;
        }
      if (p->s[p->pos] == (unsigned char) close)
        {
          p->pos++;
          break;
        }
      return fail_at (p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  p->doc->nodes[node].count = count;
  return true;
}

static bool
parse_value (parser *p, int depth, uint32_t *out)
{
  if (depth > LE_JSON_MAX_DEPTH)
    return fail_at (p, "nested too deeply");
  skip_ws (p);
  if (p->pos >= p->len)
    return fail_at (p, "unexpected end");
  unsigned char c = p->s[p->pos];
  le_json_type type;
  switch (c)
    {
    case '{': type = LE_JSON_OBJECT; break;
    case '[': type = LE_JSON_ARRAY; break;
    case '"': type = LE_JSON_STRING; break;
    case 't': type = LE_JSON_TRUE; break;
    case 'f': type = LE_JSON_FALSE; break;
    case 'n': type = LE_JSON_NULL; break;
    default:
      if (c == '-' || is_digit (c))
        type = LE_JSON_NUMBER;
      else
        return fail_at (p, "unexpected character");
    }
  uint32_t node = new_node (p, type);
  if (node == LE_JSON_NONE)
    return node_fail (p);
  *out = node;
  switch (type)
    {
    case LE_JSON_OBJECT: return parse_container (p, depth, node, true);
    case LE_JSON_ARRAY: return parse_container (p, depth, node, false);
    case LE_JSON_STRING: return parse_string (p, node);
    case LE_JSON_TRUE: return match_word (p, "true");
    case LE_JSON_FALSE: return match_word (p, "false");
    case LE_JSON_NULL: return match_word (p, "null");
    case LE_JSON_NUMBER: return parse_number (p, node);
    }
  return false;
}

bool
le_json_parse (le_json_doc *doc, const char *text, size_t len, le_error *err)
{
  memset (doc, 0, sizeof *doc);
  doc->input = text;
  doc->strings = malloc (len + 1);
  if (doc->strings == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory parsing %zu bytes of JSON", len);
  parser p = { .s = (const unsigned char *) text, .len = len, .doc = doc, .err = err };
  uint32_t root;
  if (!parse_value (&p, 0, &root))
    {
      le_json_free (doc);
      return false;
    }
  skip_ws (&p);
  if (p.pos != len)
    {
      fail_at (&p, "trailing characters after the value");
      le_json_free (doc);
      return false;
    }
  doc->input = text;
  return true;
}

void
le_json_free (le_json_doc *doc)
{
  free (doc->nodes);
  free (doc->strings);
  memset (doc, 0, sizeof *doc);
}

const char *
le_json_string (const le_json_doc *doc, uint32_t i)
{
  if (i >= doc->n_nodes || doc->nodes[i].type != LE_JSON_STRING)
    return NULL;
  return doc->strings + doc->nodes[i].text;
}

bool
le_json_uint64 (const le_json_doc *doc, uint32_t i, uint64_t *out)
{
  if (i >= doc->n_nodes || doc->nodes[i].type != LE_JSON_NUMBER)
    return false;
  const char *s = doc->input + doc->nodes[i].text;
  uint64_t v = 0;
  for (uint32_t k = 0; k < doc->nodes[i].text_len; k++)
    {
      if (!is_digit ((unsigned char) s[k]))
        return false;
      unsigned d = (unsigned) (s[k] - '0');
      if (v > (UINT64_MAX - d) / 10)
        return false;
      v = v * 10 + d;
    }
  *out = v;
  return true;
}

bool
le_json_double (const le_json_doc *doc, uint32_t i, double *out)
{
  if (i >= doc->n_nodes || doc->nodes[i].type != LE_JSON_NUMBER)
    return false;
  char buf[520];
  uint32_t n = doc->nodes[i].text_len;
  memcpy (buf, doc->input + doc->nodes[i].text, n);
  buf[n] = '\0';
  *out = strtod (buf, NULL);
  return true;
}

uint32_t
le_json_member (const le_json_doc *doc, uint32_t obj, const char *key)
{
  if (obj >= doc->n_nodes || doc->nodes[obj].type != LE_JSON_OBJECT)
    return LE_JSON_NONE;
  for (uint32_t k = doc->nodes[obj].first; k != LE_JSON_NONE;)
    {
      uint32_t v = doc->nodes[k].next;
      if (strcmp (doc->strings + doc->nodes[k].text, key) == 0)
        return v;
      k = doc->nodes[v].next;
    }
  return LE_JSON_NONE;
}

size_t
le_json_escape (char *buf, size_t cap, size_t pos, const char *s)
{
  size_t start = pos;
#define PUT(ch) do { if (pos < cap) buf[pos] = (ch); pos++; } while (0)
  PUT ('"');
  for (const unsigned char *u = (const unsigned char *) s; *u; u++)
    {
      unsigned char c = *u;
      if (c == '"' || c == '\\')
        {
          PUT ('\\');
          PUT ((char) c);
        }
      else if (c == '\n') { PUT ('\\'); PUT ('n'); }
      else if (c == '\t') { PUT ('\\'); PUT ('t'); }
      else if (c == '\r') { PUT ('\\'); PUT ('r'); }
      else if (c < 0x20)
        {
          static const char hex[] = "0123456789abcdef";
          PUT ('\\'); PUT ('u'); PUT ('0'); PUT ('0');
          PUT (hex[c >> 4]); PUT (hex[c & 15]);
        }
      else
        PUT ((char) c);
    }
  PUT ('"');
#undef PUT
  return pos - start;
}
