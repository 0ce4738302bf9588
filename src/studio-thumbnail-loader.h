/* studio-thumbnail-loader.h: StudioThumbnailLoader, thumbnails for the Dataset grid.
 *
 * Decoding happens in a small pool of worker threads (never on the main thread),
 * newest request first, so that the cells on screen after a scroll come before the
 * ones scrolled past (whose requests their cells cancel when unbound). Decoded
 * thumbnails are written as PNG to a disk cache, keyed by a hash of the image's path,
 * the thumbnail size and the file's size and mtime, so a changed image gets a new
 * thumbnail; and the last few hundred textures stay in memory (LRU), which bounds
 * the memory used however large the dataset is. */
#pragma once

#include <gdk/gdk.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define STUDIO_TYPE_THUMBNAIL_LOADER (studio_thumbnail_loader_get_type ())
G_DECLARE_FINAL_TYPE (StudioThumbnailLoader, studio_thumbnail_loader, STUDIO, THUMBNAIL_LOADER, GObject)

/* CACHE_DIR NULL: g_get_user_cache_dir()/lora-studio/thumbnails. */
StudioThumbnailLoader *studio_thumbnail_loader_new (const char *cache_dir, guint n_workers,
                                                    guint max_textures);
/* The one the app's views share. */
StudioThumbnailLoader *studio_thumbnail_loader_get_default (void);

/* A texture already in memory, or NULL (no I/O: for bind()). */
GdkTexture *studio_thumbnail_loader_lookup  (StudioThumbnailLoader *self, const char *path,
                                             int size);
/* Loads PATH's thumbnail fitting SIZE x SIZE; the callback runs in the caller's main
 * context. Cancel to drop a request that is no longer on screen. */
void        studio_thumbnail_loader_load    (StudioThumbnailLoader *self, const char *path,
                                             int size, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
GdkTexture *studio_thumbnail_loader_load_finish (StudioThumbnailLoader *self,
                                                 GAsyncResult *result, GError **error);

/* Drops PATH's textures from memory (all sizes): the file changed on disk. */
void        studio_thumbnail_loader_forget  (StudioThumbnailLoader *self, const char *path);

/* Thumbnails up to this size without transparency are cached as JPEG (fast to read
 * back while the grid scrolls); larger ones and transparent ones as lossless PNG. */
#define STUDIO_THUMBNAIL_LOSSY_MAX_SIZE 256

/* The cache file holding PATH's thumbnail of SIZE (see above: a JPEG or a PNG); NULL
 * when there is none yet or PATH cannot be read. */
char       *studio_thumbnail_loader_dup_cache_path (StudioThumbnailLoader *self,
                                                    const char *path, int size);
/* Whether a texture this loader made has no transparency at all. */
gboolean    studio_thumbnail_texture_is_opaque (GdkTexture *texture);

/* Counters for tests and the benchmark. */
guint       studio_thumbnail_loader_get_n_decoded    (StudioThumbnailLoader *self);
guint       studio_thumbnail_loader_get_n_cache_hits (StudioThumbnailLoader *self);
guint       studio_thumbnail_loader_get_n_textures   (StudioThumbnailLoader *self);

G_END_DECLS
