/* test-dataset.c: scanning a dataset folder (real images written by gdk-pixbuf, broken
 * ones made from them), both caption stores, the problem report, saving and converting. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-csv.h"
#include "studio-dataset.h"
#include "test-files.h"

/* Fixtures */

/* Keeps the first HALF of a file (a copy interrupted half-way). */
static void
truncate_file (const char *dir, const char *name, double fraction)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, (gssize) (len * fraction), NULL));
}

static StudioDataset *
load_ok (const char *dir, StudioCaptionStore store, const char *csv, StudioDatasetLoadFlags flags)
{
  g_autoptr (GError) error = NULL;
  StudioDataset *ds = studio_dataset_load (dir, store, csv, flags, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

/* The problem of KIND about FILE, or NULL. */
static StudioDatasetProblem *
find_problem (GPtrArray *problems, StudioProblemKind kind, const char *file)
{
  for (guint i = 0; i < problems->len; i++)
    {
      StudioDatasetProblem *p = g_ptr_array_index (problems, i);
      if (p->kind == kind && g_strcmp0 (p->file, file) == 0)
        return p;
    }
  return NULL;
}

static guint
count_problems (GPtrArray *problems, StudioProblemKind kind)
{
  guint n = 0;
  for (guint i = 0; i < problems->len; i++)
    n += ((StudioDatasetProblem *) g_ptr_array_index (problems, i))->kind == kind;
  return n;
}

static StudioDatasetItem *
item_at (StudioDataset *ds, guint i)
{
  /* The model hands out a reference; the dataset keeps its own. */
  g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (ds), i);
  g_assert_nonnull (item);
  return item;
}

/* Scanning */

static void
test_scan_good_images (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_image (dir, "b.jpg", "jpeg", 40, 30);
  write_image (dir, "a.png", "png", 32, 16);
  write_image (dir, "c10.bmp", "bmp", 8, 12);
  write_image (dir, "c9.png", "png", 5, 7);
  write_text (dir, "README.md", "not an image, and not our business\n", -1);
  write_text (dir, ".hidden.png", "hidden files are skipped", -1);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (ds)) == STUDIO_TYPE_DATASET_ITEM);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ds)), ==, 4);

  /* Sorted as a file manager sorts: c9 before c10. */
  g_assert_cmpstr (studio_dataset_item_get_name (item_at (ds, 0)), ==, "a.png");
  g_assert_cmpstr (studio_dataset_item_get_name (item_at (ds, 1)), ==, "b.jpg");
  g_assert_cmpstr (studio_dataset_item_get_name (item_at (ds, 2)), ==, "c9.png");
  g_assert_cmpstr (studio_dataset_item_get_name (item_at (ds, 3)), ==, "c10.bmp");

  StudioDatasetItem *a = studio_dataset_lookup (ds, "a.png");
  StudioDatasetItem *b = studio_dataset_lookup (ds, "b.jpg");
  StudioDatasetItem *c = studio_dataset_lookup (ds, "c10.bmp");
  g_assert_cmpint (studio_dataset_item_get_width (a), ==, 32);
  g_assert_cmpint (studio_dataset_item_get_height (a), ==, 16);
  g_assert_cmpint (studio_dataset_item_get_format (a), ==, STUDIO_IMAGE_FORMAT_PNG);
  g_assert_cmpint (studio_dataset_item_get_width (b), ==, 40);
  g_assert_cmpint (studio_dataset_item_get_height (b), ==, 30);
  g_assert_cmpint (studio_dataset_item_get_format (b), ==, STUDIO_IMAGE_FORMAT_JPEG);
  g_assert_cmpint (studio_dataset_item_get_width (c), ==, 8);
  g_assert_cmpint (studio_dataset_item_get_format (c), ==, STUDIO_IMAGE_FORMAT_BMP);

  g_autofree char *expected_path = g_build_filename (studio_dataset_get_folder (ds), "a.png", NULL);
  g_assert_cmpstr (studio_dataset_item_get_path (a), ==, expected_path);

  /* Properties carry the same, for the view's bindings. */
  int width = 0;
  StudioItemFlags flags = 0;
  g_object_get (b, "width", &width, "flags", &flags, NULL);
  g_assert_cmpint (width, ==, 40);
  g_assert_true (flags & STUDIO_ITEM_NO_CAPTION);
  g_assert_false (flags & (STUDIO_ITEM_UNREADABLE | STUDIO_ITEM_EXTENSION_MISMATCH));

  /* Good images raise nothing but their missing captions. */
  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  g_assert_cmpuint (problems->len, ==, 4);
  g_assert_cmpuint (count_problems (problems, STUDIO_PROBLEM_NO_CAPTION), ==, 4);

  rm_rf (dir);
}

static void
test_scan_webp (void)
{
  g_autofree char *dir = make_tmpdir ();
  if (!write_image (dir, "w.webp", "webp", 24, 18))
    {
      rm_rf (dir);
      g_test_skip ("gdk-pixbuf cannot write WebP here (webp-pixbuf-loader missing)");
      return;
    }
  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                          STUDIO_DATASET_LOAD_FULL_DECODE);
  StudioDatasetItem *w = studio_dataset_lookup (ds, "w.webp");
  g_assert_nonnull (w);
  g_assert_cmpint (studio_dataset_item_get_format (w), ==, STUDIO_IMAGE_FORMAT_WEBP);
  g_assert_cmpint (studio_dataset_item_get_width (w), ==, 24);
  g_assert_cmpint (studio_dataset_item_get_height (w), ==, 18);
  g_assert_false (studio_dataset_item_has_flag (w, STUDIO_ITEM_UNREADABLE));

  /* The header parser alone (no loader needed) gives the same size. */
  StudioImageInfo info;
  g_autoptr (GError) error = NULL;
  g_assert_true (studio_image_probe (studio_dataset_item_get_path (w), STUDIO_PROBE_CHEAP,
                                     &info, &error));
  g_assert_cmpint (info.width, ==, 24);
  g_assert_cmpint (info.height, ==, 18);

  truncate_file (dir, "w.webp", 0.5);
  g_autoptr (StudioDataset) cut = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_true (studio_dataset_item_has_flag (studio_dataset_lookup (cut, "w.webp"),
                                               STUDIO_ITEM_UNREADABLE));
  rm_rf (dir);
}

/* Rewrites the JPEG NAME in DIR with PREFIX inserted right after its SOI marker. */
static void
insert_after_soi (const char *dir, const char *name, const guint8 *prefix, gsize prefix_len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_byte_array_append (out, (const guint8 *) data, 2);
  g_byte_array_append (out, prefix, prefix_len);
  g_byte_array_append (out, (const guint8 *) data + 2, len - 2);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, out->len, NULL));
}

static void
assert_probed_size (const char *dir, const char *name, int width, int height)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  StudioImageInfo info;

  g_assert_true (studio_image_probe (path, STUDIO_PROBE_CHEAP, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpint (info.width, ==, width);
  g_assert_cmpint (info.height, ==, height);
}

/* PNG and JPEG sizes come from their headers (IHDR; the JPEG frame header found by
 * walking the markers, past fill bytes, or through gdk-pixbuf when a large block puts
 * it beyond the first 4 KB). */
static void
test_header_sizes (void)
{
  g_autofree char *dir = make_tmpdir ();
  guint8 app2[6002] = { 0xFF, 0xE2, 6000 >> 8, 6000 & 0xff };
  const guint8 fill[] = { 0xFF, 0xFF, 0xFF };

  static const struct { const char *name, *format; int w, h; } images[] = {
    { "wide.png", "png", 123, 45 }, { "wide.jpg", "jpeg", 300, 200 },
    { "tall.jpg", "jpeg", 17, 301 }, { "big-app.jpg", "jpeg", 64, 48 },
    { "fill.jpg", "jpeg", 40, 30 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    write_image (dir, images[i].name, images[i].format, images[i].w, images[i].h);
  insert_after_soi (dir, "big-app.jpg", app2, sizeof app2);
  insert_after_soi (dir, "fill.jpg", fill, sizeof fill);

  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    assert_probed_size (dir, images[i].name, images[i].w, images[i].h);
  rm_rf (dir);
}

static void
test_truncated_images_are_unreadable (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_image (dir, "good.jpg", "jpeg", 64, 64);
  write_image (dir, "half.jpg", "jpeg", 64, 64);
  write_image (dir, "half.png", "png", 64, 64);
  write_image (dir, "half.bmp", "bmp", 64, 64);
  truncate_file (dir, "half.jpg", 0.5);
  truncate_file (dir, "half.png", 0.5);
  truncate_file (dir, "half.bmp", 0.5);

  /* A JPEG with 100 bytes after its end marker (phones append such trailers) is fine:
   * the end is not in the last bytes, so the whole file is walked. */
  g_autofree char *good_path = g_build_filename (dir, "good.jpg", NULL);
  gsize good_len = 0;
  g_autofree char *good_data = NULL;
  g_assert_true (g_file_get_contents (good_path, &good_data, &good_len, NULL));
  g_autoptr (GByteArray) trailer = g_byte_array_new ();
  g_byte_array_append (trailer, (guint8 *) good_data, good_len);
  for (int i = 0; i < 100; i++)
    g_byte_array_append (trailer, (const guint8 *) "T", 1);
  write_text (dir, "trailer.jpg", (const char *) trailer->data, trailer->len);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ds)), ==, 5);
  g_assert_false (studio_dataset_item_has_flag (studio_dataset_lookup (ds, "good.jpg"),
                                                STUDIO_ITEM_UNREADABLE));
  g_assert_false (studio_dataset_item_has_flag (studio_dataset_lookup (ds, "trailer.jpg"),
                                                STUDIO_ITEM_UNREADABLE));

  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  const char *broken[] = { "half.jpg", "half.png", "half.bmp" };
  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      StudioDatasetItem *item = studio_dataset_lookup (ds, broken[i]);
      g_assert_nonnull (item);
      g_assert_true (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE));
      g_assert_nonnull (strstr (studio_dataset_item_get_message (item), broken[i]));
      StudioDatasetProblem *p = find_problem (problems, STUDIO_PROBLEM_UNREADABLE, broken[i]);
      g_assert_nonnull (p);
      g_assert_nonnull (strstr (p->message, broken[i]));
    }
  g_assert_cmpuint (count_problems (problems, STUDIO_PROBLEM_UNREADABLE), ==, 3);
  rm_rf (dir);
}

static void
test_full_decode_finds_corrupt_data (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_image (dir, "bad.png", "png", 64, 64);

  /* Damage pixel data in the middle; the chunk structure and IEND stay intact, so
   * only decoding (the health check) can tell. */
  g_autofree char *path = g_build_filename (dir, "bad.png", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (gsize i = len / 2; i < len / 2 + 16; i++)
    data[i] ^= 0x5a;
  g_assert_true (g_file_set_contents (path, data, len, NULL));

  g_autoptr (StudioDataset) cheap = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_false (studio_dataset_item_has_flag (studio_dataset_lookup (cheap, "bad.png"),
                                                STUDIO_ITEM_UNREADABLE));
  g_autoptr (StudioDataset) full = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                            STUDIO_DATASET_LOAD_FULL_DECODE);
  g_assert_true (studio_dataset_item_has_flag (studio_dataset_lookup (full, "bad.png"),
                                               STUDIO_ITEM_UNREADABLE));
  rm_rf (dir);
}

static void
test_wrong_extensions (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_image (dir, "real.png", "png", 10, 10);
  write_image (dir, "png-named.jpg", "png", 12, 9);
  write_text (dir, "text-named.png", "hello, I am text\n", -1);
  write_text (dir, "empty.jpg", "", 0);
  write_text (dir, "anim.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ds)), ==, 2);

  /* A PNG named .jpg is accepted, and said so. */
  StudioDatasetItem *mis = studio_dataset_lookup (ds, "png-named.jpg");
  g_assert_nonnull (mis);
  g_assert_cmpint (studio_dataset_item_get_format (mis), ==, STUDIO_IMAGE_FORMAT_PNG);
  g_assert_cmpint (studio_dataset_item_get_width (mis), ==, 12);
  g_assert_true (studio_dataset_item_has_flag (mis, STUDIO_ITEM_EXTENSION_MISMATCH));
  g_assert_false (studio_dataset_item_has_flag (mis, STUDIO_ITEM_UNREADABLE));
  g_assert_nonnull (strstr (studio_dataset_item_get_message (mis), "PNG"));
  g_assert_false (studio_dataset_item_has_flag (studio_dataset_lookup (ds, "real.png"),
                                                STUDIO_ITEM_EXTENSION_MISMATCH));

  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_EXTENSION_MISMATCH, "png-named.jpg"));
  StudioDatasetProblem *text = find_problem (problems, STUDIO_PROBLEM_NOT_AN_IMAGE, "text-named.png");
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text->message, "text-named.png"));
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_NOT_AN_IMAGE, "empty.jpg"));
  StudioDatasetProblem *gif = find_problem (problems, STUDIO_PROBLEM_UNSUPPORTED, "anim.gif");
  g_assert_nonnull (gif);
  g_assert_nonnull (strstr (gif->message, "GIF"));
  g_assert_null (studio_dataset_lookup (ds, "text-named.png"));
  rm_rf (dir);
}

static void
test_empty_and_missing_folders (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (GError) error = NULL;

  g_autoptr (StudioDataset) empty = studio_dataset_load (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                                         0, NULL, &error);
  g_assert_null (empty);
  g_assert_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_nonnull (strstr (error->message, "no images"));
  g_clear_error (&error);

  /* A new project's empty folder is fine when asked. */
  g_autoptr (StudioDataset) allowed = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                               STUDIO_DATASET_LOAD_ALLOW_EMPTY);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (allowed)), ==, 0);

  /* Files named like images that are none: still empty, and the message says why. */
  write_text (dir, "fake.png", "text", -1);
  g_autoptr (StudioDataset) fake = studio_dataset_load (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                                        0, NULL, &error);
  g_assert_null (fake);
  g_assert_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, "1 file"));
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (dir, "no-such-folder", NULL);
  g_autoptr (StudioDataset) none = studio_dataset_load (missing, STUDIO_CAPTION_STORE_SIDECAR,
                                                        NULL, 0, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no-such-folder"));
  g_clear_error (&error);

  g_autofree char *file = g_build_filename (dir, "fake.png", NULL);
  g_autoptr (StudioDataset) not_dir = studio_dataset_load (file, STUDIO_CAPTION_STORE_SIDECAR,
                                                           NULL, 0, NULL, &error);
  g_assert_null (not_dir);
  g_assert_error (error, STUDIO_DATASET_ERROR, STUDIO_DATASET_ERROR_NOT_FOLDER);
  rm_rf (dir);
}

static void
test_recursive_scan (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  write_image (dir, "top.png", "png", 4, 4);
  write_image (sub, "deep.png", "png", 6, 6);
  write_text (sub, "deep.txt", "deep caption", -1);

  g_autoptr (StudioDataset) flat = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (flat)), ==, 1);

  g_autoptr (StudioDataset) deep = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL,
                                            STUDIO_DATASET_LOAD_RECURSIVE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (deep)), ==, 2);
  StudioDatasetItem *item = studio_dataset_lookup (deep, "sub/deep.png");
  g_assert_nonnull (item);
  g_assert_cmpstr (studio_dataset_item_get_caption (item), ==, "deep caption");
  rm_rf (dir);
}

/* Captions */

static void
test_sidecar_captions_and_reports (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", "b.jpg", "c.png", NULL);
  write_text (dir, "a.txt", "\xEF\xBB\xBF" "a cat, sitting\r\n", -1);   /* BOM and line end dropped */
  write_text (dir, "c.txt", "   \n", -1);                                 /* blank: no caption */
  write_text (dir, "ghost.txt", "an image that is gone", -1);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_null (studio_dataset_get_metadata_path (ds));
  StudioDatasetItem *a = studio_dataset_lookup (ds, "a.png");
  StudioDatasetItem *b = studio_dataset_lookup (ds, "b.jpg");
  StudioDatasetItem *c = studio_dataset_lookup (ds, "c.png");
  g_assert_cmpstr (studio_dataset_item_get_caption (a), ==, "a cat, sitting");
  g_assert_false (studio_dataset_item_has_flag (a, STUDIO_ITEM_NO_CAPTION));
  g_assert_null (studio_dataset_item_get_caption (b));
  g_assert_true (studio_dataset_item_has_flag (b, STUDIO_ITEM_NO_CAPTION));
  g_assert_true (studio_dataset_item_has_flag (c, STUDIO_ITEM_NO_CAPTION));
  g_assert_cmpuint (studio_dataset_get_n_captioned (ds), ==, 1);

  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_NO_CAPTION, "b.jpg"));
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_NO_CAPTION, "c.png"));
  g_assert_null (find_problem (problems, STUDIO_PROBLEM_NO_CAPTION, "a.png"));
  StudioDatasetProblem *ghost = find_problem (problems, STUDIO_PROBLEM_ORPHAN_CAPTION, "ghost.txt");
  g_assert_nonnull (ghost);
  g_assert_nonnull (strstr (ghost->message, "ghost.txt"));
  g_assert_cmpuint (count_problems (problems, STUDIO_PROBLEM_ORPHAN_CAPTION), ==, 1);
  rm_rf (dir);
}

static void
test_csv_captions_and_reports (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", "b.jpg", "c.png", NULL);
  write_text (dir, "c.txt", "sidecars are ignored when the store is the CSV", -1);
  write_text (dir, "metadata.csv",
              "filename,prompt\r\n"
              "a.png,\"a cat, on a \"\"mat\"\"\"\r\n"
              "./b.jpg,一只狗\r\n"
              "missing.png,lost caption\r\n"
              "a.png,second caption for a\r\n", -1);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0);
  g_autofree char *csv_path = g_build_filename (studio_dataset_get_folder (ds), "metadata.csv", NULL);
  g_assert_cmpstr (studio_dataset_get_metadata_path (ds), ==, csv_path);
  g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (ds, "a.png")), ==,
                   "a cat, on a \"mat\"");
  g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (ds, "b.jpg")), ==, "一只狗");
  g_assert_null (studio_dataset_item_get_caption (studio_dataset_lookup (ds, "c.png")));

  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  StudioDatasetProblem *orphan = find_problem (problems, STUDIO_PROBLEM_ORPHAN_CAPTION, "missing.png");
  g_assert_nonnull (orphan);
  g_assert_cmpuint (orphan->line, ==, 4);
  g_assert_nonnull (strstr (orphan->message, "line 4"));
  StudioDatasetProblem *dup = find_problem (problems, STUDIO_PROBLEM_DUPLICATE_ROW, "a.png");
  g_assert_nonnull (dup);
  g_assert_cmpuint (dup->line, ==, 5);
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_NO_CAPTION, "c.png"));
  g_assert_null (find_problem (problems, STUDIO_PROBLEM_ORPHAN_CAPTION, "c.txt"));

  /* A relative metadata path resolves against the folder. */
  g_autoptr (StudioDataset) rel = load_ok (dir, STUDIO_CAPTION_STORE_CSV, "metadata.csv", 0);
  g_assert_cmpstr (studio_dataset_get_metadata_path (rel), ==, csv_path);
  rm_rf (dir);
}

static void
test_csv_errors_and_absence (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (GError) error = NULL;
  write_images (dir, "a.png", NULL);

  /* No CSV yet: loads, says so, and every image lacks a caption. */
  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0);
  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  g_assert_cmpuint (count_problems (problems, STUDIO_PROBLEM_NO_CAPTION_FILE), ==, 1);
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_NO_CAPTION, "a.png"));

  /* A broken CSV refuses to load, so that saving cannot overwrite it. */
  write_text (dir, "metadata.csv", "filename,prompt\na.png,ok\nb.png,a 5\" tall cat\n", -1);
  g_autoptr (StudioDataset) broken = studio_dataset_load (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0,
                                                          NULL, &error);
  g_assert_null (broken);
  g_assert_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "metadata.csv"));
  g_assert_nonnull (strstr (error->message, "line 3"));
  rm_rf (dir);
}

/* Editing, saving, converting */

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(guint *) data)++;
}

static void
test_save_sidecars (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", "b.png", "c.png", NULL);
  write_text (dir, "b.txt", "untouched\n", -1);
  write_text (dir, "c.txt", "caf\xe9 latin-1\n", -1);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  StudioDatasetItem *a = studio_dataset_lookup (ds, "a.png");
  StudioDatasetItem *c = studio_dataset_lookup (ds, "c.png");
  g_assert_true (studio_dataset_item_has_flag (c, STUDIO_ITEM_CAPTION_INVALID));
  g_autoptr (GPtrArray) problems = studio_dataset_get_problems (ds);
  g_assert_nonnull (find_problem (problems, STUDIO_PROBLEM_INVALID_CAPTION, "c.png"));

  guint notified = 0;
  g_signal_connect (a, "notify::caption", G_CALLBACK (count_notify), &notified);
  g_assert_false (studio_dataset_is_dirty (ds));
  studio_dataset_set_caption (ds, a, "new caption\n\n");
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpstr (studio_dataset_item_get_caption (a), ==, "new caption");
  g_assert_false (studio_dataset_item_has_flag (a, STUDIO_ITEM_NO_CAPTION));
  g_assert_true (studio_dataset_is_dirty (ds));

  g_autoptr (GError) error = NULL;
  g_assert_true (studio_dataset_save (ds, &error));
  g_assert_no_error (error);
  g_assert_false (studio_dataset_is_dirty (ds));

  g_autofree char *a_txt = read_text (dir, "a.txt");
  g_assert_cmpstr (a_txt, ==, "new caption");
  /* Only what changed is written: b.txt keeps its line end, c.txt its bytes. */
  g_autofree char *b_txt = read_text (dir, "b.txt");
  g_assert_cmpstr (b_txt, ==, "untouched\n");
  g_autofree char *c_txt = read_text (dir, "c.txt");
  g_assert_cmpstr (c_txt, ==, "caf\xe9 latin-1\n");

  g_autoptr (StudioDataset) again = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (again, "a.png")), ==,
                   "new caption");
  rm_rf (dir);
}

static void
test_save_csv_keeps_orphan_rows (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", "b.png", NULL);
  write_text (dir, "metadata.csv", "./a.png,old\ngone.png,\"keep, me\"\n", -1);

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0);
  studio_dataset_set_caption (ds, studio_dataset_lookup (ds, "a.png"), "new, with comma");
  studio_dataset_set_caption (ds, studio_dataset_lookup (ds, "b.png"), "b's first caption");
  g_autoptr (GError) error = NULL;
  g_assert_true (studio_dataset_save (ds, &error));
  g_assert_no_error (error);

  g_autofree char *text = read_text (dir, "metadata.csv");
  g_assert_cmpstr (text, ==,
                   "filename,prompt\n"
                   "./a.png,\"new, with comma\"\n"
                   "b.png,b's first caption\n"
                   "gone.png,\"keep, me\"\n");
  rm_rf (dir);
}

static void
test_convert_round_trip (void)
{
  g_autofree char *dir = make_tmpdir ();
  static const char *const names[] = { "a.png", "b.jpg", "c.png", "d.png", "猫.png" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    write_image (dir, names[i], g_str_has_suffix (names[i], ".jpg") ? "jpeg" : "png", 8, 8);

  /* The original CSV, written by the writer in the dataset's order. */
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);
  g_ptr_array_add (rows, studio_csv_row_new ("a.png", "a cat, sitting, \"quoted\"", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("b.jpg", "two\nlines and 🎨", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("c.png", "  spaces around  ", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("猫.png", "一只橘猫，坐着", 0));
  g_autofree char *csv = g_build_filename (dir, "metadata.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (studio_csv_save (csv, rows, &error));
  g_autofree char *original = read_text (dir, "metadata.csv");

  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_CSV, NULL, 0);
  g_assert_true (studio_dataset_convert (ds, STUDIO_CAPTION_STORE_SIDECAR, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (studio_dataset_get_caption_store (ds), ==, STUDIO_CAPTION_STORE_SIDECAR);
  g_assert_null (studio_dataset_get_metadata_path (ds));
  g_autofree char *b_txt = read_text (dir, "b.txt");
  g_assert_cmpstr (b_txt, ==, "two\nlines and 🎨");
  g_autofree char *d_txt_path = g_build_filename (dir, "d.txt", NULL);
  g_assert_false (g_file_test (d_txt_path, G_FILE_TEST_EXISTS));   /* no caption, no file */
  /* The old store stays. */
  g_assert_true (g_file_test (csv, G_FILE_TEST_EXISTS));

  /* From the sidecars alone, back to a new CSV: the same bytes. */
  g_autoptr (StudioDataset) side = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  g_assert_cmpuint (studio_dataset_get_n_captioned (side), ==, 4);
  g_assert_true (studio_dataset_convert (side, STUDIO_CAPTION_STORE_CSV, "back.csv", &error));
  g_assert_no_error (error);
  g_autofree char *back = read_text (dir, "back.csv");
  g_assert_cmpstr (back, ==, original);

  g_autoptr (StudioDataset) reread = load_ok (dir, STUDIO_CAPTION_STORE_CSV, "back.csv", 0);
  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *row = g_ptr_array_index (rows, i);
      g_assert_cmpstr (studio_dataset_item_get_caption (studio_dataset_lookup (reread, row->filename)),
                       ==, row->prompt);
    }
  rm_rf (dir);
}

static void
on_items_changed (GListModel *model, guint pos, guint removed, guint added, gpointer data)
{
  guint *calls = data;
  calls[0]++;
  calls[1] = pos;
  calls[2] = removed;
  calls[3] = added;
}

static void
test_add_and_remove_files (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", "c.png", NULL);
  g_autoptr (StudioDataset) ds = load_ok (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0);
  guint calls[4] = { 0 };
  g_signal_connect (ds, "items-changed", G_CALLBACK (on_items_changed), calls);

  write_image (dir, "b.png", "png", 9, 7);
  write_text (dir, "b.txt", "imported with its caption", -1);
  g_autofree char *b_path = g_build_filename (dir, "b.png", NULL);
  g_autoptr (GError) error = NULL;
  StudioDatasetItem *b = studio_dataset_add_file (ds, b_path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (b);
  g_assert_cmpuint (calls[0], ==, 1);
  g_assert_cmpuint (calls[1], ==, 1);
  g_assert_cmpuint (calls[3], ==, 1);
  g_assert_true (item_at (ds, 1) == b);
  g_assert_cmpstr (studio_dataset_item_get_caption (b), ==, "imported with its caption");
  g_assert_cmpint (studio_dataset_item_get_width (b), ==, 9);

  write_text (dir, "x.png", "not an image", -1);
  g_autofree char *x_path = g_build_filename (dir, "x.png", NULL);
  g_assert_null (studio_dataset_add_file (ds, x_path, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "x.png"));
  g_clear_error (&error);
  g_assert_cmpuint (calls[0], ==, 1);

  studio_dataset_remove_item (ds, studio_dataset_lookup (ds, "a.png"));
  g_assert_cmpuint (calls[0], ==, 2);
  g_assert_cmpuint (calls[1], ==, 0);
  g_assert_cmpuint (calls[2], ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ds)), ==, 2);
  g_assert_null (studio_dataset_lookup (ds, "a.png"));
  rm_rf (dir);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  StudioDataset **out = data;
  g_autoptr (GError) error = NULL;
  *out = studio_dataset_load_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_load_async (void)
{
  g_autofree char *dir = make_tmpdir ();
  write_images (dir, "a.png", NULL);
  StudioDataset *ds = NULL;

  studio_dataset_load_async (dir, STUDIO_CAPTION_STORE_SIDECAR, NULL, 0, NULL, on_loaded, &ds);
  while (ds == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ds)), ==, 1);
  g_object_unref (ds);
  rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dataset/scan/good-images", test_scan_good_images);
  g_test_add_func ("/dataset/scan/webp", test_scan_webp);
  g_test_add_func ("/dataset/scan/header-sizes", test_header_sizes);
  g_test_add_func ("/dataset/scan/truncated", test_truncated_images_are_unreadable);
  g_test_add_func ("/dataset/scan/full-decode", test_full_decode_finds_corrupt_data);
  g_test_add_func ("/dataset/scan/wrong-extensions", test_wrong_extensions);
  g_test_add_func ("/dataset/scan/empty-and-missing", test_empty_and_missing_folders);
  g_test_add_func ("/dataset/scan/recursive", test_recursive_scan);
  g_test_add_func ("/dataset/captions/sidecars", test_sidecar_captions_and_reports);
  g_test_add_func ("/dataset/captions/csv", test_csv_captions_and_reports);
  g_test_add_func ("/dataset/captions/csv-errors", test_csv_errors_and_absence);
  g_test_add_func ("/dataset/save/sidecars", test_save_sidecars);
  g_test_add_func ("/dataset/save/csv-keeps-orphans", test_save_csv_keeps_orphan_rows);
  g_test_add_func ("/dataset/convert/round-trip", test_convert_round_trip);
  g_test_add_func ("/dataset/model/add-remove", test_add_and_remove_files);
  g_test_add_func ("/dataset/load-async", test_load_async);

  return g_test_run ();
}
