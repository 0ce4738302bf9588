/* run-hooks.h: how a training run talks to whoever started it.
 *
 * Plain C so that the engine library (gpu/train, no GLib) can take it: the trainer
 * calls these between steps; `lora-engine train` prints them as text or JSON events,
 * and `lora-engine serve` turns them into protocol events while its main loop keeps
 * reading stop/pause/resume. keep_going() is where pause and stop take effect. */
#pragma once

#include <stdbool.h>

typedef struct {
  long long   step, total;      /* optimizer steps done and planned */
  int         epoch;            /* 1-based */
  double      loss, lr;
  double      it_s;             /* steps per second */
  double      eta_s, elapsed_s;
  long long   memory_used, memory_total;  /* device bytes; -1 = unknown */
  const char *device;           /* "cuda:0", "cpu" */
} le_run_progress;

typedef enum {
  LE_RUN_COMPLETED,
  LE_RUN_STOPPED,               /* stop or cancel was asked for */
  LE_RUN_FAILED,
} le_run_status;

typedef struct {
  void *user;
  void (*progress) (void *user, const le_run_progress *progress);
  void (*sample) (void *user, long long step, const char *path, const char *prompt);
  void (*checkpoint) (void *user, long long step, const char *path);
  /* LEVEL: "debug", "info", "warning", "error". */
  void (*log) (void *user, const char *level, const char *message);
  /* CODE: a short word (see help/protocol.md), MESSAGE: what happened and what to do. */
  void (*error) (void *user, const char *code, const char *message);
  /* Blocks while the run is paused; returns false when the run must stop now
   * (after saving a checkpoint when save_on_stop() says so). */
  bool (*keep_going) (void *user);
  bool (*save_on_stop) (void *user);
  /* Optional (NULL: never). Asked at each step boundary: true once after someone wanted
   * previews now (serve's `sample` during a run); the trainer then draws its sample
   * prompts with the current weights and reports with sample_drawn (OK false: it failed,
   * and the run fails with it). */
  bool (*sample_wanted) (void *user);
  void (*sample_drawn) (void *user, bool ok);
} le_run_hooks;
