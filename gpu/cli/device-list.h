/* device-list.h: every compute device this engine can use (CUDA GPUs, then the
 * CPU), and why CUDA is unavailable when it is; for `devices` and `hello`. */
#pragma once

#include <glib.h>

#include "studio-protocol.h"

typedef struct {
  StudioDevice *devices;
  guint         n_devices;
  char         *cuda_unavailable;   /* NULL when at least one GPU is usable */
  GPtrArray    *strings;            /* owns the devices' names */
} CliDeviceList;

CliDeviceList *cli_device_list_probe (void);
void           cli_device_list_free (CliDeviceList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliDeviceList, cli_device_list_free)
