/* cmd-devices.c: `lora-engine devices [--json]`: the GPUs and CPU this engine can
 * train on, and in plain words why CUDA is unavailable when it is. */
#include "config.h"

#include <stdio.h>

#include "commands.h"
#include "device-list.h"
#include "studio-protocol.h"

static void
print_json (CliDeviceList *list)
{
  g_autoptr(JsonObject) object = json_object_new ();
  json_object_set_string_member (object, "protocol", studio_protocol_version ());
  json_object_set_string_member (object, "engine", PACKAGE_VERSION);
  json_object_set_boolean_member (object, "cuda_built", HAVE_CUDA);
  json_object_set_array_member (object, "devices",
                                studio_devices_to_json (list->devices, list->n_devices));
  if (list->cuda_unavailable != NULL)
    json_object_set_string_member (object, "cuda_unavailable", list->cuda_unavailable);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, object);
  g_autofree char *text = json_to_string (root, TRUE);
  printf ("%s\n", text);
}

static void
print_text (CliDeviceList *list)
{
  for (guint i = 0; i < list->n_devices; i++)
    {
      const StudioDevice *d = &list->devices[i];
      g_autofree char *memory = g_format_size_full (d->memory_total, G_FORMAT_SIZE_IEC_UNITS);
      if (g_strcmp0 (d->kind, "cuda") == 0)
        printf ("cuda:%d  %s, %s, compute capability %d.%d, %d multiprocessors\n",
                d->index, d->name, memory, d->cc_major, d->cc_minor, d->cores);
      else
        printf ("cpu     %s, %d cores, %s memory\n", d->name, d->cores, memory);
    }
  if (list->cuda_unavailable != NULL)
    printf ("CUDA unavailable: %s.\nTraining runs on the CPU.\n", list->cuda_unavailable);
}

int
cmd_devices (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the list as JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- list compute devices");
  g_option_context_set_summary (context,
    "Lists the CUDA GPUs (name, memory, compute capability) and the CPU (model, cores,\n"
    "memory) this engine can train on, and says why CUDA is unavailable when it is.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;

  g_autoptr(CliDeviceList) list = cli_device_list_probe ();
  if (json)
    print_json (list);
  else
    print_text (list);
  return CLI_EXIT_OK;
}
