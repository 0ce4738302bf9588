/* studio-application.h: StudioApplication, the lora-studio AdwApplication. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define STUDIO_TYPE_APPLICATION (studio_application_get_type ())
G_DECLARE_FINAL_TYPE (StudioApplication, studio_application, STUDIO, APPLICATION, AdwApplication)

StudioApplication *studio_application_new (void);

/* The app's GSettings, or NULL when the schema is neither installed nor in the build
 * tree (then nothing is remembered, and nothing crashes). */
GSettings *studio_application_get_settings (StudioApplication *self);

/* Opens FOLDER as a project: in a window still showing the welcome page, else in a
 * new window. */
void studio_application_open_project (StudioApplication *self, GFile *folder);

/* APP_ID when the icon theme has the app icon, else a generic icon. */
const char *studio_application_get_icon_name (void);

/* Copies the shipped demo project to the user's data folder (once) and opens it. */
void studio_application_open_demo (StudioApplication *self);

G_END_DECLS
