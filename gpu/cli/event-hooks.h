/* event-hooks.h: le_run_hooks that emit protocol events on stdout, used by
 * `lora-engine serve` (events carry the train request's id) and by
 * `lora-engine train --json` (no id). */
#pragma once

#include "run-control.h"
#include "run-hooks.h"

typedef struct {
  char       *id;        /* request id the events answer, or NULL */
  RunControl *control;   /* where pause, stop and sample requests come from */
  /* The worker thread's own: the `sample` request whose previews are being drawn, and
   * the files written for it so far (done lists them). */
  char       *sample_id;
  GPtrArray  *sample_paths;
} CliEventSink;

/* HOOKS->user becomes SINK, which must outlive the run. */
void cli_event_hooks_init (le_run_hooks *hooks, CliEventSink *sink);
/* At the end of a run: a `sample` request still waiting (the run ended first) gets an
 * error and `done` "failed". */
void cli_event_sink_end_samples (CliEventSink *sink);
