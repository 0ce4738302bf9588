/* studio-config-write.c: writing a StudioConfig back to config.yaml: keys in
 * table order under one comment per group, strings double-quoted, numbers that
 * read back to the same double, paths relative to the file's folder when they
 * lie inside it. studio_config_save() replaces the file atomically. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-atomic-file.h"
#include "studio-config-private.h"

/* Group comments stay English so that a file reads the same whoever saved it. */
static const char *const group_comments[] = {
  [STUDIO_KEY_GROUP_MODEL] = "Model",
  [STUDIO_KEY_GROUP_DATASET] = "Dataset",
  [STUDIO_KEY_GROUP_NETWORK] = "Network (LoRA)",
  [STUDIO_KEY_GROUP_OPTIMISATION] = "Optimisation",
  [STUDIO_KEY_GROUP_OUTPUT] = "Output",
  [STUDIO_KEY_GROUP_SAMPLES] = "Samples",
};

/* Characters libyaml will not read back raw inside a double-quoted scalar:
 * controls, line breaks of other kinds than \n, the BOM, non-characters. */
static gboolean
needs_escape (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029
         || c == 0xfeff || c == 0xfffe || c == 0xffff;
}

char *
studio_config_quote (const char *s)
{
  GString *out = g_string_new ("\"");

  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (c == '"')
        g_string_append (out, "\\\"");
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (needs_escape (c))
        g_string_append_printf (out, c < 0x100 ? "\\x%02X" : "\\u%04X", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

char *
studio_config_relative_path (const char *path, const char *dir)
{
  if (dir == NULL || !g_path_is_absolute (path))
    return g_strdup (path);
  if (strcmp (path, dir) == 0)
    return g_strdup (".");
  gsize n = strlen (dir);
  /* "/" as the folder: every path is inside, but absolute reads better. */
  if (n > 1 && strncmp (path, dir, n) == 0 && path[n] == G_DIR_SEPARATOR)
    return g_strconcat (".", path + n, NULL);
  return g_strdup (path);
}

/* The fields of a prompt that differ from "use the run's setting". */
static void
append_prompt_fields (GString *out, const StudioSamplePrompt *p, const char *sep,
                      const char *open, const char *close)
{
  g_autofree char *prompt = studio_config_quote (p->prompt);
  g_string_append_printf (out, "%sprompt: %s", open, prompt);
  if (p->negative_prompt != NULL)
    {
      g_autofree char *q = studio_config_quote (p->negative_prompt);
      g_string_append_printf (out, "%snegative_prompt: %s", sep, q);
    }
  if (p->seed != -1)
    g_string_append_printf (out, "%sseed: %" G_GINT64_FORMAT, sep, p->seed);
  if (p->steps != 0)
    g_string_append_printf (out, "%ssteps: %d", sep, p->steps);
  if (p->cfg_scale != 0)
    {
      g_autofree char *n = studio_config_format_number (p->cfg_scale);
      g_string_append_printf (out, "%scfg_scale: %s", sep, n);
    }
  if (p->width != 0)
    g_string_append_printf (out, "%swidth: %d", sep, p->width);
  if (p->height != 0)
    g_string_append_printf (out, "%sheight: %d", sep, p->height);
  if (p->sampler != NULL)
    g_string_append_printf (out, "%ssampler: %s", sep, p->sampler);
  g_string_append (out, close);
}

static gboolean
prompt_is_plain (const StudioSamplePrompt *p)
{
  return p->negative_prompt == NULL && p->seed == -1 && p->steps == 0 && p->cfg_scale == 0
         && p->width == 0 && p->height == 0 && p->sampler == NULL;
}

char *
studio_config_prompts_to_flow (GPtrArray *prompts)
{
  GString *out = g_string_new ("[");
  for (guint i = 0; i < prompts->len; i++)
    {
      const StudioSamplePrompt *p = g_ptr_array_index (prompts, i);
      if (i > 0)
        g_string_append (out, ", ");
      if (prompt_is_plain (p))
        {
          g_autofree char *q = studio_config_quote (p->prompt);
          g_string_append (out, q);
        }
      else
        append_prompt_fields (out, p, ", ", "{", "}");
    }
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

static void
append_value (GString *out, StudioConfig *config, const StudioConfigKey *key,
              const char *value, const char *dir)
{
  switch (key->type)
    {
    case STUDIO_VALUE_STRING:
    case STUDIO_VALUE_ENUM:
      {
        g_autofree char *q = studio_config_quote (value);
        g_string_append_printf (out, " %s\n", q);
        break;
      }
    case STUDIO_VALUE_PATH:
      {
        g_autofree char *rel = studio_config_relative_path (value, dir);
        g_autofree char *q = studio_config_quote (rel);
        g_string_append_printf (out, " %s\n", q);
        break;
      }
    case STUDIO_VALUE_STRING_LIST:
      {
        g_auto (GStrv) items = g_strsplit (value, ",", -1);
        g_string_append (out, " [");
        for (int i = 0; *value && items[i]; i++)
          {
            g_autofree char *q = studio_config_quote (items[i]);
            g_string_append_printf (out, "%s%s", i ? ", " : "", q);
          }
        g_string_append (out, "]\n");
        break;
      }
    case STUDIO_VALUE_SAMPLE_PROMPTS:
      if (config->sample_prompts->len == 0)
        g_string_append (out, " []\n");
      else
        g_string_append_c (out, '\n');
      for (guint i = 0; i < config->sample_prompts->len; i++)
        {
          const StudioSamplePrompt *p = g_ptr_array_index (config->sample_prompts, i);
          if (prompt_is_plain (p))
            {
              g_autofree char *q = studio_config_quote (p->prompt);
              g_string_append_printf (out, "  - %s\n", q);
            }
          else
            append_prompt_fields (out, p, "\n    ", "  - ", "\n");
        }
      break;
    case STUDIO_VALUE_INT:
    case STUDIO_VALUE_NUMBER:
    case STUDIO_VALUE_BOOL:
    default:
      /* Already canonical: parsing made it so. */
      g_string_append_printf (out, " %s\n", value);
      break;
    }
}

static char *
to_yaml_in (StudioConfig *config, const char *dir)
{
  GString *out = g_string_new ("# LoRA Studio training config. `lora-engine train --help` "
                               "explains every key.\n");
  guint task_bit = config->task_type == STUDIO_TASK_TEXT_GENERATION
                   ? STUDIO_KEY_TEXT : STUDIO_KEY_IMAGE;
  int group = -1;

  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      const char *value = g_hash_table_lookup (config->values, k->name);
      gboolean is_explicit = g_hash_table_contains (config->explicit_keys, k->name);

      if (value == NULL)
        continue;
      if (!is_explicit && !(k->core && (k->tasks & task_bit)))
        continue;

      if ((int) k->group != group)
        {
          group = k->group;
          g_string_append_printf (out, "\n# %s\n", group_comments[group]);
        }
      g_string_append_printf (out, "%s:", k->name);
      append_value (out, config, k, value, dir);
    }
  return g_string_free (out, FALSE);
}

char *
studio_config_to_yaml (StudioConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return to_yaml_in (config, config->base_dir);
}

gboolean
studio_config_save (StudioConfig *config, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (config != NULL && path != NULL, FALSE);

  g_autofree char *abs_path = g_canonicalize_filename (path, NULL);
  g_autofree char *dir = g_path_get_dirname (abs_path);
  g_autofree char *text = to_yaml_in (config, dir);

  if (!studio_atomic_write (abs_path, text, strlen (text), &local))
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO,
                   _("Cannot save the config: %s"), local->message);
      return FALSE;
    }

  g_free (config->path);
  config->path = g_steal_pointer (&abs_path);

  /* Paths that were still relative (a config made before it had a folder) now
   * have one to resolve against, the same one the saved file resolves against. */
  gboolean had_folder = config->base_dir != NULL;
  g_free (config->base_dir);
  config->base_dir = g_steal_pointer (&dir);
  if (!had_folder)
    {
      for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
        {
          const char *value = g_hash_table_lookup (config->values, k->name);
          if (k->type == STUDIO_VALUE_PATH && value != NULL && !g_path_is_absolute (value)
              && g_hash_table_contains (config->explicit_keys, k->name))
            studio_config_store (config, k, g_canonicalize_filename (value, config->base_dir),
                                 NULL);
        }
      studio_config_resolve_defaults (config);
    }
  return TRUE;
}
