/* json-tree.h: a small strict JSON reader (RFC 8259) for tokenizer files.
 *
 * The whole document becomes a tree of tjson values. Strings are decoded to UTF-8 with
 * their length kept (they may contain NUL after \u0000). Object members keep file order,
 * which the tokenizer needs (a vocab's order is meaningless, but merges' order is rank).
 * Lookup by key is linear: callers that need many lookups build their own hash map. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  TJSON_NULL,
  TJSON_FALSE,
  TJSON_TRUE,
  TJSON_NUMBER,
  TJSON_STRING,
  TJSON_ARRAY,
  TJSON_OBJECT,
} tjson_type;

typedef struct tjson tjson;
struct tjson {
  tjson_type type;
  double number;       /* TJSON_NUMBER */
  char *str;           /* TJSON_STRING: NUL-terminated UTF-8 */
  size_t len;          /* TJSON_STRING: bytes; ARRAY/OBJECT: members */
  tjson *items;        /* ARRAY/OBJECT: len values */
  char **keys;         /* OBJECT: len keys, NUL-terminated */
  size_t *key_lens;    /* OBJECT: key lengths in bytes */
};

/* Parses LEN bytes of TEXT. NAME (a file name) prefixes error messages, which also
 * give the line and column. Returns NULL on error. */
tjson *tjson_parse (const char *text, size_t len, const char *name, le_error *err);
/* Reads and parses the file at PATH. */
tjson *tjson_parse_file (const char *path, le_error *err);
void tjson_free (tjson *v);

/* Member KEY of object V, or NULL (also when V is NULL or not an object). */
const tjson *tjson_get (const tjson *v, const char *key);
/* The string of V or NULL when V is not a string. */
const char *tjson_str (const tjson *v);
/* V as a bool: true only for JSON true. */
bool tjson_is_true (const tjson *v);
/* V as an integer; false when V is not an integral number. */
bool tjson_int (const tjson *v, long long *out);
