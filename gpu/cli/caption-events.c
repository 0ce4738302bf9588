/* caption-events.c: caption job hooks that speak the protocol (see caption-events.h). */
#include "config.h"

#include "caption-events.h"

#include <math.h>

#include "event-writer.h"
#include "studio-protocol.h"

static void
on_progress (gpointer data, int done, int total, double elapsed_s)
{
  CaptionEventSink *sink = data;
  double rate = elapsed_s > 0 && done > 0 ? done / elapsed_s : NAN;
  StudioProgress p = {
    .step = done, .total = total, .epoch = 1, .loss = NAN, .lr = NAN, .it_s = rate,
    .eta_s = isfinite (rate) ? (total - done) / rate : NAN, .elapsed_s = elapsed_s,
    .memory_used = -1, .memory_total = -1, .device = NULL,
  };
  /* the protocol's progress with "done" beside "step", so a caption progress reads as such */
  g_autofree char *line = studio_event_progress (sink->id, &p);
  g_autoptr(JsonNode) node = json_from_string (line, NULL);
  if (node == NULL)
    {
      cli_emit (g_steal_pointer (&line));
      return;
    }
  json_object_set_int_member (json_node_get_object (node), "done", done);
  cli_emit (json_to_string (node, FALSE));
}

static void
on_caption (gpointer data, const char *filename, const char *caption)
{
  CaptionEventSink *sink = data;
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "filename", filename);
  json_object_set_string_member (o, "caption", caption);
  cli_emit (studio_event_result (sink->id, o));
}

static void
on_skipped (gpointer data, const char *filename, const char *why)
{
  (void) filename;
  CaptionEventSink *sink = data;
  cli_emit (studio_event_log (sink->id, "warning", why));
}

static void
on_log (gpointer data, const char *level, const char *message)
{
  CaptionEventSink *sink = data;
  cli_emit (studio_event_log (sink->id, level, message));
}

static gboolean
on_cancelled (gpointer data)
{
  CaptionEventSink *sink = data;
  return g_atomic_int_get (&sink->cancelled) != 0;
}

void
caption_event_hooks_init (CaptionJobHooks *hooks, CaptionEventSink *sink)
{
  *hooks = (CaptionJobHooks) {
    .progress = on_progress, .caption = on_caption, .skipped = on_skipped, .log = on_log,
    .cancelled = on_cancelled, .data = sink,
  };
}

void
caption_events_finish (CaptionEventSink *sink, CaptionJobStatus status, GPtrArray *outputs,
                       const le_error *err)
{
  if (status == CAPTION_JOB_FAILED)
    cli_emit (studio_event_error (sink->id, caption_job_error_code (err), err->message));
  g_ptr_array_add (outputs, NULL);
  const char *name = status == CAPTION_JOB_COMPLETED ? "completed"
                   : status == CAPTION_JOB_CANCELLED ? "cancelled" : "failed";
  cli_emit (studio_event_done (sink->id, name, (const char *const *) outputs->pdata));
  g_ptr_array_remove_index (outputs, outputs->len - 1);
}
