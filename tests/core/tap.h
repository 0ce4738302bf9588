/* tap.h: a tiny TAP printer for the engine tests (no GLib in the engine): numbered
 * "ok N - ..." lines, "# ..." diagnostics, and the plan at the end. tests/io/io-test.h
 * builds on it. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__ ((format (printf, 2, 3))) static inline bool
tap_ok (bool ok, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  /* Flushed at once: a crash or a child process's output must not reorder the log. */
  fflush (stdout);
  if (!ok)
    tap_failed++;
  return ok;
}

__attribute__ ((format (printf, 1, 2))) static inline void
tap_diag (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("# ");
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  fflush (stdout);
}

static inline int
tap_done (void)
{
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}
