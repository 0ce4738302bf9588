/* read-file.c: a whole file into one NUL-terminated buffer, a file's magic bytes, and which
 * file a folder argument means (see read-file.h). */
#include "read-file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *
le_read_file (const char *path, size_t max, const char *what, size_t *len, le_error *err)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    {
      le_fail (err, LE_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
      return NULL;
    }
  char *buf = NULL;
  size_t n = 0, cap = 0, got;
  do
    {
      if (max > 0 && n > max)
        {
          free (buf);
          fclose (fp);
          le_fail (err, LE_ERR_FORMAT, "%s: too big for %s", path, what);
          return NULL;
        }
      if (n + 4096 + 1 > cap)
        {
          cap = cap ? cap * 2 : 8192;
          char *grown = realloc (buf, cap);
          if (grown == NULL)
            {
              free (buf);
              fclose (fp);
              le_fail (err, LE_ERR_MEMORY, "%s: out of memory", path);
              return NULL;
            }
          buf = grown;
        }
      got = fread (buf + n, 1, cap - n - 1, fp);
      n += got;
    }
  while (got > 0);
  bool bad = ferror (fp);
  fclose (fp);
  if (bad)
    {
      free (buf);
      le_fail (err, LE_ERR_IO, "%s: read error", path);
      return NULL;
    }
  buf[n] = '\0';
  *len = n;
  return buf;
}

bool
le_read_magic (const char *path, unsigned char magic[4])
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return false;
  size_t n = fread (magic, 1, 4, fp);
  fclose (fp);
  return n == 4;
}

void
le_file_in_folder (char *buf, size_t n, const char *path, const char *name)
{
  struct stat st;
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    snprintf (buf, n, "%s/%s", path, name);
  else
    snprintf (buf, n, "%s", path);
}
