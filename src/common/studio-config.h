/* studio-config.h: the training config (YAML), shared by the app and the engine.
 *
 * One parser and one writer for config.yaml. Every key of CONTRACTS.md and of the
 * article's examples is accepted with the same meaning; the key table in
 * studio-config-keys.c is the single source of names, types, defaults, ranges and
 * help text (the app's config panel and `lora-engine train --help` read it too).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define STUDIO_CONFIG_ERROR (studio_config_error_quark ())
GQuark studio_config_error_quark (void);

typedef enum {
  STUDIO_CONFIG_ERROR_IO,            /* cannot read or write the file */
  STUDIO_CONFIG_ERROR_SYNTAX,        /* YAML syntax (tabs, bad indentation, ...) */
  STUDIO_CONFIG_ERROR_UNKNOWN_KEY,   /* key not in the table ("did you mean ...?") */
  STUDIO_CONFIG_ERROR_TYPE,          /* value of the wrong type */
  STUDIO_CONFIG_ERROR_RANGE,         /* value outside the allowed range or enum */
  STUDIO_CONFIG_ERROR_MISSING,       /* a required key is absent */
  STUDIO_CONFIG_ERROR_FILE,          /* a path the config names is missing or wrong */
} StudioConfigError;

typedef enum {
  STUDIO_VALUE_STRING,
  STUDIO_VALUE_PATH,      /* string; relative paths resolve against the config's folder */
  STUDIO_VALUE_INT,
  STUDIO_VALUE_NUMBER,    /* double; "1e-4" is a number */
  STUDIO_VALUE_BOOL,
  STUDIO_VALUE_ENUM,      /* string out of a fixed list */
  STUDIO_VALUE_STRING_LIST,   /* YAML sequence or comma-separated string */
  STUDIO_VALUE_SAMPLE_PROMPTS /* sequence of strings or of mappings, see StudioSamplePrompt */
} StudioValueType;

typedef enum {
  STUDIO_KEY_GROUP_MODEL,
  STUDIO_KEY_GROUP_DATASET,
  STUDIO_KEY_GROUP_NETWORK,
  STUDIO_KEY_GROUP_OPTIMISATION,
  STUDIO_KEY_GROUP_OUTPUT,
  STUDIO_KEY_GROUP_SAMPLES,
} StudioKeyGroup;

/* Which pipelines a key applies to. */
#define STUDIO_KEY_IMAGE 1u
#define STUDIO_KEY_TEXT  2u
#define STUDIO_KEY_BOTH  3u

typedef struct {
  const char     *name;          /* YAML key, e.g. "lora_rank" */
  StudioValueType type;
  StudioKeyGroup  group;
  guint           tasks;         /* STUDIO_KEY_IMAGE | STUDIO_KEY_TEXT */
  const char     *default_value; /* as YAML text; NULL = unset by default */
  double          min, max;      /* INT and NUMBER ranges (inclusive) */
  const char *const *choices;    /* ENUM: NULL-terminated list */
  const char     *title;         /* short translatable label, N_() */
  const char     *help;          /* one translatable sentence, N_() */
  /* Added: default for text-generation where it differs from default_value (NULL = same). */
  const char     *text_default_value;
  /* Added: a CONTRACTS.md key, always written on save when it applies to the task. */
  gboolean        core;
} StudioConfigKey;

typedef enum {
  STUDIO_TASK_IMAGE_LORA,
  STUDIO_TASK_TEXT_GENERATION,
} StudioTaskType;

/* The key table, terminated by an entry whose name is NULL. */
const StudioConfigKey *studio_config_keys (void);
const StudioConfigKey *studio_config_key_lookup (const char *name);
/* The known key closest to NAME by edit distance, or NULL when none is close. */
const char *studio_config_nearest_key (const char *name);
/* Added: the default of KEY for TASK, as YAML text (NULL = unset by default). */
const char *studio_config_key_default (const StudioConfigKey *key, StudioTaskType task);
/* Added: translated title of a group ("Model", "Dataset", ...). */
const char *studio_config_group_title (StudioKeyGroup group);
/* Added: what KEY accepts, in words ("a whole number from 1 to 1024", "one of
 * AdamW, Adam, SGD"), for help texts and the app's tooltips. Free with g_free. */
char *studio_config_key_values_text (const StudioConfigKey *key);
/* Added: every key by group with what it accepts and its help sentence, for
 * `lora-engine train --help` and help/. Free with g_free. */
char *studio_config_reference (void);
/* Added: "image-lora" or "text-generation". */
const char *studio_config_task_name (StudioTaskType task);

typedef struct {
  char  *prompt;
  char  *negative_prompt;  /* may be NULL */
  gint64 seed;             /* -1 = derive from the run seed */
  int    steps;            /* 0 = sample_steps */
  double cfg_scale;        /* 0 = sample_cfg_scale */
  int    width, height;    /* 0 = resolution */
  char  *sampler;          /* "ddim" or "euler_a"; NULL = sample_sampler */
} StudioSamplePrompt;

/* A loaded config. Typed fields for what code reads often; every key (set or
 * defaulted) is also reachable by name through studio_config_get_*(). Paths are
 * stored resolved (absolute) and saved relative to the file's folder when they
 * lie below it. */
typedef struct {
  char          *path;             /* the file this came from, or NULL */
  StudioTaskType task_type;

  char   *train_data_dir;
  char   *metadata_path;           /* NULL: <image>.txt sidecars */
  char   *base_model;
  char   *output_dir;
  char   *log_dir;                 /* when the key is unset: output_dir/logs */

  int     lora_rank;
  double  lora_alpha;
  double  lora_dropout;
  int     batch_size;
  int     epochs;
  double  learning_rate;
  char   *optimizer;
  char   *scheduler;
  int     save_steps;
  int     sequence_length;

  /* Everything, by key name, as the YAML text of its value (defaults included). */
  GHashTable *values;              /* char* -> char* */
  GHashTable *explicit_keys;       /* set of keys that the file itself gave */
  GPtrArray  *sample_prompts;      /* of StudioSamplePrompt* */

  /* Added: the folder relative paths resolve against (the file's folder), or NULL. */
  char       *base_dir;
} StudioConfig;

StudioConfig *studio_config_new_default (StudioTaskType task);
StudioConfig *studio_config_load (const char *path, GError **error);
/* Messages name the text "config.yaml"; relative paths resolve against BASE_DIR,
 * or stay relative when it is NULL (the first save resolves them). */
StudioConfig *studio_config_load_from_data (const char *yaml, gssize len,
                                            const char *base_dir, GError **error);
/* Writes atomically (temporary file, fsync, rename); round-trips every value.
 * Paths below PATH's folder are written relative to it. On success CONFIG->path
 * and CONFIG->base_dir become PATH and its folder. */
gboolean      studio_config_save (StudioConfig *config, const char *path, GError **error);
char         *studio_config_to_yaml (StudioConfig *config);
void          studio_config_free (StudioConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioConfig, studio_config_free)

/* Sets KEY from its YAML text, validating type and range exactly as loading does.
 * VALUE is the scalar's text as if it were quoted ("~" is not null here); NULL
 * resets the key. STRING_LIST takes "a, b" or a flow sequence "[a, b]";
 * SAMPLE_PROMPTS takes a YAML sequence. On error the config is unchanged. */
gboolean    studio_config_set (StudioConfig *config, const char *key, const char *value,
                               GError **error);
/* Removes an explicit value so the default applies again. */
void        studio_config_reset (StudioConfig *config, const char *key);
const char *studio_config_get_string (StudioConfig *config, const char *key);
gint64      studio_config_get_int (StudioConfig *config, const char *key);
double      studio_config_get_number (StudioConfig *config, const char *key);
gboolean    studio_config_get_bool (StudioConfig *config, const char *key);
/* NULL-terminated, free with g_strfreev. */
char      **studio_config_get_string_list (StudioConfig *config, const char *key);

/* Checks the files the config names (data folder exists and holds data, base model
 * exists and is readable, output folder is writable) and cross-key rules. Appends one
 * GError per problem to PROBLEMS (a GPtrArray of GError*, free func g_error_free) and
 * returns TRUE when there were none. */
gboolean studio_config_check (StudioConfig *config, GPtrArray *problems);

G_END_DECLS
