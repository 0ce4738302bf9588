/* studio-config-panel-private.h: what the parts of StudioConfigPanel share: its
 * instance struct, the row of one key, and the functions one part calls in another.
 * The parts are
 *   studio-config-panel.c             the class, signals, building the groups, the project,
 *                                     the public getters and setters
 *   studio-config-panel-file.c        saving config.yaml, external edits, the conflict banner
 *   studio-config-panel-rows.c        one row per config key: controls, validation, reset
 *   studio-config-panel-model-info.c  what the base model is
 *   studio-config-panel-advice.c      presets and the article's advice
 * Only these files include it. */
#pragma once

#include "studio-config-panel.h"

G_BEGIN_DECLS

typedef struct {
  StudioConfigPanel     *panel;
  const StudioConfigKey *key;
  GtkWidget *row;
  GtkWidget *control;
  GtkWidget *reset;
  GtkWidget *path_label;   /* PATH rows */
  char      *error;
  gboolean   updating;     /* set while code, not the user, changes the control */
} KeyRow;

struct _StudioConfigPanel
{
  AdwBin parent_instance;

  GtkRevealer           *banner_revealer;
  GtkLabel              *banner_label;
  GtkButton             *reload_button;
  GtkButton             *keep_button;
  AdwPreferencesPage    *page;
  AdwPreferencesGroup   *preset_group;
  AdwPreferencesGroup   *advice_group;

  AdwPreferencesGroup   *groups[STUDIO_KEY_GROUP_SAMPLES + 1];
  GHashTable            *rows;           /* key name -> KeyRow* */
  AdwActionRow          *model_info_row;
  AdwExpanderRow        *advice_rows[STUDIO_N_ADVICE];
  gboolean               advice_shown[STUDIO_N_ADVICE];

  StudioProject *project;
  StudioConfig  *config;        /* the project's, edited in place */
  char          *disk_text;     /* config.yaml as last loaded or saved by us */
  gboolean       dirty;         /* edits not yet on disk */
  gboolean       conflict;
  char          *banner_text;
  guint          save_timeout;
  guint          monitor_timeout;
  GFileMonitor  *monitor;
  GCancellable  *cancellable;
  char          *model_info;      /* from the file itself */
  char          *engine_info;     /* from `lora-engine inspect`, or why there is none */
};

enum { SIGNAL_CHANGED, SIGNAL_INSPECT_MODEL, N_SIGNALS };

/* studio-config-panel.c */
/* The "changed" signal: the config changed (an edit, a preset, a reload). */
void     _studio_config_panel_emit_changed       (StudioConfigPanel *self);
/* The "inspect-model" signal: the base model is PATH now. */
void     _studio_config_panel_emit_inspect_model (StudioConfigPanel *self, const char *path);

/* studio-config-panel-file.c */
/* config.yaml as it is on disk now, or NULL. */
char    *_studio_config_panel_read_disk          (StudioConfigPanel *self);
/* Shows TEXT in the banner (NULL hides it); CONFLICT offers Reload and Keep. */
void     _studio_config_panel_show_banner        (StudioConfigPanel *self, const char *text,
                                                  gboolean conflict);
gboolean _studio_config_panel_save_now           (StudioConfigPanel *self, gboolean force,
                                                  GError **error);
/* Marks the config dirty and saves it a moment later, unless a conflict waits. */
void     _studio_config_panel_schedule_save      (StudioConfigPanel *self);
void     _studio_config_panel_on_file_changed    (GFileMonitor *monitor, GFile *file, GFile *other,
                                                  GFileMonitorEvent event, StudioConfigPanel *self);

/* studio-config-panel-rows.c */
void     _studio_config_panel_key_row_free       (KeyRow *row);
KeyRow  *_studio_config_panel_make_row           (StudioConfigPanel *self, const StudioConfigKey *key);
/* Shows MESSAGE inline under the row, or its help when MESSAGE is NULL. */
void     _studio_config_panel_set_row_error      (KeyRow *row, const char *message);
/* Validates TEXT as ROW's value and, when it is accepted, stores and saves it. */
gboolean _studio_config_panel_commit             (KeyRow *row, const char *text);
void     _studio_config_panel_update_row         (StudioConfigPanel *self, KeyRow *row);
void     _studio_config_panel_update_all_rows    (StudioConfigPanel *self);

/* studio-config-panel-model-info.c */
/* Describes the config's base model (off the main thread) and asks for an inspect. */
void     _studio_config_panel_describe_model     (StudioConfigPanel *self);
/* Shows what the file and the engine said about the base model. */
void     _studio_config_panel_show_model_info    (StudioConfigPanel *self);

/* studio-config-panel-advice.c */
/* Adds the Presets row to its group and the advice group to the end of the page. */
void     _studio_config_panel_build_presets_and_advice (StudioConfigPanel *self);

G_END_DECLS
