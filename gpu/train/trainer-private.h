/* trainer-private.h: the state of one run, shared by trainer.c (the loop) and
 * trainer-state.c (checkpoints). */
#pragma once

#include "adamw.h"
#include "loss-scale.h"
#include "metrics-log.h"
#include "scheduler.h"
#include "tfevents.h"
#include "trainer.h"

typedef struct {
  const le_train_model *model;
  const le_trainer_options *opt;
  const le_run_hooks *hooks;
  le_adamw adamw;
  le_scheduler sched;
  int64_t step;              /* optimizer steps done */
  int64_t epoch;             /* 0-based */
  int64_t position;          /* micro-batches of this epoch consumed */
  uint64_t data_seed;
  uint64_t rng_state[4];     /* {seed, 0, 0, 0}: every draw is keyed by (seed, counter) */
  float *host_params;        /* (n_train) host copy for checkpoints and the CPU optimizer */
  /* When the parameters live on a device (CUDA): the AdamW moments m and v there, one
   * allocation of 2 n_train floats (adamw.m/v stay as the host copy for checkpoints), and
   * one device float for the gradient norm. NULL on the CPU. */
  float *dev_moments;
  float *dev_scalar;
  le_loss_scaler scaler;     /* fp16: dynamic loss scale; else scale 1 */
  char checkpoints_dir[1100];
  char resumed_from[1100];
} trainer_run;

bool trainer_params_to_host (const param_store *ps, float *host);
bool trainer_save_checkpoint (trainer_run *run, char *out_dir, size_t out_len, le_error *err);
/* Restores weights, moments, step, data position and RNG from RESUME (see trainer.h). */
bool trainer_restore (trainer_run *run, const char *resume, le_error *err);
