/* studio-config-panel.h: StudioConfigPanel, the Train view's editor of config.yaml:
 * one row per key of the key table (studio-config.h), grouped Model, Dataset, Network,
 * Optimisation, Output and Samples, with the control the key's type calls for, its help
 * sentence as subtitle, the validation message inline and reset-to-default; presets and
 * the article's advice; atomic saves, external edits picked up, conflicts shown. */
#pragma once

#include <adwaita.h>

#include "studio-config-panel-presets.h"
#include "studio-project.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_CONFIG_PANEL (studio_config_panel_get_type ())
G_DECLARE_FINAL_TYPE (StudioConfigPanel, studio_config_panel, STUDIO, CONFIG_PANEL, AdwBin)

/* Edits PROJECT's config in place and saves it to its config.yaml. */
void          studio_config_panel_set_project (StudioConfigPanel *self, StudioProject *project);
StudioConfig *studio_config_panel_get_config  (StudioConfigPanel *self);
/* The row of KEY (an AdwActionRow, AdwComboRow or AdwExpanderRow), for tests. */
GtkWidget    *studio_config_panel_get_row     (StudioConfigPanel *self, const char *key);
/* The control inside KEY's row (GtkSpinButton, GtkSwitch, GtkEntry, ...). */
GtkWidget    *studio_config_panel_get_control (StudioConfigPanel *self, const char *key);
/* The inline error of KEY's row, or NULL when its value was accepted. */
const char   *studio_config_panel_get_error   (StudioConfigPanel *self, const char *key);
/* As if the user entered TEXT in KEY's row: validated, shown, saved shortly after. */
gboolean      studio_config_panel_set_value   (StudioConfigPanel *self, const char *key,
                                               const char *text);
gboolean      studio_config_panel_apply_preset (StudioConfigPanel *self, const char *id);
/* Shows ADVICE at the top of its group, expanded (after an out-of-memory error...). */
void          studio_config_panel_show_advice  (StudioConfigPanel *self, StudioAdvice advice);
gboolean      studio_config_panel_get_advice_shown (StudioConfigPanel *self, StudioAdvice advice);
/* Writes pending edits now (before a run starts). FALSE with ERROR on a conflict or a
 * failed write. */
gboolean      studio_config_panel_flush       (StudioConfigPanel *self, GError **error);
/* TRUE while config.yaml changed on disk under edits not yet saved. */
gboolean      studio_config_panel_has_conflict (StudioConfigPanel *self);
/* The banner's text (conflict or unreadable file), or NULL when hidden. */
const char   *studio_config_panel_get_banner  (StudioConfigPanel *self);
/* Resolves a conflict: TRUE reloads the file, FALSE overwrites it with the panel's values. */
void          studio_config_panel_resolve_conflict (StudioConfigPanel *self, gboolean use_disk);
/* What the base model is, shown under its row (from `lora-engine inspect` or a local
 * look at the file). */
void          studio_config_panel_set_model_info (StudioConfigPanel *self, const char *path,
                                                  const char *info);
const char   *studio_config_panel_get_model_info (StudioConfigPanel *self);
/* The engine's answer to `inspect` (or why there is none), shown below the local one. */
void          studio_config_panel_set_engine_model_info (StudioConfigPanel *self,
                                                         const char *path, const char *info);
const char   *studio_config_panel_get_engine_model_info (StudioConfigPanel *self);
/* While a run uses the config, edits wait. */
void          studio_config_panel_set_locked   (StudioConfigPanel *self, gboolean locked);

G_END_DECLS
