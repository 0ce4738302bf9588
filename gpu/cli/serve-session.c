/* serve-session.c: the serve state machine and its worker thread (see the header). */
#include "config.h"

#include "serve-session.h"

#include <stdlib.h>

#include "caption-events.h"
#include "event-hooks.h"
#include "event-writer.h"
#include "model-inspect.h"
#include "run-control.h"
#include "sample-job.h"
#include "safetensors.h"
#include "train-job.h"

typedef enum {
  STATE_IDLE,
  STATE_RUNNING,
  STATE_PAUSED,
  STATE_STOPPING,
  STATE_SAMPLING,         /* a `sample` outside a run; never announced (no run state) */
  STATE_CAPTIONING,       /* a `caption` job; never announced either */
} ServeState;

static const char *const state_names[] = { "idle", "running", "paused", "stopping",
                                           "sampling", "captioning" };

struct _ServeSession {
  GMutex       lock;      /* guards state: the worker sets it back to idle */
  ServeState   state;
  GThread     *worker;    /* the current or last run; joined before the next */
  RunControl   control;
  CliEventSink sink;      /* sink.id: the id of the train request that runs */
  char        *config_path, *resume, *device;
  JsonObject  *sample;    /* the `sample` request the worker draws (STATE_SAMPLING) */
  gboolean     sample_cancelled;  /* under lock: cancel came while it was drawn */
  JsonObject  *caption;   /* the `caption` request the worker runs (STATE_CAPTIONING) */
  CaptionEventSink caption_sink;  /* its id (borrowed from sink.id) and cancel flag */
  ServeJobFunc job;
};

static void
set_state (ServeSession *session, ServeState state, const char *id)
{
  g_mutex_lock (&session->lock);
  session->state = state;
  /* Emitted under the lock so state events reach the app in the order they happen. */
  cli_emit (studio_event_state (id, state_names[state]));
  g_mutex_unlock (&session->lock);
}

static ServeState
get_state (ServeSession *session)
{
  g_mutex_lock (&session->lock);
  ServeState state = session->state;
  g_mutex_unlock (&session->lock);
  return state;
}

/* Moves to TO when the state is one of FROM (a bit mask of 1 << state), atomically,
 * so that a run ending on the worker thread cannot slip between test and change. */
static gboolean
transition (ServeSession *session, guint from, ServeState to, const char *id)
{
  g_mutex_lock (&session->lock);
  gboolean allowed = (from & (1u << session->state)) != 0;
  if (allowed)
    {
      session->state = to;
      cli_emit (studio_event_state (id, state_names[to]));
    }
  g_mutex_unlock (&session->lock);
  return allowed;
}

#define FROM(s) (1u << (s))

static gpointer
run_worker (gpointer data)
{
  ServeSession *session = data;
  le_run_hooks hooks;
  cli_event_hooks_init (&hooks, &session->sink);
  TrainJobArgs args = {
    .config_path = session->config_path,
    .resume = session->resume,
    .device = session->device,
  };
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);

  le_run_status status = session->job (&args, &hooks, outputs);
  cli_event_sink_end_samples (&session->sink);

  g_ptr_array_add (outputs, NULL);
  const char *name = status == LE_RUN_COMPLETED ? "completed"
                   : status == LE_RUN_STOPPED ? "stopped" : "failed";
  cli_emit (studio_event_done (session->sink.id, name,
                               (const char *const *) outputs->pdata));
  set_state (session, STATE_IDLE, session->sink.id);
  return NULL;
}

/* Waits for a finished run's thread and forgets its request. */
static void
reap_worker (ServeSession *session)
{
  if (session->worker == NULL)
    return;
  g_thread_join (session->worker);
  session->worker = NULL;
  g_clear_pointer (&session->sink.id, g_free);
  g_clear_pointer (&session->config_path, g_free);
  g_clear_pointer (&session->resume, g_free);
  g_clear_pointer (&session->device, g_free);
  g_clear_pointer (&session->sample, json_object_unref);
  g_clear_pointer (&session->caption, json_object_unref);
}

static const char *
optional_string (JsonObject *object, const char *name)
{
  return json_object_has_member (object, name)
         ? json_object_get_string_member (object, name) : NULL;
}

static void
start_train (ServeSession *session, const StudioRequest *request)
{
  ServeState state = get_state (session);
  if (state != STATE_IDLE)
    {
      g_autofree char *msg = state == STATE_SAMPLING
        ? g_strdup_printf ("a sample (request \"%s\") is being drawn; start the run when it "
                           "is done", session->sink.id)
        : state == STATE_CAPTIONING
        ? g_strdup_printf ("images are being captioned (request \"%s\"); start the run when "
                           "that is done, or cancel it", session->sink.id)
        : g_strdup_printf ("a run (request \"%s\") is already in progress; stop it first",
                           session->sink.id);
      cli_emit (studio_event_error (request->id, "busy", msg));
      return;
    }
  reap_worker (session);
  session->sink.id = g_strdup (request->id);
  session->sink.control = &session->control;
  session->config_path = g_strdup (json_object_get_string_member (request->object, "config"));
  session->resume = g_strdup (optional_string (request->object, "resume"));
  session->device = g_strdup (optional_string (request->object, "device"));
  run_control_reset (&session->control);
  set_state (session, STATE_RUNNING, request->id);
  session->worker = g_thread_new ("lora-engine-run", run_worker, session);
}

static void
no_run (const StudioRequest *request, const char *what)
{
  g_autofree char *msg = g_strdup_printf ("no run in progress: nothing to %s", what);
  cli_emit (studio_event_error (request->id, "no-run", msg));
}

/* Stop and cancel of the run share this; the worker then sends done "stopped". */
static void
stop_run (ServeSession *session, const StudioRequest *request, gboolean save_checkpoint)
{
  if (transition (session, FROM (STATE_RUNNING) | FROM (STATE_PAUSED), STATE_STOPPING,
                  request->id))
    run_control_stop (&session->control, save_checkpoint);
  else if (get_state (session) == STATE_IDLE || get_state (session) == STATE_SAMPLING
           || get_state (session) == STATE_CAPTIONING)
    no_run (request, "stop");
  /* Already stopping: the done event follows. */
}

/* ---- sample ---- */

static gint64
optional_int (JsonObject *object, const char *name, gint64 fallback)
{
  return json_object_has_member (object, name)
         ? json_object_get_int_member (object, name) : fallback;
}

static double
optional_number (JsonObject *object, const char *name, double fallback)
{
  return json_object_has_member (object, name)
         ? json_object_get_double_member (object, name) : fallback;
}

/* The step a LoRA file was written at (kohya's ss_steps), or 0 when it does not say. */
static gint64
lora_step (const char *path)
{
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return 0;
  le_error err = { 0 };
  st_file *f = st_open (path, &err);
  const char *steps = f ? st_metadata_get (f, "ss_steps") : NULL;
  gint64 step = steps ? g_ascii_strtoll (steps, NULL, 10) : 0;
  st_close (f);
  return step;
}

static gpointer
sample_worker (gpointer data)
{
  ServeSession *session = data;
  JsonObject *o = session->sample;
  const char *id = session->sink.id;
  SampleJobArgs args = {
    .config_path = optional_string (o, "config"),
    .lora = optional_string (o, "lora"),
    .weight = optional_number (o, "weight", 1.0),
    .prompt = json_object_get_string_member (o, "prompt"),
    .negative = optional_string (o, "negative_prompt"),
    .seed = optional_int (o, "seed", -1),
    .steps = (int) optional_int (o, "steps", 0),
    .cfg = optional_number (o, "cfg_scale", 0),
    .width = (int) optional_int (o, "width", 0),
    .height = (int) optional_int (o, "height", 0),
    .out = optional_string (o, "out"),
    /* no run holds the GPU now: use it when there is one */
    .device = "auto",
  };
  le_error err = { 0 };
  g_autofree char *path = sample_job_run (&args, &err);

  /* Idle again before the answer goes out, so that a request the app sends on reading
   * it is not refused as busy (a new job first joins this thread). No state event: no
   * run started or ended. */
  g_mutex_lock (&session->lock);
  gboolean cancelled = session->sample_cancelled;
  session->state = STATE_IDLE;
  g_mutex_unlock (&session->lock);
  const char *outputs[] = { path, NULL };
  if (path == NULL)
    {
      cli_emit (studio_event_error (id, sample_job_error_code (&err), err.message));
      cli_emit (studio_event_done (id, cancelled ? "cancelled" : "failed", NULL));
    }
  else if (cancelled)
    cli_emit (studio_event_done (id, "cancelled", outputs));
  else
    {
      cli_emit (studio_event_sample (id, lora_step (args.lora), path, args.prompt));
      cli_emit (studio_event_done (id, "completed", outputs));
    }
  return NULL;
}

static void
start_sample (ServeSession *session, const StudioRequest *request)
{
  g_mutex_lock (&session->lock);
  ServeState state = session->state;
  if (state == STATE_IDLE)
    {
      session->state = STATE_SAMPLING;
      session->sample_cancelled = FALSE;
    }
  g_mutex_unlock (&session->lock);

  if (state == STATE_RUNNING || state == STATE_PAUSED)
    {
      /* The run draws its previews with the weights it has at the next step boundary
       * (a paused run: after it resumes); done answers this request then. */
      if (!run_control_want_sample (&session->control, request->id))
        cli_emit (studio_event_error (request->id, "busy",
                                      "previews were already asked for and not drawn yet; "
                                      "wait for them"));
      else
        cli_emit (studio_event_log (request->id, "info",
                                    "the run draws its sample prompts after the current step"));
      return;
    }
  if (state != STATE_IDLE)
    {
      g_autofree char *msg = state == STATE_SAMPLING
        ? g_strdup_printf ("a sample (request \"%s\") is being drawn; ask again when it is "
                           "done", session->sink.id)
        : state == STATE_CAPTIONING
        ? g_strdup_printf ("images are being captioned (request \"%s\"); ask again when "
                           "that is done", session->sink.id)
        : g_strdup ("the run is stopping; ask again when it has ended");
      cli_emit (studio_event_error (request->id, "busy", msg));
      return;
    }
  reap_worker (session);
  session->sink.id = g_strdup (request->id);
  session->sample = json_object_ref (request->object);
  session->worker = g_thread_new ("lora-engine-sample", sample_worker, session);
}

/* Cancels a sample request: the one being drawn (its image is dropped when it is done:
 * a drawing cannot be interrupted) or one waiting for a run's next step. */
static gboolean
cancel_sample (ServeSession *session, const char *target)
{
  g_mutex_lock (&session->lock);
  gboolean drawing = session->state == STATE_SAMPLING
                     && g_strcmp0 (target, session->sink.id) == 0;
  if (drawing)
    session->sample_cancelled = TRUE;
  g_mutex_unlock (&session->lock);
  if (drawing)
    return TRUE;
  g_autofree char *waiting = run_control_take_sample (&session->control);
  if (waiting != NULL && g_str_equal (waiting, target))
    {
      cli_emit (studio_event_done (target, "cancelled", NULL));
      return TRUE;
    }
  if (waiting != NULL)   /* another request's: put it back */
    run_control_want_sample (&session->control, waiting);
  return FALSE;
}

/* ---- caption ---- */

/* The caption request's optional fields, checked here because the protocol table only
 * knows `path`: TYPE is a JsonNode value type (G_TYPE_STRING, G_TYPE_BOOLEAN, G_TYPE_INT64). */
static gboolean
caption_field_ok (const StudioRequest *request, const char *name, GType type, gboolean required)
{
  JsonNode *node = json_object_get_member (request->object, name);
  g_autofree char *msg = NULL;
  if (node == NULL)
    {
      if (!required)
        return TRUE;
      msg = g_strdup_printf ("caption needs \"%s\": the folder of a Hugging Face CLIP model",
                             name);
      cli_emit (studio_event_error (request->id, "missing-field", msg));
      return FALSE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type)
    return TRUE;
  msg = g_strdup_printf ("caption's \"%s\" must be %s", name,
                         type == G_TYPE_STRING ? "a string"
                         : type == G_TYPE_BOOLEAN ? "true or false" : "an integer");
  cli_emit (studio_event_error (request->id, "wrong-type", msg));
  return FALSE;
}

static gpointer
caption_worker (gpointer data)
{
  ServeSession *session = data;
  JsonObject *o = session->caption;
  CaptionJobArgs args = {
    .model = json_object_get_string_member (o, "model"),
    .images = json_object_get_string_member (o, "path"),
    .out = optional_string (o, "out"),
    .sidecars = json_object_get_boolean_member_with_default (o, "sidecars", FALSE),
    .trigger = optional_string (o, "trigger"),
    .max_tags = (int) optional_int (o, "max_tags", 0),
    .overwrite = json_object_get_boolean_member_with_default (o, "overwrite", FALSE),
    .vocabulary = optional_string (o, "vocabulary"),
    .device = optional_string (o, "device"),
  };
  CaptionJobHooks hooks;
  caption_event_hooks_init (&hooks, &session->caption_sink);
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  le_error err = { 0 };
  CaptionJobStatus status = caption_job_run (&args, &hooks, outputs, NULL, &err);
  /* idle before done goes out, as after a sample */
  g_mutex_lock (&session->lock);
  session->state = STATE_IDLE;
  g_mutex_unlock (&session->lock);
  caption_events_finish (&session->caption_sink, status, outputs, &err);
  return NULL;
}

static void
start_caption (ServeSession *session, const StudioRequest *request)
{
  if (!caption_field_ok (request, "model", G_TYPE_STRING, TRUE))
    return;
  static const char *const strings[] = { "out", "trigger", "vocabulary", "device" };
  static const char *const bools[] = { "sidecars", "overwrite" };
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (!caption_field_ok (request, strings[i], G_TYPE_STRING, FALSE))
      return;
  for (guint i = 0; i < G_N_ELEMENTS (bools); i++)
    if (!caption_field_ok (request, bools[i], G_TYPE_BOOLEAN, FALSE))
      return;
  if (!caption_field_ok (request, "max_tags", G_TYPE_INT64, FALSE))
    return;
  gint64 max_tags = optional_int (request->object, "max_tags", 0);
  if (max_tags < 0 || max_tags > 64)
    {
      cli_emit (studio_event_error (request->id, "wrong-type",
                                    "caption's \"max_tags\" must be from 1 to 64"));
      return;
    }
  g_mutex_lock (&session->lock);
  ServeState state = session->state;
  if (state == STATE_IDLE)
    session->state = STATE_CAPTIONING;
  g_mutex_unlock (&session->lock);
  if (state != STATE_IDLE)
    {
      g_autofree char *msg = g_strdup_printf (
        "%s (request \"%s\") is in progress; caption when it has ended",
        state == STATE_SAMPLING ? "a sample" : state == STATE_CAPTIONING ? "captioning"
        : "a run", session->sink.id);
      cli_emit (studio_event_error (request->id, "busy", msg));
      return;
    }
  reap_worker (session);
  session->sink.id = g_strdup (request->id);
  session->caption = json_object_ref (request->object);
  session->caption_sink.id = session->sink.id;
  g_atomic_int_set (&session->caption_sink.cancelled, 0);
  session->worker = g_thread_new ("lora-engine-caption", caption_worker, session);
}

/* Cancels the caption job TARGET: it stops after the image in progress, writes the
 * captions made so far and answers done "cancelled". */
static gboolean
cancel_caption (ServeSession *session, const char *target)
{
  g_mutex_lock (&session->lock);
  gboolean running = session->state == STATE_CAPTIONING
                     && g_strcmp0 (target, session->sink.id) == 0;
  if (running)
    g_atomic_int_set (&session->caption_sink.cancelled, 1);
  g_mutex_unlock (&session->lock);
  return running;
}

/* ---- inspect ---- */

static void
inspect (const StudioRequest *request)
{
  const char *path = json_object_get_string_member (request->object, "path");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) data = cli_inspect_model (path, &error);
  if (data == NULL)
    cli_emit (studio_event_error (request->id,
                                  g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_INVAL)
                                  ? "format" : "io", error->message));
  else
    cli_emit (studio_event_result (request->id, data));
}

ServeSession *
serve_session_new (ServeJobFunc job)
{
  ServeSession *session = g_new0 (ServeSession, 1);
  session->job = job != NULL ? job : train_job_run;
  g_mutex_init (&session->lock);
  session->state = STATE_IDLE;
  run_control_init (&session->control);
  return session;
}

gboolean
serve_session_handle (ServeSession *session, const StudioRequest *request)
{
  ServeState state;

  switch (request->cmd)
    {
    case STUDIO_CMD_TRAIN:
      start_train (session, request);
      break;

    case STUDIO_CMD_STOP:
      stop_run (session, request,
                !json_object_has_member (request->object, "save_checkpoint")
                || json_object_get_boolean_member (request->object, "save_checkpoint"));
      break;

    case STUDIO_CMD_CANCEL:
      {
        const char *target = json_object_get_string_member (request->object, "target");
        state = get_state (session);
        if (cancel_sample (session, target) || cancel_caption (session, target))
          ;
        else if (state != STATE_IDLE && state != STATE_SAMPLING && state != STATE_CAPTIONING
                 && g_strcmp0 (target, session->sink.id) == 0)
          stop_run (session, request, FALSE);
        else
          {
            g_autofree char *msg = g_strdup_printf (
              "no request with id \"%s\" is in progress: nothing to cancel", target);
            cli_emit (studio_event_error (request->id, "no-run", msg));
          }
      }
      break;

    case STUDIO_CMD_PAUSE:
      /* Pause the control before saying so: after the "paused" event at most the
       * step already under way finishes. */
      run_control_pause (&session->control);
      if (!transition (session, FROM (STATE_RUNNING), STATE_PAUSED, request->id))
        {
          state = get_state (session);
          if (state == STATE_PAUSED)
            cli_emit (studio_event_state (request->id, "paused"));
          else if (state == STATE_IDLE || state == STATE_SAMPLING
                   || state == STATE_CAPTIONING)
            no_run (request, "pause");
        }
      break;

    case STUDIO_CMD_RESUME:
      if (transition (session, FROM (STATE_PAUSED), STATE_RUNNING, request->id))
        run_control_resume (&session->control);
      else
        {
          state = get_state (session);
          if (state == STATE_RUNNING)
            cli_emit (studio_event_state (request->id, "running"));
          else if (state == STATE_IDLE || state == STATE_SAMPLING
                   || state == STATE_CAPTIONING)
            no_run (request, "resume");
        }
      break;

    case STUDIO_CMD_SAMPLE:
      start_sample (session, request);
      break;

    case STUDIO_CMD_INSPECT:
      inspect (request);
      break;

    case STUDIO_CMD_CAPTION:
      start_caption (session, request);
      break;

    case STUDIO_CMD_SHUTDOWN:
      return FALSE;

    case STUDIO_N_CMDS:
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

void
serve_session_free (ServeSession *session)
{
  ServeState state = get_state (session);
  if (state == STATE_CAPTIONING)    /* stops after the image in progress, keeping captions */
    g_atomic_int_set (&session->caption_sink.cancelled, 1);
  else if (state != STATE_IDLE && state != STATE_SAMPLING)
    run_control_stop (&session->control, TRUE);
  reap_worker (session);
  run_control_clear (&session->control);
  g_mutex_clear (&session->lock);
  g_free (session);
}
