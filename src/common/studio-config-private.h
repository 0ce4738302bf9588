/* studio-config-private.h: what the files of the config module share with each
 * other (value parsing, storing, number and prompt text) and nobody else needs. */
#pragma once

#include "studio-config.h"

G_BEGIN_DECLS

/* Validates the scalar TEXT for KEY (any type but the list types) and returns its
 * canonical text: numbers in the shortest form that reads back to the same double,
 * booleans as true/false, enum values in the table's spelling, paths absolute when
 * BASE_DIR is known. Errors name the key and the allowed values, not the place. */
char *studio_config_parse_scalar (const StudioConfigKey *key, const char *text,
                                  const char *base_dir, GError **error);

/* Validates one item of a STRING_LIST key. */
gboolean studio_config_check_list_item (const StudioConfigKey *key, const char *item,
                                        GError **error);

/* Stores a validated value: CANONICAL (owned by the callee, NULL resets the key)
 * and, for sample_prompts, PROMPTS (owned by the callee). Keeps the typed fields
 * and the defaults of a changed task_type in step. */
void studio_config_store (StudioConfig *config, const StudioConfigKey *key,
                          char *canonical, GPtrArray *prompts);

/* Puts the defaults of every key not given explicitly in the values table again,
 * paths resolved against CONFIG->base_dir, and updates the typed fields. */
void studio_config_resolve_defaults (StudioConfig *config);

/* Shortest "%.Ng" text that reads back to exactly V; exponents get a ".0" so that
 * YAML 1.1 readers (PyYAML) see a float too. */
char *studio_config_format_number (double v);

/* Double-quoted YAML scalar with escapes for quotes, backslashes and anything
 * that is not printable. */
char *studio_config_quote (const char *s);

/* Canonical one-line (flow) YAML text of a list of sample prompts. */
char *studio_config_prompts_to_flow (GPtrArray *prompts);
/* Parses YAML TEXT holding a sequence of sample prompts (or of strings for a
 * string list) for studio_config_set(). */
GPtrArray *studio_config_prompts_from_text (const char *text, GError **error);
char *studio_config_list_from_text (const StudioConfigKey *key, const char *text,
                                    GError **error);

StudioSamplePrompt *studio_sample_prompt_new (void);
void studio_sample_prompt_free (StudioSamplePrompt *prompt);

/* Edit distance that counts a swap of neighbours as one edit. */
guint studio_config_edit_distance (const char *a, const char *b);

/* Path text as written in a file: relative ("./x") when PATH lies inside DIR. */
char *studio_config_relative_path (const char *path, const char *dir);

G_END_DECLS
