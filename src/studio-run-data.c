/* studio-run-data.c: reading a run folder back (metrics, samples, LoRA, checkpoints)
 * and exporting its LoRA. Runs on whichever thread calls it: no GTK here. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "studio-atomic-file.h"
#include "studio-run-data.h"

void
studio_sample_item_free (StudioSampleItem *item)
{
  if (item == NULL)
    return;
  g_free (item->path);
  g_free (item->prompt);
  g_free (item->text);
  g_free (item);
}

static double
number_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return NAN;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE || json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_double (node);
  return NAN;
}

gboolean
studio_run_read_metrics (const char *run_dir, GArray *steps, GArray *loss, GArray *lr,
                         GError **error)
{
  g_autofree char *path = g_build_filename (run_dir, STUDIO_RUN_METRICS_NAME, NULL);
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (!g_file_get_contents (path, &data, NULL, error))
    return FALSE;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      JsonNode *root;
      double s, l, r;

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL))
        continue;
      root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        continue;
      s = number_member (json_node_get_object (root), "step");
      l = number_member (json_node_get_object (root), "loss");
      r = number_member (json_node_get_object (root), "lr");
      if (!isfinite (s))
        continue;
      g_array_append_val (steps, s);
      g_array_append_val (loss, l);
      g_array_append_val (lr, r);
    }
  return TRUE;
}

double
studio_run_final_loss (const char *run_dir)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) loss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) lr = g_array_new (FALSE, FALSE, sizeof (double));

  if (!studio_run_read_metrics (run_dir, steps, loss, lr, NULL))
    return NAN;
  for (guint i = loss->len; i > 0; i--)
    if (isfinite (g_array_index (loss, double, i - 1)))
      return g_array_index (loss, double, i - 1);
  return NAN;
}

/* "step-000100.txt", "step-000100-2.png" -> 100; -1 for other names. */
static gint64
step_of_name (const char *name)
{
  char *end;
  gint64 step;

  if (!g_str_has_prefix (name, "step-") || !g_ascii_isdigit (name[5]))
    return -1;
  step = g_ascii_strtoll (name + 5, &end, 10);
  if (*end != '\0' && *end != '.' && *end != '-' && *end != '_')
    return -1;
  return step;
}

static GHashTable *
read_prompt_index (const char *run_dir)
{
  g_autofree char *path = g_build_filename (run_dir, STUDIO_RUN_SAMPLE_INDEX_NAME, NULL);
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GHashTable *index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return index;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      JsonObject *object;
      const char *file, *prompt;

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL)
          || json_parser_get_root (parser) == NULL
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      object = json_node_get_object (json_parser_get_root (parser));
      file = json_object_get_string_member_with_default (object, "path", NULL);
      prompt = json_object_get_string_member_with_default (object, "prompt", "");
      if (file != NULL)
        g_hash_table_replace (index, g_path_get_basename (file), g_strdup (prompt));
    }
  return index;
}

/* The text file holds "### PROMPT\nPROMPT + generated\n\n" per prompt. */
static void
add_text_samples (GPtrArray *items, const char *path, gint64 step)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) blocks = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return;
  blocks = g_strsplit (data, "### ", -1);
  for (guint i = 0; blocks[i] != NULL; i++)
    {
      StudioSampleItem *item;
      char *nl = strchr (blocks[i], '\n');

      if (nl == NULL)
        continue;
      item = g_new0 (StudioSampleItem, 1);
      item->step = step;
      item->path = g_strdup (path);
      /* What a barely trained model writes need not be UTF-8; show it anyway. */
      item->prompt = g_utf8_make_valid (blocks[i], nl - blocks[i]);
      item->text = g_strstrip (g_utf8_make_valid (nl + 1, -1));
      g_ptr_array_add (items, item);
    }
}

static int
compare_items (gconstpointer a, gconstpointer b)
{
  const StudioSampleItem *x = *(StudioSampleItem **) a, *y = *(StudioSampleItem **) b;

  if (x->step != y->step)
    return x->step > y->step ? -1 : 1;
  return g_strcmp0 (x->path, y->path);
}

GPtrArray *
studio_run_list_samples (const char *run_dir)
{
  g_autofree char *dir_path = g_build_filename (run_dir, "samples", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr (GHashTable) prompts = read_prompt_index (run_dir);
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_sample_item_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      gint64 step = step_of_name (name);
      g_autofree char *path = NULL;

      if (step < 0)
        continue;
      path = g_build_filename (dir_path, name, NULL);
      if (g_str_has_suffix (name, ".txt"))
        add_text_samples (items, path, step);
      else if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg"))
        {
          StudioSampleItem *item = g_new0 (StudioSampleItem, 1);
          const char *prompt = g_hash_table_lookup (prompts, name);

          item->step = step;
          item->path = g_steal_pointer (&path);
          item->prompt = g_strdup (prompt != NULL ? prompt : "");
          g_ptr_array_add (items, item);
        }
    }
  /* Stable within a step: text blocks keep their file order. */
  g_ptr_array_sort (items, compare_items);
  return items;
}

gboolean
studio_run_add_sample_index (const char *run_dir, gint64 step, const char *path,
                             const char *prompt, GError **error)
{
  g_autofree char *index = g_build_filename (run_dir, STUDIO_RUN_SAMPLE_INDEX_NAME, NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *line = NULL;
  g_autofree char *old = NULL;
  g_autofree char *all = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "step");
  json_builder_add_int_value (builder, step);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, path);
  json_builder_set_member_name (builder, "prompt");
  json_builder_add_string_value (builder, prompt != NULL ? prompt : "");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  line = json_to_string (root, FALSE);

  /* Rewritten whole so that it is never half a line (the index is small). */
  g_file_get_contents (index, &old, NULL, NULL);
  all = g_strconcat (old != NULL ? old : "", line, "\n", NULL);
  return studio_atomic_write (index, all, strlen (all), error);
}

char *
studio_run_find_lora (const char *run_dir)
{
  const char *names[] = { "pytorch_lora_weights.safetensors", "adapter_model.safetensors" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (run_dir, names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

char *
studio_run_find_last_checkpoint (const char *run_dir)
{
  g_autofree char *dir_path = g_build_filename (run_dir, "checkpoints", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  gint64 best = -1;
  char *best_path = NULL;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      gint64 step = step_of_name (name);
      g_autofree char *path = NULL;

      if (step <= best)
        continue;
      path = g_build_filename (dir_path, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      best = step;
      g_free (best_path);
      best_path = g_steal_pointer (&path);
    }
  return best_path;
}

char *
studio_run_lora_name (const char *run_dir)
{
  g_autofree char *base = g_path_get_basename (run_dir);
  GString *name = g_string_new (NULL);

  /* WebUI reads the name up to ':' and '>', so those cannot be in it. */
  for (const char *p = base; *p; p++)
    g_string_append_c (name, (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.')
                             ? *p : '_');
  return g_string_free (name, FALSE);
}

char *
studio_run_prompt_snippet (const char *run_dir, double weight)
{
  g_autofree char *name = studio_run_lora_name (run_dir);
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (number, sizeof number, "%.2g", weight);
  return g_strdup_printf ("<lora:%s:%s>", name, number);
}

char *
studio_run_export_lora (const char *run_dir, const char *dest_dir, GError **error)
{
  g_autofree char *source = studio_run_find_lora (run_dir);
  g_autofree char *checkpoint = NULL;
  g_autofree char *name = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *data = NULL;
  gsize len;

  /* A stopped run: its last checkpoint holds the LoRA file as it was then. */
  if (source == NULL && (checkpoint = studio_run_find_last_checkpoint (run_dir)) != NULL)
    source = studio_run_find_lora (checkpoint);
  if (source == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The run in %s has no LoRA file yet: let it finish, or resume it"),
                   run_dir);
      return NULL;
    }
  name = studio_run_lora_name (run_dir);
  file_name = g_strconcat (name, ".safetensors", NULL);
  dest = g_build_filename (dest_dir, file_name, NULL);
  if (!g_file_get_contents (source, &data, &len, error))
    return NULL;
  if (!studio_atomic_write (dest, data, len, error))
    {
      g_prefix_error (error, _("Cannot export the LoRA to %s: "), dest_dir);
      return NULL;
    }
  return g_steal_pointer (&dest);
}
