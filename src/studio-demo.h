/* studio-demo.h: where the demo project ships, and the user's editable copy of it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The read-only demo folder that ships with the app: $LORA_STUDIO_DATADIR/demo (tests),
 * else the build tree's data/demo when running uninstalled, else PKGDATADIR/demo.
 * Free with g_free. */
char *studio_demo_get_shipped_dir (void);

/* $XDG_DATA_HOME/lora-studio/demo: where the user's own copy lives. */
char *studio_demo_get_user_dir (void);

/* Copies the shipped demo to the user's folder unless a copy is already there (the
 * user's captions and runs are never overwritten), in a worker thread. The copy is
 * made under a temporary name and renamed, so a half copy is never mistaken for one. */
void   studio_demo_prepare_async  (GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
/* Returns the user's demo folder. */
GFile *studio_demo_prepare_finish (GAsyncResult *result, GError **error);

G_END_DECLS
