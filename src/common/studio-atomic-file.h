/* studio-atomic-file.h: replace a file so that a crash leaves the old or the new
 * content, never a mix: write a temporary file beside it, fsync, rename, fsync the
 * folder. Every file a user wrote (captions, configs, checkpoints) goes through here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean studio_atomic_write (const char *path, const void *data, gsize len, GError **error);

G_END_DECLS
