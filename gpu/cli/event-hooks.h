/* event-hooks.h: le_run_hooks that emit protocol events on stdout, used by
 * `lora-engine serve` (events carry the train request's id) and by
 * `lora-engine train --json` (no id). */
#pragma once

#include "run-control.h"
#include "run-hooks.h"

typedef struct {
  char       *id;        /* request id the events answer, or NULL */
  RunControl *control;   /* where pause and stop come from */
} CliEventSink;

/* HOOKS->user becomes SINK, which must outlive the run. */
void cli_event_hooks_init (le_run_hooks *hooks, CliEventSink *sink);
