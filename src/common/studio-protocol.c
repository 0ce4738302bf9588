/* studio-protocol.c: parser and writer of the engine's JSON Lines protocol
 * (see studio-protocol.h and help/protocol.md). */
#include "config.h"

#include "studio-protocol.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (studio-protocol-error-quark, studio_protocol_error)

typedef enum {
  FIELD_STRING,
  FIELD_INT,
  FIELD_NUMBER,        /* integer or real; null means "not known" */
  FIELD_BOOL,
  FIELD_OBJECT,
  FIELD_ARRAY,
  FIELD_STRING_ARRAY,
} FieldType;

typedef struct {
  const char *name;
  FieldType   type;
  gboolean    required;
  const char *const *choices;   /* FIELD_STRING: allowed values, NULL = any */
} Field;

typedef struct {
  const char  *name;
  const Field *fields;          /* terminated by a NULL name */
} MessageSpec;

static const Field no_fields[] = { { NULL, 0, FALSE, NULL } };

/* Requests. "id" and "cmd" are checked before these. */
static const Field train_fields[] = {
  { "config", FIELD_STRING, TRUE, NULL },
  { "resume", FIELD_STRING, FALSE, NULL },   /* checkpoint folder to continue from */
  { "device", FIELD_STRING, FALSE, NULL },   /* auto, cpu, cuda, cuda:N */
  { NULL, 0, FALSE, NULL }
};
static const Field stop_fields[] = {
  { "save_checkpoint", FIELD_BOOL, FALSE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field sample_fields[] = {
  { "prompt", FIELD_STRING, TRUE, NULL },
  { "negative_prompt", FIELD_STRING, FALSE, NULL },
  { "config", FIELD_STRING, FALSE, NULL },
  { "lora", FIELD_STRING, FALSE, NULL },
  { "weight", FIELD_NUMBER, FALSE, NULL },
  { "seed", FIELD_INT, FALSE, NULL },
  { "steps", FIELD_INT, FALSE, NULL },
  { "cfg_scale", FIELD_NUMBER, FALSE, NULL },
  { "width", FIELD_INT, FALSE, NULL },
  { "height", FIELD_INT, FALSE, NULL },
  { "out", FIELD_STRING, FALSE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field path_fields[] = {
  { "path", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field cancel_fields[] = {
  { "target", FIELD_STRING, TRUE, NULL },    /* id of the request to cancel */
  { NULL, 0, FALSE, NULL }
};

static const MessageSpec command_specs[STUDIO_N_CMDS] = {
  [STUDIO_CMD_TRAIN]    = { "train", train_fields },
  [STUDIO_CMD_STOP]     = { "stop", stop_fields },
  [STUDIO_CMD_PAUSE]    = { "pause", no_fields },
  [STUDIO_CMD_RESUME]   = { "resume", no_fields },
  [STUDIO_CMD_SAMPLE]   = { "sample", sample_fields },
  [STUDIO_CMD_CAPTION]  = { "caption", path_fields },
  [STUDIO_CMD_INSPECT]  = { "inspect", path_fields },
  [STUDIO_CMD_CANCEL]   = { "cancel", cancel_fields },
  [STUDIO_CMD_SHUTDOWN] = { "shutdown", no_fields },
};

/* Events. "event" and the optional "id" are checked before these. */
static const char *const state_choices[] = { "idle", "running", "paused", "stopping", NULL };
static const char *const level_choices[] = { "debug", "info", "warning", "error", NULL };
static const char *const status_choices[] = { "completed", "stopped", "failed", "cancelled", NULL };

static const Field hello_fields[] = {
  { "protocol", FIELD_STRING, TRUE, NULL },
  { "engine", FIELD_STRING, TRUE, NULL },
  { "devices", FIELD_ARRAY, TRUE, NULL },
  { "cuda_unavailable", FIELD_STRING, FALSE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field state_fields[] = {
  { "state", FIELD_STRING, TRUE, state_choices },
  { NULL, 0, FALSE, NULL }
};
static const Field progress_fields[] = {
  { "step", FIELD_INT, TRUE, NULL },
  { "total", FIELD_INT, TRUE, NULL },
  { "epoch", FIELD_INT, TRUE, NULL },
  { "loss", FIELD_NUMBER, TRUE, NULL },
  { "lr", FIELD_NUMBER, TRUE, NULL },
  { "it_s", FIELD_NUMBER, TRUE, NULL },
  { "eta_s", FIELD_NUMBER, TRUE, NULL },
  { "elapsed_s", FIELD_NUMBER, TRUE, NULL },
  { "memory_used", FIELD_INT, FALSE, NULL },
  { "memory_total", FIELD_INT, FALSE, NULL },
  { "device", FIELD_STRING, FALSE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field sample_event_fields[] = {
  { "step", FIELD_INT, TRUE, NULL },
  { "path", FIELD_STRING, TRUE, NULL },
  { "prompt", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field checkpoint_fields[] = {
  { "step", FIELD_INT, TRUE, NULL },
  { "path", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field log_fields[] = {
  { "level", FIELD_STRING, TRUE, level_choices },
  { "message", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field error_fields[] = {
  { "code", FIELD_STRING, TRUE, NULL },
  { "message", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field result_fields[] = {
  { "data", FIELD_OBJECT, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};
static const Field done_fields[] = {
  { "status", FIELD_STRING, TRUE, status_choices },
  { "outputs", FIELD_STRING_ARRAY, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};

static const MessageSpec event_specs[STUDIO_N_EVENTS] = {
  [STUDIO_EVENT_HELLO]      = { "hello", hello_fields },
  [STUDIO_EVENT_STATE]      = { "state", state_fields },
  [STUDIO_EVENT_PROGRESS]   = { "progress", progress_fields },
  [STUDIO_EVENT_SAMPLE]     = { "sample", sample_event_fields },
  [STUDIO_EVENT_CHECKPOINT] = { "checkpoint", checkpoint_fields },
  [STUDIO_EVENT_LOG]        = { "log", log_fields },
  [STUDIO_EVENT_ERROR]      = { "error", error_fields },
  [STUDIO_EVENT_RESULT]     = { "result", result_fields },
  [STUDIO_EVENT_DONE]       = { "done", done_fields },
};

const char *
studio_command_name (StudioCommand cmd)
{
  g_return_val_if_fail (cmd < STUDIO_N_CMDS, NULL);
  return command_specs[cmd].name;
}

gboolean
studio_command_from_name (const char *name, StudioCommand *out)
{
  for (guint i = 0; i < STUDIO_N_CMDS; i++)
    if (g_strcmp0 (command_specs[i].name, name) == 0)
      {
        *out = (StudioCommand) i;
        return TRUE;
      }
  return FALSE;
}

const char *
studio_event_kind_name (StudioEventKind kind)
{
  g_return_val_if_fail (kind < STUDIO_N_EVENTS, NULL);
  return event_specs[kind].name;
}

gboolean
studio_event_kind_from_name (const char *name, StudioEventKind *out)
{
  for (guint i = 0; i < STUDIO_N_EVENTS; i++)
    if (g_strcmp0 (event_specs[i].name, name) == 0)
      {
        *out = (StudioEventKind) i;
        return TRUE;
      }
  return FALSE;
}

const char *
studio_protocol_error_code (GError *error)
{
  if (error == NULL || error->domain != STUDIO_PROTOCOL_ERROR)
    return "error";
  switch ((StudioProtocolError) error->code)
    {
    case STUDIO_PROTOCOL_ERROR_MALFORMED: return "malformed";
    case STUDIO_PROTOCOL_ERROR_MISSING_FIELD: return "missing-field";
    case STUDIO_PROTOCOL_ERROR_WRONG_TYPE: return "wrong-type";
    case STUDIO_PROTOCOL_ERROR_UNKNOWN_COMMAND: return "unknown-cmd";
    case STUDIO_PROTOCOL_ERROR_UNKNOWN_EVENT: return "unknown-event";
    case STUDIO_PROTOCOL_ERROR_VERSION: return "version";
    }
  return "error";
}

/* ---- parsing ---- */

static const char *
field_type_name (FieldType type)
{
  switch (type)
    {
    case FIELD_STRING: return "a string";
    case FIELD_INT: return "an integer";
    case FIELD_NUMBER: return "a number";
    case FIELD_BOOL: return "true or false";
    case FIELD_OBJECT: return "an object";
    case FIELD_ARRAY: return "an array";
    case FIELD_STRING_ARRAY: return "an array of strings";
    }
  return "?";
}

static gboolean
node_is_value_of (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
node_has_type (JsonNode *node, FieldType type)
{
  switch (type)
    {
    case FIELD_STRING:
      return node_is_value_of (node, G_TYPE_STRING);
    case FIELD_INT:
      return node_is_value_of (node, G_TYPE_INT64);
    case FIELD_NUMBER:
      return JSON_NODE_HOLDS_NULL (node)
             || node_is_value_of (node, G_TYPE_INT64)
             || node_is_value_of (node, G_TYPE_DOUBLE);
    case FIELD_BOOL:
      return node_is_value_of (node, G_TYPE_BOOLEAN);
    case FIELD_OBJECT:
      return JSON_NODE_HOLDS_OBJECT (node);
    case FIELD_ARRAY:
      return JSON_NODE_HOLDS_ARRAY (node);
    case FIELD_STRING_ARRAY:
      if (!JSON_NODE_HOLDS_ARRAY (node))
        return FALSE;
      {
        JsonArray *array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          if (!node_is_value_of (json_array_get_element (array, i), G_TYPE_STRING))
            return FALSE;
      }
      return TRUE;
    }
  return FALSE;
}

static gboolean
check_fields (JsonObject *object, const char *what, const Field *fields, GError **error)
{
  for (const Field *f = fields; f->name != NULL; f++)
    {
      JsonNode *node = json_object_get_member (object, f->name);
      if (node == NULL)
        {
          if (f->required)
            {
              g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_MISSING_FIELD,
                           "%s needs the field \"%s\" (%s)", what, f->name,
                           field_type_name (f->type));
              return FALSE;
            }
          continue;
        }
      if (!node_has_type (node, f->type))
        {
          g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_WRONG_TYPE,
                       "%s: field \"%s\" must be %s", what, f->name,
                       field_type_name (f->type));
          return FALSE;
        }
      if (f->choices != NULL && !g_strv_contains (f->choices, json_node_get_string (node)))
        {
          g_autofree char *allowed = g_strjoinv (", ", (char **) f->choices);
          g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_WRONG_TYPE,
                       "%s: field \"%s\" is \"%s\"; allowed: %s", what, f->name,
                       json_node_get_string (node), allowed);
          return FALSE;
        }
    }
  return TRUE;
}

/* Parses LINE into a JSON object (a new reference) or fails with MALFORMED. */
static JsonObject *
parse_object (const char *line, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;

  if (line == NULL || !g_utf8_validate (line, -1, NULL))
    {
      g_set_error_literal (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_MALFORMED,
                           "the line is not valid UTF-8 text");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, line, -1, &local_error))
    {
      g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_MALFORMED,
                   "the line is not valid JSON: %s", local_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_MALFORMED,
                           "the line must be one JSON object {...}");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static const Field request_head[] = {
  { "id", FIELD_STRING, TRUE, NULL },
  { "cmd", FIELD_STRING, TRUE, NULL },
  { NULL, 0, FALSE, NULL }
};

StudioRequest *
studio_protocol_parse_request (const char *line, char **out_id, GError **error)
{
  if (out_id != NULL)
    *out_id = NULL;

  g_autoptr(JsonObject) object = parse_object (line, error);
  if (object == NULL)
    return NULL;

  /* Hand the id back even when the rest is wrong: the error answers that request. */
  JsonNode *id_node = json_object_get_member (object, "id");
  if (out_id != NULL && id_node != NULL && node_is_value_of (id_node, G_TYPE_STRING))
    *out_id = g_strdup (json_node_get_string (id_node));

  if (!check_fields (object, "a request", request_head, error))
    return NULL;

  const char *cmd_name = json_object_get_string_member (object, "cmd");
  StudioCommand cmd;
  if (!studio_command_from_name (cmd_name, &cmd))
    {
      GString *known = g_string_new (NULL);
      for (guint i = 0; i < STUDIO_N_CMDS; i++)
        g_string_append_printf (known, "%s%s", i ? ", " : "", command_specs[i].name);
      g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_UNKNOWN_COMMAND,
                   "unknown command \"%s\"; this engine knows: %s", cmd_name, known->str);
      g_string_free (known, TRUE);
      return NULL;
    }

  g_autofree char *what = g_strdup_printf ("the \"%s\" request", cmd_name);
  if (!check_fields (object, what, command_specs[cmd].fields, error))
    return NULL;

  StudioRequest *request = g_new0 (StudioRequest, 1);
  request->id = g_strdup (json_object_get_string_member (object, "id"));
  request->cmd = cmd;
  request->object = g_steal_pointer (&object);
  return request;
}

static const Field event_head[] = {
  { "event", FIELD_STRING, TRUE, NULL },
  { "id", FIELD_STRING, FALSE, NULL },
  { NULL, 0, FALSE, NULL }
};

StudioEvent *
studio_protocol_parse_event (const char *line, GError **error)
{
  g_autoptr(JsonObject) object = parse_object (line, error);
  if (object == NULL)
    return NULL;
  if (!check_fields (object, "an event", event_head, error))
    return NULL;

  const char *name = json_object_get_string_member (object, "event");
  StudioEventKind kind;
  if (!studio_event_kind_from_name (name, &kind))
    {
      g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_UNKNOWN_EVENT,
                   "unknown event \"%s\"", name);
      return NULL;
    }
  g_autofree char *what = g_strdup_printf ("the \"%s\" event", name);
  if (!check_fields (object, what, event_specs[kind].fields, error))
    return NULL;

  StudioEvent *event = g_new0 (StudioEvent, 1);
  event->kind = kind;
  if (json_object_has_member (object, "id"))
    event->id = g_strdup (json_object_get_string_member (object, "id"));
  event->object = g_steal_pointer (&object);
  return event;
}

void
studio_request_free (StudioRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->id);
  if (request->object != NULL)
    json_object_unref (request->object);
  g_free (request);
}

void
studio_event_free (StudioEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->id);
  if (event->object != NULL)
    json_object_unref (event->object);
  g_free (event);
}

/* ---- writing ---- */

static char *
object_to_line (JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, object);
  /* Compact output never contains a raw newline: strings escape it as \n. */
  return json_to_string (root, FALSE);
}

static JsonObject *
event_new (const char *event, const char *id)
{
  JsonObject *object = json_object_new ();
  json_object_set_string_member (object, "event", event);
  if (id != NULL)
    json_object_set_string_member (object, "id", id);
  return object;
}

static char *
event_finish (JsonObject *object)
{
  char *line = object_to_line (object);
  json_object_unref (object);
  return line;
}

/* JSON has no NaN or infinity: a required number that is not finite becomes null. */
static void
set_number (JsonObject *object, const char *name, double value)
{
  if (isfinite (value))
    json_object_set_double_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

static void
set_string_or_skip (JsonObject *object, const char *name, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
}

JsonArray *
studio_devices_to_json (const StudioDevice *devices, guint n_devices)
{
  JsonArray *array = json_array_new ();
  for (guint i = 0; i < n_devices; i++)
    {
      const StudioDevice *d = &devices[i];
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "kind", d->kind);
      json_object_set_int_member (o, "index", d->index);
      json_object_set_string_member (o, "name", d->name ? d->name : "");
      json_object_set_int_member (o, "memory_total", (gint64) d->memory_total);
      if (g_strcmp0 (d->kind, "cuda") == 0)
        {
          g_autofree char *cc = g_strdup_printf ("%d.%d", d->cc_major, d->cc_minor);
          json_object_set_string_member (o, "compute_capability", cc);
          json_object_set_int_member (o, "multiprocessors", d->cores);
        }
      else
        json_object_set_int_member (o, "cores", d->cores);
      json_array_add_object_element (array, o);
    }
  return array;
}

char *
studio_event_hello (const StudioDevice *devices, guint n_devices,
                    const char *cuda_unavailable_reason)
{
  JsonObject *object = event_new ("hello", NULL);
  json_object_set_string_member (object, "protocol", studio_protocol_version ());
  json_object_set_string_member (object, "engine", PACKAGE_VERSION);

  json_object_set_array_member (object, "devices",
                                studio_devices_to_json (devices, n_devices));
  set_string_or_skip (object, "cuda_unavailable", cuda_unavailable_reason);
  return event_finish (object);
}

char *
studio_event_state (const char *id, const char *state)
{
  JsonObject *object = event_new ("state", id);
  json_object_set_string_member (object, "state", state);
  return event_finish (object);
}

char *
studio_event_progress (const char *id, const StudioProgress *p)
{
  JsonObject *object = event_new ("progress", id);
  json_object_set_int_member (object, "step", p->step);
  json_object_set_int_member (object, "total", p->total);
  json_object_set_int_member (object, "epoch", p->epoch);
  set_number (object, "loss", p->loss);
  set_number (object, "lr", p->lr);
  set_number (object, "it_s", p->it_s);
  set_number (object, "eta_s", p->eta_s);
  set_number (object, "elapsed_s", p->elapsed_s);
  if (p->memory_used >= 0)
    json_object_set_int_member (object, "memory_used", p->memory_used);
  if (p->memory_total >= 0)
    json_object_set_int_member (object, "memory_total", p->memory_total);
  set_string_or_skip (object, "device", p->device);
  return event_finish (object);
}

char *
studio_event_sample (const char *id, gint64 step, const char *path, const char *prompt)
{
  JsonObject *object = event_new ("sample", id);
  json_object_set_int_member (object, "step", step);
  json_object_set_string_member (object, "path", path);
  json_object_set_string_member (object, "prompt", prompt ? prompt : "");
  return event_finish (object);
}

char *
studio_event_checkpoint (const char *id, gint64 step, const char *path)
{
  JsonObject *object = event_new ("checkpoint", id);
  json_object_set_int_member (object, "step", step);
  json_object_set_string_member (object, "path", path);
  return event_finish (object);
}

char *
studio_event_log (const char *id, const char *level, const char *message)
{
  JsonObject *object = event_new ("log", id);
  json_object_set_string_member (object, "level", level);
  json_object_set_string_member (object, "message", message);
  return event_finish (object);
}

char *
studio_event_error (const char *id, const char *code, const char *message)
{
  JsonObject *object = event_new ("error", id);
  json_object_set_string_member (object, "code", code);
  json_object_set_string_member (object, "message", message);
  return event_finish (object);
}

char *
studio_event_result (const char *id, JsonObject *data)
{
  JsonObject *object = event_new ("result", id);
  json_object_set_object_member (object, "data", data ? data : json_object_new ());
  return event_finish (object);
}

char *
studio_event_done (const char *id, const char *status, const char *const *outputs)
{
  JsonObject *object = event_new ("done", id);
  json_object_set_string_member (object, "status", status);
  JsonArray *array = json_array_new ();
  for (guint i = 0; outputs != NULL && outputs[i] != NULL; i++)
    json_array_add_string_element (array, outputs[i]);
  json_object_set_array_member (object, "outputs", array);
  return event_finish (object);
}

char *
studio_protocol_request_line (const char *id, const char *cmd, JsonObject *args)
{
  JsonObject *object = json_object_new ();
  json_object_set_string_member (object, "id", id);
  json_object_set_string_member (object, "cmd", cmd);
  if (args != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *node;
      json_object_iter_init (&iter, args);
      while (json_object_iter_next (&iter, &name, &node))
        if (strcmp (name, "id") != 0 && strcmp (name, "cmd") != 0)
          json_object_set_member (object, name, json_node_copy (node));
    }
  return event_finish (object);
}

/* ---- versions ---- */

const char *
studio_protocol_version (void)
{
  return G_STRINGIFY (ENGINE_PROTOCOL_MAJOR) "." G_STRINGIFY (ENGINE_PROTOCOL_MINOR);
}

static gboolean
parse_version (const char *text, guint64 *major, guint64 *minor)
{
  if (text == NULL)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit (text, ".", -1);
  if (g_strv_length (parts) != 2)
    return FALSE;
  return g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT32, major, NULL)
         && g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT32, minor, NULL);
}

gboolean
studio_protocol_check_version (const char *other, GError **error)
{
  guint64 major, minor;
  if (!parse_version (other, &major, &minor))
    {
      g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION,
                   "lora-engine announced protocol version \"%s\", which is not "
                   "MAJOR.MINOR; install the lora-engine that came with this LoRA Studio",
                   other ? other : "(none)");
      return FALSE;
    }
  if (major != ENGINE_PROTOCOL_MAJOR)
    {
      g_set_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION,
                   "lora-engine speaks protocol %" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT
                   " but this LoRA Studio speaks %s; the major versions differ, so they "
                   "cannot work together: install the lora-engine that came with this "
                   "LoRA Studio (%s)",
                   major, minor, studio_protocol_version (), PACKAGE_VERSION);
      return FALSE;
    }
  return TRUE;
}
