/* text-dataset.h: the text-generation dataset: every *.txt (one sample per non-empty line)
 * and *.jsonl ({"text": ...}, or {"prompt": ..., "completion": ...}) of a folder, tokenized
 * once into BOS + tokens + EOS, cut to sequence_length.
 *
 * Each token carries a count flag: 1 when the model's prediction OF this token (from the
 * tokens before it) counts in the loss. BOS never counts; for text samples every other
 * token counts (a sample of n tokens counts n - 1); for prompt/completion samples only the
 * completion tokens and EOS count. Samples longer than sequence_length are cut (EOS lost)
 * and reported: how many, and the first file:line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tokenizer.h"

typedef struct {
  int32_t *ids;       /* (n) */
  uint8_t *count;     /* (n) 1 = this token is a counted target */
  int64_t n;
  int file;           /* index in text_dataset.files */
  int64_t line;       /* 1-based */
} text_sample;

typedef struct {
  text_sample *samples;
  int64_t n_samples;
  char **files;       /* paths read, sorted */
  int n_files;
  int64_t sequence_length;
  int64_t n_cut;      /* samples longer than sequence_length */
  char first_cut[1200]; /* "file:line" of the first one */
  int64_t counted;    /* counted targets over the whole dataset */
  int32_t pad_id;     /* id put in padding (EOS, else 0); never counted */
  char warning[1400]; /* text_dataset_cut_warning's buffer */
} text_dataset;

/* Reads DIR (sorted file names, so the order is stable). An empty folder, a folder with
 * no samples, a bad JSON line (file:line) or a tokenizer without BOS/EOS is an error. */
text_dataset *text_dataset_load (const char *dir, const le_tokenizer *tok,
                                 int64_t sequence_length, le_error *err);
void text_dataset_free (text_dataset *ds);
/* Warning text for cut samples ("3 samples longer than ... were cut; first at f:12"),
 * or NULL when none was cut. Static buffer inside ds. */
const char *text_dataset_cut_warning (text_dataset *ds);
/* Fills a batch // (B, T) of tokens and count flags from samples idx[0..B); shorter
 * samples are right-padded with pad_id and count 0. T must be >= every sample's n
 * (use text_dataset_batch_len). */
void text_dataset_batch (const text_dataset *ds, const int64_t *idx, int64_t batch,
                         int64_t t, int32_t *tokens, uint8_t *count);
/* The longest sample among idx[0..B). */
int64_t text_dataset_batch_len (const text_dataset *ds, const int64_t *idx, int64_t batch);
