/* studio-atomic-file.c: crash-safe file replacement (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "studio-atomic-file.h"

/* FORMAT is a whole translated sentence with the path and the system's reason in it. */
static gboolean
set_errno_error (GError **error, int err, const char *format, const char *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), format, path, g_strerror (err));
  return FALSE;
}

/* fsync the folder so that the rename itself is on disk, not only the data. */
static void
sync_parent_folder (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

gboolean
studio_atomic_write (const char *path, const void *data, gsize len, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  const char *p = data;
  gsize left = len;
  int fd;

  fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return set_errno_error (error, errno, _("Cannot create a temporary file beside “%s”: %s"), path);

  while (left > 0)
    {
      ssize_t n = write (fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int err = errno;
          close (fd);
          g_unlink (tmpl);
          return set_errno_error (error, err, _("Cannot write “%s”: %s"), path);
        }
      p += n;
      left -= (gsize) n;
    }

  if (fsync (fd) != 0 || close (fd) != 0)
    {
      int err = errno;
      g_unlink (tmpl);
      return set_errno_error (error, err, _("Cannot flush “%s” to the disk: %s"), path);
    }

  if (g_rename (tmpl, path) != 0)
    {
      int err = errno;
      g_unlink (tmpl);
      return set_errno_error (error, err, _("Cannot replace “%s”: %s"), path);
    }

  sync_parent_folder (path);
  return TRUE;
}
