/* json.h: a small, strict, bounded JSON parser for file headers (safetensors, shard
 * indexes, checkpoint state). Plain C, no allocation per value: the whole document is
 * parsed into one node array and one string buffer, freed together.
 *
 * Strict means RFC 8259 and nothing more: no comments, no trailing commas, no NaN, no
 * leading zeros, strings must be valid UTF-8 without raw control characters, and nesting
 * deeper than LE_JSON_MAX_DEPTH is refused (so a hostile "[[[[..." cannot exhaust the
 * stack). Duplicate object keys are left to the caller, who knows what they mean. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define LE_JSON_MAX_DEPTH 64
/* A bound on values per document, so a hostile 100 MB "[0,0,0,..." header cannot make the
 * parser allocate gigabytes; real headers (SD 1.5: ~1100 tensors) use a few thousand. */
#define LE_JSON_MAX_NODES (1u << 22)

typedef enum {
  LE_JSON_NULL,
  LE_JSON_FALSE,
  LE_JSON_TRUE,
  LE_JSON_NUMBER,
  LE_JSON_STRING,
  LE_JSON_ARRAY,
  LE_JSON_OBJECT,
} le_json_type;

/* A node is addressed by its index in the document; 0 is the root, LE_JSON_NONE ends a
 * list. Object members are stored as key (a string node) followed by value. */
#define LE_JSON_NONE UINT32_MAX

typedef struct {
  uint8_t type;     /* le_json_type */
  uint32_t count;   /* array: elements; object: members; string: bytes */
  uint32_t first;   /* array/object: first child (object: first key) */
  uint32_t next;    /* next sibling (object: key -> its value -> next key) */
  size_t text;      /* string: offset in strings; number: offset of its text in the input */
  uint32_t text_len;/* number: length of its text */
} le_json_node;

typedef struct {
  le_json_node *nodes;
  uint32_t n_nodes;
  char *strings;       /* decoded strings, each NUL-terminated */
  const char *input;   /* the parsed text, for numbers; must outlive the document */
} le_json_doc;

/* Parses LEN bytes of TEXT. On failure ERR says where ("at byte 123: ..."). */
bool le_json_parse (le_json_doc *doc, const char *text, size_t len, le_error *err);
void le_json_free (le_json_doc *doc);

static inline const le_json_node *
le_json_node_at (const le_json_doc *doc, uint32_t i)
{
  return i < doc->n_nodes ? &doc->nodes[i] : NULL;
}

/* A string node's decoded bytes (NUL-terminated; may contain \u0000, see count). */
const char *le_json_string (const le_json_doc *doc, uint32_t i);

/* A number node that is a plain non-negative integer ("0", "17"; no sign, fraction or
 * exponent) fitting in uint64_t. False otherwise. */
bool le_json_uint64 (const le_json_doc *doc, uint32_t i, uint64_t *out);

/* Any number node as a double. */
bool le_json_double (const le_json_doc *doc, uint32_t i, double *out);

/* The value of member KEY of object node OBJ, or LE_JSON_NONE. Linear: for small objects. */
uint32_t le_json_member (const le_json_doc *doc, uint32_t obj, const char *key);

/* True when S (LEN bytes) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool le_utf8_valid (const char *s, size_t len);

/* Appends S as a JSON string literal (quotes and escapes) to BUF of capacity CAP at *POS.
 * Returns the number of bytes it needs; writes only what fits. */
size_t le_json_escape (char *buf, size_t cap, size_t pos, const char *s);
