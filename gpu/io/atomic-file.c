/* atomic-file.c: temp file + fsync + rename (see atomic-file.h). */
#include "atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
dir_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  if (slash == NULL)
    return strdup (".");
  if (slash == path)
    return strdup ("/");
  return strndup (path, (size_t) (slash - path));
}

bool
le_fsync_dir (const char *dir, le_error *err)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot open the folder: %s", dir, strerror (errno));
  /* Some file systems refuse fsync on folders (EINVAL); the rename is still done. */
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      int e = errno;
      close (fd);
      return le_fail (err, LE_ERR_IO, "%s: cannot sync the folder: %s", dir, strerror (e));
    }
  close (fd);
  return true;
}

bool
le_mkdir_p (const char *path, le_error *err)
{
  char *copy = strdup (path);
  if (copy == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory");
  for (char *p = copy + 1; ; p++)
    {
      if (*p == '/' || *p == '\0')
        {
          char saved = *p;
          *p = '\0';
          if (mkdir (copy, 0777) != 0 && errno != EEXIST)
            {
              le_fail (err, LE_ERR_IO, "cannot create the folder %s: %s", copy, strerror (errno));
              free (copy);
              return false;
            }
          *p = saved;
          if (saved == '\0')
            break;
        }
    }
  free (copy);
  struct stat st;
  if (stat (path, &st) != 0 || !S_ISDIR (st.st_mode))
    return le_fail (err, LE_ERR_IO, "%s exists and is not a folder", path);
  return true;
}

bool
le_atomic_open (le_atomic_file *f, const char *path, le_error *err)
{
  memset (f, 0, sizeof *f);
  size_t n = strlen (path);
  f->path = strdup (path);
  f->tmp_path = malloc (n + 16);
  if (f->path == NULL || f->tmp_path == NULL)
    {
      le_atomic_abort (f);
      return le_fail (err, LE_ERR_MEMORY, "out of memory");
    }
  snprintf (f->tmp_path, n + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp (f->tmp_path);
  if (fd < 0)
    {
      int e = errno;
      free (f->tmp_path);
      f->tmp_path = NULL;
      le_atomic_abort (f);
      return le_fail (err, LE_ERR_IO, "%s: cannot create a temporary file next to it: %s",
                      path, strerror (e));
    }
  /* mkstemp makes 0600; a saved model should be as readable as any file the user makes. */
  mode_t mask = umask (0);
  umask (mask);
  fchmod (fd, 0666 & ~mask);
  f->fp = fdopen (fd, "wb");
  if (f->fp == NULL)
    {
      int e = errno;
      close (fd);
      le_atomic_abort (f);
      return le_fail (err, LE_ERR_IO, "%s: %s", path, strerror (e));
    }
  return true;
}

bool
le_atomic_write (le_atomic_file *f, const void *data, size_t len, le_error *err)
{
  if (len > 0 && fwrite (data, 1, len, f->fp) != len)
    return le_fail (err, LE_ERR_IO, "%s: cannot write (is the disk full?): %s", f->path,
                    strerror (errno));
  return true;
}

bool
le_atomic_commit (le_atomic_file *f, le_error *err)
{
  bool ok = true;
  if (fflush (f->fp) != 0 || ferror (f->fp))
    ok = le_fail (err, LE_ERR_IO, "%s: cannot write (is the disk full?): %s", f->path,
                  strerror (errno));
  else if (fsync (fileno (f->fp)) != 0)
    ok = le_fail (err, LE_ERR_IO, "%s: cannot sync to disk: %s", f->path, strerror (errno));
  if (fclose (f->fp) != 0 && ok)
    ok = le_fail (err, LE_ERR_IO, "%s: cannot close: %s", f->path, strerror (errno));
  f->fp = NULL;
  if (ok && rename (f->tmp_path, f->path) != 0)
    ok = le_fail (err, LE_ERR_IO, "%s: cannot replace the file: %s", f->path, strerror (errno));
  if (!ok)
    {
      le_atomic_abort (f);
      return false;
    }
  char *dir = dir_of (f->path);
  if (dir != NULL)
    ok = le_fsync_dir (dir, err);
  free (dir);
  free (f->tmp_path);
  f->tmp_path = NULL;
  le_atomic_abort (f);
  return ok;
}

bool
le_atomic_write_file (const char *path, const void *data, size_t len, le_error *err)
{
  le_atomic_file f;
  if (!le_atomic_open (&f, path, err))
    return false;
  if (!le_atomic_write (&f, data, len, err))
    {
      le_atomic_abort (&f);
      return false;
    }
  return le_atomic_commit (&f, err);
}

void
le_atomic_abort (le_atomic_file *f)
{
  if (f->fp != NULL)
    fclose (f->fp);
  if (f->tmp_path != NULL)
    unlink (f->tmp_path);
  free (f->tmp_path);
  free (f->path);
  memset (f, 0, sizeof *f);
}
