/* studio-runs-summary.h: StudioRunsSummary, the Samples view until the gallery lands:
 * the training runs found in the project, or a page saying there are none yet. */
#pragma once

#include <adwaita.h>

#include "studio-project.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_RUNS_SUMMARY (studio_runs_summary_get_type ())
G_DECLARE_FINAL_TYPE (StudioRunsSummary, studio_runs_summary, STUDIO, RUNS_SUMMARY, AdwBin)

/* Lists PROJECT's runs (in a worker thread). */
void studio_runs_summary_set_project (StudioRunsSummary *self, StudioProject *project);

G_END_DECLS
