/* studio-engine-client.h: StudioEngineClient, one `lora-engine serve` subprocess and the
 * JSON Lines conversation with it (help/protocol.md).
 *
 * Lines are read asynchronously on the main loop and requests are queued for writing, so
 * the window never waits on the engine. The engine's stderr is kept as a log (its last
 * lines explain a crash). An engine of another protocol major version is refused and
 * ended. The engine's death, for any reason we did not ask for, is reported once with
 * "failed".
 */
#pragma once

#include <gio/gio.h>

#include "studio-protocol.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_ENGINE_CLIENT (studio_engine_client_get_type ())
G_DECLARE_FINAL_TYPE (StudioEngineClient, studio_engine_client, STUDIO, ENGINE_CLIENT, GObject)

/* How many stderr and stray stdout lines the client remembers. */
#define STUDIO_ENGINE_LOG_LINES 200

/* The engine to run: $LORA_ENGINE, then lora-engine next to this program, then in PATH.
 * NULL when none is found. Free with g_free. */
char               *studio_engine_find          (void);

StudioEngineClient *studio_engine_client_new    (void);
/* Starts ENGINE_PATH (NULL: studio_engine_find ()) with `serve`. Events follow as
 * signals: "ready" once `hello` was accepted, then "event" for each event. */
gboolean            studio_engine_client_start  (StudioEngineClient *self,
                                                 const char         *engine_path,
                                                 GError            **error);
/* TRUE from a successful start until the process has ended. */
gboolean            studio_engine_client_is_running (StudioEngineClient *self);
/* TRUE once `hello` came with a protocol we speak. */
gboolean            studio_engine_client_is_ready   (StudioEngineClient *self);
/* The `hello` event's object (NULL before it). */
JsonObject         *studio_engine_client_get_hello  (StudioEngineClient *self);
/* Queues request CMD with ARGS (may be NULL; copied) and returns its id (free it), or
 * NULL when no engine is running. Requests sent before `hello` wait in the pipe. */
char               *studio_engine_client_send   (StudioEngineClient *self,
                                                 const char         *cmd,
                                                 JsonObject         *args);
/* Asks the engine to stop any run (saving a checkpoint) and exit, by `shutdown` and
 * closing its stdin; if it has not ended after TIMEOUT_MS it is killed. "exited"
 * follows, "failed" does not. */
void                studio_engine_client_shutdown (StudioEngineClient *self, guint timeout_ms);
/* The last N lines of the engine's log (stderr and lines that were not protocol),
 * oldest first, joined by '\n'. Free with g_free. */
char               *studio_engine_client_dup_log_tail (StudioEngineClient *self, guint n);

G_END_DECLS
