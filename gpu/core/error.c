/* error.c: engine error values (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
le_fail (le_error *err, le_error_code code, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  va_list ap;
  va_start (ap, fmt);
  err->code = code;
  vsnprintf (err->message, sizeof err->message, fmt, ap);
  va_end (ap);
  return false;
}

bool
le_error_prefix (le_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  char prefix[512];
  char old[sizeof err->message];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  memcpy (old, err->message, sizeof old);
  /* prefix + ": " + old, cut to fit (plain copies: snprintf would warn about the cut) */
  size_t cap = sizeof err->message - 1, n = 0;
  for (const char *parts[] = { prefix, ": ", old }, **p = parts; p < parts + 3; p++)
    for (const char *c = *p; *c && n < cap; c++)
      err->message[n++] = *c;
  err->message[n] = '\0';
  return false;
}

const char *
le_error_code_name (le_error_code code)
{
  switch (code)
    {
    case LE_OK: return "ok";
    case LE_ERR_IO: return "io";
    case LE_ERR_FORMAT: return "format";
    case LE_ERR_UNSUPPORTED: return "unsupported";
    case LE_ERR_INVALID: return "invalid";
    case LE_ERR_MEMORY: return "out-of-memory";
    case LE_ERR_DEVICE: return "device";
    case LE_ERR_NUMERIC: return "non-finite";
    case LE_ERR_CANCELLED: return "cancelled";
    }
  return "unknown";
}

void *
le_malloc (size_t size, const char *what, le_error *err)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    le_fail (err, LE_ERR_MEMORY, "out of memory allocating %zu bytes for %s", size, what);
  return p;
}

void *
le_calloc (size_t count, size_t size, const char *what, le_error *err)
{
  void *p = calloc (count ? count : 1, size ? size : 1);
  if (p == NULL)
    le_fail (err, LE_ERR_MEMORY, "out of memory allocating %zu x %zu bytes for %s",
             count, size, what);
  return p;
}
