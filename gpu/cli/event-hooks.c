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
  cli_emit (studio_event_sample (sink->id, step, path, prompt));
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
  };
}
