/* run-control.c: the pause/stop handshake between serve and a run (see the header). */
#include "run-control.h"

void
run_control_init (RunControl *control)
{
  g_mutex_init (&control->lock);
  g_cond_init (&control->changed);
  control->paused = FALSE;
  control->stop = FALSE;
  control->save_on_stop = TRUE;
  control->sample_id = NULL;
}

void
run_control_clear (RunControl *control)
{
  g_clear_pointer (&control->sample_id, g_free);
  g_mutex_clear (&control->lock);
  g_cond_clear (&control->changed);
}

void
run_control_reset (RunControl *control)
{
  g_mutex_lock (&control->lock);
  control->paused = FALSE;
  control->stop = FALSE;
  control->save_on_stop = TRUE;
  g_clear_pointer (&control->sample_id, g_free);
  g_mutex_unlock (&control->lock);
}

void
run_control_pause (RunControl *control)
{
  g_mutex_lock (&control->lock);
  control->paused = TRUE;
  g_mutex_unlock (&control->lock);
}

void
run_control_resume (RunControl *control)
{
  g_mutex_lock (&control->lock);
  control->paused = FALSE;
  g_cond_broadcast (&control->changed);
  g_mutex_unlock (&control->lock);
}

void
run_control_stop (RunControl *control, gboolean save_checkpoint)
{
  g_mutex_lock (&control->lock);
  control->stop = TRUE;
  control->save_on_stop = save_checkpoint;
  /* A paused run must wake up to notice the stop. */
  g_cond_broadcast (&control->changed);
  g_mutex_unlock (&control->lock);
}

gboolean
run_control_keep_going (RunControl *control)
{
  g_mutex_lock (&control->lock);
  while (control->paused && !control->stop)
    g_cond_wait (&control->changed, &control->lock);
  gboolean go = !control->stop;
  g_mutex_unlock (&control->lock);
  return go;
}

gboolean
run_control_save_on_stop (RunControl *control)
{
  g_mutex_lock (&control->lock);
  gboolean save = control->save_on_stop;
  g_mutex_unlock (&control->lock);
  return save;
}

gboolean
run_control_want_sample (RunControl *control, const char *id)
{
  g_mutex_lock (&control->lock);
  gboolean free_slot = control->sample_id == NULL;
  if (free_slot)
    control->sample_id = g_strdup (id);
  g_mutex_unlock (&control->lock);
  return free_slot;
}

char *
run_control_take_sample (RunControl *control)
{
  g_mutex_lock (&control->lock);
  char *id = g_steal_pointer (&control->sample_id);
  g_mutex_unlock (&control->lock);
  return id;
}
