/* serve-session.h: what `lora-engine serve` does with each request.
 *
 * A small state machine: idle -> running <-> paused -> stopping -> idle. A train
 * request starts the run on a worker thread; the main loop keeps reading requests,
 * so stop, pause, resume and cancel act on the run while it works. Every change of
 * state is announced with a `state` event; a run always ends with `done`. */
#pragma once

#include "studio-protocol.h"
#include "train-job.h"

typedef struct _ServeSession ServeSession;

/* What a train request runs on the worker thread: train_job_run, or a stand-in in
 * tests of the state machine. */
typedef le_run_status (*ServeJobFunc) (const TrainJobArgs *args, const le_run_hooks *hooks,
                                       GPtrArray *outputs);

/* JOB: NULL for train_job_run. */
ServeSession *serve_session_new (ServeJobFunc job);
/* Answers REQUEST. Returns FALSE when the session should end (shutdown). */
gboolean      serve_session_handle (ServeSession *session, const StudioRequest *request);
/* Stops a run in progress, waits for its thread, frees the session. */
void          serve_session_free (ServeSession *session);
