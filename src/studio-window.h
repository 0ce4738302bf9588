/* studio-window.h: StudioWindow, one project (or the welcome page) per window. */
#pragma once

#include <adwaita.h>

#include "studio-application.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_WINDOW (studio_window_get_type ())
G_DECLARE_FINAL_TYPE (StudioWindow, studio_window, STUDIO, WINDOW, AdwApplicationWindow)

StudioWindow *studio_window_new (StudioApplication *application);

/* Opens the project in FOLDER (in a worker thread) and shows it; a problem with it is
 * shown in a dialog and the window stays as it was. */
void     studio_window_open_project  (StudioWindow *self, GFile *folder);
/* Makes FOLDER a project and shows it. DATASET_DIR NULL: a new FOLDER/dataset;
 * otherwise the images already there become the dataset (a dropped folder). */
void     studio_window_create_project (StudioWindow *self, GFile *folder, GFile *dataset_dir);
gboolean studio_window_has_project   (StudioWindow *self);
/* The open project's folder, or NULL on the welcome page. */
GFile   *studio_window_get_project_folder (StudioWindow *self);

/* Asks for a folder with the native chooser, then creates or opens a project there. */
void studio_window_choose_project_folder (StudioWindow *self, gboolean create);

/* A dialog for errors the user must read; a toast for everything else. */
void studio_window_show_error (StudioWindow *self, const char *heading, const char *body);
void studio_window_show_toast (StudioWindow *self, const char *message);

G_END_DECLS
