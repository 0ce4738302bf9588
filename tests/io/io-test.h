/* io-test.h: the TAP printer (tests/core/tap.h) plus a skip-all, temporary folders, file
 * and Python helpers for the engine's io/train tests (plain C, like the engine). Each test
 * binary numbers its checks and prints the plan at the end. */
#pragma once

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/tap.h"

__attribute__ ((unused)) static void
tap_skip_all (const char *why)
{
  printf ("1..0 # SKIP %s\n", why);
  exit (0);
}

/* A fresh temporary folder for this test run. */
__attribute__ ((unused)) static char *
test_tmpdir (const char *name)
{
  const char *base = getenv ("TMPDIR");
  char *dir = malloc (4096);
  snprintf (dir, 4096, "%s/%s-XXXXXX", base ? base : "/tmp", name);
  if (mkdtemp (dir) == NULL)
    {
      perror ("mkdtemp");
      exit (1);
    }
  return dir;
}

__attribute__ ((unused)) static bool
write_bytes (const char *path, const void *data, size_t len)
{
  FILE *fp = fopen (path, "wb");
  if (fp == NULL)
    return false;
  bool ok = fwrite (data, 1, len, fp) == len;
  return fclose (fp) == 0 && ok;
}

__attribute__ ((unused)) static unsigned char *
read_bytes (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return NULL;
  fseek (fp, 0, SEEK_END);
  long n = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  unsigned char *buf = malloc ((size_t) n + 1);
  *len = fread (buf, 1, (size_t) n, fp);
  buf[*len] = 0;
  fclose (fp);
  return buf;
}

/* Runs the reference Python (argv[1] of the test, the venv's python3) on a script. */
static int
run_python (const char *python, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3), unused));

static int
run_python (const char *python, const char *fmt, ...)
{
  char args[8192], cmd[9000];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (args, sizeof args, fmt, ap);
  va_end (ap);
  snprintf (cmd, sizeof cmd, "'%s' %s", python, args);
  fflush (stdout);
  int rc = system (cmd);
  return WIFEXITED (rc) ? WEXITSTATUS (rc) : -1;
}

__attribute__ ((unused)) static void
rm_rf (const char *dir)
{
  char cmd[4200];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    tap_diag ("could not remove %s", dir);
}
