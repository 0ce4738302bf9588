/* run-control.h: pause, resume and stop for a run on another thread.
 *
 * The serve loop (main thread) calls pause/resume/stop as requests arrive; the
 * training thread calls run_control_keep_going() between steps, which blocks while
 * paused and returns FALSE once stop was asked for. */
#pragma once

#include <glib.h>

typedef struct {
  GMutex   lock;
  GCond    changed;
  gboolean paused;
  gboolean stop;
  gboolean save_on_stop;
  char    *sample_id;     /* a `sample` request waiting for the next step boundary */
} RunControl;

void     run_control_init (RunControl *control);
void     run_control_clear (RunControl *control);
/* Forgets pause and stop, for the next run. */
void     run_control_reset (RunControl *control);
void     run_control_pause (RunControl *control);
void     run_control_resume (RunControl *control);
void     run_control_stop (RunControl *control, gboolean save_checkpoint);
gboolean run_control_keep_going (RunControl *control);
gboolean run_control_save_on_stop (RunControl *control);
/* Asks the run for previews at its next step boundary, answering request ID; FALSE when
 * another request already waits for them. */
gboolean run_control_want_sample (RunControl *control, const char *id);
/* The id of the request waiting for previews (g_free), taking it; NULL when none. */
char    *run_control_take_sample (RunControl *control);
