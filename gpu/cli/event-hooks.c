/* event-hooks.c: run hooks -> protocol events (see event-hooks.h). */
#include "event-hooks.h"

#include "event-writer.h"
#include "studio-protocol.h"

static void
on_progress (void *user, const le_run_progress *p)
{
  CliEventSink *sink = user;
  StudioProgress progress = {
    .step = p->step, .total = p->total, .epoch = p->epoch,
    .loss = p->loss, .lr = p->lr, .it_s = p->it_s,
    .eta_s = p->eta_s, .elapsed_s = p->elapsed_s,
    .memory_used = p->memory_used, .memory_total = p->memory_total,
    .device = p->device,
  };
  cli_emit (studio_event_progress (sink->id, &progress));
}

static void
on_sample (void *user, long long step, const char *path, const char *prompt)
{
  CliEventSink *sink = user;
  /* Under the run's id, so the run's sample index records it like any other preview. */
  cli_emit (studio_event_sample (sink->id, step, path, prompt));
  if (sink->sample_id != NULL)
    g_ptr_array_add (sink->sample_paths, g_strdup (path));
}

static bool
sample_wanted (void *user)
{
  CliEventSink *sink = user;
  if (sink->control == NULL || sink->sample_id != NULL)
    return false;
  sink->sample_id = run_control_take_sample (sink->control);
  if (sink->sample_id == NULL)
    return false;
  sink->sample_paths = g_ptr_array_new_with_free_func (g_free);
  return true;
}

static void
answer_sample (CliEventSink *sink, const char *status)
{
  g_ptr_array_add (sink->sample_paths, NULL);
  cli_emit (studio_event_done (sink->sample_id, status,
                               (const char *const *) sink->sample_paths->pdata));
  g_clear_pointer (&sink->sample_id, g_free);
  g_clear_pointer (&sink->sample_paths, g_ptr_array_unref);
}

static void
sample_drawn (void *user, bool ok)
{
  CliEventSink *sink = user;
  if (sink->sample_id == NULL)
    return;
  if (!ok)
    cli_emit (studio_event_error (sink->sample_id, "sample",
                                  "drawing the previews failed; the run's error says why"));
  answer_sample (sink, ok ? "completed" : "failed");
}

void
cli_event_sink_end_samples (CliEventSink *sink)
{
  if (sink->sample_id == NULL && sink->control != NULL)
    {
      sink->sample_id = run_control_take_sample (sink->control);
      if (sink->sample_id != NULL)
        sink->sample_paths = g_ptr_array_new_with_free_func (g_free);
    }
  if (sink->sample_id == NULL)
    return;
  cli_emit (studio_event_error (sink->sample_id, "no-run",
                                "the run ended before its next step, so no preview was drawn "
                                "for this request; its final samples are in the run's samples "
                                "folder, or ask again now that it is over"));
  answer_sample (sink, "failed");
}

static void
on_checkpoint (void *user, long long step, const char *path)
{
  CliEventSink *sink = user;
  cli_emit (studio_event_checkpoint (sink->id, step, path));
}

static void
on_log (void *user, const char *level, const char *message)
{
  CliEventSink *sink = user;
  cli_emit (studio_event_log (sink->id, level, message));
}

static void
on_error (void *user, const char *code, const char *message)
{
  CliEventSink *sink = user;
  cli_emit (studio_event_error (sink->id, code, message));
}

static bool
keep_going (void *user)
{
  CliEventSink *sink = user;
  return run_control_keep_going (sink->control);
}

static bool
save_on_stop (void *user)
{
  CliEventSink *sink = user;
  return run_control_save_on_stop (sink->control);
}

void
cli_event_hooks_init (le_run_hooks *hooks, CliEventSink *sink)
{
  *hooks = (le_run_hooks) {
    .user = sink,
    .progress = on_progress,
    .sample = on_sample,
    .checkpoint = on_checkpoint,
    .log = on_log,
    .error = on_error,
    .keep_going = keep_going,
    .save_on_stop = save_on_stop,
    .sample_wanted = sample_wanted,
    .sample_drawn = sample_drawn,
  };
}
