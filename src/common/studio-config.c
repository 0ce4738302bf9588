/* studio-config.c: the StudioConfig value: defaults, validated setting and
 * resetting of keys, typed getters, and the checks of a single value against
 * the key table. Reading YAML is in studio-config-yaml.c, writing it in
 * studio-config-write.c, checking files in studio-config-check.c. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "studio-config-private.h"

G_DEFINE_QUARK (studio-config-error-quark, studio_config_error)

StudioSamplePrompt *
studio_sample_prompt_new (void)
{
  StudioSamplePrompt *prompt = g_new0 (StudioSamplePrompt, 1);
  prompt->seed = -1;
  return prompt;
}

void
studio_sample_prompt_free (StudioSamplePrompt *prompt)
{
  if (prompt == NULL)
    return;
  g_free (prompt->prompt);
  g_free (prompt->negative_prompt);
  g_free (prompt->sampler);
  g_free (prompt);
}

char *
studio_config_format_number (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (int precision = 1; precision <= 17; precision++)
    {
      char format[8];
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }

  /* "1e-05" is a string to YAML 1.1 readers; "1.0e-05" is a float to all. */
  char *e = strchr (buf, 'e');
  if (e != NULL && memchr (buf, '.', e - buf) == NULL)
    {
      g_autofree char *mantissa = g_strndup (buf, e - buf);
      return g_strdup_printf ("%s.0%s", mantissa, e);
    }
  return g_strdup (buf);
}


static gboolean
parse_double (const char *text, double *out)
{
  char *end = NULL;
  if (*text == '\0')
    return FALSE;
  /* strtod also takes hex floats and "infinity"; a config has neither. */
  for (const char *p = text; *p; p++)
    if (!(g_ascii_isdigit (*p) || strchr ("+-.eE", *p)))
      return FALSE;
  double v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_bool (const char *text, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "on", "y", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "n", "0", NULL };
  for (int i = 0; yes[i]; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      return *out = TRUE, TRUE;
  for (int i = 0; no[i]; i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      return *out = FALSE, TRUE;
  return FALSE;
}

static char *
expand_home (const char *text)
{
  if (text[0] == '~' && (text[1] == '/' || text[1] == '\0'))
    return g_build_filename (g_get_home_dir (), text + 1, NULL);
  return g_strdup (text);
}

static char *
range_error (const StudioConfigKey *key, const char *text, GError **error)
{
  g_autofree char *allowed = studio_config_key_values_text (key);
  g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_RANGE,
               _("“%s” must be %s, not “%s”"), key->name, allowed, text);
  return NULL;
}

char *
studio_config_parse_scalar (const StudioConfigKey *key, const char *text,
                            const char *base_dir, GError **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text));

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                   _("“%s” is not valid UTF-8 text"), key->name);
      return NULL;
    }

  switch (key->type)
    {
    case STUDIO_VALUE_STRING:
      return g_strdup (text);

    case STUDIO_VALUE_PATH:
      {
        if (*trimmed == '\0')
          {
            g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                         _("“%s” must name a file or folder, not be empty"), key->name);
            return NULL;
          }
        g_autofree char *expanded = expand_home (text);
        if (g_path_is_absolute (expanded))
          return g_canonicalize_filename (expanded, NULL);
        if (base_dir != NULL)
          return g_canonicalize_filename (expanded, base_dir);
        return g_steal_pointer (&expanded);
      }

    case STUDIO_VALUE_INT:
      {
        double v;
        if (!parse_double (trimmed, &v) || v != floor (v))
          {
            g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                         _("“%s” must be a whole number, not “%s”"), key->name, text);
            return NULL;
          }
        if (v < key->min || v > key->max)
          return range_error (key, text, error);
        return g_strdup_printf ("%.0f", v);
      }

    case STUDIO_VALUE_NUMBER:
      {
        double v;
        if (!parse_double (trimmed, &v))
          {
            g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                         _("“%s” must be a number (like 0.5 or 1e-4), not “%s”"),
                         key->name, text);
            return NULL;
          }
        if (v < key->min || v > key->max)
          return range_error (key, text, error);
        return studio_config_format_number (v);
      }

    case STUDIO_VALUE_BOOL:
      {
        gboolean v;
        if (!parse_bool (trimmed, &v))
          {
            g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                         _("“%s” must be true or false, not “%s”"), key->name, text);
            return NULL;
          }
        return g_strdup (v ? "true" : "false");
      }

    case STUDIO_VALUE_ENUM:
      {
        /* "adamw" means AdamW: accept any case, store the table's spelling. */
        for (int i = 0; key->choices[i]; i++)
          if (g_ascii_strcasecmp (trimmed, key->choices[i]) == 0)
            return g_strdup (key->choices[i]);
        g_autofree char *list = g_strjoinv (", ", (char **) key->choices);
        g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_RANGE,
                     _("“%s” must be one of %s, not “%s”"), key->name, list, text);
        return NULL;
      }

    case STUDIO_VALUE_STRING_LIST:
    case STUDIO_VALUE_SAMPLE_PROMPTS:
    default:
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                   _("“%s” is a list, not a single value"), key->name);
      return NULL;
    }
}

gboolean
studio_config_check_list_item (const StudioConfigKey *key, const char *item, GError **error)
{
  /* Items are stored comma-separated, so a comma inside one cannot round-trip;
   * no module or layer name has one. */
  if (*item == '\0' || strchr (item, ',') != NULL || !g_utf8_validate (item, -1, NULL))
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE,
                   _("“%s” must list names without commas or empty items, not “%s”"),
                   key->name, item);
      return FALSE;
    }
  return TRUE;
}

static const char *
value_of (StudioConfig *config, const char *key)
{
  return g_hash_table_lookup (config->values, key);
}

static char *
dup_or_null (StudioConfig *config, const char *key)
{
  return g_strdup (value_of (config, key));
}

/* The typed fields mirror the values table; rebuilt after every change so that
 * they can never disagree with it. */
static void
sync_fields (StudioConfig *config)
{
  /* lora_alpha left unset follows lora_rank, so that the scale alpha / rank stays
   * 1 whatever rank a user picks; setting it by hand ends that. */
  if (!g_hash_table_contains (config->explicit_keys, "lora_alpha"))
    g_hash_table_replace (config->values, g_strdup ("lora_alpha"),
                          g_strdup (value_of (config, "lora_rank")));

  g_free (config->train_data_dir);
  g_free (config->metadata_path);
  g_free (config->base_model);
  g_free (config->output_dir);
  g_free (config->log_dir);
  g_free (config->optimizer);
  g_free (config->scheduler);

  config->task_type = g_strcmp0 (value_of (config, "task_type"), "text-generation") == 0
                      ? STUDIO_TASK_TEXT_GENERATION : STUDIO_TASK_IMAGE_LORA;
  config->train_data_dir = dup_or_null (config, "train_data_dir");
  config->metadata_path = dup_or_null (config, "metadata_path");
  config->base_model = dup_or_null (config, "base_model");
  config->output_dir = dup_or_null (config, "output_dir");
  config->log_dir = dup_or_null (config, "log_dir");
  if (config->log_dir == NULL && config->output_dir != NULL)
    config->log_dir = g_build_filename (config->output_dir, "logs", NULL);
  config->lora_rank = studio_config_get_int (config, "lora_rank");
  config->lora_alpha = studio_config_get_number (config, "lora_alpha");
  config->lora_dropout = studio_config_get_number (config, "lora_dropout");
  config->batch_size = studio_config_get_int (config, "batch_size");
  config->epochs = studio_config_get_int (config, "epochs");
  config->learning_rate = studio_config_get_number (config, "learning_rate");
  config->optimizer = dup_or_null (config, "optimizer");
  config->scheduler = dup_or_null (config, "scheduler");
  config->save_steps = studio_config_get_int (config, "save_steps");
  config->sequence_length = studio_config_get_int (config, "sequence_length");
}

/* Puts the default of KEY for the current task in the values table. Defaults
 * go through the same parser as user values so their text is canonical too. */
static void
store_default (StudioConfig *config, const StudioConfigKey *key, StudioTaskType task)
{
  const char *text = studio_config_key_default (key, task);
  char *canonical = NULL;

  /* The task itself is what the config was made for, not the table's default. */
  if (strcmp (key->name, "task_type") == 0)
    text = studio_config_task_name (task);

  if (text != NULL && key->type == STUDIO_VALUE_STRING_LIST)
    canonical = g_strdup (text);
  else if (text != NULL)
    {
      g_autoptr (GError) error = NULL;
      canonical = studio_config_parse_scalar (key, text, config->base_dir, &error);
      if (canonical == NULL)
        g_critical ("bad default of config key %s: %s", key->name, error->message);
    }

  if (canonical != NULL)
    g_hash_table_replace (config->values, g_strdup (key->name), canonical);
  else
    g_hash_table_remove (config->values, key->name);
}

static void
refresh_defaults (StudioConfig *config, StudioTaskType task)
{
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    if (!g_hash_table_contains (config->explicit_keys, k->name))
      store_default (config, k, task);
}

void
studio_config_store (StudioConfig *config, const StudioConfigKey *key,
                     char *canonical, GPtrArray *prompts)
{
  if (key->type == STUDIO_VALUE_SAMPLE_PROMPTS)
    {
      g_ptr_array_set_size (config->sample_prompts, 0);
      if (prompts != NULL)
        {
          for (guint i = 0; i < prompts->len; i++)
            g_ptr_array_add (config->sample_prompts, g_ptr_array_index (prompts, i));
          /* The items moved into the config; free only the container. */
          g_ptr_array_set_free_func (prompts, NULL);
          g_ptr_array_unref (prompts);
        }
    }

  if (canonical == NULL)
    {
      g_hash_table_remove (config->explicit_keys, key->name);
      store_default (config, key, config->task_type);
    }
  else
    {
      g_hash_table_add (config->explicit_keys, g_strdup (key->name));
      g_hash_table_replace (config->values, g_strdup (key->name), canonical);
    }

  if (strcmp (key->name, "task_type") == 0)
    {
      StudioTaskType task = g_strcmp0 (value_of (config, "task_type"), "text-generation") == 0
                            ? STUDIO_TASK_TEXT_GENERATION : STUDIO_TASK_IMAGE_LORA;
      refresh_defaults (config, task);
    }
  sync_fields (config);
}

void
studio_config_resolve_defaults (StudioConfig *config)
{
  refresh_defaults (config, config->task_type);
  sync_fields (config);
}

StudioConfig *
studio_config_new_default (StudioTaskType task)
{
  StudioConfig *config = g_new0 (StudioConfig, 1);

  config->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  config->explicit_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  config->sample_prompts = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_sample_prompt_free);
  config->task_type = task;
  refresh_defaults (config, task);
  sync_fields (config);
  return config;
}

void
studio_config_free (StudioConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->path);
  g_free (config->base_dir);
  g_free (config->train_data_dir);
  g_free (config->metadata_path);
  g_free (config->base_model);
  g_free (config->output_dir);
  g_free (config->log_dir);
  g_free (config->optimizer);
  g_free (config->scheduler);
  g_hash_table_unref (config->values);
  g_hash_table_unref (config->explicit_keys);
  g_ptr_array_unref (config->sample_prompts);
  g_free (config);
}

static const StudioConfigKey *
lookup_or_error (const char *key, GError **error)
{
  const StudioConfigKey *k = studio_config_key_lookup (key);
  if (k == NULL)
    {
      const char *nearest = studio_config_nearest_key (key);
      if (nearest != NULL)
        g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                     _("unknown key “%s”; did you mean “%s”?"), key, nearest);
      else
        g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                     _("unknown key “%s”"), key);
    }
  return k;
}

gboolean
studio_config_set (StudioConfig *config, const char *key, const char *value, GError **error)
{
  g_return_val_if_fail (config != NULL && key != NULL, FALSE);

  const StudioConfigKey *k = lookup_or_error (key, error);
  if (k == NULL)
    return FALSE;

  if (value == NULL)
    {
      studio_config_reset (config, key);
      return TRUE;
    }

  if (k->type == STUDIO_VALUE_SAMPLE_PROMPTS)
    {
      GPtrArray *prompts = studio_config_prompts_from_text (value, error);
      if (prompts == NULL)
        return FALSE;
      studio_config_store (config, k, studio_config_prompts_to_flow (prompts), prompts);
      return TRUE;
    }

  char *canonical = k->type == STUDIO_VALUE_STRING_LIST
                    ? studio_config_list_from_text (k, value, error)
                    : studio_config_parse_scalar (k, value, config->base_dir, error);
  if (canonical == NULL)
    return FALSE;
  studio_config_store (config, k, canonical, NULL);
  return TRUE;
}

void
studio_config_reset (StudioConfig *config, const char *key)
{
  const StudioConfigKey *k = studio_config_key_lookup (key);
  g_return_if_fail (k != NULL);
  studio_config_store (config, k, NULL, NULL);
}

static const StudioConfigKey *
checked_key (const char *key, StudioValueType a, StudioValueType b)
{
  const StudioConfigKey *k = studio_config_key_lookup (key);
  if (k == NULL)
    g_critical ("no config key named %s", key);
  else if (k->type != a && k->type != b)
    g_critical ("config key %s is read with the wrong type", key);
  else
    return k;
  return NULL;
}

const char *
studio_config_get_string (StudioConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL && key != NULL, NULL);
  return value_of (config, key);
}

gint64
studio_config_get_int (StudioConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL && key != NULL, 0);
  if (checked_key (key, STUDIO_VALUE_INT, STUDIO_VALUE_INT) == NULL)
    return 0;
  const char *text = value_of (config, key);
  return text ? g_ascii_strtoll (text, NULL, 10) : 0;
}

double
studio_config_get_number (StudioConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL && key != NULL, 0);
  if (checked_key (key, STUDIO_VALUE_NUMBER, STUDIO_VALUE_INT) == NULL)
    return 0;
  const char *text = value_of (config, key);
  return text ? g_ascii_strtod (text, NULL) : 0;
}

gboolean
studio_config_get_bool (StudioConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL && key != NULL, FALSE);
  if (checked_key (key, STUDIO_VALUE_BOOL, STUDIO_VALUE_BOOL) == NULL)
    return FALSE;
  return g_strcmp0 (value_of (config, key), "true") == 0;
}

char **
studio_config_get_string_list (StudioConfig *config, const char *key)
{
  g_return_val_if_fail (config != NULL && key != NULL, NULL);
  if (checked_key (key, STUDIO_VALUE_STRING_LIST, STUDIO_VALUE_STRING_LIST) == NULL)
    return NULL;
  const char *text = value_of (config, key);
  if (text == NULL || *text == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (text, ",", -1);
}
