/* studio-config-panel-model.c: a quick local look at a base model path: the safetensors
 * header (8-byte little-endian length, then JSON) or a model folder's JSON config. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "studio-config-panel-model.h"

#define HEADER_MAX (100u * 1024 * 1024)

static char *
describe_safetensors (const char *path, guint64 file_size)
{
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) dtypes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autofree char *size_text = g_format_size (file_size);
  const guint8 *bytes;
  guint64 header_len = 0;
  JsonObject *header;
  const char *kind = _("safetensors file");
  const char *main_dtype = "?";
  guint n_tensors = 0, best = 0;
  GHashTableIter iter;
  gpointer k, v;
  g_autoptr (GList) members = NULL;

  mapped = g_mapped_file_new (path, FALSE, &error);
  if (mapped == NULL)
    return g_strdup_printf (_("cannot read %s: %s"), path, error->message);
  bytes = (const guint8 *) g_mapped_file_get_contents (mapped);
  if (g_mapped_file_get_length (mapped) < 8)
    return g_strdup_printf (_("%s is too short to be a safetensors file"), path);
  for (int i = 7; i >= 0; i--)
    header_len = header_len << 8 | bytes[i];
  if (header_len > HEADER_MAX || header_len > g_mapped_file_get_length (mapped) - 8)
    return g_strdup_printf (_("%s is not a safetensors file (its header length %llu does not fit the file)"),
                            path, (unsigned long long) header_len);
  if (!json_parser_load_from_data (parser, (const char *) bytes + 8, (gssize) header_len, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup_printf (_("%s has a broken safetensors header: %s"), path,
                            error != NULL ? error->message : _("not a JSON object"));
  header = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (header);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (header, l->data);
      const char *dtype;

      if (g_str_equal (l->data, "__metadata__") || !JSON_NODE_HOLDS_OBJECT (node))
        continue;
      n_tensors++;
      dtype = json_object_get_string_member_with_default (json_node_get_object (node), "dtype", "?");
      g_hash_table_insert (dtypes, (gpointer) dtype,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (dtypes, dtype)) + 1));
      if (g_str_has_prefix (l->data, "lora_unet_") || strstr (l->data, "lora_A") != NULL)
        kind = _("a LoRA, not a base model");
      else if (g_str_has_prefix (l->data, "model.diffusion_model.") && kind[0] != 'a')
        kind = _("Stable Diffusion checkpoint");
    }
  g_hash_table_iter_init (&iter, dtypes);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (GPOINTER_TO_UINT (v) > best)
      best = GPOINTER_TO_UINT (v), main_dtype = k;
  return g_strdup_printf (_("%s · %u tensors · %s · %s"), kind, n_tensors, main_dtype, size_text);
}

static char *
describe_folder (const char *path)
{
  g_autofree char *config = g_build_filename (path, "config.json", NULL);
  g_autofree char *index = g_build_filename (path, "model_index.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (g_file_test (index, G_FILE_TEST_IS_REGULAR))
    return g_strdup (_("diffusers model folder (model_index.json)"));
  if (g_file_test (config, G_FILE_TEST_IS_REGULAR)
      && json_parser_load_from_file (parser, config, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *object = json_node_get_object (json_parser_get_root (parser));
      const char *type = json_object_get_string_member_with_default (object, "model_type", "?");
      gint64 layers = json_object_get_int_member_with_default (object, "num_hidden_layers", 0);
      gint64 hidden = json_object_get_int_member_with_default (object, "hidden_size", 0);
      const char *dtype = json_object_get_string_member_with_default (object, "torch_dtype", "?");
      return g_strdup_printf (_("Hugging Face %s model · %lld layers · hidden size %lld · %s"),
                              type, (long long) layers, (long long) hidden, dtype);
    }
  return g_strdup_printf (_("%s is a folder without config.json or model_index.json: not a model folder"),
                          path);
}

char *
studio_describe_model_path (const char *path)
{
  GStatBuf st;

  if (path == NULL || *path == '\0')
    return g_strdup (_("No base model chosen yet"));
  if (g_stat (path, &st) != 0)
    return g_strdup_printf (_("%s does not exist"), path);
  if (S_ISDIR (st.st_mode))
    return describe_folder (path);
  return describe_safetensors (path, (guint64) st.st_size);
}
