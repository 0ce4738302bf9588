/* config-problems.c: load + check a config, and word its problems (see the header). */
#include "config-problems.h"

StudioConfig *
cli_config_load_checked (const char *path, GPtrArray *problems)
{
  GError *error = NULL;
  StudioConfig *config = studio_config_load (path, &error);
  if (config == NULL)
    {
      g_ptr_array_add (problems, error);
      return NULL;
    }
  studio_config_check (config, problems);
  return config;
}

const char *
cli_config_error_code (const GError *error)
{
  if (error->domain != STUDIO_CONFIG_ERROR)
    return "config";
  switch ((StudioConfigError) error->code)
    {
    case STUDIO_CONFIG_ERROR_IO: return "config-io";
    case STUDIO_CONFIG_ERROR_SYNTAX: return "config-syntax";
    case STUDIO_CONFIG_ERROR_UNKNOWN_KEY: return "config-unknown-key";
    case STUDIO_CONFIG_ERROR_TYPE: return "config-type";
    case STUDIO_CONFIG_ERROR_RANGE: return "config-range";
    case STUDIO_CONFIG_ERROR_MISSING: return "config-missing";
    case STUDIO_CONFIG_ERROR_FILE: return "config-file";
    }
  return "config";
}

char *
cli_problem_text (const char *path, const GError *error)
{
  /* The config library usually names the file and line itself; do not say it twice. */
  g_autofree char *base = g_path_get_basename (path);
  if (g_str_has_prefix (error->message, path) || g_str_has_prefix (error->message, base))
    return g_strdup (error->message);
  return g_strdup_printf ("%s: %s", path, error->message);
}
