/* serve-session.h: what `lora-engine serve` does with each request.
 *
 * A small state machine: idle -> running <-> paused -> stopping -> idle. A train
 * request starts the run on a worker thread; the main loop keeps reading requests,
 * so stop, pause, resume and cancel act on the run while it works. Every change of
 * state is announced with a `state` event; a run always ends with `done`. */
#pragma once

#include "studio-protocol.h"

typedef struct _ServeSession ServeSession;

ServeSession *serve_session_new (void);
/* Answers REQUEST. Returns FALSE when the session should end (shutdown). */
gboolean      serve_session_handle (ServeSession *session, const StudioRequest *request);
/* Stops a run in progress, waits for its thread, frees the session. */
void          serve_session_free (ServeSession *session);
