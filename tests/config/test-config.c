/* test-config.c: the training config: every key of the table parses and rejects
 * bad values, every error kind names its place, the article's examples load,
 * paths resolve, saving round-trips every value atomically, and the file check
 * finds what is wrong on disk. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "studio-config.h"

/* The article's two examples, one key per line as real files have them. */
static const char article_image[] =
  "train_data_dir: \"./data/ip_char_train\"\n"
  "metadata_path: \"./data/ip_char_train/metadata.csv\"\n"
  "base_model: \"./models/Stable-diffusion/v1-5-pruned.safetensors\"\n"
  "lora_rank: 16\n"
  "lora_alpha: 32\n"
  "lora_dropout: 0.1\n"
  "batch_size: 4\n"
  "epochs: 15\n"
  "learning_rate: 1e-4\n"
  "optimizer: \"AdamW\"\n"
  "scheduler: \"cosine\"\n"
  "output_dir: \"./output/ip_char_lora\"\n"
  "save_steps: 100\n"
  "log_dir: \"./output/ip_char_lora/logs\"\n";

static const char article_text[] =
  "task_type: \"text-generation\"\n"
  "base_model: \"./models/llama-2-7b-chat.ggmlv3.q4_0.bin\"\n"
  "train_data_dir: \"./data/finance_qa\"\n"
  "lora_rank: 64\n"
  "sequence_length: 512\n";

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("config-XXXXXX", &error);
  g_assert_no_error (error);
  /* Canonical, so that paths compare equal to what the loader resolves. */
  char *canonical = g_canonicalize_filename (dir, NULL);
  g_free (dir);
  return canonical;
}

static void
write_file (const char *dir, const char *name, const char *content)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_mkdir_with_parents (parent, 0755);
  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      if (d)
        g_dir_close (d);
      g_chmod (path, 0755);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static StudioConfig *
load_ok (const char *yaml, const char *base_dir)
{
  g_autoptr (GError) error = NULL;
  StudioConfig *config = studio_config_load_from_data (yaml, -1, base_dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

/* Loads YAML that must fail with CODE; returns the message. */
static char *
load_fails (const char *yaml, int code)
{
  g_autoptr (GError) error = NULL;
  StudioConfig *config = studio_config_load_from_data (yaml, -1, "/tmp", &error);
  if (config != NULL)
    g_test_message ("loaded although it should not: %s", yaml);
  g_assert_null (config);
  g_assert_error (error, STUDIO_CONFIG_ERROR, code);
  return g_strdup (error->message);
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not contain “%s”", haystack, needle);
}

/* ---- the table ---- */

static void
test_table (void)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (StudioConfig) image = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  static const char *const contract_keys[] = {
    "task_type", "train_data_dir", "metadata_path", "base_model", "lora_rank", "lora_alpha",
    "lora_dropout", "batch_size", "epochs", "learning_rate", "optimizer", "scheduler",
    "output_dir", "save_steps", "log_dir", "sequence_length", NULL
  };
  int last_group = -1;
  guint n = 0;

  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++, n++)
    {
      g_assert_false (g_hash_table_contains (names, k->name));
      g_hash_table_add (names, (char *) k->name);
      g_assert_true (studio_config_key_lookup (k->name) == k);
      g_assert_nonnull (k->title);
      g_assert_nonnull (k->help);
      g_assert_cmpuint (strlen (k->help), >, 20);
      g_assert_true (k->tasks != 0 && (k->tasks & ~STUDIO_KEY_BOTH) == 0);
      /* Groups are contiguous: the saver writes one comment per group. */
      g_assert_cmpint ((int) k->group, >=, last_group);
      last_group = k->group;
      if (k->type == STUDIO_VALUE_ENUM)
        {
          g_assert_nonnull (k->choices);
          g_assert_true (g_strv_contains (k->choices, k->default_value));
        }
      if (k->type == STUDIO_VALUE_INT || k->type == STUDIO_VALUE_NUMBER)
        g_assert_cmpfloat (k->min, <, k->max);
      /* Every default is valid: the values table holds it. */
      if (k->default_value != NULL)
        g_assert_nonnull (studio_config_get_string (image, k->name));
      else
        g_assert_null (studio_config_get_string (image, k->name));
    }
  g_assert_cmpuint (n, >=, 50);

  for (int i = 0; contract_keys[i]; i++)
    {
      const StudioConfigKey *k = studio_config_key_lookup (contract_keys[i]);
      g_assert_nonnull (k);
      g_assert_true (k->core);
    }
  g_assert_null (studio_config_key_lookup ("lora_rnak"));

  /* The reference for --help and help/ lists every key with what it accepts. */
  g_autofree char *reference = studio_config_reference ();
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s: ", k->name);
      assert_contains (reference, line);
    }
  assert_contains (reference, "\nOptimisation:\n");
  assert_contains (reference, "  lora_rank: a whole number from 1 to 1024\n");
  assert_contains (reference, "  scheduler: one of cosine, constant, linear, "
                              "cosine_with_restarts, constant_with_warmup\n");
  assert_contains (reference, "  sequence_length: a whole number from 8 to 32768 "
                              "(text-generation only)\n");
  g_autofree char *lr = studio_config_key_values_text (studio_config_key_lookup ("learning_rate"));
  g_assert_cmpstr (lr, ==, "a number from 1.0e-10 to 1");
  g_assert_cmpint (studio_config_key_lookup ("learning_rate")->type, ==, STUDIO_VALUE_NUMBER);
}

static void
test_defaults (void)
{
  g_autoptr (StudioConfig) image = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_autoptr (StudioConfig) text = studio_config_new_default (STUDIO_TASK_TEXT_GENERATION);

  g_assert_cmpint (image->task_type, ==, STUDIO_TASK_IMAGE_LORA);
  g_assert_cmpstr (studio_config_get_string (image, "task_type"), ==, "image-lora");
  g_assert_cmpint (image->lora_rank, ==, 8);
  g_assert_cmpfloat (image->lora_alpha, ==, 8);
  g_assert_cmpfloat (image->learning_rate, ==, 1e-4);
  g_assert_cmpstr (image->optimizer, ==, "AdamW");
  g_assert_cmpstr (image->scheduler, ==, "cosine");
  g_assert_null (image->metadata_path);
  g_assert_null (image->base_model);
  g_assert_cmpuint (g_hash_table_size (image->explicit_keys), ==, 0);

  g_auto (GStrv) image_modules = studio_config_get_string_list (image, "target_modules");
  g_auto (GStrv) text_modules = studio_config_get_string_list (text, "target_modules");
  g_assert_cmpstr (image_modules[3], ==, "to_out.0");
  g_assert_cmpstr (text_modules[0], ==, "q_proj");
  g_assert_cmpint (text->task_type, ==, STUDIO_TASK_TEXT_GENERATION);
  g_assert_cmpstr (studio_config_get_string (text, "task_type"), ==, "text-generation");
}

/* A valid value for KEY that differs from its default, as YAML text. */
static char *
other_value (const StudioConfigKey *k, int variant)
{
  switch (k->type)
    {
    case STUDIO_VALUE_INT:
      {
        double v = variant ? k->max : k->min;
        if (k->default_value && g_ascii_strtod (k->default_value, NULL) == v)
          v = variant ? k->max - 1 : k->min + 1;
        return g_strdup_printf ("%.0f", v);
      }
    case STUDIO_VALUE_NUMBER:
      {
        /* Many digits, to prove that saving loses none. */
        double v = k->min + (k->max - k->min) * (variant ? 0.123456789012345678 : 0.7);
        return g_strdup_printf ("%.17g", v);
      }
    case STUDIO_VALUE_BOOL:
      return g_strdup (g_strcmp0 (k->default_value, "true") == 0 ? "false" : "true");
    case STUDIO_VALUE_ENUM:
      for (int i = g_strv_length ((char **) k->choices) - 1; i >= 0; i--)
        if (g_strcmp0 (k->choices[i], k->default_value) != 0)
          return g_strdup (k->choices[i]);
      g_assert_not_reached ();
    case STUDIO_VALUE_STRING:
      return g_strdup ("a \"quoted\" name: with # and ' and \\ and 中文");
    case STUDIO_VALUE_PATH:
      return g_strdup_printf ("sub dir/%s.d", k->name);
    case STUDIO_VALUE_STRING_LIST:
      return g_strdup ("[\"lin1\", \"mlp.fc2\"]");
    case STUDIO_VALUE_SAMPLE_PROMPTS:
    default:
      return g_strdup ("[\"a cat\", {prompt: \"a dog\", seed: 7}]");
    }
}

static void
test_every_key_parses (void)
{
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      if (k->type == STUDIO_VALUE_STRING)
        continue;   /* quoted separately below; a plain scalar cannot hold ": " */
      g_autofree char *value = other_value (k, 1);
      g_autofree char *yaml = g_strdup_printf ("%s: %s\n", k->name,
                                               k->type == STUDIO_VALUE_PATH
                                               ? "\"sub dir/x\"" : value);
      g_autoptr (StudioConfig) config = load_ok (yaml, "/base");

      g_assert_true (g_hash_table_contains (config->explicit_keys, k->name));
      const char *got = studio_config_get_string (config, k->name);
      g_assert_nonnull (got);
      switch (k->type)
        {
        case STUDIO_VALUE_INT:
          g_assert_cmpint (studio_config_get_int (config, k->name), ==,
                           g_ascii_strtoll (value, NULL, 10));
          break;
        case STUDIO_VALUE_NUMBER:
          g_assert_cmpfloat (studio_config_get_number (config, k->name), ==,
                             g_ascii_strtod (value, NULL));
          break;
        case STUDIO_VALUE_BOOL:
          g_assert_cmpint (studio_config_get_bool (config, k->name), ==,
                           strcmp (value, "true") == 0);
          break;
        case STUDIO_VALUE_ENUM:
          g_assert_cmpstr (got, ==, value);
          break;
        case STUDIO_VALUE_PATH:
          g_assert_cmpstr (got, ==, "/base/sub dir/x");
          break;
        case STUDIO_VALUE_STRING_LIST:
          {
            g_auto (GStrv) items = studio_config_get_string_list (config, k->name);
            g_assert_cmpuint (g_strv_length (items), ==, 2);
            g_assert_cmpstr (items[1], ==, "mlp.fc2");
            break;
          }
        case STUDIO_VALUE_SAMPLE_PROMPTS:
          g_assert_cmpuint (config->sample_prompts->len, ==, 2);
          break;
        default:
          break;
        }
    }
}

static void
expect_rejected (const StudioConfigKey *k, const char *value, int code, const char *needle)
{
  /* A valid line first, so the line number in the message is proven to be the key's. */
  g_autofree char *yaml = g_strdup_printf ("%s: 3\n%s: %s\n",
                                           strcmp (k->name, "epochs") ? "epochs" : "repeats",
                                           k->name, value);
  g_autofree char *message = load_fails (yaml, code);
  g_autofree char *key_quoted = g_strdup_printf ("“%s”", k->name);

  assert_contains (message, "config.yaml:2:");
  assert_contains (message, key_quoted);
  if (needle)
    assert_contains (message, needle);

  /* studio_config_set() checks exactly the same way and leaves the config alone. */
  if (k->type != STUDIO_VALUE_STRING_LIST && k->type != STUDIO_VALUE_SAMPLE_PROMPTS
      && k->type != STUDIO_VALUE_PATH && value[0] != '[' && value[0] != '{')
    {
      g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
      g_autoptr (GError) error = NULL;
      g_autofree char *before = g_strdup (studio_config_get_string (config, k->name));
      g_assert_false (studio_config_set (config, k->name, value, &error));
      g_assert_error (error, STUDIO_CONFIG_ERROR, code);
      g_assert_cmpstr (studio_config_get_string (config, k->name), ==, before);
    }
}

/* Values every key of a type refuses, whatever its range or choices: the error code and
 * what the message names besides the key and its line (NULL: nothing more). */
static const struct {
  StudioValueType type;
  const char *value;
  int code;
  const char *needle;
} type_refusals[] = {
  { STUDIO_VALUE_INT, "abc", STUDIO_CONFIG_ERROR_TYPE, "whole number" },
  { STUDIO_VALUE_INT, "2.5", STUDIO_CONFIG_ERROR_TYPE, "whole number" },
  { STUDIO_VALUE_INT, "true", STUDIO_CONFIG_ERROR_TYPE, NULL },
  { STUDIO_VALUE_INT, "[1, 2]", STUDIO_CONFIG_ERROR_TYPE, "single value" },
  { STUDIO_VALUE_NUMBER, "abc", STUDIO_CONFIG_ERROR_TYPE, "number" },
  { STUDIO_VALUE_NUMBER, ".nan", STUDIO_CONFIG_ERROR_TYPE, NULL },
  { STUDIO_VALUE_NUMBER, "{a: 1}", STUDIO_CONFIG_ERROR_TYPE, "single value" },
  { STUDIO_VALUE_BOOL, "maybe", STUDIO_CONFIG_ERROR_TYPE, "true or false" },
  { STUDIO_VALUE_BOOL, "2", STUDIO_CONFIG_ERROR_TYPE, "true or false" },
  { STUDIO_VALUE_ENUM, "[a]", STUDIO_CONFIG_ERROR_TYPE, "single value" },
  { STUDIO_VALUE_PATH, "\"\"", STUDIO_CONFIG_ERROR_TYPE, "empty" },
  { STUDIO_VALUE_PATH, "[a, b]", STUDIO_CONFIG_ERROR_TYPE, "single value" },
  { STUDIO_VALUE_STRING, "{a: b}", STUDIO_CONFIG_ERROR_TYPE, "single value" },
  { STUDIO_VALUE_STRING_LIST, "{a: b}", STUDIO_CONFIG_ERROR_TYPE, "list of names" },
  { STUDIO_VALUE_STRING_LIST, "\"a,,b\"", STUDIO_CONFIG_ERROR_TYPE, "empty items" },
  { STUDIO_VALUE_STRING_LIST, "[a, [b]]", STUDIO_CONFIG_ERROR_TYPE, "list of names" },
  { STUDIO_VALUE_SAMPLE_PROMPTS, "[{seed: 3}]", STUDIO_CONFIG_ERROR_MISSING, "prompt" },
};

static void
test_every_key_rejects (void)
{
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      guint n_refusals = 0;
      for (gsize i = 0; i < G_N_ELEMENTS (type_refusals); i++)
        if (type_refusals[i].type == k->type)
          {
            expect_rejected (k, type_refusals[i].value, type_refusals[i].code,
                             type_refusals[i].needle);
            n_refusals++;
          }
      /* a type added without refusals above fails here */
      g_assert_cmpuint (n_refusals, >, 0);

      /* values out of the key's own range or choices */
      if (k->type == STUDIO_VALUE_INT)
        {
          g_autofree char *lo = g_strdup_printf ("%.0f", k->min);
          g_autofree char *hi = g_strdup_printf ("%.0f", k->max);
          g_autofree char *below = g_strdup_printf ("%.0f", k->min - 1);
          g_autofree char *above = g_strdup_printf ("%.0f", k->max + 1);
          expect_rejected (k, below, STUDIO_CONFIG_ERROR_RANGE, lo);
          expect_rejected (k, above, STUDIO_CONFIG_ERROR_RANGE, hi);
        }
      else if (k->type == STUDIO_VALUE_NUMBER)
        {
          g_autofree char *below = g_strdup_printf ("%.17g", k->min - fabs (k->min) * 0.5 - 0.001);
          g_autofree char *above = g_strdup_printf ("%.17g", k->max * 2 + 1);
          expect_rejected (k, below, STUDIO_CONFIG_ERROR_RANGE, "from");
          expect_rejected (k, above, STUDIO_CONFIG_ERROR_RANGE, "from");
        }
      else if (k->type == STUDIO_VALUE_ENUM)
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) k->choices);
          expect_rejected (k, "nonsense", STUDIO_CONFIG_ERROR_RANGE, choices);
        }
    }
}

/* ---- error kinds ---- */

static void
test_unknown_key (void)
{
  g_autofree char *message = load_fails ("lora_rank: 8\nbatch_size: 2\nlora_rnak: 16\n",
                                         STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_cmpstr (message, ==,
                   "config.yaml:3:1: unknown key “lora_rnak”; did you mean “lora_rank”?");

  g_autofree char *m2 = load_fails ("learning_rte: 1e-4\n", STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  assert_contains (m2, "did you mean “learning_rate”?");
  g_autofree char *m3 = load_fails ("epochs: 1\n  \nfoo: 1\n", STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  assert_contains (m3, "config.yaml:3:1: unknown key “foo”");
  g_assert_null (strstr (m3, "did you mean"));

  g_assert_cmpstr (studio_config_nearest_key ("optimiser"), ==, "optimizer");
  g_assert_cmpstr (studio_config_nearest_key ("LORA_RANK"), ==, "lora_rank");
  g_assert_null (studio_config_nearest_key ("completely_unrelated_words"));
  /* Names from kohya's and Hugging Face's scripts point to ours. */
  g_assert_cmpstr (studio_config_nearest_key ("network_dim"), ==, "lora_rank");
  g_assert_cmpstr (studio_config_nearest_key ("lr_scheduler"), ==, "scheduler");
  g_assert_cmpstr (studio_config_nearest_key ("pretrained_model_name_or_path"), ==, "base_model");
  g_autofree char *m4 = load_fails ("network_alpha: 16\n", STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_cmpstr (m4, ==, "config.yaml:1:1: unknown key “network_alpha”; did you mean “lora_alpha”?");

  /* The file name in messages is the one the caller gave. */
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "my.yaml", NULL);
  g_autoptr (GError) error = NULL;
  write_file (dir, "my.yaml", "epochs: 2\nepoch: 3\n");
  g_assert_null (studio_config_load (path, &error));
  g_autofree char *expected = g_strdup_printf ("%s:2:1: unknown key “epoch”; did you mean "
                                               "“epochs”?", path);
  g_assert_cmpstr (error->message, ==, expected);
  remove_tree (dir);
}

static void
test_bad_value_messages (void)
{
  g_autofree char *m1 = load_fails ("epochs: 3\nlora_rank: 0\n", STUDIO_CONFIG_ERROR_RANGE);
  g_assert_cmpstr (m1, ==, "config.yaml:2:12: “lora_rank” must be a whole number from 1 to "
                           "1024, not “0”");
  g_autofree char *m2 = load_fails ("scheduler: cosin\n", STUDIO_CONFIG_ERROR_RANGE);
  g_assert_cmpstr (m2, ==, "config.yaml:1:12: “scheduler” must be one of cosine, constant, "
                           "linear, cosine_with_restarts, constant_with_warmup, not “cosin”");
  g_autofree char *m3 = load_fails ("learning_rate: fast\n", STUDIO_CONFIG_ERROR_TYPE);
  g_assert_cmpstr (m3, ==, "config.yaml:1:16: “learning_rate” must be a number (like 0.5 or "
                           "1e-4), not “fast”");
}

static void
test_tab_indentation (void)
{
  g_autofree char *m1 = load_fails ("lora_rank: 8\n\tepochs: 3\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m1, "config.yaml:2:1: tabs are not allowed in YAML indentation");
  g_autofree char *m2 = load_fails ("target_modules:\n\t- to_q\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m2, "config.yaml:2:1: tabs are not allowed");
  g_autofree char *m3 = load_fails ("epochs: 3\n  \tbatch_size: 2\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m3, "config.yaml:2:3: tabs are not allowed");

  /* A tab after the colon is not indentation and is fine. */
  g_autoptr (StudioConfig) config = load_ok ("epochs:\t3\n", NULL);
  g_assert_cmpint (config->epochs, ==, 3);
}

static void
test_duplicate_key (void)
{
  g_autofree char *message = load_fails ("lora_rank: 8\nepochs: 2\nlora_rank: 16\n",
                                         STUDIO_CONFIG_ERROR_SYNTAX);
  g_assert_cmpstr (message, ==,
                   "config.yaml:3:1: key “lora_rank” appears twice (first on line 1); keep one");
  g_autofree char *m2 = load_fails ("sample_prompts:\n  - prompt: a\n    prompt: b\n",
                                    STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m2, "config.yaml:3:5:");
}

static void
test_bad_yaml (void)
{
  g_autofree char *m1 = load_fails ("epochs: 3\ntarget_modules: [to_q, to_k\n",
                                    STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m1, "config.yaml:3:1: YAML syntax error: did not find expected ',' or ']'");
  g_autofree char *m2 = load_fails ("epochs: 3\nbatch_size\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m2, "YAML syntax error: could not find expected ':'");
  /* The article's one-line rendering, pasted as it is. */
  g_autofree char *m3 = load_fails ("train_data_dir: \"./data\" metadata_path: \"./m.csv\" "
                                    "lora_rank: 16\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m3, "config.yaml:1:");
  assert_contains (m3, "put each key on its own line");
  g_autofree char *m4 = load_fails ("epochs: 3\n---\nepochs: 4\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m4, "one YAML document");
  g_autofree char *m5 = load_fails ("- epochs\n- 3\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m5, "config.yaml:1:1:");
  assert_contains (m5, "key: value");
  g_autofree char *m6 = load_fails ("epochs: 3\noutput_name: \"caf\xe9\"\n",
                                    STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m6, "config.yaml:2:");
  assert_contains (m6, "UTF-8");
  g_autofree char *m7 = load_fails ("? [a]\n: 3\n", STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m7, "plain name");

  /* Hostile nesting is refused at once (libyaml would take minutes). */
  g_autoptr (GString) deep = g_string_new ("sample_prompts: ");
  for (int i = 0; i < 100000; i++)
    g_string_append (deep, "[");
  g_autofree char *m8 = load_fails (deep->str, STUDIO_CONFIG_ERROR_SYNTAX);
  assert_contains (m8, "config.yaml:1:81: values are nested more than 64 levels deep");
  /* Brackets inside quotes and comments are text. */
  g_autoptr (GString) quoted = g_string_new ("output_name: \"");
  for (int i = 0; i < 100; i++)
    g_string_append (quoted, "[{");
  g_string_append (quoted, "\"  # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n");
  g_autoptr (StudioConfig) brackets = load_ok (quoted->str, NULL);
  g_assert_cmpuint (strlen (studio_config_get_string (brackets, "output_name")), ==, 200);

  g_autoptr (GError) error = NULL;
  g_assert_null (studio_config_load ("/nonexistent/dir/config.yaml", &error));
  g_assert_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO);
  assert_contains (error->message, "/nonexistent/dir/config.yaml");
  g_clear_error (&error);

  /* A huge file is the wrong file, refused before it is read. */
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *big = g_build_filename (dir, "big.yaml", NULL);
  g_autofree char *filler = g_strnfill (5 * 1024 * 1024, '#');
  write_file (dir, "big.yaml", filler);
  g_assert_null (studio_config_load (big, &error));
  g_assert_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO);
  assert_contains (error->message, "too large");
  remove_tree (dir);
}

/* Broken files of every kind: each either loads or fails with a message that
 * names the place; none crashes (run under ASan/Valgrind to see the rest). */
static void
test_mutations (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  static const char pieces[] = "\t\n :-[]{}#\"'~,?&*!|>%@`\\\xff\xc3";
  static const char *const sources[] = { article_image, article_text,
    "sample_prompts:\n  - a\n  - prompt: b\n    seed: 3\ntarget_modules: [a, b]\n" };
  guint loaded = 0, failed = 0;

  for (int round = 0; round < 3000; round++)
    {
      const char *source = sources[round % G_N_ELEMENTS (sources)];
      g_autofree char *text = g_strdup (source);
      gsize len = strlen (text);
      int edits = g_rand_int_range (rand, 1, 4);
      for (int e = 0; e < edits; e++)
        text[g_rand_int_range (rand, 0, len)] = pieces[g_rand_int_range (rand, 0, sizeof pieces - 1)];
      if (round % 7 == 0)
        text[g_rand_int_range (rand, 0, len)] = '\0';   /* cut short */

      g_autoptr (GError) error = NULL;
      g_autoptr (StudioConfig) config = studio_config_load_from_data (text, -1, "/p", &error);
      if (config != NULL)
        {
          g_assert_no_error (error);
          g_autofree char *yaml = studio_config_to_yaml (config);
          g_autoptr (StudioConfig) again = studio_config_load_from_data (yaml, -1, "/p", &error);
          g_assert_no_error (error);
          loaded++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == STUDIO_CONFIG_ERROR);
          if (!g_str_has_prefix (error->message, "config.yaml:"))
            g_error ("message without a place: %s\nfor:\n%s", error->message, text);
          failed++;
        }
    }
  /* Both outcomes happened, so the test tried something. */
  g_assert_cmpuint (loaded, >, 100);
  g_assert_cmpuint (failed, >, 100);
}

/* The demo project's config, which the README's first command opens. */
static void
test_demo_config (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "demo",
                                                 "config.yaml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioConfig) config = studio_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (config->task_type, ==, STUDIO_TASK_IMAGE_LORA);
  g_assert_true (g_str_has_suffix (config->train_data_dir, "/demo/dataset"));
  g_assert_cmpint (config->lora_rank, >, 0);
}

static void
test_scientific_numbers (void)
{
  g_autoptr (StudioConfig) config =
    load_ok ("learning_rate: 1e-4\ntext_encoder_lr: 5E-5\nlora_alpha: 32\n"
             "max_train_steps: 1e3\nweight_decay: .5\nadam_epsilon: 1.0e-08\n", NULL);
  g_assert_cmpfloat (config->learning_rate, ==, 1e-4);
  g_assert_cmpfloat (studio_config_get_number (config, "text_encoder_lr"), ==, 5e-5);
  g_assert_cmpfloat (config->lora_alpha, ==, 32);
  g_assert_cmpint (studio_config_get_int (config, "max_train_steps"), ==, 1000);
  g_assert_true (g_hash_table_contains (config->explicit_keys, "lora_alpha"));
  g_assert_cmpfloat (studio_config_get_number (config, "weight_decay"), ==, 0.5);
  g_assert_cmpfloat (studio_config_get_number (config, "adam_epsilon"), ==, 1e-8);
  /* Stored in a form that YAML 1.1 readers also take as a float. */
  g_assert_cmpstr (studio_config_get_string (config, "learning_rate"), ==, "0.0001");
  g_assert_cmpstr (studio_config_get_string (config, "adam_epsilon"), ==, "1.0e-08");
}

static void
test_quoted_and_null (void)
{
  g_autoptr (StudioConfig) config =
    load_ok ("scheduler: \"cosine\"\noptimizer: adamw\nlora_rank: \"16\"\n"
             "output_name: yes\nrandom_flip: yes\nenable_bucket: 'off'\n"
             "metadata_path: ~\nlog_dir: null\nsave_steps:\ntokenizer_path: \"~\"\n"
             "epochs: '12'\n", "/p");
  g_assert_cmpstr (config->scheduler, ==, "cosine");
  g_assert_cmpstr (config->optimizer, ==, "AdamW");
  g_assert_cmpint (config->lora_rank, ==, 16);
  g_assert_cmpint (config->epochs, ==, 12);
  /* Strings stay strings whatever YAML 1.1 would make of them. */
  g_assert_cmpstr (studio_config_get_string (config, "output_name"), ==, "yes");
  g_assert_true (studio_config_get_bool (config, "random_flip"));
  g_assert_false (studio_config_get_bool (config, "enable_bucket"));
  /* ~, null and nothing mean "unset": the default applies, and it is not explicit. */
  g_assert_null (config->metadata_path);
  g_assert_false (g_hash_table_contains (config->explicit_keys, "metadata_path"));
  g_assert_cmpint (config->save_steps, ==, 100);
  g_assert_false (g_hash_table_contains (config->explicit_keys, "save_steps"));
  g_assert_cmpstr (config->log_dir, ==, "/p/output/logs");
  /* A quoted "~" is not null: as a path it is the home folder. */
  g_assert_cmpstr (studio_config_get_string (config, "tokenizer_path"), ==, g_get_home_dir ());
  g_assert_true (g_hash_table_contains (config->explicit_keys, "tokenizer_path"));
}

static void
test_article_configs (void)
{
  g_autoptr (StudioConfig) image = load_ok (article_image, "/home/u/proj");
  g_assert_cmpint (image->task_type, ==, STUDIO_TASK_IMAGE_LORA);
  g_assert_cmpstr (image->train_data_dir, ==, "/home/u/proj/data/ip_char_train");
  g_assert_cmpstr (image->metadata_path, ==, "/home/u/proj/data/ip_char_train/metadata.csv");
  g_assert_cmpstr (image->base_model, ==,
                   "/home/u/proj/models/Stable-diffusion/v1-5-pruned.safetensors");
  g_assert_cmpint (image->lora_rank, ==, 16);
  g_assert_cmpfloat (image->lora_alpha, ==, 32);
  g_assert_cmpfloat (image->lora_dropout, ==, 0.1);
  g_assert_cmpint (image->batch_size, ==, 4);
  g_assert_cmpint (image->epochs, ==, 15);
  g_assert_cmpfloat (image->learning_rate, ==, 1e-4);
  g_assert_cmpstr (image->optimizer, ==, "AdamW");
  g_assert_cmpstr (image->scheduler, ==, "cosine");
  g_assert_cmpstr (image->output_dir, ==, "/home/u/proj/output/ip_char_lora");
  g_assert_cmpint (image->save_steps, ==, 100);
  g_assert_cmpstr (image->log_dir, ==, "/home/u/proj/output/ip_char_lora/logs");
  g_assert_cmpuint (g_hash_table_size (image->explicit_keys), ==, 14);

  g_autoptr (StudioConfig) text = load_ok (article_text, "/home/u/proj");
  g_assert_cmpint (text->task_type, ==, STUDIO_TASK_TEXT_GENERATION);
  g_assert_cmpstr (text->base_model, ==, "/home/u/proj/models/llama-2-7b-chat.ggmlv3.q4_0.bin");
  g_assert_cmpstr (text->train_data_dir, ==, "/home/u/proj/data/finance_qa");
  g_assert_cmpint (text->lora_rank, ==, 64);
  g_assert_cmpint (text->sequence_length, ==, 512);
  /* The task decides the defaults of the keys the file leaves out. */
  g_auto (GStrv) modules = studio_config_get_string_list (text, "target_modules");
  g_assert_cmpstr (modules[0], ==, "q_proj");
}

static void
test_relative_paths (void)
{
  g_autoptr (StudioConfig) config =
    load_ok ("train_data_dir: data\nbase_model: ../models/m.safetensors\n"
             "output_dir: /abs/out/./x/..\nlog_dir: ~/logs\n", "/work/proj");
  g_assert_cmpstr (config->train_data_dir, ==, "/work/proj/data");
  g_assert_cmpstr (config->base_model, ==, "/work/models/m.safetensors");
  g_assert_cmpstr (config->output_dir, ==, "/abs/out");
  g_autofree char *logs = g_build_filename (g_get_home_dir (), "logs", NULL);
  g_assert_cmpstr (config->log_dir, ==, logs);

  /* From a file: against the file's folder, not the working directory. */
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sub", "config.yaml", NULL);
  g_autoptr (GError) error = NULL;
  write_file (dir, "sub/config.yaml", "train_data_dir: ./images\n");
  g_autoptr (StudioConfig) loaded = studio_config_load (path, &error);
  g_assert_no_error (error);
  g_autofree char *images = g_build_filename (dir, "sub", "images", NULL);
  g_autofree char *output = g_build_filename (dir, "sub", "output", NULL);
  g_assert_cmpstr (loaded->train_data_dir, ==, images);
  g_assert_cmpstr (loaded->output_dir, ==, output);
  g_assert_cmpstr (loaded->path, ==, path);
  remove_tree (dir);
}

static void
test_sample_prompts (void)
{
  g_autoptr (StudioConfig) config =
    load_ok ("sample_prompts:\n"
             "  - \"a character drinking coffee\"\n"
             "  - prompt: <lora:ip:0.8> in a kitchen\n"
             "    negative_prompt: deformed, blurry\n"
             "    seed: 42\n    steps: 30\n    cfg_scale: 6.5\n"
             "    width: 512\n    height: 768\n    sampler: ddim\n", NULL);
  g_assert_cmpuint (config->sample_prompts->len, ==, 2);
  StudioSamplePrompt *a = g_ptr_array_index (config->sample_prompts, 0);
  StudioSamplePrompt *b = g_ptr_array_index (config->sample_prompts, 1);
  g_assert_cmpstr (a->prompt, ==, "a character drinking coffee");
  g_assert_null (a->negative_prompt);
  g_assert_cmpint (a->seed, ==, -1);
  g_assert_cmpint (a->steps, ==, 0);
  g_assert_null (a->sampler);
  g_assert_cmpstr (b->prompt, ==, "<lora:ip:0.8> in a kitchen");
  g_assert_cmpstr (b->negative_prompt, ==, "deformed, blurry");
  g_assert_cmpint (b->seed, ==, 42);
  g_assert_cmpint (b->steps, ==, 30);
  g_assert_cmpfloat (b->cfg_scale, ==, 6.5);
  g_assert_cmpint (b->width, ==, 512);
  g_assert_cmpint (b->height, ==, 768);
  g_assert_cmpstr (b->sampler, ==, "ddim");

  g_autofree char *m1 = load_fails ("sample_prompts:\n  - prompt: x\n    negativ_prompt: y\n",
                                    STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  assert_contains (m1, "config.yaml:3:5:");
  assert_contains (m1, "did you mean “negative_prompt”?");
  g_autofree char *m2 = load_fails ("sample_prompts:\n  - prompt: x\n    width: 500\n",
                                    STUDIO_CONFIG_ERROR_RANGE);
  assert_contains (m2, "multiple of 8");
  g_autofree char *m3 = load_fails ("sample_prompts:\n  - prompt: x\n    sampler: plms\n",
                                    STUDIO_CONFIG_ERROR_RANGE);
  assert_contains (m3, "euler_a, ddim");

  /* One prompt alone is a list of one. */
  g_autoptr (StudioConfig) single = load_ok ("sample_prompts: a red cube\n", NULL);
  g_assert_cmpuint (single->sample_prompts->len, ==, 1);
}

static void
test_string_lists (void)
{
  g_autoptr (StudioConfig) config = load_ok ("target_modules: to_q, to_v ,ff.net.0.proj\n", NULL);
  g_auto (GStrv) items = studio_config_get_string_list (config, "target_modules");
  g_assert_cmpuint (g_strv_length (items), ==, 3);
  g_assert_cmpstr (items[1], ==, "to_v");
  g_assert_cmpstr (items[2], ==, "ff.net.0.proj");

  g_autoptr (StudioConfig) block = load_ok ("target_modules:\n  - q_proj\n  - v_proj\n", NULL);
  g_auto (GStrv) items2 = studio_config_get_string_list (block, "target_modules");
  g_assert_cmpuint (g_strv_length (items2), ==, 2);
  g_assert_cmpstr (items2[1], ==, "v_proj");
}

static void
test_set_and_reset (void)
{
  g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_autoptr (GError) error = NULL;

  g_assert_true (studio_config_set (config, "lora_rank", "32", &error));
  g_assert_no_error (error);
  g_assert_cmpint (config->lora_rank, ==, 32);
  g_assert_true (g_hash_table_contains (config->explicit_keys, "lora_rank"));
  /* An unset alpha follows the rank (scale 1); a set one stays. */
  g_assert_cmpfloat (config->lora_alpha, ==, 32);
  g_assert_false (g_hash_table_contains (config->explicit_keys, "lora_alpha"));
  g_assert_true (studio_config_set (config, "lora_alpha", "16", &error));
  g_assert_true (studio_config_set (config, "lora_rank", "4", &error));
  g_assert_cmpfloat (config->lora_alpha, ==, 16);
  studio_config_reset (config, "lora_alpha");
  g_assert_cmpfloat (config->lora_alpha, ==, 4);
  g_assert_true (studio_config_set (config, "lora_rank", "32", &error));

  g_assert_false (studio_config_set (config, "lora_rnak", "4", &error));
  g_assert_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_cmpstr (error->message, ==, "unknown key “lora_rnak”; did you mean “lora_rank”?");
  g_clear_error (&error);

  /* Switching the task moves the defaults of what was not set by hand. */
  g_assert_true (studio_config_set (config, "task_type", "text-generation", &error));
  g_assert_cmpint (config->task_type, ==, STUDIO_TASK_TEXT_GENERATION);
  g_auto (GStrv) modules = studio_config_get_string_list (config, "target_modules");
  g_assert_cmpstr (modules[0], ==, "q_proj");
  g_assert_cmpint (config->lora_rank, ==, 32);

  g_assert_true (studio_config_set (config, "target_modules", "a, b", &error));
  g_auto (GStrv) two = studio_config_get_string_list (config, "target_modules");
  g_assert_cmpuint (g_strv_length (two), ==, 2);
  g_assert_true (studio_config_set (config, "sample_prompts", "[x, {prompt: y, seed: 3}]", &error));
  g_assert_cmpuint (config->sample_prompts->len, ==, 2);
  g_assert_false (studio_config_set (config, "sample_prompts", "[{seed: 1}]", &error));
  g_assert_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_MISSING);
  g_clear_error (&error);
  g_assert_cmpuint (config->sample_prompts->len, ==, 2);

  studio_config_reset (config, "lora_rank");
  g_assert_cmpint (config->lora_rank, ==, 8);
  g_assert_false (g_hash_table_contains (config->explicit_keys, "lora_rank"));
  studio_config_reset (config, "sample_prompts");
  g_assert_cmpuint (config->sample_prompts->len, ==, 0);
  g_assert_true (studio_config_set (config, "output_name", NULL, &error));
}

static void
test_empty_file (void)
{
  g_autoptr (StudioConfig) config = load_ok ("# nothing yet\n", "/p");
  g_assert_cmpuint (g_hash_table_size (config->explicit_keys), ==, 0);
  g_assert_cmpint (config->lora_rank, ==, 8);
  g_assert_cmpstr (config->output_dir, ==, "/p/output");
}

/* ---- saving ---- */

static void
assert_same_values (StudioConfig *a, StudioConfig *b)
{
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    {
      if (g_strcmp0 (studio_config_get_string (a, k->name), studio_config_get_string (b, k->name)))
        g_error ("%s: “%s” became “%s”", k->name, studio_config_get_string (a, k->name),
                 studio_config_get_string (b, k->name));
    }
  g_assert_cmpuint (a->sample_prompts->len, ==, b->sample_prompts->len);
  for (guint i = 0; i < a->sample_prompts->len; i++)
    {
      StudioSamplePrompt *x = g_ptr_array_index (a->sample_prompts, i);
      StudioSamplePrompt *y = g_ptr_array_index (b->sample_prompts, i);
      g_assert_cmpstr (x->prompt, ==, y->prompt);
      g_assert_cmpstr (x->negative_prompt, ==, y->negative_prompt);
      g_assert_cmpint (x->seed, ==, y->seed);
      g_assert_cmpint (x->steps, ==, y->steps);
      g_assert_cmpfloat (x->cfg_scale, ==, y->cfg_scale);
      g_assert_cmpint (x->width, ==, y->width);
      g_assert_cmpint (x->height, ==, y->height);
      g_assert_cmpstr (x->sampler, ==, y->sampler);
    }
  g_assert_cmpint (a->task_type, ==, b->task_type);
  g_assert_cmpfloat (a->learning_rate, ==, b->learning_rate);
  g_assert_cmpstr (a->log_dir, ==, b->log_dir);
}

static StudioConfig *
save_and_reload (StudioConfig *config, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (studio_config_save (config, path, &error));
  g_assert_no_error (error);
  StudioConfig *loaded = studio_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  return loaded;
}

static void
test_round_trip (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "config.yaml", NULL);

  for (int variant = 0; variant < 2; variant++)
    {
      g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
      g_autoptr (GError) error = NULL;
      config->base_dir = g_strdup (dir);

      for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
        {
          g_autofree char *value = other_value (k, variant);
          if (k->type == STUDIO_VALUE_PATH && variant == 1)
            {
              g_free (value);   /* outside the folder: stays absolute */
              value = g_strdup_printf ("/elsewhere/%s \"q\"", k->name);
            }
          if (strcmp (k->name, "task_type") == 0)
            continue;
          if (!studio_config_set (config, k->name, value, &error))
            g_error ("%s: %s", k->name, error->message);
        }
      /* Awkward strings: controls, other line breaks, BOM, quotes, non-ASCII. */
      g_assert_true (studio_config_set (config, "output_name",
                                        variant ? "tab\there\nnew\x01 \xe2\x80\xa8 \xef\xbb\xbf end"
                                                : " lead: and trail # ", &error));
      g_assert_true (studio_config_set (config, "sample_prompts",
                                        "[\"plain\", {prompt: \"p \\\"q\\\"\\n2\", "
                                        "negative_prompt: \"n, m\", seed: 0, steps: 5, "
                                        "cfg_scale: 7.25, width: 64, height: 4096, "
                                        "sampler: ddim}]", &error));
      g_assert_no_error (error);

      g_autoptr (StudioConfig) loaded = save_and_reload (config, path);
      assert_same_values (config, loaded);
      /* Every key the first one set came back as set. */
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, config->explicit_keys);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_assert_true (g_hash_table_contains (loaded->explicit_keys, key));

      /* Saving what was loaded gives the same text again. */
      g_autofree char *first = NULL, *second = NULL;
      g_file_get_contents (path, &first, NULL, NULL);
      g_autoptr (StudioConfig) again = save_and_reload (loaded, path);
      g_file_get_contents (path, &second, NULL, NULL);
      g_assert_cmpstr (first, ==, second);
    }

  /* Text task too, with its own keys. */
  g_autoptr (StudioConfig) text = load_ok (article_text, dir);
  g_autoptr (GError) error = NULL;
  g_assert_true (studio_config_set (text, "sample_temperature", "0.3", &error));
  g_autoptr (StudioConfig) text2 = save_and_reload (text, path);
  assert_same_values (text, text2);
  remove_tree (dir);
}

static void
test_saved_text (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "config.yaml", NULL);
  g_autoptr (StudioConfig) config = load_ok (article_image, dir);
  g_autoptr (GError) error = NULL;

  g_assert_true (studio_config_set (config, "random_flip", "true", &error));
  g_assert_true (studio_config_save (config, path, &error));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));

  /* Paths below the config's folder are written relative, so a project moves. */
  assert_contains (text, "train_data_dir: \"./data/ip_char_train\"\n");
  assert_contains (text, "base_model: \"./models/Stable-diffusion/v1-5-pruned.safetensors\"\n");
  assert_contains (text, "learning_rate: 0.0001\n");
  assert_contains (text, "lora_alpha: 32\n");
  assert_contains (text, "optimizer: \"AdamW\"\n");
  assert_contains (text, "random_flip: true\n");
  assert_contains (text, "\n# Model\ntask_type: \"image-lora\"\n");
  assert_contains (text, "# Optimisation\n");
  /* Keys in table order; defaults of non-core keys and other-task keys left out. */
  g_assert_true (strstr (text, "lora_rank:") < strstr (text, "lora_alpha:"));
  g_assert_true (strstr (text, "task_type:") < strstr (text, "base_model:"));
  g_assert_true (strstr (text, "base_model:") < strstr (text, "train_data_dir:"));
  g_assert_null (strstr (text, "sequence_length"));
  g_assert_null (strstr (text, "seed:"));
  g_assert_null (strstr (text, "# Samples"));

  /* Moved project folder: everything follows. */
  g_autofree char *moved = g_strconcat (dir, "-moved", NULL);
  g_assert_cmpint (g_rename (dir, moved), ==, 0);
  g_autofree char *moved_path = g_build_filename (moved, "config.yaml", NULL);
  g_autoptr (StudioConfig) reopened = studio_config_load (moved_path, &error);
  g_assert_no_error (error);
  g_autofree char *data = g_build_filename (moved, "data", "ip_char_train", NULL);
  g_assert_cmpstr (reopened->train_data_dir, ==, data);

  /* A config made without a folder gets one on its first save. */
  g_autoptr (StudioConfig) fresh = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_assert_true (studio_config_set (fresh, "train_data_dir", "images", &error));
  g_assert_cmpstr (fresh->train_data_dir, ==, "images");
  g_assert_true (studio_config_save (fresh, moved_path, &error));
  g_autofree char *images = g_build_filename (moved, "images", NULL);
  g_autofree char *output = g_build_filename (moved, "output", NULL);
  g_assert_cmpstr (fresh->train_data_dir, ==, images);
  g_assert_cmpstr (fresh->output_dir, ==, output);
  g_assert_cmpstr (fresh->path, ==, moved_path);
  g_autofree char *fresh_text = NULL;
  g_file_get_contents (moved_path, &fresh_text, NULL, NULL);
  assert_contains (fresh_text, "train_data_dir: \"images\"\n");

  remove_tree (moved);
}

static void
test_atomic_save (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "config.yaml", NULL);
  g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_autoptr (GError) error = NULL;

  write_file (dir, "config.yaml", "epochs: 1\n");
  g_assert_true (studio_config_set (config, "epochs", "7", &error));
  g_assert_true (studio_config_save (config, path, &error));
  g_assert_no_error (error);

  /* Only the config is left: no temporary file beside it. */
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  const char *name;
  guint count = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_assert_cmpstr (name, ==, "config.yaml");
      count++;
    }
  g_assert_cmpuint (count, ==, 1);
  g_autoptr (StudioConfig) loaded = studio_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (loaded->epochs, ==, 7);

  /* A folder that is not there is an error that names the file, and nothing is made. */
  g_autofree char *missing = g_build_filename (dir, "no", "such", "config.yaml", NULL);
  g_assert_false (studio_config_save (config, missing, &error));
  g_assert_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO);
  assert_contains (error->message, "config.yaml");
  g_autofree char *no = g_build_filename (dir, "no", NULL);
  g_assert_false (g_file_test (no, G_FILE_TEST_EXISTS));
  g_assert_cmpstr (config->path, ==, path);
  remove_tree (dir);
}

/* ---- checking files ---- */

static GPtrArray *
check (StudioConfig *config)
{
  GPtrArray *problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  gboolean ok = studio_config_check (config, problems);
  g_assert_cmpint (ok, ==, problems->len == 0);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("problem: %s", ((GError *) problems->pdata[i])->message);
  return problems;
}

static void
assert_problem (GPtrArray *problems, int code, const char *needle)
{
  for (guint i = 0; i < problems->len; i++)
    {
      GError *e = problems->pdata[i];
      if (g_error_matches (e, STUDIO_CONFIG_ERROR, code) && strstr (e->message, needle))
        return;
    }
  g_error ("no problem with code %d mentioning “%s”", code, needle);
}

static StudioConfig *
config_in (const char *dir, const char *yaml)
{
  write_file (dir, "config.yaml", yaml);
  g_autofree char *path = g_build_filename (dir, "config.yaml", NULL);
  g_autoptr (GError) error = NULL;
  StudioConfig *config = studio_config_load (path, &error);
  g_assert_no_error (error);
  return config;
}

/* The problems studio_config_check finds in DIR/config.yaml holding YAML. */
static GPtrArray *
check_in (const char *dir, const char *yaml)
{
  g_autoptr (StudioConfig) config = config_in (dir, yaml);
  return check (config);
}

static void
test_check_good (void)
{
  g_autofree char *dir = make_tmpdir ();
  /* An image project, a text one and a diffusers folder as the model, each after its
   * files (name, contents pairs) are added to the folder. */
  static const struct {
    const char *files[9];
    const char *yaml;
  } good[] = {
    { { "data/a.PNG", "x", "data/a.txt", "a caption", "data/metadata.csv", "filename,prompt\n",
        "models/sd15.safetensors", "x" },
      "train_data_dir: data\nbase_model: models/sd15.safetensors\n"
      "metadata_path: data/metadata.csv\noutput_dir: out/deep/run\n" },
    { { "text/qa.jsonl", "{\"text\": \"hi\"}\n", "llama/config.json", "{}" },
      "task_type: text-generation\ntrain_data_dir: text\nbase_model: llama\n"
      "sequence_length: 256\n" },
    { { "diffusers/model_index.json", "{}" }, "train_data_dir: data\nbase_model: diffusers\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      for (guint f = 0; good[i].files[f] != NULL; f += 2)
        write_file (dir, good[i].files[f], good[i].files[f + 1]);
      g_autoptr (GPtrArray) problems = check_in (dir, good[i].yaml);
      g_assert_cmpuint (problems->len, ==, 0);
    }
  remove_tree (dir);
}

static void
test_check_bad (void)
{
  g_autofree char *dir = make_tmpdir ();

  /* Nothing set at all. */
  g_autoptr (GPtrArray) p0 =
    check_in (dir, "epochs: 1\n");
  assert_problem (p0, STUDIO_CONFIG_ERROR_MISSING, "train_data_dir");
  assert_problem (p0, STUDIO_CONFIG_ERROR_MISSING, "base_model");
  g_assert_cmpuint (p0->len, ==, 2);

  /* Missing folder and files. */
  g_autoptr (GPtrArray) p1 =
    check_in (dir, "train_data_dir: nope\nbase_model: none.safetensors\n"
                   "metadata_path: gone.csv\ntokenizer_path: tok\n");
  assert_problem (p1, STUDIO_CONFIG_ERROR_FILE, "nope” does not exist");
  assert_problem (p1, STUDIO_CONFIG_ERROR_FILE, "none.safetensors” does not exist");
  assert_problem (p1, STUDIO_CONFIG_ERROR_FILE, "metadata_path");
  assert_problem (p1, STUDIO_CONFIG_ERROR_FILE, "tokenizer_path");
  g_assert_cmpuint (p1->len, ==, 4);

  /* A data folder with no images, a pickle model, an output folder under a file. */
  write_file (dir, "empty/notes.md", "x");
  write_file (dir, "empty/.hidden.png", "x");
  write_file (dir, "model.ckpt", "x");
  write_file (dir, "afile", "x");
  g_autoptr (GPtrArray) p2 =
    check_in (dir, "train_data_dir: empty\nbase_model: model.ckpt\noutput_dir: afile/out\n"
                   "sequence_length: 128\nresolution: 500\nmax_train_steps: 10\n"
                   "warmup_steps: 10\n");
  assert_problem (p2, STUDIO_CONFIG_ERROR_FILE, "holds no images");
  assert_problem (p2, STUDIO_CONFIG_ERROR_FILE, "can run code");
  assert_problem (p2, STUDIO_CONFIG_ERROR_FILE, "is a file, not a folder");
  assert_problem (p2, STUDIO_CONFIG_ERROR_RANGE, "“sequence_length” only applies to task_type "
                                                 "text-generation");
  assert_problem (p2, STUDIO_CONFIG_ERROR_RANGE, "multiple of 8");
  assert_problem (p2, STUDIO_CONFIG_ERROR_RANGE, "warmup_steps");
  /* output_dir and the log_dir inside it. */
  g_assert_cmpuint (p2->len, ==, 7);

  /* The article's text example: a GGML file cannot be trained. */
  write_file (dir, "data/finance_qa/qa.txt", "用户:理财产品到期怎么赎回?\n");
  write_file (dir, "models/llama-2-7b-chat.ggmlv3.q4_0.bin", "tjggxxxx");
  g_autoptr (GPtrArray) p3 =
    check_in (dir, article_text);
  assert_problem (p3, STUDIO_CONFIG_ERROR_FILE, "GGML/GGUF");
  assert_problem (p3, STUDIO_CONFIG_ERROR_FILE, "config.json");
  g_assert_cmpuint (p3->len, ==, 1);

  /* GGUF recognised by content, whatever the name. */
  write_file (dir, "models/renamed.safetensors", "GGUF....");
  g_autoptr (GPtrArray) p4 =
    check_in (dir, "task_type: text-generation\ntrain_data_dir: data/finance_qa\n"
                   "base_model: models/renamed.safetensors\n");
  assert_problem (p4, STUDIO_CONFIG_ERROR_FILE, "GGML/GGUF");

  /* Text: a folder without config.json; a data folder of images only. */
  write_file (dir, "hf/model.safetensors", "x");
  write_file (dir, "imgs/a.jpg", "x");
  g_autoptr (GPtrArray) p5 =
    check_in (dir, "task_type: text-generation\ntrain_data_dir: imgs\nbase_model: hf\n"
                   "resolution: 512\n");
  assert_problem (p5, STUDIO_CONFIG_ERROR_FILE, "has no config.json");
  assert_problem (p5, STUDIO_CONFIG_ERROR_FILE, "no .txt or .jsonl");
  assert_problem (p5, STUDIO_CONFIG_ERROR_RANGE, "“resolution” only applies to task_type "
                                                 "image-lora");
  g_assert_cmpuint (p5->len, ==, 3);

  /* An output folder without write permission (root may write anyway). */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (dir, "ro", NULL);
      g_mkdir (ro, 0555);
      g_autoptr (GPtrArray) p6 =
        check_in (dir, "train_data_dir: imgs\nbase_model: models/renamed.safetensors\n"
                       "output_dir: ro/out\nlog_dir: logs\n");
      assert_problem (p6, STUDIO_CONFIG_ERROR_FILE, "not writable");
      g_assert_cmpuint (p6->len, ==, 1);
    }
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/config/table", test_table);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/every-key-parses", test_every_key_parses);
  g_test_add_func ("/config/every-key-rejects", test_every_key_rejects);
  g_test_add_func ("/config/unknown-key", test_unknown_key);
  g_test_add_func ("/config/bad-value-messages", test_bad_value_messages);
  g_test_add_func ("/config/tab-indentation", test_tab_indentation);
  g_test_add_func ("/config/duplicate-key", test_duplicate_key);
  g_test_add_func ("/config/bad-yaml", test_bad_yaml);
  g_test_add_func ("/config/demo-config", test_demo_config);
  g_test_add_func ("/config/mutations", test_mutations);
  g_test_add_func ("/config/scientific-numbers", test_scientific_numbers);
  g_test_add_func ("/config/quoted-and-null", test_quoted_and_null);
  g_test_add_func ("/config/article-configs", test_article_configs);
  g_test_add_func ("/config/relative-paths", test_relative_paths);
  g_test_add_func ("/config/sample-prompts", test_sample_prompts);
  g_test_add_func ("/config/string-lists", test_string_lists);
  g_test_add_func ("/config/set-and-reset", test_set_and_reset);
  g_test_add_func ("/config/empty-file", test_empty_file);
  g_test_add_func ("/config/round-trip", test_round_trip);
  g_test_add_func ("/config/saved-text", test_saved_text);
  g_test_add_func ("/config/atomic-save", test_atomic_save);
  g_test_add_func ("/config/check-good", test_check_good);
  g_test_add_func ("/config/check-bad", test_check_bad);

  return g_test_run ();
}
