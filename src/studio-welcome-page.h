/* studio-welcome-page.h: StudioWelcomePage, what a window shows with no project open. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define STUDIO_TYPE_WELCOME_PAGE (studio_welcome_page_get_type ())
G_DECLARE_FINAL_TYPE (StudioWelcomePage, studio_welcome_page, STUDIO, WELCOME_PAGE, AdwBin)

/* Lists the recent projects (folder paths, newest first); rows activate
 * win.open-recent with the path. An empty list hides the group. */
void studio_welcome_page_set_recent (StudioWelcomePage *self, const char *const *paths);

G_END_DECLS
