/* studio-config-summary.h: StudioConfigSummary, the Train view until the config panel
 * lands: the settings of config.yaml, read-only, and what is missing to train. */
#pragma once

#include <adwaita.h>

#include "studio-config.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_CONFIG_SUMMARY (studio_config_summary_get_type ())
G_DECLARE_FINAL_TYPE (StudioConfigSummary, studio_config_summary, STUDIO, CONFIG_SUMMARY, AdwBin)

/* Shows CONFIG's settings. Checks on disk (is the base model there?) run in a worker
 * thread. */
void studio_config_summary_set_config (StudioConfigSummary *self, const StudioConfig *config);

G_END_DECLS
