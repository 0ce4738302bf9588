/* device-list.c: probe GPUs (through gpu/cuda/device-probe.h) and the CPU. */
#include "config.h"

#include "device-list.h"

#include <string.h>
#include <unistd.h>

#if HAVE_CUDA
#include "device-probe.h"
#endif

#define MAX_CUDA_DEVICES 16

/* "model name" on x86, "Model" or "Hardware" on some ARM kernels. */
static char *
cpu_model_name (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return g_strdup ("CPU");
  const char *keys[] = { "model name", "Model", "Hardware", "cpu model" };
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    for (guint i = 0; lines[i] != NULL; i++)
      {
        const char *colon = strchr (lines[i], ':');
        if (colon == NULL || !g_str_has_prefix (lines[i], keys[k]))
          continue;
        g_autofree char *key = g_strstrip (g_strndup (lines[i], colon - lines[i]));
        if (g_strcmp0 (key, keys[k]) == 0)
          return g_strstrip (g_strdup (colon + 1));
      }
  return g_strdup ("CPU");
}

static guint64
host_memory_total (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? (guint64) pages * (guint64) page_size : 0;
}

CliDeviceList *
cli_device_list_probe (void)
{
  CliDeviceList *list = g_new0 (CliDeviceList, 1);
  list->strings = g_ptr_array_new_with_free_func (g_free);
  list->devices = g_new0 (StudioDevice, MAX_CUDA_DEVICES + 1);

#if HAVE_CUDA
  le_cuda_device_info info[MAX_CUDA_DEVICES];
  le_error err = { 0 };
  int count = le_cuda_probe (info, MAX_CUDA_DEVICES, &err);
  if (count < 0)
    list->cuda_unavailable = g_strdup (err.message);
  for (int i = 0; i < count && i < MAX_CUDA_DEVICES; i++)
    {
      StudioDevice *d = &list->devices[list->n_devices++];
      char *name = g_strdup (info[i].name);
      g_ptr_array_add (list->strings, name);
      d->kind = "cuda";
      d->index = i;
      d->name = name;
      d->memory_total = info[i].memory_total;
      d->cc_major = info[i].cc_major;
      d->cc_minor = info[i].cc_minor;
      d->cores = info[i].multiprocessors;
    }
#else
  list->cuda_unavailable = g_strdup ("this lora-engine was built without CUDA "
                                     "(meson -Dcuda=disabled, or nvcc and cuBLAS were not "
                                     "found); rebuild with -Dcuda=enabled to train on a GPU");
#endif

  StudioDevice *cpu = &list->devices[list->n_devices++];
  char *name = cpu_model_name ();
  g_ptr_array_add (list->strings, name);
  cpu->kind = "cpu";
  cpu->index = 0;
  cpu->name = name;
  cpu->memory_total = host_memory_total ();
  cpu->cores = (int) g_get_num_processors ();
  return list;
}

void
cli_device_list_free (CliDeviceList *list)
{
  if (list == NULL)
    return;
  g_free (list->devices);
  g_free (list->cuda_unavailable);
  g_ptr_array_unref (list->strings);
  g_free (list);
}
