/* test-dataset-logic.c: the Dataset view's work that needs no window: batch edits
 * with preview and undo, tag frequencies, the token estimate, import (rename,
 * duplicates, non-images, sidecars, cancel), the thumbnail cache, the health numbers,
 * both caption stores round-tripping, and the atomic writer surviving a kill. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "studio-atomic-file.h"
#include "studio-batch-ops.h"
#include "studio-caption-tokens.h"
#include "studio-dataset-health.h"
#include "studio-dataset-import.h"
#include "studio-dataset.h"
#include "studio-thumbnail-loader.h"

static GPtrArray *tmpdirs;

static char *
make_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("dsview-XXXXXX", &error);
  g_assert_no_error (error);
  g_ptr_array_add (tmpdirs, g_strdup (dir));
  return dir;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* A real PNG W x H of one colour. */
static void
write_png (const char *path, int w, int h, guint32 rgba)
{
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, w, h);
  GError *error = NULL;

  gdk_pixbuf_fill (pixbuf, rgba);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));
  g_assert_no_error (error);
}

static void
write_text (const char *path, const char *text)
{
  GError *error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static char *
read_text (const char *path)
{
  char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  return data;
}

/* A dataset of NAMES with CAPTIONS in .txt sidecars (NULL: none). */
static StudioDataset *
make_dataset (const char *dir, const char *const *names, const char *const *captions, guint n)
{
  GError *error = NULL;
  StudioDataset *dataset;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      write_png (path, 64 + 8 * i, 64, 0x10203000u + i * 0x01000000u + 0xff);
      if (captions[i] != NULL)
        {
          g_autofree char *stem = g_strndup (names[i], strrchr (names[i], '.') - names[i]);
          g_autofree char *txt_name = g_strconcat (stem, ".txt", NULL);
          g_autofree char *txt = g_build_filename (dir, txt_name, NULL);
          write_text (txt, captions[i]);
        }
    }
  dataset = studio_dataset_load (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                 STUDIO_DATASET_LOAD_ALLOW_EMPTY, NULL, &error);
  g_assert_no_error (error);
  return dataset;
}

static char *
apply (StudioBatchKind kind, const char *find, const char *replace, const char *caption)
{
  StudioBatchOp op = { kind, find, replace };
  GError *error = NULL;
  char *out = studio_batch_apply_text (&op, caption, &error);
  g_assert_no_error (error);
  return out;
}

static void
test_batch_text (void)
{
  struct { StudioBatchKind kind; const char *find, *replace, *in, *out; } cases[] = {
    { STUDIO_BATCH_ADD_PREFIX, "sks", NULL, "a cat, sofa", "sks, a cat, sofa" },
    { STUDIO_BATCH_ADD_PREFIX, "sks", NULL, "sks, a cat", "sks, a cat" },      /* not twice */
    { STUDIO_BATCH_ADD_PREFIX, " sks ", NULL, NULL, "sks" },
    { STUDIO_BATCH_ADD_SUFFIX, "sks", NULL, "a cat", "a cat, sks" },
    { STUDIO_BATCH_REPLACE, "cat", "dog", "cat and catalog", "dog and dogalog" },
    { STUDIO_BATCH_REPLACE, "a.c", "X", "abc a.c", "abc X" },                 /* plain: no regex */
    { STUDIO_BATCH_REPLACE_REGEX, "\\bcat\\b", "dog", "cat and catalog", "dog and catalog" },
    { STUDIO_BATCH_REPLACE_REGEX, "(\\w+) eyes", "\\1-eyed", "blue eyes", "blue-eyed" },
    { STUDIO_BATCH_REMOVE_TAG, "1girl", NULL, "1girl, solo, 1girl, 1girls", "solo, 1girls" },
    { STUDIO_BATCH_REMOVE_TAG, "solo", NULL, "a solo flight", "a solo flight" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = apply (cases[i].kind, cases[i].find, cases[i].replace, cases[i].in);
      g_assert_cmpstr (out, ==, cases[i].out);
    }

  {
    StudioBatchOp bad = { STUDIO_BATCH_REPLACE_REGEX, "(unclosed", "x" };
    GError *error = NULL;
    g_assert_null (studio_batch_apply_text (&bad, "text", &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "(unclosed"));
    g_error_free (error);
  }
}

static void
test_batch_preview_commit_undo (void)
{
  g_autofree char *dir = make_tmpdir ();
  const char *names[] = { "a.png", "b.png", "c.png" };
  const char *captions[] = { "red cat", "blue dog", NULL };
  g_autoptr (StudioDataset) dataset = make_dataset (dir, names, captions, 3);
  StudioBatchOp op = { STUDIO_BATCH_REPLACE, "cat", "tiger" };
  g_autoptr (GPtrArray) changes = NULL;
  GError *error = NULL;
  g_autofree char *a_txt = g_build_filename (dir, "a.txt", NULL);
  g_autofree char *b_txt = g_build_filename (dir, "b.txt", NULL);

  changes = studio_batch_preview (&op, G_LIST_MODEL (dataset), &error);
  g_assert_no_error (error);
  /* Only the caption that changes is in the preview. */
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpstr (((StudioBatchChange *) changes->pdata[0])->before, ==, "red cat");
  g_assert_cmpstr (((StudioBatchChange *) changes->pdata[0])->after, ==, "red tiger");

  /* Edited between preview and apply: the batch writes what it showed, nothing else. */
  studio_dataset_set_caption (dataset, studio_dataset_lookup (dataset, "b.png"), "blue cat");
  studio_batch_commit (dataset, changes);
  g_assert_true (studio_dataset_save (dataset, &error));
  g_assert_no_error (error);
  {
    g_autofree char *a = read_text (a_txt), *b = read_text (b_txt);
    g_assert_cmpstr (a, ==, "red tiger");
    g_assert_cmpstr (b, ==, "blue cat");
  }

  studio_batch_undo (dataset, changes);
  g_assert_true (studio_dataset_save (dataset, &error));
  {
    g_autofree char *a = read_text (a_txt);
    g_assert_cmpstr (a, ==, "red cat");
  }
  g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (dataset, "a.png")), ==, "red cat");
}

static void
test_tag_frequencies (void)
{
  g_autofree char *dir = make_tmpdir ();
  const char *names[] = { "a.png", "b.png", "c.png" };
  const char *captions[] = { "sks, cat, red", "sks, dog, red, red", "sks" };
  g_autoptr (StudioDataset) dataset = make_dataset (dir, names, captions, 3);
  g_autoptr (GPtrArray) tags = studio_batch_tag_frequencies (G_LIST_MODEL (dataset));
  const char *expected[][2] = { { "sks", "3" }, { "red", "2" }, { "cat", "1" }, { "dog", "1" } };

  g_assert_cmpuint (tags->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < tags->len; i++)
    {
      StudioTagCount *tag = tags->pdata[i];
      g_autofree char *count = g_strdup_printf ("%u", tag->count);
      g_assert_cmpstr (tag->tag, ==, expected[i][0]);
      g_assert_cmpstr (count, ==, expected[i][1]);
    }
  g_assert_true (studio_caption_has_tag ("sks, red", "red"));
  g_assert_false (studio_caption_has_tag ("sks, reddish", "red"));
}

/* Counts from SD 1.5's CLIP tokenizer (transformers 4.40 CLIPTokenizer on
 * ../shared/clip's vocabulary, without start and end): the estimate must never be
 * below them, and stay within about twice for ordinary captions. */
static void
test_token_estimate (void)
{
  struct { const char *text; guint clip; } cases[] = {
    { "a photo of a cat", 5 },
    { "a photo of sks dog, highly detailed, 8k", 11 },
    { "masterpiece, best quality, 1girl, solo, long hair, looking at viewer", 16 },
    { "don't stop, it's 2024!!", 11 },
    { "café 猫 日本語", 9 },
    { "photograph", 1 },
    { "", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint estimate = studio_caption_estimate_tokens (cases[i].text);
      g_assert_cmpuint (estimate, >=, cases[i].clip);
      g_assert_cmpuint (estimate, <=, cases[i].clip * 2 + 1);
    }
  /* 80 short words are past the limit. */
  {
    g_autoptr (GString) text = g_string_new (NULL);
    for (guint i = 0; i < 80; i++)
      g_string_append (text, "cat ");
    g_assert_cmpuint (studio_caption_estimate_tokens (text->str), >, STUDIO_CLIP_MAX_TOKENS);
  }
  g_assert_cmpuint (STUDIO_CLIP_MAX_TOKENS, ==, 75);
}

static void
count_progress (guint done, guint total, gpointer data)
{
  guint *calls = data;
  (*calls)++;
  g_assert_cmpuint (done, <=, total);
}

static void
test_import (void)
{
  g_autofree char *dest = make_tmpdir ();
  g_autofree char *src = make_tmpdir ();
  g_autofree char *sub = g_build_filename (src, "more", NULL);
  g_autofree char *existing = g_build_filename (dest, "cat.png", NULL);
  g_autofree char *cat = g_build_filename (src, "cat.png", NULL);
  g_autofree char *cat_txt = g_build_filename (src, "cat.txt", NULL);
  g_autofree char *dup = g_build_filename (sub, "copy-of-old.png", NULL);
  g_autofree char *notes = g_build_filename (src, "notes.txt", NULL);
  g_autofree char *fake = g_build_filename (src, "fake.jpg", NULL);
  g_autofree char *pdf = g_build_filename (sub, "paper.pdf", NULL);
  g_autofree char *dog = g_build_filename (sub, "dog.png", NULL);
  GSList *files = NULL;
  GError *error = NULL;
  guint calls = 0;
  g_autoptr (StudioImportResult) result = NULL;

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  write_png (existing, 32, 32, 0xff0000ff);      /* the dataset already has a cat.png */
  write_png (cat, 40, 40, 0x00ff00ff);           /* a different picture, same name */
  write_text (cat_txt, "a green cat\n");
  write_png (dup, 32, 32, 0xff0000ff);           /* same bytes as the existing one */
  write_text (notes, "shopping list");
  write_text (fake, "not really a JPEG");
  write_text (pdf, "%PDF-1.4");
  write_png (dog, 48, 48, 0x0000ffff);

  files = g_slist_append (files, g_file_new_for_path (src));   /* a folder, recursively */
  result = studio_dataset_import (dest, files, NULL, count_progress, &calls, &error);
  g_slist_free_full (files, g_object_unref);
  g_assert_no_error (error);

  g_assert_cmpuint (result->imported->len, ==, 2);
  g_assert_cmpuint (result->duplicates, ==, 1);
  g_assert_cmpuint (result->renamed, ==, 1);
  g_assert_false (result->cancelled);
  g_assert_cmpuint (result->refused->len, ==, 3);   /* notes.txt, fake.jpg, paper.pdf */
  g_assert_cmpuint (calls, >, 0);
  {
    g_autoptr (GString) joined = g_string_new (NULL);
    for (guint i = 0; i < result->refused->len; i++)
      g_string_append_printf (joined, "%s\n", (char *) result->refused->pdata[i]);
    g_assert_nonnull (strstr (joined->str, "notes.txt"));
    g_assert_nonnull (strstr (joined->str, "fake.jpg"));
    g_assert_nonnull (strstr (joined->str, "paper.pdf"));
  }

  /* The clashing cat became cat-2.png and brought its caption; the old one is intact. */
  {
    g_autofree char *renamed = g_build_filename (dest, "cat-2.png", NULL);
    g_autofree char *copied_dog = g_build_filename (dest, "dog.png", NULL);
    GError *load_error = NULL;
    g_autoptr (GdkPixbuf) old = gdk_pixbuf_new_from_file (existing, &load_error);
    g_assert_no_error (load_error);
    gboolean found_caption = FALSE;

    g_assert_true (g_file_test (renamed, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (copied_dog, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint (gdk_pixbuf_get_width (old), ==, 32);
    for (guint i = 0; i < result->imported->len; i++)
      {
        StudioImportedFile *file = result->imported->pdata[i];
        if (g_str_has_suffix (file->path, "/cat-2.png"))
          {
            g_assert_cmpstr (file->caption, ==, "a green cat");
            found_caption = TRUE;
          }
      }
    g_assert_true (found_caption);
  }
  /* No temporary file is left behind. */
  {
    g_autoptr (GDir) d = g_dir_open (dest, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (name[0] == '.');
  }
}

static void
cancel_on_first (guint done, guint total, gpointer data)
{
  g_cancellable_cancel (data);
}

static void
test_import_cancel (void)
{
  g_autofree char *dest = make_tmpdir ();
  g_autofree char *src = make_tmpdir ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (StudioImportResult) result = NULL;
  GSList *files = NULL;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("img-%u.png", i);
      g_autofree char *path = g_build_filename (src, name, NULL);
      write_png (path, 16, 16, 0x01020300u + i);
    }
  files = g_slist_append (files, g_file_new_for_path (src));
  result = studio_dataset_import (dest, files, cancellable, cancel_on_first, cancellable, NULL);
  g_slist_free_full (files, g_object_unref);
  g_assert_nonnull (result);
  g_assert_true (result->cancelled);
  g_assert_cmpuint (result->imported->len, <, 5);
}

static void
test_import_missing_folder (void)
{
  GError *error = NULL;
  StudioImportResult *result = studio_dataset_import ("/nonexistent/dsview", NULL, NULL, NULL,
                                                      NULL, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dsview"));
  g_error_free (error);
}

static void
loaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GdkTexture **texture = data;
  GError *error = NULL;
  *texture = studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, &error);
  g_assert_no_error (error);
}

static GdkTexture *
load_sync (StudioThumbnailLoader *loader, const char *path, int size)
{
  GdkTexture *texture = NULL;
  studio_thumbnail_loader_load (loader, path, size, NULL, loaded_cb, &texture);
  while (texture == NULL)
    g_main_context_iteration (NULL, TRUE);
  return texture;
}

/* The nice value of each thread of this process (field 19 of /proc/self/task/TID/stat). */
static GArray *
thread_nice_values (void)
{
  GArray *values = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "stat", NULL);
      g_autofree char *text = NULL;
      g_auto (GStrv) fields = NULL;
      const char *after_name;
      int nice;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;   /* the thread ended meanwhile */
      after_name = strrchr (text, ')');   /* the name may hold spaces */
      g_assert_nonnull (after_name);
      fields = g_strsplit (after_name + 2, " ", -1);
      /* after "pid (name) ": state is field 3, so nice (field 19) is index 16 */
      g_assert_cmpuint (g_strv_length (fields), >, 16);
      nice = atoi (fields[16]);
      g_array_append_val (values, nice);
    }
  return values;
}

/* Decoding threads run at a lower priority than the main thread, which stays as it was:
 * a scroll must not wait for a decode. In a fresh process, so that no earlier test's
 * loader threads are still around. */
static void
test_thumbnail_workers_yield (void)
{
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  {
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *image = g_build_filename (dir, "a.png", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 2, 4);
  g_autoptr (GArray) before = thread_nice_values ();
  g_autoptr (GArray) after = NULL;
  int main_nice = getpriority (PRIO_PROCESS, 0);
  guint lowered = 0;

  write_png (image, 64, 64, 0x336699ff);
  for (guint i = 0; i < before->len; i++)
    g_assert_cmpint (g_array_index (before, int, i), <=, main_nice);
  g_object_unref (load_sync (loader, image, 32));
  after = thread_nice_values ();
  for (guint i = 0; i < after->len; i++)
    if (g_array_index (after, int, i) > main_nice)
      lowered++;
  g_assert_cmpuint (lowered, >=, 1);
  g_assert_cmpint (getpriority (PRIO_PROCESS, 0), ==, main_nice);
  }
}

/* The colour of the thumbnail's centre pixel, as 0xRRGGBBAA. */
static guint32
texture_centre (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *data = g_malloc ((gsize) w * h * 4);
  const guint8 *p;

  gdk_texture_download (texture, data, (gsize) w * 4);
  p = data + ((gsize) (h / 2) * w + w / 2) * 4;     /* premultiplied BGRA (cairo's) */
  if (p[3] == 0)
    return 0;
  return (guint32) (p[2] * 255 / p[3]) << 24 | (guint32) (p[1] * 255 / p[3]) << 16 |
         (guint32) (p[0] * 255 / p[3]) << 8 | p[3];
}

static void
assert_colour_near (guint32 got, guint32 want, int tolerance)
{
  for (int shift = 0; shift < 32; shift += 8)
    g_assert_cmpint (ABS ((int) ((got >> shift) & 0xff) - (int) ((want >> shift) & 0xff)), <=, tolerance);
}

static void
test_thumbnail_cache (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *image = g_build_filename (dir, "big.png", NULL);
  g_autofree char *other = g_build_filename (dir, "other.png", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 2, 1);
  g_autoptr (StudioThumbnailLoader) fresh = NULL;
  g_autoptr (GdkTexture) first = NULL, again = NULL, from_disk = NULL, changed = NULL;
  g_autofree char *cache_path = NULL, *cache_path2 = NULL;

  write_png (image, 400, 200, 0x336699ff);
  write_png (other, 10, 10, 0x000000ff);
  g_assert_null (studio_thumbnail_loader_dup_cache_path (loader, image, 128));
  first = load_sync (loader, image, 128);
  /* Fits 128 x 128 keeping the aspect ratio. */
  g_assert_cmpint (gdk_texture_get_width (first), ==, 128);
  g_assert_cmpint (gdk_texture_get_height (first), ==, 64);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_decoded (loader), ==, 1);
  assert_colour_near (texture_centre (first), 0x336699ff, 0);
  /* Opaque (its alpha channel all 255): cached as a JPEG. */
  cache_path = studio_thumbnail_loader_dup_cache_path (loader, image, 128);
  g_assert_true (g_str_has_prefix (cache_path, cache));
  g_assert_true (g_str_has_suffix (cache_path, ".jpg"));
  g_assert_true (g_file_test (cache_path, G_FILE_TEST_IS_REGULAR));

  /* In memory: the same texture, no work. */
  again = load_sync (loader, image, 128);
  g_assert_true (again == first);
  g_assert_true (studio_thumbnail_loader_lookup (loader, image, 128) == first);

  /* The memory cache holds at most 1 texture here: another image evicts it. */
  g_object_unref (load_sync (loader, other, 128));
  g_assert_cmpuint (studio_thumbnail_loader_get_n_textures (loader), ==, 1);
  g_assert_null (studio_thumbnail_loader_lookup (loader, image, 128));

  /* A new loader (a new start of the app) reads the disk cache, decodes nothing; the
   * JPEG keeps the colour within a few levels. */
  fresh = studio_thumbnail_loader_new (cache, 2, 10);
  from_disk = load_sync (fresh, image, 128);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_decoded (fresh), ==, 0);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_cache_hits (fresh), ==, 1);
  g_assert_cmpint (gdk_texture_get_width (from_disk), ==, 128);
  assert_colour_near (texture_centre (from_disk), 0x336699ff, 4);

  /* forget() drops every size of one image from memory, nothing else. */
  g_object_unref (load_sync (fresh, image, 64));
  g_object_unref (load_sync (fresh, other, 64));
  studio_thumbnail_loader_forget (fresh, image);
  g_assert_null (studio_thumbnail_loader_lookup (fresh, image, 128));
  g_assert_null (studio_thumbnail_loader_lookup (fresh, image, 64));
  g_assert_nonnull (studio_thumbnail_loader_lookup (fresh, other, 64));

  /* The caption editor's large preview is lossless: a PNG, every pixel kept. */
  {
    g_autoptr (GdkTexture) preview = NULL;
    g_autofree char *preview_path = NULL;
    g_autoptr (StudioThumbnailLoader) third = studio_thumbnail_loader_new (cache, 1, 10);

    preview = load_sync (fresh, image, 512);
    preview_path = studio_thumbnail_loader_dup_cache_path (fresh, image, 512);
    g_assert_true (g_str_has_suffix (preview_path, ".png"));
    g_object_unref (load_sync (third, image, 512));
    g_assert_cmpuint (studio_thumbnail_loader_get_n_cache_hits (third), ==, 1);
    assert_colour_near (texture_centre (studio_thumbnail_loader_lookup (third, image, 512)), 0x336699ff, 0);
  }

  /* A changed image (new size and mtime) gets a new cache entry. */
  g_usleep (1100 * 1000);
  write_png (image, 300, 300, 0x993366ff);
  changed = load_sync (fresh, image, 128);
  assert_colour_near (texture_centre (changed), 0x993366ff, 0);
  cache_path2 = studio_thumbnail_loader_dup_cache_path (fresh, image, 128);
  g_assert_nonnull (cache_path2);
  g_assert_cmpstr (cache_path, !=, cache_path2);
}

/* Transparency survives the cache: such a thumbnail is a PNG, its alpha kept. */
static void
test_thumbnail_cache_transparent (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *image = g_build_filename (dir, "glass.png", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (StudioThumbnailLoader) fresh = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (GdkTexture) decoded = NULL, from_disk = NULL;
  g_autofree char *cache_path = NULL;

  write_png (image, 96, 96, 0x33669980);
  decoded = load_sync (loader, image, 64);
  cache_path = studio_thumbnail_loader_dup_cache_path (loader, image, 64);
  g_assert_true (g_str_has_suffix (cache_path, ".png"));
  from_disk = load_sync (fresh, image, 64);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_cache_hits (fresh), ==, 1);
  /* Premultiplied 8-bit alpha rounds the colour a little; the alpha is exact. */
  assert_colour_near (texture_centre (decoded), 0x33669980, 2);
  assert_colour_near (texture_centre (from_disk), 0x33669980, 2);
  g_assert_cmpuint (texture_centre (from_disk) & 0xff, ==, 0x80);
}

/* A cache written by an earlier version (every thumbnail a PNG) is still read. */
static void
test_thumbnail_cache_old_png (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *image = g_build_filename (dir, "photo.png", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (StudioThumbnailLoader) fresh = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (GdkTexture) from_disk = NULL;
  g_autoptr (GdkPixbuf) old = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 64);
  g_autofree char *jpeg_path = NULL, *stem = NULL, *png_path = NULL, *found = NULL;
  GError *error = NULL;

  write_png (image, 64, 64, 0x336699ff);
  g_object_unref (load_sync (loader, image, 64));
  jpeg_path = studio_thumbnail_loader_dup_cache_path (loader, image, 64);
  g_assert_true (g_str_has_suffix (jpeg_path, ".jpg"));
  /* Replace it with what the old version wrote, in a colour of its own, to tell it
   * was read and not the image decoded again. */
  stem = g_strndup (jpeg_path, strlen (jpeg_path) - strlen (".jpg"));
  png_path = g_strconcat (stem, ".png", NULL);
  g_assert_cmpint (g_unlink (jpeg_path), ==, 0);
  gdk_pixbuf_fill (old, 0x00ff00ff);
  g_assert_true (gdk_pixbuf_save (old, png_path, "png", &error, NULL));
  g_assert_no_error (error);
  found = studio_thumbnail_loader_dup_cache_path (fresh, image, 64);
  g_assert_cmpstr (found, ==, png_path);
  from_disk = load_sync (fresh, image, 64);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_decoded (fresh), ==, 0);
  assert_colour_near (texture_centre (from_disk), 0x00ff00ff, 0);
}

static void
cancelled_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  gboolean *done = data;
  GError *error = NULL;
  g_assert_null (studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free (error);
  *done = TRUE;
}

static void
test_thumbnail_cancel (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *image = g_build_filename (dir, "a.png", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gboolean done = FALSE;

  write_png (image, 64, 64, 0x123456ff);
  g_cancellable_cancel (cancellable);
  studio_thumbnail_loader_load (loader, image, 64, cancellable, cancelled_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (studio_thumbnail_loader_get_n_decoded (loader), ==, 0);
}

static GPtrArray *completion_order;

static void
order_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GdkTexture *texture = studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, NULL);
  g_assert_nonnull (texture);
  g_object_unref (texture);
  g_ptr_array_add (completion_order, data);
}

/* Newest request first: after a scroll, the cells on screen come before the ones
 * scrolled past. With one worker and five requests made at once, at most one of the
 * first two can be done before the fifth (the one a worker took before the others
 * arrived); first-in-first-out would finish both before it. */
static void
test_thumbnail_newest_first (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autoptr (StudioThumbnailLoader) loader = studio_thumbnail_loader_new (cache, 1, 10);
  guint before_fifth = 0;

  completion_order = g_ptr_array_new ();
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/img-%u.png", dir, i);
      write_png (path, 600, 600, 0x10000000u * i + 0xff);
    }
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/img-%u.png", dir, i);
      studio_thumbnail_loader_load (loader, path, 64, NULL, order_cb, GUINT_TO_POINTER (i + 1));
    }
  while (completion_order->len < 5)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < 5 && GPOINTER_TO_UINT (completion_order->pdata[i]) != 5; i++)
    if (GPOINTER_TO_UINT (completion_order->pdata[i]) <= 2)
      before_fifth++;
  g_assert_cmpuint (before_fifth, <=, 1);
  g_ptr_array_unref (completion_order);
}

static void
test_health (void)
{
  g_autofree char *dir = make_tmpdir ();
  const char *names[] = { "a.png", "b.png", "c.png", "d.png" };
  const char *captions[] = { "one", NULL, "three", NULL };
  g_autoptr (StudioDataset) dataset = make_dataset (dir, names, captions, 4);
  g_autoptr (GHashTable) hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (StudioDatasetHealth) health = NULL;

  /* Sizes 64x64, 72x64, 80x64, 88x64; pretend a and c have the same content. */
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_hash_table_insert (hashes, g_steal_pointer (&path), g_strdup (i == 2 ? "h0" : (char[]) { 'h', (char) ('0' + i), 0 }));
    }
  health = studio_dataset_health_compute (G_LIST_MODEL (dataset), 70, hashes);
  g_assert_cmpuint (health->n_images, ==, 4);
  g_assert_cmpuint (health->n_captioned, ==, 2);
  g_assert_cmpuint (health->n_small, ==, 4);     /* every shorter side is 64 < 70 */
  g_assert_cmpuint (health->n_duplicates, ==, 1);
  g_assert_cmpuint (g_hash_table_size (health->duplicates), ==, 2);
  g_assert_cmpint (health->min_width, ==, 64);
  g_assert_cmpint (health->median_width, ==, 80);
  g_assert_cmpstr (health->aspects, ==, "11:8 × 1, 1:1 × 1, 5:4 × 1, 9:8 × 1");
  studio_dataset_health_free (g_steal_pointer (&health));

  health = studio_dataset_health_compute (G_LIST_MODEL (dataset), 0, NULL);
  g_assert_cmpuint (health->n_small, ==, 0);
  g_assert_cmpuint (health->n_duplicates, ==, 0);
  g_assert_cmpuint (health->n_warnings, ==, 0);
}

/* The image hash: equal bytes, equal hash; one byte more, another. */
static void
test_content_hash (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *a = g_build_filename (dir, "a.bin", NULL);
  g_autofree char *b = g_build_filename (dir, "b.bin", NULL);
  g_autofree char *ha = NULL, *hb = NULL, *hc = NULL;
  GError *error = NULL;

  write_text (a, "same");
  write_text (b, "same");
  ha = studio_image_hash_file (a, NULL);
  hb = studio_image_hash_file (b, NULL);
  g_assert_cmpstr (ha, ==, hb);
  g_assert_cmpstr (ha, ==, "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5");
  write_text (b, "same!");
  hc = studio_image_hash_file (b, NULL);
  g_assert_cmpstr (ha, !=, hc);
  g_assert_null (studio_image_hash_file ("/nonexistent/x.png", &error));
  g_assert_nonnull (error);
  g_error_free (error);
}

/* metadata.csv -> .txt sidecars -> metadata.csv gives the same captions, awkward ones
 * included (commas, quotes, line breaks, non-ASCII). */
static void
test_store_round_trip (void)
{
  g_autofree char *dir = make_tmpdir ();
  const char *names[] = { "a.png", "b.png", "c.png" };
  const char *captions[] = { "plain", "with, comma and \"quotes\"", "two\nlines, café 猫" };
  const char *none[] = { NULL, NULL, NULL };
  g_autoptr (StudioDataset) dataset = make_dataset (dir, names, none, 3);
  g_autoptr (StudioDataset) reloaded = NULL;
  g_autoptr (StudioDataset) back = NULL;
  g_autofree char *csv = g_build_filename (dir, "metadata.csv", NULL);
  g_autofree char *csv_before = NULL, *csv_after = NULL;
  GError *error = NULL;

  g_assert_true (studio_dataset_convert (dataset, STUDIO_CAPTION_STORE_CSV, NULL, &error));
  for (guint i = 0; i < 3; i++)
    studio_dataset_set_caption (dataset, studio_dataset_lookup (dataset, names[i]), captions[i]);
  g_assert_true (studio_dataset_save (dataset, &error));
  g_assert_no_error (error);
  csv_before = read_text (csv);

  g_assert_true (studio_dataset_convert (dataset, STUDIO_CAPTION_STORE_SIDECAR, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_remove (csv) == 0);
  reloaded = studio_dataset_load (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (reloaded, names[i])), ==,
                     captions[i]);

  g_assert_true (studio_dataset_convert (reloaded, STUDIO_CAPTION_STORE_CSV, NULL, &error));
  g_assert_no_error (error);
  csv_after = read_text (csv);
  g_assert_cmpstr (csv_after, ==, csv_before);
  back = studio_dataset_load (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (back, names[i])), ==,
                     captions[i]);
}

/* A child rewrites a caption file in a loop, alternating two contents of different
 * lengths; it is killed with SIGKILL at varied moments. Each time, the file holds one
 * of the two contents whole, never a mix, a truncation or nothing. */
static void
test_atomic_write_killed (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "caption.txt", NULL);
  g_autofree char *old_text = g_strnfill (200000, 'o');
  g_autofree char *new_text = g_strnfill (150000, 'n');

  write_text (path, old_text);
  for (guint round = 0; round < 12; round++)
    {
      pid_t pid = fork ();
      int status;

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          for (guint i = 0;; i++)
            {
              const char *text = i % 2 ? old_text : new_text;
              studio_atomic_write (path, text, strlen (text), NULL);
            }
        }
      g_usleep (2000 + round * 3000);
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      {
        g_autofree char *data = read_text (path);
        g_assert_true (g_str_equal (data, old_text) || g_str_equal (data, new_text));
      }
    }
}

int
main (int argc, char **argv)
{
  /* Not G_TEST_OPTION_ISOLATE_DIRS: it hides the MIME database gdk-pixbuf needs. */
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dataset-view/batch/text", test_batch_text);
  g_test_add_func ("/dataset-view/batch/preview-commit-undo", test_batch_preview_commit_undo);
  g_test_add_func ("/dataset-view/batch/tag-frequencies", test_tag_frequencies);
  g_test_add_func ("/dataset-view/tokens/estimate", test_token_estimate);
  g_test_add_func ("/dataset-view/import/files-and-folders", test_import);
  g_test_add_func ("/dataset-view/import/cancel", test_import_cancel);
  g_test_add_func ("/dataset-view/import/missing-folder", test_import_missing_folder);
  g_test_add_func ("/dataset-view/thumbnails/cache", test_thumbnail_cache);
  g_test_add_func ("/dataset-view/thumbnails/cache-transparent", test_thumbnail_cache_transparent);
  g_test_add_func ("/dataset-view/thumbnails/cache-old-png", test_thumbnail_cache_old_png);
  g_test_add_func ("/dataset-view/thumbnails/workers-yield", test_thumbnail_workers_yield);
  g_test_add_func ("/dataset-view/thumbnails/cancel", test_thumbnail_cancel);
  g_test_add_func ("/dataset-view/thumbnails/newest-first", test_thumbnail_newest_first);
  g_test_add_func ("/dataset-view/health/numbers", test_health);
  g_test_add_func ("/dataset-view/health/content-hash", test_content_hash);
  g_test_add_func ("/dataset-view/stores/round-trip", test_store_round_trip);
  g_test_add_func ("/dataset-view/atomic/killed-mid-write", test_atomic_write_killed);
  tmpdirs = g_ptr_array_new_with_free_func (g_free);
  int status = g_test_run ();
  for (guint i = 0; i < tmpdirs->len; i++)
    remove_tree (tmpdirs->pdata[i]);
  g_ptr_array_unref (tmpdirs);
  return status;
}
