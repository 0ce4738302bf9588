/* tap.h: a tiny TAP printer for the text tests (plan at the end, "ok N - name"). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

__attribute__ ((format (printf, 2, 3))) static bool
tap_ok (bool ok, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%s %d - ", ok ? "ok" : "not ok", ++tap_count);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  if (!ok)
    tap_failed++;
  fflush (stdout);
  return ok;
}

static int
tap_done (void)
{
  printf ("1..%d\n", tap_count);
  return tap_failed ? 1 : 0;
}
