/* checkpoint.h: resumable training checkpoints.
 *
 * A checkpoint is a folder CHECKPOINTS/step-000100/ holding one safetensors file,
 * checkpoint.safetensors: the trainable weights (names and dtypes as the caller gives them),
 * the AdamW moments as "optimizer.adamw.m" and "optimizer.adamw.v" (F32, (N,)), and the run
 * state (step, epoch, position in the epoch, data order seed, RNG state, loss scale,
 * scheduler, optimizer step and hyperparameters) as __metadata__ strings. Doubles are
 * written with 17 digits so they come back bit-exact.
 *
 * The caller may add files of its own to the folder (le_checkpoint_save_with); they are
 * written before the rename like the checkpoint file.
 *
 * The folder is written as CHECKPOINTS/.tmp-step-000100/ and renamed when complete, so a
 * crash mid-save leaves only a temp folder that discovery ignores and the next save
 * removes. Discovery picks the highest step that loads; a damaged one is skipped with a
 * note and the one before it is used. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adamw.h"
#include "error.h"
#include "safetensors.h"
#include "scheduler.h"

#define LE_CHECKPOINT_FILE "checkpoint.safetensors"

typedef struct {
  int64_t step;            /* optimizer steps done */
  int64_t epoch;           /* current epoch (0-based) */
  int64_t epoch_position;  /* batches of this epoch already consumed */
  uint64_t data_seed;      /* seed of the data order shuffle */
  uint64_t rng_state[4];   /* the engine RNG's state */
  double loss_scale;       /* fp16 dynamic loss scale (1 when unused) */
  int64_t loss_scale_good_steps; /* finite steps since the scale changed (0 if absent) */
  le_scheduler scheduler;
} le_train_state;

/* Saves a checkpoint for STATE->step; OPT may be NULL (no optimizer state). KEEP_LAST > 0
 * prunes all but the newest KEEP_LAST checkpoints afterwards. OUT_DIR (may be NULL) gets
 * the folder written. */
bool le_checkpoint_save (const char *checkpoints_dir, const le_train_state *state,
                         const st_write_tensor *weights, size_t n_weights,
                         const le_adamw *opt, int keep_last,
                         char *out_dir, size_t out_dir_len, le_error *err);

/* Writes more files into DIR, the checkpoint's temp folder, before it is renamed into
 * place (such as the run's output file, so a checkpoint is usable as a LoRA). */
typedef bool (*le_checkpoint_extra_fn) (void *user, const char *dir, le_error *err);

/* le_checkpoint_save, with EXTRA (may be NULL) called on the temp folder once the
 * checkpoint file is in it: the step folder appears with all of its files or not at all. */
bool le_checkpoint_save_with (const char *checkpoints_dir, const le_train_state *state,
                              const st_write_tensor *weights, size_t n_weights,
                              const le_adamw *opt, int keep_last,
                              le_checkpoint_extra_fn extra, void *extra_user,
                              char *out_dir, size_t out_dir_len, le_error *err);

typedef struct {
  char *dir;
  st_file *file;           /* weights: st_find (ck.file, name) */
  le_train_state state;
  bool has_optimizer;
  int64_t adamw_step;
  le_adamw_hparams adamw;
} le_checkpoint;

/* Loads one checkpoint folder and checks it is complete and consistent. */
bool le_checkpoint_load (const char *step_dir, le_checkpoint *ck, le_error *err);
void le_checkpoint_close (le_checkpoint *ck);

/* Copies the saved moments, step and hyperparameters into OPT, which must have been
 * initialised with the same number of parameters. */
bool le_checkpoint_restore_optimizer (const le_checkpoint *ck, le_adamw *opt, le_error *err);

/* Loads the newest usable checkpoint of CHECKPOINTS_DIR. *FOUND is false (and the result
 * true) when there is none at all. Damaged checkpoints that were passed over are described
 * in SKIPPED (may be NULL) for the log; when every checkpoint is damaged it is an error. */
bool le_checkpoint_load_latest (const char *checkpoints_dir, le_checkpoint *ck, bool *found,
                                char *skipped, size_t skipped_len, le_error *err);

/* Keeps the newest KEEP_LAST checkpoints that load and removes every older one, and stale
 * temp folders; damaged checkpoints newer than those kept are left for inspection. */
bool le_checkpoint_prune (const char *checkpoints_dir, int keep_last, le_error *err);
