/* studio-config-yaml.c: reading config.yaml with libyaml's document API into a
 * StudioConfig. Every error names the file, line and column and the key, and
 * says what would be accepted. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <yaml.h>

#include "studio-config-private.h"

#define MAX_CONFIG_BYTES (4 * 1024 * 1024)

/* Where the YAML came from, for messages; FILE is NULL for studio_config_set(). */
typedef struct {
  const char *file;
  const char *text;
  gsize       len;
  const char *base_dir;
} Source;

static void G_GNUC_PRINTF (5, 6)
set_error_at (GError **error, const Source *src, yaml_mark_t mark, int code,
              const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);

  if (src->file != NULL)
    g_set_error (error, STUDIO_CONFIG_ERROR, code, "%s:%lu:%lu: %s", src->file,
                 (unsigned long) mark.line + 1, (unsigned long) mark.column + 1, message);
  else
    g_set_error_literal (error, STUDIO_CONFIG_ERROR, code, message);
}

static void
prefix_error_at (GError **error, const Source *src, yaml_mark_t mark)
{
  if (src->file != NULL)
    g_prefix_error (error, "%s:%lu:%lu: ", src->file,
                    (unsigned long) mark.line + 1, (unsigned long) mark.column + 1);
}

static const char *
scalar_text (yaml_node_t *node)
{
  return (const char *) node->data.scalar.value;
}

/* YAML's null: ~, null or nothing at all, unquoted. */
static gboolean
is_null (yaml_node_t *node)
{
  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  const char *t = scalar_text (node);
  return *t == '\0' || strcmp (t, "~") == 0 || g_ascii_strcasecmp (t, "null") == 0;
}

static const char *
node_kind (yaml_node_t *node)
{
  switch (node->type)
    {
    case YAML_MAPPING_NODE: return _("a mapping");
    case YAML_SEQUENCE_NODE: return _("a list");
    default: return _("a single value");
    }
}

/* A string list: one scalar "a, b" or a sequence of scalars. */
static char *
parse_list (const StudioConfigKey *key, yaml_document_t *doc, yaml_node_t *node,
            const Source *src, GError **error)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

  if (node->type == YAML_SCALAR_NODE)
    {
      g_autofree char *whole = g_strstrip (g_strdup (scalar_text (node)));
      g_auto (GStrv) parts = g_strsplit (whole, ",", -1);
      /* Empty items ("a,,b", "a,") are typos and fail the item check below. */
      for (int i = 0; *whole != '\0' && parts[i]; i++)
        g_ptr_array_add (items, g_strstrip (g_strdup (parts[i])));
    }
  else if (node->type == YAML_SEQUENCE_NODE)
    {
      for (yaml_node_item_t *it = node->data.sequence.items.start;
           it < node->data.sequence.items.top; it++)
        {
          yaml_node_t *item = yaml_document_get_node (doc, *it);
          if (item->type != YAML_SCALAR_NODE)
            {
              set_error_at (error, src, item->start_mark, STUDIO_CONFIG_ERROR_TYPE,
                            _("“%s” must be a list of names, not of %s"), key->name,
                            node_kind (item));
              return NULL;
            }
          g_ptr_array_add (items, g_strstrip (g_strdup (scalar_text (item))));
        }
    }
  else
    {
      set_error_at (error, src, node->start_mark, STUDIO_CONFIG_ERROR_TYPE,
                    _("“%s” must be a list of names, not %s"), key->name, node_kind (node));
      return NULL;
    }

  for (guint i = 0; i < items->len; i++)
    if (!studio_config_check_list_item (key, g_ptr_array_index (items, i), error))
      {
        prefix_error_at (error, src, node->start_mark);
        return NULL;
      }
  g_ptr_array_add (items, NULL);
  return g_strjoinv (",", (char **) items->pdata);
}

static const char *const prompt_fields[] = {
  "prompt", "negative_prompt", "seed", "steps", "cfg_scale", "width", "height", "sampler", NULL
};

/* The fields of one sample prompt reuse the checks of the matching keys, with
 * the field name in messages. */
static gboolean
parse_prompt_field (StudioSamplePrompt *p, const char *field, yaml_node_t *value,
                    const Source *src, GError **error)
{
  StudioConfigKey key = { 0 };
  key.name = field;

  if (strcmp (field, "prompt") == 0 || strcmp (field, "negative_prompt") == 0)
    key.type = STUDIO_VALUE_STRING;
  else if (strcmp (field, "sampler") == 0)
    {
      key = *studio_config_key_lookup ("sample_sampler");
      key.name = field;
    }
  else if (strcmp (field, "cfg_scale") == 0)
    key.type = STUDIO_VALUE_NUMBER, key.min = 1, key.max = 30;
  else if (strcmp (field, "seed") == 0)
    key.type = STUDIO_VALUE_INT, key.min = -1, key.max = 4294967295.0;
  else if (strcmp (field, "steps") == 0)
    key.type = STUDIO_VALUE_INT, key.min = 1, key.max = 1000;
  else
    key.type = STUDIO_VALUE_INT, key.min = 64, key.max = 4096;

  if (value->type != YAML_SCALAR_NODE)
    {
      set_error_at (error, src, value->start_mark, STUDIO_CONFIG_ERROR_TYPE,
                    _("“%s” in “sample_prompts” must be a single value, not %s"), field,
                    node_kind (value));
      return FALSE;
    }

  g_autofree char *text = studio_config_parse_scalar (&key, scalar_text (value), NULL, error);
  if (text == NULL)
    {
      prefix_error_at (error, src, value->start_mark);
      return FALSE;
    }

  if (key.type == STUDIO_VALUE_STRING)
    {
      char **slot = strcmp (field, "prompt") == 0 ? &p->prompt : &p->negative_prompt;
      g_free (*slot);
      *slot = g_steal_pointer (&text);
    }
  else if (strcmp (field, "sampler") == 0)
    p->sampler = g_steal_pointer (&text);
  else if (strcmp (field, "cfg_scale") == 0)
    p->cfg_scale = g_ascii_strtod (text, NULL);
  else if (strcmp (field, "seed") == 0)
    p->seed = g_ascii_strtoll (text, NULL, 10);
  else if (strcmp (field, "steps") == 0)
    p->steps = (int) g_ascii_strtoll (text, NULL, 10);
  else
    {
      int v = (int) g_ascii_strtoll (text, NULL, 10);
      if (v % 8 != 0)
        {
          set_error_at (error, src, value->start_mark, STUDIO_CONFIG_ERROR_RANGE,
                        _("“%s” in “sample_prompts” must be a multiple of 8, not %d"), field, v);
          return FALSE;
        }
      *(strcmp (field, "width") == 0 ? &p->width : &p->height) = v;
    }
  return TRUE;
}

static StudioSamplePrompt *
parse_prompt (yaml_document_t *doc, yaml_node_t *node, const Source *src, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  StudioSamplePrompt *p = studio_sample_prompt_new ();

  if (node->type == YAML_SCALAR_NODE && !is_null (node))
    p->prompt = g_strdup (scalar_text (node));
  else if (node->type == YAML_MAPPING_NODE)
    {
      for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
           pair < node->data.mapping.pairs.top; pair++)
        {
          yaml_node_t *k = yaml_document_get_node (doc, pair->key);
          yaml_node_t *v = yaml_document_get_node (doc, pair->value);
          const char *name = k->type == YAML_SCALAR_NODE ? scalar_text (k) : "";

          if (!g_strv_contains (prompt_fields, name))
            {
              const char *nearest = NULL;
              guint best = 3;
              for (int i = 0; prompt_fields[i]; i++)
                {
                  guint d = studio_config_edit_distance (name, prompt_fields[i]);
                  if (d < best)
                    best = d, nearest = prompt_fields[i];
                }
              g_autofree char *list = g_strjoinv (", ", (char **) prompt_fields);
              if (nearest != NULL)
                set_error_at (error, src, k->start_mark, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                              _("unknown field “%s” in “sample_prompts”; did you mean “%s”?"),
                              name, nearest);
              else
                set_error_at (error, src, k->start_mark, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                              _("unknown field “%s” in “sample_prompts”; known fields are %s"),
                              name, list);
              goto fail;
            }
          if (g_hash_table_contains (seen, name))
            {
              set_error_at (error, src, k->start_mark, STUDIO_CONFIG_ERROR_SYNTAX,
                            _("field “%s” appears twice in one of “sample_prompts”"), name);
              goto fail;
            }
          g_hash_table_add (seen, (char *) name);
          if (is_null (v))
            continue;
          if (!parse_prompt_field (p, name, v, src, error))
            goto fail;
        }
    }
  else
    {
      set_error_at (error, src, node->start_mark, STUDIO_CONFIG_ERROR_TYPE,
                    _("each of “sample_prompts” must be a text or a mapping with “prompt”, not %s"),
                    node_kind (node));
      goto fail;
    }

  if (p->prompt == NULL || *p->prompt == '\0')
    {
      set_error_at (error, src, node->start_mark, STUDIO_CONFIG_ERROR_MISSING,
                    _("each of “sample_prompts” needs a non-empty “prompt”"));
      goto fail;
    }
  return p;

fail:
  studio_sample_prompt_free (p);
  return NULL;
}

static GPtrArray *
parse_prompts (yaml_document_t *doc, yaml_node_t *node, const Source *src, GError **error)
{
  g_autoptr (GPtrArray) prompts =
    g_ptr_array_new_with_free_func ((GDestroyNotify) studio_sample_prompt_free);

  if (node->type != YAML_SEQUENCE_NODE)
    {
      /* One prompt alone is a list of one. */
      StudioSamplePrompt *p = parse_prompt (doc, node, src, error);
      if (p == NULL)
        return NULL;
      g_ptr_array_add (prompts, p);
      return g_steal_pointer (&prompts);
    }

  for (yaml_node_item_t *it = node->data.sequence.items.start;
       it < node->data.sequence.items.top; it++)
    {
      StudioSamplePrompt *p = parse_prompt (doc, yaml_document_get_node (doc, *it), src, error);
      if (p == NULL)
        return NULL;
      g_ptr_array_add (prompts, p);
    }
  return g_steal_pointer (&prompts);
}

/* Start of the line that holds byte OFFSET... of line number LINE (0-based). */
static const char *
line_start (const Source *src, gsize line)
{
  const char *p = src->text, *end = src->text + src->len;
  for (gsize l = 0; l < line && p < end; p++)
    if (*p == '\n')
      l++;
  return p;
}

/* libyaml reports a tab in indentation as "found character that cannot start
 * any token"; say what it is. Returns the 0-based line of the first line up to
 * MAX_LINE whose indentation holds a tab, or -1. */
static gssize
find_tab_indent (const Source *src, gsize max_line, gsize *column)
{
  const char *end = src->text + src->len;
  for (gsize line = 0; line <= max_line; line++)
    {
      const char *p = line_start (src, line);
      if (p >= end)
        break;
      for (gsize col = 0; p < end && (*p == ' ' || *p == '\t'); p++, col++)
        if (*p == '\t')
          {
            *column = col;
            return line;
          }
    }
  return -1;
}

static void
set_syntax_error (yaml_parser_t *parser, const Source *src, GError **error)
{
  const char *name = src->file ? src->file : _("config");

  if (parser->error == YAML_READER_ERROR)
    {
      gsize line = 1, column = 1;
      for (gsize i = 0; i < parser->problem_offset && i < src->len; i++)
        {
          column++;
          if (src->text[i] == '\n')
            line++, column = 1;
        }
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_SYNTAX,
                   _("%s:%lu:%lu: %s; save the file as UTF-8 text"), name,
                   (unsigned long) line, (unsigned long) column, parser->problem);
      return;
    }

  gsize column = 0;
  gssize tab_line = find_tab_indent (src, parser->problem_mark.line, &column);
  if (tab_line >= 0)
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_SYNTAX,
                   _("%s:%ld:%lu: tabs are not allowed in YAML indentation; indent with spaces"),
                   name, (long) tab_line + 1, (unsigned long) column + 1);
      return;
    }

  g_autoptr (GString) message = g_string_new (NULL);
  g_string_append_printf (message, "%s:%lu:%lu: ", name,
                          (unsigned long) parser->problem_mark.line + 1,
                          (unsigned long) parser->problem_mark.column + 1);
  g_string_append_printf (message, _("YAML syntax error: %s"),
                          parser->problem ? parser->problem : _("unknown problem"));
  if (parser->context != NULL)
    g_string_append_printf (message, _(" (%s, line %lu)"), parser->context,
                            (unsigned long) parser->context_mark.line + 1);
  /* The article prints "key: value key: value" on one line; a pasted copy of
   * it fails exactly here. */
  const char *line = line_start (src, parser->problem_mark.line);
  const char *eol = memchr (line, '\n', src->text + src->len - line);
  g_autofree char *text = g_strndup (line, eol ? (gsize) (eol - line) : strlen (line));
  g_autoptr (GRegex) two_keys = g_regex_new ("[A-Za-z_]+:\\s.*\\s[A-Za-z_]+:\\s", 0, 0, NULL);
  if (g_regex_match (two_keys, text, 0, NULL))
    g_string_append (message, _("; put each key on its own line"));
  g_set_error_literal (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_SYNTAX, message->str);
}

/* libyaml's time grows with the square of the nesting depth of [ and {, so a
 * hostile "[[[[..." would hang the loader; no config nests more than a few
 * levels. The scan skips quoted text and comments; plain text with brackets
 * can only make it stricter, never let deeper nesting through. */
#define MAX_FLOW_DEPTH 64

static gboolean
check_flow_depth (const Source *src, GError **error)
{
  int depth = 0;
  gsize line = 0, column = 0;
  char quote = 0;

  for (gsize i = 0; i < src->len; i++, column++)
    {
      char c = src->text[i];
      if (c == '\n')
        {
          line++, column = (gsize) -1;
          if (quote == 0)
            continue;
        }
      if (quote != 0)
        {
          if (c == '\\' && quote == '"')
            i++, column++;
          else if (c == quote)
            quote = 0;
          continue;
        }
      if ((c == '"' || c == '\'') && (i == 0 || strchr (" \t[{,:\n", src->text[i - 1])))
        quote = c;
      else if (c == '#' && (i == 0 || src->text[i - 1] == ' ' || src->text[i - 1] == '\t'))
        {
          while (i + 1 < src->len && src->text[i + 1] != '\n')
            i++;
        }
      else if (c == '[' || c == '{')
        {
          if (++depth > MAX_FLOW_DEPTH)
            {
              yaml_mark_t mark = { i, line, column };
              set_error_at (error, src, mark, STUDIO_CONFIG_ERROR_SYNTAX,
                            _("values are nested more than %d levels deep"), MAX_FLOW_DEPTH);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* Loads the single YAML document of SRC into DOC. */
static gboolean
load_document (const Source *src, yaml_document_t *doc, GError **error)
{
  yaml_parser_t parser;
  gboolean ok = FALSE;

  if (!check_flow_depth (src, error))
    return FALSE;

  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) src->text, src->len);
  if (!yaml_parser_load (&parser, doc))
    {
      set_syntax_error (&parser, src, error);
      goto out;
    }

  yaml_document_t next;
  if (!yaml_parser_load (&parser, &next))
    {
      set_syntax_error (&parser, src, error);
      yaml_document_delete (doc);
      goto out;
    }
  gboolean more = yaml_document_get_root_node (&next) != NULL;
  yaml_mark_t mark = next.start_mark;
  yaml_document_delete (&next);
  if (more)
    {
      set_error_at (error, src, mark, STUDIO_CONFIG_ERROR_SYNTAX,
                    _("a config holds one YAML document; remove the second “---”"));
      yaml_document_delete (doc);
      goto out;
    }
  ok = TRUE;

out:
  yaml_parser_delete (&parser);
  return ok;
}

static gboolean
apply_pair (StudioConfig *config, yaml_document_t *doc, yaml_node_t *knode, yaml_node_t *value,
            const Source *src, GError **error)
{
  const char *name = scalar_text (knode);
  const StudioConfigKey *key = studio_config_key_lookup (name);

  if (key == NULL)
    {
      const char *nearest = studio_config_nearest_key (name);
      if (nearest != NULL)
        set_error_at (error, src, knode->start_mark, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                      _("unknown key “%s”; did you mean “%s”?"), name, nearest);
      else
        set_error_at (error, src, knode->start_mark, STUDIO_CONFIG_ERROR_UNKNOWN_KEY,
                      _("unknown key “%s”; `lora-engine train --help` lists the keys"), name);
      return FALSE;
    }

  if (is_null (value))
    {
      studio_config_store (config, key, NULL, NULL);
      return TRUE;
    }

  if (key->type == STUDIO_VALUE_SAMPLE_PROMPTS)
    {
      GPtrArray *prompts = parse_prompts (doc, value, src, error);
      if (prompts == NULL)
        return FALSE;
      studio_config_store (config, key, studio_config_prompts_to_flow (prompts), prompts);
      return TRUE;
    }

  if (key->type == STUDIO_VALUE_STRING_LIST)
    {
      char *list = parse_list (key, doc, value, src, error);
      if (list == NULL)
        return FALSE;
      studio_config_store (config, key, list, NULL);
      return TRUE;
    }

  if (value->type != YAML_SCALAR_NODE)
    {
      set_error_at (error, src, value->start_mark, STUDIO_CONFIG_ERROR_TYPE,
                    _("“%s” must be a single value, not %s"), name, node_kind (value));
      return FALSE;
    }

  char *canonical = studio_config_parse_scalar (key, scalar_text (value), src->base_dir, error);
  if (canonical == NULL)
    {
      prefix_error_at (error, src, value->start_mark);
      return FALSE;
    }
  studio_config_store (config, key, canonical, NULL);
  return TRUE;
}

static StudioConfig *
load_source (const Source *src, GError **error)
{
  yaml_document_t doc;

  if (!load_document (src, &doc, error))
    return NULL;

  g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  config->base_dir = g_strdup (src->base_dir);
  studio_config_resolve_defaults (config);

  yaml_node_t *root = yaml_document_get_root_node (&doc);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok = TRUE;

  if (root == NULL || is_null (root))
    goto out;   /* an empty file: every key takes its default */

  if (root->type != YAML_MAPPING_NODE)
    {
      set_error_at (error, src, root->start_mark, STUDIO_CONFIG_ERROR_SYNTAX,
                    _("a config is a list of “key: value” lines, not %s"), node_kind (root));
      ok = FALSE;
      goto out;
    }

  for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
       ok && pair < root->data.mapping.pairs.top; pair++)
    {
      yaml_node_t *knode = yaml_document_get_node (&doc, pair->key);
      yaml_node_t *value = yaml_document_get_node (&doc, pair->value);

      if (knode->type != YAML_SCALAR_NODE)
        {
          set_error_at (error, src, knode->start_mark, STUDIO_CONFIG_ERROR_SYNTAX,
                        _("a key must be a plain name, not %s"), node_kind (knode));
          ok = FALSE;
          break;
        }

      yaml_node_t *first = g_hash_table_lookup (seen, scalar_text (knode));
      if (first != NULL)
        {
          set_error_at (error, src, knode->start_mark, STUDIO_CONFIG_ERROR_SYNTAX,
                        _("key “%s” appears twice (first on line %lu); keep one"),
                        scalar_text (knode), (unsigned long) first->start_mark.line + 1);
          ok = FALSE;
          break;
        }
      g_hash_table_insert (seen, (char *) scalar_text (knode), knode);

      ok = apply_pair (config, &doc, knode, value, src, error);
    }

out:
  yaml_document_delete (&doc);
  return ok ? g_steal_pointer (&config) : NULL;
}

StudioConfig *
studio_config_load_from_data (const char *yaml, gssize len, const char *base_dir, GError **error)
{
  g_return_val_if_fail (yaml != NULL, NULL);

  g_autofree char *abs_dir = base_dir ? g_canonicalize_filename (base_dir, NULL) : NULL;
  Source src = { "config.yaml", yaml, len < 0 ? strlen (yaml) : (gsize) len, abs_dir };
  return load_source (&src, error);
}

StudioConfig *
studio_config_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  /* A config is a few kilobytes; anything huge is the wrong file. */
  GStatBuf st;
  if (g_stat (path, &st) == 0 && st.st_size > MAX_CONFIG_BYTES)
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO,
                   _("%s is %lld bytes, too large to be a training config (at most %d)"),
                   path, (long long) st.st_size, MAX_CONFIG_BYTES);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_IO,
                   _("Cannot read the config: %s"), local->message);
      return NULL;
    }

  g_autofree char *abs_path = g_canonicalize_filename (path, NULL);
  g_autofree char *dir = g_path_get_dirname (abs_path);
  Source src = { path, contents, len, dir };
  StudioConfig *config = load_source (&src, error);
  if (config != NULL)
    config->path = g_steal_pointer (&abs_path);
  return config;
}

/* studio_config_set() takes lists as YAML text: parse it as a one-value document. */
static gboolean
load_value_text (const char *text, yaml_document_t *doc, yaml_node_t **root, GError **error)
{
  Source src = { NULL, text, strlen (text), NULL };
  if (!load_document (&src, doc, error))
    return FALSE;
  *root = yaml_document_get_root_node (doc);
  if (*root == NULL)
    {
      yaml_document_delete (doc);
      g_set_error (error, STUDIO_CONFIG_ERROR, STUDIO_CONFIG_ERROR_TYPE, _("the value is empty"));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
studio_config_prompts_from_text (const char *text, GError **error)
{
  yaml_document_t doc;
  yaml_node_t *root;
  Source src = { NULL, text, strlen (text), NULL };

  if (!load_value_text (text, &doc, &root, error))
    return NULL;
  GPtrArray *prompts = parse_prompts (&doc, root, &src, error);
  yaml_document_delete (&doc);
  return prompts;
}

char *
studio_config_list_from_text (const StudioConfigKey *key, const char *text, GError **error)
{
  Source src = { NULL, text, strlen (text), NULL };

  const char *p = text;
  while (g_ascii_isspace (*p))
    p++;
  if (*p == '[')
    {
      yaml_document_t doc;
      yaml_node_t *root;
      if (!load_value_text (text, &doc, &root, error))
        return NULL;
      char *list = parse_list (key, &doc, root, &src, error);
      yaml_document_delete (&doc);
      return list;
    }

  /* Plain "a, b": split like a YAML scalar would be. */
  yaml_node_t node = { 0 };
  node.type = YAML_SCALAR_NODE;
  node.data.scalar.value = (yaml_char_t *) text;
  return parse_list (key, NULL, &node, &src, error);
}
