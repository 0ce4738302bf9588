/* studio-project-view.h: StudioProjectView, a project's Dataset, Train and Samples
 * views in an AdwViewStack (the window's header bar switches between them). */
#pragma once

#include <adwaita.h>

#include "studio-dataset-view.h"
#include "studio-project.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_PROJECT_VIEW (studio_project_view_get_type ())
G_DECLARE_FINAL_TYPE (StudioProjectView, studio_project_view, STUDIO, PROJECT_VIEW, AdwBin)

/* Shows PROJECT; each view reads what it needs from disk in worker threads. */
void          studio_project_view_set_project      (StudioProjectView *self, StudioProject *project);
StudioProject *studio_project_view_get_project     (StudioProjectView *self);
AdwViewStack *studio_project_view_get_stack        (StudioProjectView *self);
StudioDatasetView *studio_project_view_get_dataset_view (StudioProjectView *self);
/* "dataset", "train" or "samples". */
void          studio_project_view_set_visible_view (StudioProjectView *self, const char *name);

G_END_DECLS
