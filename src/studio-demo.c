/* studio-demo.c: locating the shipped demo project and copying it for the user. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "studio-demo.h"

char *
studio_demo_get_shipped_dir (void)
{
  const char *env = g_getenv ("LORA_STUDIO_DATADIR");
  g_autofree char *exe = NULL;
  g_autofree char *exe_dir = NULL;

  if (env != NULL && *env != '\0')
    return g_build_filename (env, "demo", NULL);

#ifdef STUDIO_UNINSTALLED_DATADIR
  /* A binary run from the build tree uses the demo the build drew; an installed one
   * (living in BINDIR) uses the installed copy even if the build tree still exists. */
  exe = g_file_read_link ("/proc/self/exe", NULL);
  exe_dir = exe ? g_path_get_dirname (exe) : NULL;
  if (g_strcmp0 (exe_dir, BINDIR) != 0)
    {
      g_autofree char *uninstalled = g_build_filename (STUDIO_UNINSTALLED_DATADIR, "demo", NULL);
      if (g_file_test (uninstalled, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&uninstalled);
    }
#endif

  return g_build_filename (PKGDATADIR, "demo", NULL);
}

char *
studio_demo_get_user_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "lora-studio", "demo", NULL);
}

static gboolean
copy_tree (GFile *src, GFile *dest, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFileEnumerator) children = NULL;

  if (!g_file_make_directory_with_parents (dest, cancellable, error))
    return FALSE;

  children = g_file_enumerate_children (src,
                                        G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        cancellable, error);
  if (children == NULL)
    return FALSE;

  for (;;)
    {
      GFileInfo *info;
      GFile *child;
      g_autoptr (GFile) target = NULL;

      if (!g_file_enumerator_iterate (children, &info, &child, cancellable, error))
        return FALSE;
      if (info == NULL)
        break;

      target = g_file_get_child (dest, g_file_info_get_name (info));
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        {
          if (!copy_tree (child, target, cancellable, error))
            return FALSE;
        }
      else if (!g_file_copy (child, target, G_FILE_COPY_NONE, cancellable, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static void
prepare_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autofree char *shipped_path = studio_demo_get_shipped_dir ();
  g_autofree char *user_path = studio_demo_get_user_dir ();
  g_autofree char *partial_path = g_strconcat (user_path, ".partial", NULL);
  g_autoptr (GFile) shipped = g_file_new_for_path (shipped_path);
  g_autoptr (GFile) user = g_file_new_for_path (user_path);
  g_autoptr (GFile) partial = g_file_new_for_path (partial_path);
  g_autoptr (GError) error = NULL;

  if (g_file_test (user_path, G_FILE_TEST_IS_DIR))
    {
      g_task_return_pointer (task, g_steal_pointer (&user), g_object_unref);
      return;
    }

  if (!g_file_test (shipped_path, G_FILE_TEST_IS_DIR))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("The demo project is not installed (looked in “%s”). "
                                 "Reinstall LoRA Studio, or build it with meson first."),
                               shipped_path);
      return;
    }

  /* A copy interrupted earlier leaves a .partial folder: start over. */
  if (g_file_test (partial_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *stale = g_strdup_printf ("%s.stale-%" G_GINT64_FORMAT,
                                                partial_path, g_get_real_time ());
      if (g_rename (partial_path, stale) != 0)
        {
          int saved = errno;
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Cannot move the unfinished copy “%s” aside: %s"),
                                   partial_path, g_strerror (saved));
          return;
        }
    }

  if (!copy_tree (shipped, partial, cancellable, &error))
    {
      g_task_return_new_error (task, error->domain, error->code,
                               _("Cannot copy the demo project to “%s”: %s"),
                               user_path, error->message);
      return;
    }

  if (g_rename (partial_path, user_path) != 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Cannot create the demo project “%s”: %s"),
                               user_path, g_strerror (saved));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&user), g_object_unref);
}

void
studio_demo_prepare_async (GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, studio_demo_prepare_async);
  g_task_run_in_thread (task, prepare_thread);
}

GFile *
studio_demo_prepare_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
