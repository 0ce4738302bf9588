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
