/* test-serve-session.c: the serve state machine with a run in progress. The trainer
 * is not built yet, so a stand-in job takes its place on the worker thread: it steps
 * until told to stop, through the same hooks the trainer will use. This checks that
 * pause holds the run, resume continues it, stop and cancel end it with `done`
 * "stopped", a second train is refused while one runs, and the control handshake
 * (run-control.h) never loses a wake-up. */
#include "config.h"

#include "event-writer.h"
#include "run-control.h"
#include "serve-session.h"

/* ---- the stand-in job ---- */

static gint steps_done;
static gint saw_save_on_stop = -1;

static le_run_status
stepping_job (const TrainJobArgs *args, const le_run_hooks *hooks, GPtrArray *outputs)
{
  for (long long step = 1; ; step++)
    {
      if (!hooks->keep_going (hooks->user))
        {
          g_atomic_int_set (&saw_save_on_stop, hooks->save_on_stop (hooks->user));
          return LE_RUN_STOPPED;
        }
      le_run_progress p = { .step = step, .total = 1000000, .epoch = 1, .loss = 1.0 / step,
                            .lr = 1e-4, .it_s = 500, .eta_s = 1, .elapsed_s = step * 0.002,
                            .memory_used = -1, .memory_total = -1, .device = "cpu" };
      hooks->progress (hooks->user, &p);
      g_atomic_int_inc (&steps_done);
      g_usleep (2000);
    }
}

/* ---- collecting events ---- */

static GAsyncQueue *lines;

static void
collect (const char *line, gpointer data)
{
  g_async_queue_push (lines, g_strdup (line));
}

/* The next event that is not progress, skipping progress events; fails after 5 s. */
static StudioEvent *
next_non_progress (void)
{
  for (;;)
    {
      g_autofree char *line = g_async_queue_timeout_pop (lines, 5 * G_USEC_PER_SEC);
      g_assert_nonnull (line);
      g_autoptr(GError) error = NULL;
      StudioEvent *event = studio_protocol_parse_event (line, &error);
      g_assert_no_error (error);
      if (event->kind != STUDIO_EVENT_PROGRESS)
        return event;
      studio_event_free (event);
    }
}

static void
expect_state (const char *id, const char *state)
{
  g_autoptr(StudioEvent) event = next_non_progress ();
  g_assert_cmpstr (studio_event_kind_name (event->kind), ==, "state");
  g_assert_cmpstr (event->id, ==, id);
  g_assert_cmpstr (json_object_get_string_member (event->object, "state"), ==, state);
}

static void
expect_error (const char *id, const char *code)
{
  g_autoptr(StudioEvent) event = next_non_progress ();
  g_assert_cmpstr (studio_event_kind_name (event->kind), ==, "error");
  g_assert_cmpstr (event->id, ==, id);
  g_assert_cmpstr (json_object_get_string_member (event->object, "code"), ==, code);
}

static void
expect_done (const char *id, const char *status)
{
  g_autoptr(StudioEvent) event = next_non_progress ();
  g_assert_cmpstr (studio_event_kind_name (event->kind), ==, "done");
  g_assert_cmpstr (event->id, ==, id);
  g_assert_cmpstr (json_object_get_string_member (event->object, "status"), ==, status);
}

static void
send (ServeSession *session, const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StudioRequest) request = studio_protocol_parse_request (line, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (serve_session_handle (session, request));
}

static void
wait_for_steps (int more)
{
  int target = g_atomic_int_get (&steps_done) + more;
  for (int i = 0; i < 5000 && g_atomic_int_get (&steps_done) < target; i++)
    g_usleep (1000);
  g_assert_cmpint (g_atomic_int_get (&steps_done), >=, target);
}

static void
drain (void)
{
  char *line;
  while ((line = g_async_queue_try_pop (lines)) != NULL)
    g_free (line);
}

static void
test_pause_resume_stop (void)
{
  ServeSession *session = serve_session_new (stepping_job);
  send (session, "{\"id\":\"r\",\"cmd\":\"train\",\"config\":\"c.yaml\"}");
  expect_state ("r", "running");
  wait_for_steps (3);

  send (session, "{\"id\":\"b\",\"cmd\":\"train\",\"config\":\"other.yaml\"}");
  expect_error ("b", "busy");

  send (session, "{\"id\":\"p\",\"cmd\":\"pause\"}");
  expect_state ("p", "paused");
  /* At most the step under way finishes; then nothing moves. */
  g_usleep (20000);
  int held = g_atomic_int_get (&steps_done);
  g_usleep (100000);
  g_assert_cmpint (g_atomic_int_get (&steps_done), ==, held);
  drain ();

  send (session, "{\"id\":\"p2\",\"cmd\":\"pause\"}");
  expect_state ("p2", "paused");

  send (session, "{\"id\":\"u\",\"cmd\":\"resume\"}");
  expect_state ("u", "running");
  wait_for_steps (3);

  send (session, "{\"id\":\"s\",\"cmd\":\"stop\",\"save_checkpoint\":false}");
  expect_state ("s", "stopping");
  expect_done ("r", "stopped");
  expect_state ("r", "idle");
  g_assert_cmpint (g_atomic_int_get (&saw_save_on_stop), ==, 0);

  /* Idle again: the next train is accepted, and stop from pause saves by default. */
  send (session, "{\"id\":\"r2\",\"cmd\":\"train\",\"config\":\"c.yaml\"}");
  expect_state ("r2", "running");
  send (session, "{\"id\":\"p3\",\"cmd\":\"pause\"}");
  expect_state ("p3", "paused");
  send (session, "{\"id\":\"s2\",\"cmd\":\"stop\"}");
  expect_state ("s2", "stopping");
  expect_done ("r2", "stopped");
  expect_state ("r2", "idle");
  g_assert_cmpint (g_atomic_int_get (&saw_save_on_stop), ==, 1);

  serve_session_free (session);
  drain ();
}

static void
test_cancel (void)
{
  ServeSession *session = serve_session_new (stepping_job);
  send (session, "{\"id\":\"r\",\"cmd\":\"train\",\"config\":\"c.yaml\"}");
  expect_state ("r", "running");
  send (session, "{\"id\":\"c1\",\"cmd\":\"cancel\",\"target\":\"nope\"}");
  expect_error ("c1", "no-run");
  send (session, "{\"id\":\"c2\",\"cmd\":\"cancel\",\"target\":\"r\"}");
  expect_state ("c2", "stopping");
  expect_done ("r", "stopped");
  expect_state ("r", "idle");
  serve_session_free (session);
  drain ();
}

static void
test_shutdown_during_run (void)
{
  ServeSession *session = serve_session_new (stepping_job);
  send (session, "{\"id\":\"r\",\"cmd\":\"train\",\"config\":\"c.yaml\"}");
  expect_state ("r", "running");
  send (session, "{\"id\":\"p\",\"cmd\":\"pause\"}");
  expect_state ("p", "paused");

  g_autoptr(GError) error = NULL;
  g_autoptr(StudioRequest) shutdown = studio_protocol_parse_request (
    "{\"id\":\"q\",\"cmd\":\"shutdown\"}", NULL, &error);
  g_assert_false (serve_session_handle (session, shutdown));
  /* Freeing wakes the paused run, stops it with a checkpoint and joins it. */
  serve_session_free (session);
  expect_done ("r", "stopped");
  expect_state ("r", "idle");
  g_assert_cmpint (g_atomic_int_get (&saw_save_on_stop), ==, 1);
  drain ();
}

static gpointer
wait_keep_going (gpointer data)
{
  return GINT_TO_POINTER (run_control_keep_going (data));
}

static void
test_run_control (void)
{
  RunControl control;
  run_control_init (&control);
  g_assert_true (run_control_keep_going (&control));

  /* A paused run blocks until resumed. */
  run_control_pause (&control);
  GThread *thread = g_thread_new ("waiter", wait_keep_going, &control);
  g_usleep (50000);
  run_control_resume (&control);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));

  /* Stop wakes a paused run and tells it to end, with the checkpoint choice. */
  run_control_pause (&control);
  thread = g_thread_new ("waiter", wait_keep_going, &control);
  g_usleep (50000);
  run_control_stop (&control, FALSE);
  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
  g_assert_false (run_control_save_on_stop (&control));

  run_control_reset (&control);
  g_assert_true (run_control_keep_going (&control));
  g_assert_true (run_control_save_on_stop (&control));
  run_control_clear (&control);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lines = g_async_queue_new_full (g_free);
  cli_emit_redirect (collect, NULL);
  g_test_add_func ("/serve-session/run-control", test_run_control);
  g_test_add_func ("/serve-session/pause-resume-stop", test_pause_resume_stop);
  g_test_add_func ("/serve-session/cancel", test_cancel);
  g_test_add_func ("/serve-session/shutdown-during-run", test_shutdown_during_run);
  return g_test_run ();
}
