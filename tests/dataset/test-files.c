/* test-files.c: the files the dataset and project tests make (see test-files.h). */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <stdarg.h>

#include "test-files.h"

char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("studio-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

gboolean
write_image (const char *dir, const char *name, const char *format, int w, int h)
{
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        p[0] = (guchar) (x * 255 / MAX (w - 1, 1));
        p[1] = (guchar) (y * 255 / MAX (h - 1, 1));
        p[2] = (guchar) ((x * y) & 0xff);
      }
  if (!gdk_pixbuf_save (pixbuf, path, format, &error, NULL))
    {
      g_assert_true (g_str_equal (format, "webp"));
      return FALSE;
    }
  return TRUE;
}

void
write_text (const char *dir, const char *name, const char *text, gssize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, text, len, &error));
}

char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

void
write_images (const char *dir, ...)
{
  va_list ap;
  va_start (ap, dir);
  for (const char *name; (name = va_arg (ap, const char *)) != NULL;)
    write_image (dir, name,
                 g_str_has_suffix (name, ".jpg") ? "jpeg" : g_str_has_suffix (name, ".bmp") ? "bmp" : "png",
                 8, 8);
  va_end (ap);
}
