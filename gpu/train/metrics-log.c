/* metrics-log.c: JSON Lines metrics (see metrics-log.h). */
#include "metrics-log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool
le_metrics_open (le_metrics_log *m, const char *path, le_error *err)
{
  memset (m, 0, sizeof *m);
  m->fp = fopen (path, "a");
  if (m->fp == NULL)
    return le_fail (err, LE_ERR_IO, "%s: cannot open the metrics log: %s", path, strerror (errno));
  m->path = strdup (path);
  return true;
}

static void
number (char *buf, size_t n, double v)
{
  if (isfinite (v))
    snprintf (buf, n, "%.9g", v);
  else
    snprintf (buf, n, "null");
}

bool
le_metrics_write (le_metrics_log *m, int64_t step, int64_t epoch, double loss, double lr,
                  double time, le_error *err)
{
  char l[40], r[40], t[40];
  number (l, sizeof l, loss);
  number (r, sizeof r, lr);
  number (t, sizeof t, time);
  if (fprintf (m->fp, "{\"step\": %lld, \"epoch\": %lld, \"loss\": %s, \"lr\": %s, \"time\": %s}\n",
               (long long) step, (long long) epoch, l, r, t) < 0
      || fflush (m->fp) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot write (is the disk full?): %s",
                    m->path ? m->path : "metrics log", strerror (errno));
  return true;
}

void
le_metrics_close (le_metrics_log *m)
{
  if (m->fp != NULL)
    fclose (m->fp);
  free (m->path);
  memset (m, 0, sizeof *m);
}
