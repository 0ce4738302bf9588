/* serve-session.c: the serve state machine and its worker thread (see the header). */
#include "config.h"

#include "serve-session.h"

#include "event-hooks.h"
#include "event-writer.h"
#include "run-control.h"
#include "train-job.h"

typedef enum {
  STATE_IDLE,
  STATE_RUNNING,
  STATE_PAUSED,
  STATE_STOPPING,
} ServeState;

static const char *const state_names[] = { "idle", "running", "paused", "stopping" };

struct _ServeSession {
  GMutex       lock;      /* guards state: the worker sets it back to idle */
  ServeState   state;
  GThread     *worker;    /* the current or last run; joined before the next */
  RunControl   control;
  CliEventSink sink;      /* sink.id: the id of the train request that runs */
  char        *config_path, *resume, *device;
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
  if (get_state (session) != STATE_IDLE)
    {
      g_autofree char *msg = g_strdup_printf (
        "a run (request \"%s\") is already in progress; stop it first", session->sink.id);
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
  else if (get_state (session) == STATE_IDLE)
    no_run (request, "stop");
  /* Already stopping: the done event follows. */
}

static void
not_built (const StudioRequest *request)
{
  g_autofree char *msg = g_strdup_printf (
    "\"%s\" is not available in this build of lora-engine yet",
    studio_command_name (request->cmd));
  cli_emit (studio_event_error (request->id, "not-implemented", msg));
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
        if (get_state (session) != STATE_IDLE && g_strcmp0 (target, session->sink.id) == 0)
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
          else if (state == STATE_IDLE)
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
          else if (state == STATE_IDLE)
            no_run (request, "resume");
        }
      break;

    case STUDIO_CMD_SAMPLE:
    case STUDIO_CMD_CAPTION:
    case STUDIO_CMD_INSPECT:
      not_built (request);
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
  if (get_state (session) != STATE_IDLE)
    run_control_stop (&session->control, TRUE);
  reap_worker (session);
  run_control_clear (&session->control);
  g_mutex_clear (&session->lock);
  g_free (session);
}
