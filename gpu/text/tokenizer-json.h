/* tokenizer-json.h: reading the tokenizers' JSON files (tokenizer.json, its configs,
 * CLIP's vocab.json) with the engine's one JSON parser (gpu/io/json.h): the file text
 * and its parsed document kept together, and null-safe accessors, so the loaders read
 * like the files' structure. Every accessor takes LE_JSON_NONE and answers "absent". */
#pragma once

#include "json.h"

typedef struct {
  char *text;      /* the file, which the document points into */
  le_json_doc doc;
  const char *path;
} tok_json;

/* Reads and parses PATH; a broken file's error names it. */
bool tok_json_read (tok_json *j, const char *path, le_error *err);
void tok_json_free (tok_json *j);

static inline uint32_t tok_json_root (const tok_json *j) { return j->doc.n_nodes ? 0 : LE_JSON_NONE; }
/* The type of node I; LE_JSON_NULL for LE_JSON_NONE. */
le_json_type tok_json_type (const tok_json *j, uint32_t i);
/* Member KEY of object I, or LE_JSON_NONE. */
uint32_t tok_json_get (const tok_json *j, uint32_t i, const char *key);
/* The string of node I (and its length in bytes), or NULL when I is not a string. */
const char *tok_json_str (const tok_json *j, uint32_t i, size_t *len);
bool tok_json_true (const tok_json *j, uint32_t i);
/* A non-negative integer below 2^30 (ids, counts); false otherwise. */
bool tok_json_id (const tok_json *j, uint32_t i, int32_t *out);
/* Elements of an array or members of an object (count), and the walk over them: for an
 * object, FIRST gives the first key, the value is the key's next, the next key is the
 * value's next. */
uint32_t tok_json_count (const tok_json *j, uint32_t i);
static inline uint32_t tok_json_first (const tok_json *j, uint32_t i) { return j->doc.nodes[i].first; }
static inline uint32_t tok_json_next (const tok_json *j, uint32_t i) { return j->doc.nodes[i].next; }
