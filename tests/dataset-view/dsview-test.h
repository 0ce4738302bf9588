/* dsview-test.h: what the Dataset view's GUI tests share (test-dataset-view.c,
 * test-auto-caption.c, test-caption-editor-tokens.c): the window's Dataset view, whether
 * it has loaded, a project opened in a window up to that point, and demo images copied
 * into a dataset. Failures are test assertions. */
#pragma once

#include "studio-application.h"
#include "studio-dataset-view.h"
#include "studio-window.h"

G_BEGIN_DECLS

/* WINDOW's Dataset view (in its project view). */
StudioDatasetView *dataset_view (StudioWindow *window);

/* A Condition: the Dataset view VIEW has finished loading a dataset. */
gboolean view_ready (gpointer view);

/* A new window of APP at WIDTH x HEIGHT with the project in DIR open and its dataset
 * loaded (each waited for up to 15 s). */
StudioWindow *open_project_window (StudioApplication *app, const char *dir, int width, int height);

/* Copies the demo dataset's image NAME to DEST_DIR, as DEST_NAME or else NAME. */
void copy_demo_image (const char *name, const char *dest_dir, const char *dest_name);

G_END_DECLS
