/* studio-protocol.h: the JSON Lines protocol between lora-studio and `lora-engine serve`.
 *
 * One JSON object per line, UTF-8, '\n'-terminated. The app sends requests
 * {"id": "...", "cmd": "...", ...args}; the engine sends events {"event": "...", ...}.
 * This is the one parser and the one writer of those lines, used by both programs;
 * help/protocol.md documents every command and event. A table of fields per command
 * and per event (studio-protocol.c) decides what a valid message is: fields the table
 * does not name are ignored, so a newer minor version can add fields freely.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define STUDIO_PROTOCOL_ERROR (studio_protocol_error_quark ())
GQuark studio_protocol_error_quark (void);

typedef enum {
  STUDIO_PROTOCOL_ERROR_MALFORMED,       /* not JSON, or not one JSON object */
  STUDIO_PROTOCOL_ERROR_MISSING_FIELD,   /* a required field is absent */
  STUDIO_PROTOCOL_ERROR_WRONG_TYPE,      /* a field has the wrong JSON type */
  STUDIO_PROTOCOL_ERROR_UNKNOWN_COMMAND, /* "cmd" names no command */
  STUDIO_PROTOCOL_ERROR_UNKNOWN_EVENT,   /* "event" names no event */
  STUDIO_PROTOCOL_ERROR_VERSION,         /* the other side speaks another major version */
} StudioProtocolError;

/* The `code` an `error` event carries for each StudioProtocolError. */
const char *studio_protocol_error_code (GError *error);

/* Requests (app -> engine). Keep in step with the table in studio-protocol.c and
 * help/protocol.md. */
typedef enum {
  STUDIO_CMD_TRAIN,
  STUDIO_CMD_STOP,
  STUDIO_CMD_PAUSE,
  STUDIO_CMD_RESUME,
  STUDIO_CMD_SAMPLE,
  STUDIO_CMD_CAPTION,
  STUDIO_CMD_INSPECT,
  STUDIO_CMD_CANCEL,
  STUDIO_CMD_SHUTDOWN,
  STUDIO_N_CMDS
} StudioCommand;

/* Events (engine -> app). */
typedef enum {
  STUDIO_EVENT_HELLO,
  STUDIO_EVENT_STATE,
  STUDIO_EVENT_PROGRESS,
  STUDIO_EVENT_SAMPLE,
  STUDIO_EVENT_CHECKPOINT,
  STUDIO_EVENT_LOG,
  STUDIO_EVENT_ERROR,
  STUDIO_EVENT_RESULT,
  STUDIO_EVENT_DONE,
  STUDIO_N_EVENTS
} StudioEventKind;

const char *studio_command_name (StudioCommand cmd);
/* Returns FALSE when NAME is no command. */
gboolean    studio_command_from_name (const char *name, StudioCommand *out);
const char *studio_event_kind_name (StudioEventKind kind);
gboolean    studio_event_kind_from_name (const char *name, StudioEventKind *out);

/* A validated request: every field the table names has its declared type, so
 * json_object_get_*_member() on OBJECT is safe for them. */
typedef struct {
  char         *id;
  StudioCommand cmd;
  JsonObject   *object;   /* the whole line, "id" and "cmd" included */
} StudioRequest;

/* A validated event. ID is the request it answers, or NULL. */
typedef struct {
  StudioEventKind kind;
  char           *id;
  JsonObject     *object;
} StudioEvent;

/* Parses one line (without or with its '\n'). On failure returns NULL with ERROR set
 * and, when the line was an object with a string "id", *OUT_ID set to it (free it;
 * OUT_ID may be NULL) so the error event can name the request it answers. */
StudioRequest *studio_protocol_parse_request (const char *line, char **out_id,
                                              GError **error);
StudioEvent   *studio_protocol_parse_event (const char *line, GError **error);
void           studio_request_free (StudioRequest *request);
void           studio_event_free (StudioEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioRequest, studio_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioEvent, studio_event_free)

/* Optional fields: a NULL string, a negative count or a non-finite number is left out
 * (numbers that are required are written as null when non-finite, e.g. eta at step 0). */

/* One compute device, as `hello` and `lora-engine devices --json` describe it. */
typedef struct {
  const char *kind;        /* "cuda" or "cpu" */
  int         index;       /* CUDA ordinal; 0 for the CPU */
  const char *name;
  guint64     memory_total;  /* bytes */
  int         cc_major, cc_minor;  /* compute capability (cuda only) */
  int         cores;       /* logical cores (cpu) or multiprocessors (cuda) */
} StudioDevice;

typedef struct {
  gint64      step, total;   /* optimizer steps done, and planned */
  int         epoch;         /* 1-based */
  double      loss, lr;
  double      it_s;          /* steps per second */
  double      eta_s, elapsed_s;
  gint64      memory_used, memory_total;  /* device bytes; -1 = unknown */
  const char *device;        /* "cuda:0", "cpu"; NULL = leave out */
} StudioProgress;

/* The "devices" array of `hello` (and of `lora-engine devices --json`). */
JsonArray *studio_devices_to_json (const StudioDevice *devices, guint n_devices);

/* Each returns one compact JSON object without the trailing '\n'. */
char *studio_event_hello (const StudioDevice *devices, guint n_devices,
                          const char *cuda_unavailable_reason);
char *studio_event_state (const char *id, const char *state);
char *studio_event_progress (const char *id, const StudioProgress *progress);
char *studio_event_sample (const char *id, gint64 step, const char *path,
                           const char *prompt);
char *studio_event_checkpoint (const char *id, gint64 step, const char *path);
char *studio_event_log (const char *id, const char *level, const char *message);
char *studio_event_error (const char *id, const char *code, const char *message);
/* DATA is taken (may be NULL for an empty object). */
char *studio_event_result (const char *id, JsonObject *data);
/* OUTPUTS: NULL-terminated paths the run wrote (may be NULL). */
char *studio_event_done (const char *id, const char *status,
                         const char *const *outputs);

/* A request line; ARGS (may be NULL) are copied in beside "id" and "cmd". */
char *studio_protocol_request_line (const char *id, const char *cmd, JsonObject *args);

/* "MAJOR.MINOR" of this build (ENGINE_PROTOCOL_MAJOR/MINOR in config.h). */
const char *studio_protocol_version (void);
/* TRUE when OTHER (the version a peer sent in `hello`) has our major version;
 * otherwise an error that says which versions meet and what to do. */
gboolean studio_protocol_check_version (const char *other, GError **error);

G_END_DECLS
