/* trainer.h: one training run of any model, the loop both text LoRA and SD LoRA share.
 *
 * A model plugs in through le_train_model: a param_store whose trainable tensors are the
 * weights being trained (one flat F32 vector, see param-store.h), the number of samples,
 * a forward_loss on a micro-batch of sample indices, a writer of the final output and an
 * optional sample hook. The trainer owns everything else:
 *   - data order: a permutation per epoch drawn from (data_seed, epoch), so the order of
 *     any epoch is known without replaying earlier ones (exact resume);
 *   - micro-batches of batch_size, gradient accumulation (a group ends early at the end of
 *     an epoch; its micro-batches are scaled by 1 / group size), global-norm clipping,
 *     AdamW with a warmup schedule, dropout masks keyed by the micro-batch number;
 *   - a non-finite loss or gradient stops the run before the optimizer touches the
 *     weights, with advice, and no checkpoint is written after it;
 *   - logs (output_dir/metrics.jsonl, log_dir/events.out.tfevents.*), progress through
 *     le_run_hooks, checkpoints every save_steps and at the end under
 *     output_dir/checkpoints/, samples every sample_every steps, stop and pause through
 *     hooks->keep_going.
 *
 * Steps: one epoch has ceil(n_samples / batch_size) micro-batches and
 * ceil(micro-batches / accumulation) optimizer steps; the run has epochs times that, or
 * max_train_steps when that is smaller and not 0. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../cli/run-hooks.h"
#include "error.h"
#include "graph.h"
#include "param-store.h"

/* A slice of the flat trainable vector with its own base learning rate (SD's text encoder
 * LoRA); the schedule scales every group's rate by the same factor. */
typedef struct {
  int64_t offset, count;         /* elements of params->train_data */
  double learning_rate;
} le_param_group;

typedef struct {
  void *self;
  param_store *params;           /* trainable tensors (all of its requires_grad ones) */
  /* Optional: groups with their own learning rate. Elements outside every group use
   * the run's learning_rate. n_groups 0: one group of everything. */
  const le_param_group *groups;
  int n_groups;
  int64_t n_samples;
  /* The mean loss of samples IDX[0..N) as a (1) tensor on G, or NULL with the graph's
   * error. The trainer has reset G and set training mode and the dropout RNG. */
  tensor *(*forward_loss) (void *self, graph *g, const int64_t *idx, int64_t n);
  /* Writes the run's result into OUTPUT_DIR; PATHS gets up to 4 paths written (files or
   * folders), *N_PATHS their number. */
  bool (*save_output) (void *self, const char *output_dir, char paths[][1024], int *n_paths,
                       le_error *err);
  /* Optional (NULL: no samples). Writes previews for STEP into SAMPLES_DIR and calls
   * ON_FILE for each file written, with the prompt it shows. */
  bool (*sample) (void *self, graph *g, int64_t step, const char *samples_dir,
                  void (*on_file) (void *user, int64_t step, const char *path,
                                   const char *prompt),
                  void *user, le_error *err);
} le_train_model;

typedef struct {
  const char *output_dir;        /* required, created when missing */
  const char *log_dir;           /* NULL: output_dir/logs */
  int64_t epochs, batch_size, grad_accum, max_train_steps;
  int64_t save_steps;            /* 0: only at the end */
  int64_t sample_every;          /* 0: only at the end */
  int64_t warmup_steps;
  double learning_rate, weight_decay, beta1, beta2, eps, max_grad_norm, num_cycles;
  const char *scheduler;         /* "cosine", ... (scheduler.h) */
  const char *precision;         /* "no", "fp16", "bf16": quoted in the non-finite advice */
  uint64_t seed;
  /* A checkpoint step folder, a checkpoints folder (its newest usable one) or an output
   * folder holding checkpoints/; NULL starts fresh. */
  const char *resume;
  int keep_checkpoints;          /* 0 keeps all */
  const char *device_name;       /* "cpu", "cuda:0" for progress events */
  /* Tests only: the loss of this optimizer step (1-based) is made NaN (0 = never). */
  int64_t fault_nan_step;
} le_trainer_options;

/* Fills OPT with the config keys' defaults (see studio-config-keys.c). */
void le_trainer_options_default (le_trainer_options *opt);

typedef struct {
  int64_t steps_done;            /* optimizer steps after the run */
  int64_t total_steps;
  double last_loss;
  char outputs[4][1024];         /* from save_output */
  int n_outputs;
  char last_checkpoint[1200];   /* "" when none was written */
} le_trainer_result;

/* Planned optimizer steps for N_SAMPLES (see the top of the file). */
int64_t le_trainer_total_steps (const le_trainer_options *opt, int64_t n_samples);

/* Sample order of EPOCH: a permutation of 0..N-1 from (DATA_SEED, EPOCH). */
void le_trainer_epoch_order (uint64_t data_seed, int64_t epoch, int64_t *order, int64_t n);

/* Runs the loop. Every problem goes to hooks->error (code and message) and ends the run
 * with LE_RUN_FAILED; ERR (may be NULL) gets the same. */
le_run_status le_trainer_run (const le_train_model *model, const backend *be,
                              const le_trainer_options *opt, const le_run_hooks *hooks,
                              le_trainer_result *result, le_error *err);
