/* clip-caption.h: zero-shot tagging with CLIP (a CLIP-interrogator in the small): a tag
 * vocabulary in categories, its text embeddings (computed once per model and vocabulary,
 * cached on disk), and the rule that turns an image embedding into a caption.
 *
 * Vocabulary file (UTF-8 text; data/caption-vocabulary.txt ships with the app):
 *   # a comment
 *   [subject] pick=one
 *   cute cartoon character
 *   ...
 *   [hair] pick=many max=1
 *   red hair
 * A category is `pick=one` (its best phrase is always used) or `pick=many` (phrases whose
 * score comes close to the best of all pick-many phrases, at most `max` of them, default 2).
 *
 * Caption rule (caption_select): the trigger word first (when given), then the best phrase
 * of each pick-one category in file order, then pick-many phrases with cosine similarity
 * >= (best pick-many similarity - margin) in descending similarity, at most max per
 * category, until max_tags phrases (trigger not counted) are used; joined by ", ". */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "clip-model.h"

typedef struct {
  char *name;
  bool pick_one;
  int max;                      /* pick-many: at most this many phrases */
  int first, count;             /* its phrases: phrases[first .. first + count) */
} caption_category;

typedef struct {
  char **phrases;
  int n_phrases;
  caption_category *categories;
  int n_categories;
  uint64_t hash;                /* of the file's bytes (cache key) */
} caption_vocabulary;

/* Errors name LABEL and the line. */
bool caption_vocabulary_parse (const char *text, size_t len, const char *label,
                               caption_vocabulary *v, le_error *err);
bool caption_vocabulary_load (const char *path, caption_vocabulary *v, le_error *err);
void caption_vocabulary_clear (caption_vocabulary *v);

/* The vocabulary's text embeddings, L2-normalised: *OUT // (n_phrases, proj), malloc'd.
 * CACHE_DIR (may be NULL: no cache) holds one file per model and vocabulary; it is used
 * when its key (the model's weight file size and mtime, config.json's, the vocabulary
 * hash, the sizes) matches, and replaced atomically otherwise. *FROM_CACHE says which. */
bool caption_text_embeddings (clip_model *m, graph *g, const caption_vocabulary *v,
                              const char *cache_dir, float **out, bool *from_cache,
                              le_error *err);

typedef struct {
  int max_tags;                 /* phrases after the trigger; 8 by default */
  float margin;                 /* pick-many threshold below the best; 0.03 */
  const char *trigger;          /* NULL or "" for none */
} caption_options;

void caption_options_default (caption_options *o);

/* IMAGE // (proj) (any norm) against TEXT // (n_phrases, proj) L2-normalised -> the
 * caption (malloc'd). SCORES (may be NULL) gets the n_phrases cosine similarities. */
char *caption_select (const caption_vocabulary *v, const float *text, int64_t dim,
                      const float *image, const caption_options *o, float *scores);

/* L2-normalises each of N rows of DIM in place (zero rows stay zero). */
void caption_normalize_rows (float *x, int64_t n, int64_t dim);
