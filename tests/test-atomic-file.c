/* test-atomic-file.c: the crash-safe writer replaces files whole, or not at all. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "studio-atomic-file.h"

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("atomic-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

/* N bytes of C, to be freed */
static char *
filled (char c, gsize n)
{
  char *buffer = g_malloc (n);

  memset (buffer, c, n);
  return buffer;
}

/* How many entries DIR holds: a save leaves its file, never a temporary beside it. */
static int
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int n = 0;

  while (d != NULL && g_dir_read_name (d))
    n++;
  return n;
}

static void
test_replaces_content (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "caption.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *got = NULL;

  g_assert_true (studio_atomic_write (path, "old", 3, &error));
  g_assert_true (studio_atomic_write (path, "new text", 8, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &got, NULL, NULL));
  g_assert_cmpstr (got, ==, "new text");

  /* No temporary file is left behind. */
  g_assert_cmpint (count_files (dir), ==, 1);
}

static void
test_missing_folder_is_an_error (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (studio_atomic_write ("/nonexistent-folder/x/y.txt", "a", 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "y.txt"));
}

/* A child process killed at random points while rewriting the same file over and over
 * must leave the old or the new content, never a mix or an empty file. */
static void
test_killed_writer_leaves_old_or_new (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "metadata.csv", NULL);
  gsize big = 1 << 20;
  g_autofree char *a = filled ('a', big);
  g_autofree char *b = filled ('b', big);
  g_assert_true (studio_atomic_write (path, a, big, NULL));

  for (int round = 0; round < 20; round++)
    {
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          for (;;)
            {
              studio_atomic_write (path, b, big, NULL);
              studio_atomic_write (path, a, big, NULL);
            }
        }
      g_usleep (1000 + g_random_int_range (0, 20000));
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);

      g_autofree char *got = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (path, &got, &len, NULL));
      g_assert_cmpuint (len, ==, big);
      g_assert_true (memcmp (got, a, big) == 0 || memcmp (got, b, big) == 0);
    }
}

/* A disk that fills up in the middle of a save (a file size limit makes write() fail
 * the same way): the save reports the file, the old content stays, and no temporary
 * file is left to fill the disk further. */
static void
test_full_disk_keeps_old_content (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "metadata.csv", NULL);
  gsize big = 1 << 20;
  g_autofree char *a = filled ('a', big);
  g_autofree char *got = NULL;
  gsize len = 0;
  int status = 0;
  pid_t pid;

  g_assert_true (studio_atomic_write (path, "old caption", 11, NULL));
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit limit = { 64 * 1024, 64 * 1024 };
      GError *error = NULL;
      gboolean saved;

      signal (SIGXFSZ, SIG_IGN);
      setrlimit (RLIMIT_FSIZE, &limit);
      saved = studio_atomic_write (path, a, big, &error);
      /* Exit codes tell the parent what went wrong: 1 the save claimed success, 2 no
       * error was set, 3 the message does not name the file. */
      if (saved)
        _exit (1);
      if (error == NULL)
        _exit (2);
      _exit (strstr (error->message, path) != NULL ? 0 : 3);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  g_assert_true (g_file_get_contents (path, &got, &len, NULL));
  g_assert_cmpstr (got, ==, "old caption");
  g_assert_cmpint (count_files (dir), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/atomic/replaces-content", test_replaces_content);
  g_test_add_func ("/atomic/missing-folder", test_missing_folder_is_an_error);
  g_test_add_func ("/atomic/killed-writer", test_killed_writer_leaves_old_or_new);
  g_test_add_func ("/atomic/full-disk", test_full_disk_keeps_old_content);
  return g_test_run ();
}
