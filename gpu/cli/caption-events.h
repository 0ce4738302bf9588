/* caption-events.h: a caption job's progress as protocol events (help/protocol.md), for
 * `lora-engine caption --json` and serve's `caption` request alike:
 *   progress {step: images done, done: the same, total, epoch 1, loss/lr null, it_s,
 *             eta_s, elapsed_s}
 *   result   {data: {filename, caption}} for each image captioned
 *   log      warning "skipped: ..." for an image that cannot be read; info lines
 * and, from the caller, error and done. */
#pragma once

#include <glib.h>

#include "caption-job.h"

typedef struct {
  char         *id;         /* the request's id; NULL on the command line */
  volatile gint cancelled;  /* set by a cancel request (g_atomic_int_set) */
} CaptionEventSink;

/* HOOKS emit events for SINK through cli_emit. */
void caption_event_hooks_init (CaptionJobHooks *hooks, CaptionEventSink *sink);

/* Emits error (when FAILED) and done for a finished job. */
void caption_events_finish (CaptionEventSink *sink, CaptionJobStatus status,
                            GPtrArray *outputs, const le_error *err);
