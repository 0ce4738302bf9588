/* studio-thumbnail-loader.c: StudioThumbnailLoader (see the header). */
#include "config.h"

#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>

#include "studio-atomic-file.h"
#include "studio-thumbnail-loader.h"

struct _StudioThumbnailLoader
{
  GObject parent_instance;

  char        *cache_dir;
  GThreadPool *pool;
  GMutex       stack_lock;
  GQueue       stack;         /* GTask*, newest at the head: what workers take next */
  guint        max_textures;

  GHashTable  *textures;      /* "size:path" -> GList link in lru (data: Entry*) */
  GQueue       lru;           /* Entry*, most recently used at the head */

  guint        n_decoded;     /* atomics: written by workers */
  guint        n_cache_hits;
};

typedef struct {
  char       *key;
  GdkTexture *texture;
} Entry;

typedef struct {
  char  *path;
  int    size;
} Request;

G_DEFINE_FINAL_TYPE (StudioThumbnailLoader, studio_thumbnail_loader, G_TYPE_OBJECT)

static void
entry_free (Entry *entry)
{
  g_free (entry->key);
  g_object_unref (entry->texture);
  g_free (entry);
}

static void
request_free (Request *request)
{
  g_free (request->path);
  g_free (request);
}

static char *
memory_key (const char *path, int size)
{
  return g_strdup_printf ("%d:%s", size, path);
}

/* A grid thumbnail without transparency is cached as a JPEG, one with it as a PNG.
 * Reading the cache is the workers' whole job on a warm start, and on every scrolled
 * frame: a 160 px JPEG decodes about 7x faster than the same pixels as a PNG (0.07
 * against 0.50 ms, measured) and is several times smaller, and at quality 90 and this
 * size the difference is hard to see. Larger pictures (the caption editor's preview,
 * where a designer judges the image) stay lossless: one at a time, speed does not
 * matter there, and JPEG's own artefacts must not be mistaken for the image's. The
 * limit is in the header, where the grid's zoom levels check they stay under it. */
static const char *const cache_suffixes[] = { ".jpg", ".png" };

static char *
cache_stem_for (const char *cache_dir, const char *path, int size, GStatBuf *st)
{
  g_autofree char *key = g_strdup_printf ("%s\n%d\n%" G_GINT64_FORMAT "\n%" G_GINT64_FORMAT,
                                          path, size, (gint64) st->st_size, (gint64) st->st_mtime);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, key, -1);
  return g_build_filename (cache_dir, hash, NULL);
}

char *
studio_thumbnail_loader_dup_cache_path (StudioThumbnailLoader *self, const char *path, int size)
{
  g_autofree char *stem = NULL;
  GStatBuf st;

  g_return_val_if_fail (STUDIO_IS_THUMBNAIL_LOADER (self), NULL);
  if (g_stat (path, &st) != 0)
    return NULL;
  stem = cache_stem_for (self->cache_dir, path, size, &st);
  for (guint i = 0; i < G_N_ELEMENTS (cache_suffixes); i++)
    {
      g_autofree char *cached = g_strconcat (stem, cache_suffixes[i], NULL);
      if (g_file_test (cached, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&cached);
    }
  return NULL;
}

static GQuark
opaque_quark (void)
{
  return g_quark_from_static_string ("studio-thumbnail-opaque");
}

/* GTK 4.8 cannot tell a texture's format; the grid draws less under an opaque one. */
static GdkTexture *
texture_from_pixbuf (GdkPixbuf *pixbuf)
{
  GdkTexture *texture = gdk_texture_new_for_pixbuf (pixbuf);

  if (!gdk_pixbuf_get_has_alpha (pixbuf))
    g_object_set_qdata (G_OBJECT (texture), opaque_quark (), GINT_TO_POINTER (TRUE));
  return texture;
}

gboolean
studio_thumbnail_texture_is_opaque (GdkTexture *texture)
{
  g_return_val_if_fail (GDK_IS_TEXTURE (texture), FALSE);
  return g_object_get_qdata (G_OBJECT (texture), opaque_quark ()) != NULL;
}

/* PIXBUF (RGBA) has every pixel fully opaque: an alpha channel that says nothing. */
static gboolean
alpha_is_unused (GdkPixbuf *pixbuf)
{
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (pixels[(gsize) y * stride + x * 4 + 3] != 0xff)
        return FALSE;
  return TRUE;
}

/* A copy of PIXBUF (RGBA) without its alpha channel. */
static GdkPixbuf *
without_alpha (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  int src_stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  GdkPixbuf *rgb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  int dst_stride = gdk_pixbuf_get_rowstride (rgb);
  guint8 *dst = gdk_pixbuf_get_pixels (rgb);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      memcpy (dst + (gsize) y * dst_stride + x * 3, src + (gsize) y * src_stride + x * 4, 3);
  return rgb;
}

/* Written atomically: two windows (or a crash) never leave half a file that a later
 * start would show. A cache that cannot be written just means decoding again. */
static void
save_to_cache (StudioThumbnailLoader *self, GdkPixbuf *pixbuf, int size, const char *stem)
{
  gboolean lossy = !gdk_pixbuf_get_has_alpha (pixbuf) && size <= STUDIO_THUMBNAIL_LOSSY_MAX_SIZE;
  g_autofree char *cached = g_strconcat (stem, lossy ? ".jpg" : ".png", NULL);
  g_autofree char *buffer = NULL;
  gsize len;
  gboolean saved;

  if (g_mkdir_with_parents (self->cache_dir, 0700) != 0)
    return;
  saved = lossy ? gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "jpeg", NULL, "quality", "90", NULL)
                 : gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "png", NULL, "compression", "1", NULL);
  if (saved)
    studio_atomic_write (cached, buffer, len, NULL);
}

/* In a worker: the cached thumbnail when there is one, else decode and cache. */
static GdkTexture *
make_thumbnail (StudioThumbnailLoader *self, const char *path, int size, GError **error)
{
  GStatBuf st;
  g_autofree char *stem = NULL;
  g_autoptr (GdkPixbuf) pixbuf = NULL;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot read “%s”: %s"), path, g_strerror (saved));
      return NULL;
    }
  stem = cache_stem_for (self->cache_dir, path, size, &st);
  for (guint i = 0; i < G_N_ELEMENTS (cache_suffixes) && pixbuf == NULL; i++)
    {
      g_autofree char *cached = g_strconcat (stem, cache_suffixes[i], NULL);
      pixbuf = gdk_pixbuf_new_from_file (cached, NULL);
    }
  if (pixbuf != NULL)
    {
      g_atomic_int_inc (&self->n_cache_hits);
      return texture_from_pixbuf (pixbuf);
    }

  pixbuf = gdk_pixbuf_new_from_file_at_scale (path, size, size, TRUE, error);
  if (pixbuf == NULL)
    return NULL;
  g_atomic_int_inc (&self->n_decoded);
  {
    /* EXIF orientation, as a file manager shows the photo. */
    g_autoptr (GdkPixbuf) oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
    if (oriented != NULL)
      g_set_object (&pixbuf, oriented);
  }
  if (gdk_pixbuf_get_has_alpha (pixbuf) && alpha_is_unused (pixbuf))
    {
      /* A PNG saved with an alpha channel it does not use (screenshots, exports):
       * without it the thumbnail is a JPEG in the cache and draws as an opaque
       * texture, which the software renderer composites about 3x faster. */
      g_autoptr (GdkPixbuf) rgb = without_alpha (pixbuf);
      g_set_object (&pixbuf, rgb);
    }
  save_to_cache (self, pixbuf, size, stem);
  return texture_from_pixbuf (pixbuf);
}

/* Each pool job takes the newest request, not its own: the cells just scrolled into
 * view come before the ones scrolled past. A stack instead of the pool's sorted queue
 * keeps push O(1) on the main thread, however many requests are waiting. */
/* Decoding is background work: the main thread must win every core it wants, or a
 * scroll waits on a decode (on two cores the workers took half the process's CPU and
 * doubled the frames over 16 ms). Linux keeps a nice value per thread, and the pool
 * is exclusive, so this lowers only the loader's own threads, once each. */
static void
lower_this_thread_priority (void)
{
  static _Thread_local gboolean lowered;

  if (lowered)
    return;
  lowered = TRUE;
  errno = 0;
  {
    int current = getpriority (PRIO_PROCESS, 0);
    if (errno == 0)
      setpriority (PRIO_PROCESS, 0, MIN (current + 10, 19));
  }
}

static void
worker (gpointer data, gpointer user_data)
{
  StudioThumbnailLoader *self = user_data;
  GTask *task;
  Request *request;
  GError *error = NULL;
  GdkTexture *texture;

  lower_this_thread_priority ();
  g_mutex_lock (&self->stack_lock);
  task = g_queue_pop_head (&self->stack);
  g_mutex_unlock (&self->stack_lock);
  if (task == NULL)
    return;
  request = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  texture = make_thumbnail (self, request->path, request->size, &error);
  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
  g_object_unref (task);
}

GdkTexture *
studio_thumbnail_loader_lookup (StudioThumbnailLoader *self, const char *path, int size)
{
  g_autofree char *key = memory_key (path, size);
  GList *link;

  g_return_val_if_fail (STUDIO_IS_THUMBNAIL_LOADER (self), NULL);
  link = g_hash_table_lookup (self->textures, key);
  if (link == NULL)
    return NULL;
  g_queue_unlink (&self->lru, link);
  g_queue_push_head_link (&self->lru, link);
  return ((Entry *) link->data)->texture;
}

void
studio_thumbnail_loader_forget (StudioThumbnailLoader *self, const char *path)
{
  g_return_if_fail (STUDIO_IS_THUMBNAIL_LOADER (self));

  for (GList *l = self->lru.head; l != NULL;)
    {
      GList *next = l->next;
      Entry *entry = l->data;
      const char *colon = strchr (entry->key, ':');

      if (colon != NULL && strcmp (colon + 1, path) == 0)
        {
          g_hash_table_remove (self->textures, entry->key);
          g_queue_delete_link (&self->lru, l);
          entry_free (entry);
        }
      l = next;
    }
}

static void
remember (StudioThumbnailLoader *self, const char *path, int size, GdkTexture *texture)
{
  Entry *entry;
  char *key = memory_key (path, size);
  GList *old = g_hash_table_lookup (self->textures, key);

  if (old != NULL)
    {
      g_hash_table_remove (self->textures, key);
      g_queue_unlink (&self->lru, old);
      entry_free (old->data);
      g_list_free_1 (old);
    }
  entry = g_new0 (Entry, 1);
  entry->key = key;
  entry->texture = g_object_ref (texture);
  g_queue_push_head (&self->lru, entry);
  g_hash_table_insert (self->textures, entry->key, self->lru.head);

  while (self->lru.length > self->max_textures)
    {
      Entry *last = g_queue_pop_tail (&self->lru);
      g_hash_table_remove (self->textures, last->key);
      entry_free (last);
    }
}

static void
loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *outer = user_data;
  StudioThumbnailLoader *self = g_task_get_source_object (outer);
  Request *request = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  GdkTexture *texture = g_task_propagate_pointer (G_TASK (result), &error);

  if (texture != NULL)
    {
      remember (self, request->path, request->size, texture);
      g_task_return_pointer (outer, texture, g_object_unref);
    }
  else
    g_task_return_error (outer, error);
  g_object_unref (outer);
}

void
studio_thumbnail_loader_load (StudioThumbnailLoader *self, const char *path, int size,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *outer, *inner;
  Request *request;
  GdkTexture *texture;

  g_return_if_fail (STUDIO_IS_THUMBNAIL_LOADER (self));

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, studio_thumbnail_loader_load);
  texture = studio_thumbnail_loader_lookup (self, path, size);
  if (texture != NULL)
    {
      g_task_return_pointer (outer, g_object_ref (texture), g_object_unref);
      g_object_unref (outer);
      return;
    }

  /* The inner task is the worker's job; its result comes back to this main context,
   * where the memory cache lives (it is never touched from a worker). */
  request = g_new0 (Request, 1);
  request->path = g_strdup (path);
  request->size = size;
  inner = g_task_new (self, cancellable, loaded, outer);
  g_task_set_task_data (inner, request, (GDestroyNotify) request_free);
  g_mutex_lock (&self->stack_lock);
  g_queue_push_head (&self->stack, inner);
  g_mutex_unlock (&self->stack_lock);
  g_thread_pool_push (self->pool, GINT_TO_POINTER (1), NULL);
}

GdkTexture *
studio_thumbnail_loader_load_finish (StudioThumbnailLoader *self, GAsyncResult *result,
                                     GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
studio_thumbnail_loader_get_n_decoded (StudioThumbnailLoader *self)
{
  return g_atomic_int_get (&self->n_decoded);
}

guint
studio_thumbnail_loader_get_n_cache_hits (StudioThumbnailLoader *self)
{
  return g_atomic_int_get (&self->n_cache_hits);
}

guint
studio_thumbnail_loader_get_n_textures (StudioThumbnailLoader *self)
{
  return self->lru.length;
}

static void
studio_thumbnail_loader_finalize (GObject *object)
{
  StudioThumbnailLoader *self = STUDIO_THUMBNAIL_LOADER (object);

  /* Workers hold a reference through their tasks, so none is running here. */
  g_thread_pool_free (self->pool, TRUE, FALSE);
  g_queue_clear_full (&self->stack, g_object_unref);
  g_mutex_clear (&self->stack_lock);
  g_hash_table_unref (self->textures);
  g_queue_clear_full (&self->lru, (GDestroyNotify) entry_free);
  g_free (self->cache_dir);
  G_OBJECT_CLASS (studio_thumbnail_loader_parent_class)->finalize (object);
}

static void
studio_thumbnail_loader_class_init (StudioThumbnailLoaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = studio_thumbnail_loader_finalize;
}

static void
studio_thumbnail_loader_init (StudioThumbnailLoader *self)
{
  self->textures = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->lru);
  g_queue_init (&self->stack);
  g_mutex_init (&self->stack_lock);
}

StudioThumbnailLoader *
studio_thumbnail_loader_new (const char *cache_dir, guint n_workers, guint max_textures)
{
  StudioThumbnailLoader *self = g_object_new (STUDIO_TYPE_THUMBNAIL_LOADER, NULL);

  self->cache_dir = cache_dir ? g_strdup (cache_dir)
                              : g_build_filename (g_get_user_cache_dir (), "lora-studio",
                                                  "thumbnails", NULL);
  self->max_textures = MAX (max_textures, 1);
  /* Exclusive: shared pool threads would carry the lowered priority to other work. */
  self->pool = g_thread_pool_new (worker, self, MAX (n_workers, 1), TRUE, NULL);
  return self;
}

StudioThumbnailLoader *
studio_thumbnail_loader_get_default (void)
{
  static StudioThumbnailLoader *loader;

  /* Two workers keep one core free for the main loop on a two-core laptop; 400
   * textures at the largest zoom are about 100 MB. */
  if (loader == NULL)
    loader = studio_thumbnail_loader_new (NULL, MIN (MAX (g_get_num_processors () - 1, 2), 4), 400);
  return loader;
}
