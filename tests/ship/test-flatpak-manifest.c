/* test-flatpak-manifest.c: flatpak/io.github.lorastudio.LoraStudio.json is valid JSON that
 * flatpak-builder can use: the app id, a GNOME runtime and SDK, the lora-studio command,
 * narrow finish-args (no home or host file access, no --device=all), the modules the app
 * needs (libyaml, OpenBLAS, the CUDA redistributables, the app with meson and -Dcuda=auto),
 * and every downloaded archive pinned by a sha256. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

static JsonObject *manifest;

static gboolean
array_has (JsonArray *array, const char *value)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), value) == 0)
      return TRUE;
  return FALSE;
}

static JsonObject *
find_module (const char *name)
{
  JsonArray *modules = json_object_get_array_member (manifest, "modules");

  for (guint i = 0; i < json_array_get_length (modules); i++)
    {
      JsonObject *module = json_array_get_object_element (modules, i);
      if (g_strcmp0 (json_object_get_string_member (module, "name"), name) == 0)
        return module;
    }
  return NULL;
}

static void
test_identity (void)
{
  g_assert_cmpstr (json_object_get_string_member (manifest, "id"), ==, APP_ID);
  g_assert_cmpstr (json_object_get_string_member (manifest, "runtime"), ==, "org.gnome.Platform");
  g_assert_cmpstr (json_object_get_string_member (manifest, "sdk"), ==, "org.gnome.Sdk");
  /* GTK 4.8 and libadwaita 1.2 are the floor: GNOME 43 or newer. */
  g_assert_cmpint (g_ascii_strtoll (json_object_get_string_member (manifest, "runtime-version"),
                                    NULL, 10), >=, 43);
  g_assert_cmpstr (json_object_get_string_member (manifest, "command"), ==, "lora-studio");
}

static void
test_finish_args (void)
{
  JsonArray *args = json_object_get_array_member (manifest, "finish-args");
  static const char *required[] = { "--share=ipc", "--socket=wayland", "--socket=fallback-x11",
                                    "--device=dri" };
  static const char *refused[] = { "--device=all", "--filesystem=host", "--filesystem=home",
                                   "--filesystem=host-os", "--socket=x11", "--share=network",
                                   "--socket=session-bus", "--socket=system-bus" };

  g_assert_nonnull (args);
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!array_has (args, required[i]))
      g_error ("finish-args lacks %s", required[i]);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *rw = g_strconcat (refused[i], ":rw", NULL);
      if (array_has (args, refused[i]) || array_has (args, rw))
        g_error ("finish-args has %s: files come through portals, the GPU through --device=dri",
                 refused[i]);
    }
  /* Any other --filesystem must be read-only. */
  for (guint i = 0; i < json_array_get_length (args); i++)
    {
      const char *arg = json_array_get_string_element (args, i);
      if (g_str_has_prefix (arg, "--filesystem=") && !g_str_has_suffix (arg, ":ro"))
        g_error ("%s grants write access; use a portal or :ro", arg);
    }
}

static void
test_modules (void)
{
  static const char *names[] = { "libyaml", "openblas", "cuda-redist", "lora-studio" };
  JsonArray *modules = json_object_get_array_member (manifest, "modules");
  JsonObject *app;
  JsonArray *opts;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (find_module (names[i]) == NULL)
      g_error ("module %s is missing", names[i]);
  /* The app comes last: it builds against everything before it. */
  app = json_array_get_object_element (modules, json_array_get_length (modules) - 1);
  g_assert_cmpstr (json_object_get_string_member (app, "name"), ==, "lora-studio");
  g_assert_cmpstr (json_object_get_string_member (app, "buildsystem"), ==, "meson");
  opts = json_object_get_array_member (app, "config-opts");
  g_assert_true (array_has (opts, "-Dcuda=auto"));
  g_assert_true (array_has (opts, "-Dnvcc_root=/app/cuda"));
  /* OpenBLAS picks its kernels at run time, for whatever CPU the user has. */
  {
    JsonArray *cmds = json_object_get_array_member (find_module ("openblas"), "build-commands");
    g_assert_nonnull (strstr (json_array_get_string_element (cmds, 0), "DYNAMIC_ARCH=1"));
  }
}

static void
test_sources_pinned (void)
{
  JsonArray *modules = json_object_get_array_member (manifest, "modules");
  g_autoptr (GRegex) sha = g_regex_new ("^[0-9a-f]{64}$", 0, 0, NULL);

  for (guint i = 0; i < json_array_get_length (modules); i++)
    {
      JsonObject *module = json_array_get_object_element (modules, i);
      JsonArray *sources = json_object_get_array_member (module, "sources");

      g_assert_nonnull (sources);
      for (guint j = 0; j < json_array_get_length (sources); j++)
        {
          JsonObject *source = json_array_get_object_element (sources, j);
          const char *type = json_object_get_string_member (source, "type");

          if (g_strcmp0 (type, "archive") == 0 || g_strcmp0 (type, "file") == 0)
            {
              const char *url = json_object_get_string_member (source, "url");
              const char *sum = json_object_get_string_member_with_default (source, "sha256", "");
              g_assert_true (g_str_has_prefix (url, "https://"));
              if (!g_regex_match (sha, sum, 0, NULL))
                g_error ("%s: %s has no valid sha256", json_object_get_string_member (module, "name"), url);
            }
          else if (g_strcmp0 (type, "git") == 0)
            {
              g_assert_true (json_object_has_member (source, "tag") ||
                             json_object_has_member (source, "commit") ||
                             json_object_has_member (source, "branch"));
            }
        }
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  g_test_init (&argc, &argv, NULL);
  path = g_build_filename (g_getenv ("G_TEST_SRCDIR") ? g_getenv ("G_TEST_SRCDIR") : ".",
                           "..", "..", "flatpak", "io.github.lorastudio.LoraStudio.json", NULL);
  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("%s is not valid JSON: %s", path, error->message);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  manifest = json_node_get_object (json_parser_get_root (parser));

  g_test_add_func ("/flatpak/identity", test_identity);
  g_test_add_func ("/flatpak/finish-args", test_finish_args);
  g_test_add_func ("/flatpak/modules", test_modules);
  g_test_add_func ("/flatpak/sources-pinned", test_sources_pinned);
  return g_test_run ();
}
