/* test-auto-caption.c: the Dataset view's Auto Caption under Xvfb, with the real
 * lora-engine and a clip-tiny model the test writes: on a copy of the demo project with
 * captions removed it fills the empty ones and keeps the hand-written ones (including
 * an edit still waiting for its autosave), replaces them when asked, the grid's items
 * and metadata.csv agree, and the editor does not write its old text back; cancelled
 * midway it keeps exactly what was written (sidecars); a folder that is no CLIP model
 * shows the engine's refusal and changes nothing; an unreadable image is skipped and
 * named in the details; it waits while the project trains; the model folder is
 * remembered.
 * Screenshots of the dialog and the view go to $STUDIO_ARTIFACTS_DIR. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "studio-application.h"
#include "studio-auto-caption-dialog.h"
#include "studio-csv.h"
#include "studio-dataset-view.h"
#include "studio-project-view.h"
#include "studio-samples-view.h"
#include "studio-train-view.h"
#include "studio-window.h"

#include "dsview-test.h"
#include "gui-test-util.h"

#define TRIGGER "shapez"

static StudioApplication *app;
static char *home;
static char *clip_model;
static char *project_dir;

/* The demo project (config, dataset; its models linked) with the captions of
 * shape-02, -05 and -07 removed and shape-03's emptied. */
static void
copy_demo (void)
{
  const char *demo = g_getenv ("LORA_STUDIO_DATADIR");
  g_autofree char *src_dataset = g_build_filename (demo, "demo", "dataset", NULL);
  g_autofree char *dataset = NULL, *csv = NULL, *models = NULL, *config = NULL, *text = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL, kept = NULL;
  const char *name;
  gsize len;

  project_dir = g_build_filename (home, "demo-copy", NULL);
  dataset = g_build_filename (project_dir, "dataset", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dataset, 0755), ==, 0);
  {
    g_autofree char *src = g_build_filename (demo, "demo", "config.yaml", NULL);
    config = g_build_filename (project_dir, "config.yaml", NULL);
    g_assert_true (g_file_get_contents (src, &text, &len, NULL));
    g_assert_true (g_file_set_contents (config, text, len, NULL));
  }
  /* The copy names the build's demo model by its full path (no link: deleting the
   * copy must not reach into the build folder). */
  models = g_build_filename (demo, "demo", "models", "sd15-tiny", NULL);
  {
    g_auto (GStrv) parts = g_strsplit (text, "./models/sd15-tiny", -1);
    g_autofree char *joined = g_strjoinv (models, parts);
    g_assert_cmpuint (g_strv_length (parts), >=, 2);   /* base_model */
    g_assert_true (g_file_set_contents (config, joined, -1, NULL));
  }
  dir = g_dir_open (src_dataset, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (src_dataset, name, NULL);
      g_autofree char *dest = g_build_filename (dataset, name, NULL);
      g_autofree char *data = NULL;
      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      g_assert_true (g_file_set_contents (dest, data, len, NULL));
    }
  csv = g_build_filename (dataset, "metadata.csv", NULL);
  rows = studio_csv_load (csv, &error);
  g_assert_no_error (error);
  kept = g_ptr_array_new ();
  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *row = rows->pdata[i];
      if (g_str_has_prefix (row->filename, "shape-03-"))
        {
          g_free (row->prompt);
          row->prompt = g_strdup ("");
        }
      if (!g_str_has_prefix (row->filename, "shape-02-") && !g_str_has_prefix (row->filename, "shape-05-") &&
          !g_str_has_prefix (row->filename, "shape-07-"))
        g_ptr_array_add (kept, row);
    }
  g_assert_cmpuint (kept->len, ==, 21);
  g_assert_true (studio_csv_save (csv, kept, &error));
  g_assert_no_error (error);
}

static void
delete_project (void)
{
  if (project_dir != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (project_dir);
      gui_test_delete_tree (file);
      g_clear_pointer (&project_dir, g_free);
    }
}

/* Captions of the dataset's items by name. */
static GHashTable *
item_captions (StudioDataset *dataset)
{
  GHashTable *captions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (dataset)); i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (dataset), i);
      const char *caption = studio_dataset_item_get_caption (item);
      g_hash_table_insert (captions, g_strdup (studio_dataset_item_get_name (item)),
                           g_strdup (caption ? caption : ""));
    }
  return captions;
}

static GHashTable *
csv_captions (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = studio_csv_load (path, &error);
  GHashTable *captions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *row = rows->pdata[i];
      g_hash_table_insert (captions, g_strdup (row->filename), g_strdup (row->prompt));
    }
  return captions;
}

typedef struct {
  gboolean finished;
  StudioAutoCaptionStatus status;
  guint written, kept;
  GStrv warnings;
} Finished;

static void
on_finished (StudioAutoCaptionDialog *dialog, Finished *f)
{
  f->finished = TRUE;
  f->status = studio_auto_caption_dialog_get_status (dialog);
  f->written = studio_auto_caption_dialog_get_written (dialog);
  f->kept = studio_auto_caption_dialog_get_kept (dialog);
  g_strfreev (f->warnings);
  f->warnings = studio_auto_caption_dialog_dup_warnings (dialog);
}

static gboolean
is_finished (gpointer data)
{
  return ((Finished *) data)->finished;
}

static gboolean
not_running (gpointer data)
{
  return !studio_auto_caption_dialog_is_running (data);
}

static StudioAutoCaptionDialog *
open_dialog (StudioDatasetView *view, Finished *f)
{
  StudioAutoCaptionDialog *dialog;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "dataset.auto-caption", NULL));
  dialog = STUDIO_AUTO_CAPTION_DIALOG (gui_test_find_toplevel (STUDIO_TYPE_AUTO_CAPTION_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  if (f != NULL)
    g_signal_connect (dialog, "finished", G_CALLBACK (on_finished), f);
  return dialog;
}

static void
set_trigger (StudioAutoCaptionDialog *dialog, const char *trigger)
{
  gtk_editable_set_text (GTK_EDITABLE (gui_test_child (dialog, "trigger_row")), trigger);
}

static void
test_fill_keep_replace (void)
{
  StudioWindow *window;
  StudioDatasetView *view;
  StudioDataset *dataset;
  StudioAutoCaptionDialog *dialog;
  StudioCaptionEditor *editor;
  GtkTextBuffer *buffer;
  g_autoptr (GHashTable) before = NULL, after = NULL, on_disk = NULL;
  g_autofree char *csv = NULL;
  Finished f = { 0 };
  GHashTableIter iter;
  gpointer key, value;

  copy_demo ();
  csv = g_build_filename (project_dir, "dataset", "metadata.csv", NULL);
  window = open_project_window (app, project_dir, 1200, 800);
  view = dataset_view (window);
  dataset = studio_dataset_view_get_dataset (view);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (dataset)), ==, 24);
  g_assert_cmpuint (studio_dataset_get_n_captioned (dataset), ==, 20);

  /* A hand edit still waiting for its autosave when Auto Caption starts. */
  editor = studio_dataset_view_get_editor (view);
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 0, TRUE);
  buffer = gtk_text_view_get_buffer (studio_caption_editor_get_text_view (editor));
  gtk_text_buffer_set_text (buffer, "my own words, red circle", -1);
  before = item_captions (dataset);

  /* No model chosen yet: the dialog says so instead of starting. */
  dialog = open_dialog (view, &f);
  g_assert_null (studio_auto_caption_dialog_get_model (dialog));
  g_assert_false (studio_auto_caption_dialog_start (dialog));
  g_assert_nonnull (studio_auto_caption_dialog_get_error (dialog));
  studio_auto_caption_dialog_set_model (dialog, clip_model);
  set_trigger (dialog, TRIGGER);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (dialog), "auto-caption-dialog.png");
  {
    /* Turning the switch on says plainly that hand-written captions go. */
    GtkWidget *row = gui_test_child (dialog, "replace_row");
    gtk_switch_set_active (GTK_SWITCH (gui_test_child (dialog, "replace_switch")), TRUE);
    g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "by hand will be replaced"));
    gui_test_settle (200);
    gui_test_save_screenshot (GTK_WIDGET (dialog), "auto-caption-dialog-replace.png");
    gtk_switch_set_active (GTK_SWITCH (gui_test_child (dialog, "replace_switch")), FALSE);
  }
  g_assert_true (studio_auto_caption_dialog_start (dialog));
  g_assert_true (gui_test_wait_until (is_finished, &f, 60000));
  g_assert_cmpint (f.status, ==, STUDIO_AUTO_CAPTION_COMPLETED);
  g_assert_cmpuint (f.written, ==, 4);
  g_assert_cmpuint (f.kept, ==, 20);
  g_assert_null (gui_test_find_toplevel (STUDIO_TYPE_AUTO_CAPTION_DIALOG));

  /* The empty ones got a caption, the hand-written ones (the pending edit too) stay,
   * and the grid's items are what the file holds. */
  after = item_captions (dataset);
  on_disk = csv_captions (csv);
  g_assert_cmpuint (g_hash_table_size (on_disk), ==, 24);
  g_assert_cmpstr (g_hash_table_lookup (after, "shape-01-red-circle.png"), ==, "my own words, red circle");
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *old = g_hash_table_lookup (before, key);
      g_assert_cmpstr (g_hash_table_lookup (on_disk, key), ==, value);
      if (g_str_has_prefix (key, "shape-02-") || g_str_has_prefix (key, "shape-03-") ||
          g_str_has_prefix (key, "shape-05-") || g_str_has_prefix (key, "shape-07-"))
        {
          g_assert_cmpstr (old, ==, "");
          g_assert_true (g_str_has_prefix (value, TRIGGER ", "));
        }
      else if (!g_str_has_prefix (key, "shape-01-"))   /* checked above */
        g_assert_cmpstr (value, ==, old);
    }
  g_assert_cmpuint (studio_dataset_get_n_captioned (dataset), ==, 24);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gui_test_child (view, "no_caption_button"))), !=,
                   "4 without caption");

  /* Review selects what was written, the first in the editor. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "dataset.review-captions", NULL));
  {
    g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (studio_dataset_view_get_selection (view));
    g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 4);
    g_assert_cmpstr (studio_dataset_item_get_name (studio_caption_editor_get_item (editor)), ==,
                     "shape-02-purple-square.png");
  }
  gui_test_settle (500);
  gui_test_save_screenshot (GTK_WIDGET (window), "auto-caption-view.png");

  /* The model is remembered, here and in GSettings. */
  g_assert_cmpstr (g_settings_get_string (studio_application_get_settings (app), "caption-model"), ==,
                   clip_model);

  /* Replace: every caption is CLIP's now, the hand-written ones too, and the editor
   * (showing shape-01) does not save its old text over it afterwards. */
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 0, TRUE);
  g_assert_cmpstr (studio_dataset_item_get_name (studio_caption_editor_get_item (editor)), ==,
                   "shape-01-red-circle.png");
  memset (&f, 0, sizeof f);
  dialog = open_dialog (view, &f);
  g_assert_cmpstr (studio_auto_caption_dialog_get_model (dialog), ==, clip_model);
  set_trigger (dialog, TRIGGER);
  gtk_switch_set_active (GTK_SWITCH (gui_test_child (dialog, "replace_switch")), TRUE);
  g_assert_true (studio_auto_caption_dialog_start (dialog));
  g_assert_true (gui_test_wait_until (is_finished, &f, 60000));
  g_assert_cmpint (f.status, ==, STUDIO_AUTO_CAPTION_COMPLETED);
  g_assert_cmpuint (f.written, ==, 24);
  g_assert_cmpuint (f.kept, ==, 0);
  gui_test_settle (1200);   /* past the editor's autosave delay */
  g_clear_pointer (&after, g_hash_table_unref);
  g_clear_pointer (&on_disk, g_hash_table_unref);
  after = item_captions (dataset);
  on_disk = csv_captions (csv);
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_assert_true (g_str_has_prefix (value, TRIGGER ", "));
      g_assert_cmpstr (g_hash_table_lookup (on_disk, key), ==, value);
    }
  {
    GtkTextIter start, end;
    g_autofree char *text = NULL;
    gtk_text_buffer_get_bounds (buffer, &start, &end);
    text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_cmpstr (text, ==, g_hash_table_lookup (after, "shape-01-red-circle.png"));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
  delete_project ();
}

/* A project in sidecars with big images, so that captioning takes long enough to be
 * cancelled midway. */
static void
make_big_project (guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioProject) project = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 2400, 2400);
  g_autofree char *jpeg = NULL;
  gsize len;
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < 2400; y++)
    for (int x = 0; x < 2400; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        p[0] = x * 255 / 2400;
        p[1] = y * 255 / 2400;
        p[2] = (x ^ y) & 0xff;
      }
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &jpeg, &len, "jpeg", &error, "quality", "90", NULL));
  project_dir = g_build_filename (home, "big-project", NULL);
  project = studio_project_create (project_dir, STUDIO_TASK_IMAGE_LORA, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("big-%02u.jpg", i);
      g_autofree char *path = g_build_filename (studio_project_get_dataset_dir (project), name, NULL);
      g_assert_true (g_file_set_contents (path, jpeg, len, NULL));
    }
}

static gboolean
some_captioned (gpointer data)
{
  return studio_dataset_get_n_captioned (data) > 0;
}

static void
test_cancel_keeps_written (void)
{
  StudioWindow *window;
  StudioDatasetView *view;
  StudioDataset *dataset;
  StudioAutoCaptionDialog *dialog;
  Finished f = { 0 };
  guint with_caption = 0;
  const guint n = 40;

  make_big_project (n);
  window = open_project_window (app, project_dir, 1200, 800);
  view = dataset_view (window);
  dataset = studio_dataset_view_get_dataset (view);
  g_assert_cmpint (studio_dataset_get_caption_store (dataset), ==, STUDIO_CAPTION_STORE_SIDECAR);
  dialog = open_dialog (view, &f);
  g_assert_cmpstr (studio_auto_caption_dialog_get_model (dialog), ==, clip_model);
  g_assert_true (studio_auto_caption_dialog_start (dialog));
  g_assert_true (gui_test_wait_until (some_captioned, dataset, 60000));
  gui_test_save_screenshot (GTK_WIDGET (dialog), "auto-caption-progress.png");
  studio_auto_caption_dialog_cancel (dialog);
  g_assert_true (gui_test_wait_until (is_finished, &f, 60000));
  g_test_message ("cancelled after %u of %u images", f.written, n);
  g_assert_cmpint (f.status, ==, STUDIO_AUTO_CAPTION_CANCELLED);
  g_assert_cmpuint (f.written, >=, 1);
  g_assert_cmpuint (f.written, <, n);

  /* Exactly the captions made are on disk, and the grid's items say the same. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (G_LIST_MODEL (dataset), i);
      const char *caption = studio_dataset_item_get_caption (item);
      g_autofree char *stem = g_strndup (studio_dataset_item_get_path (item),
                                         strlen (studio_dataset_item_get_path (item)) - 4);
      g_autofree char *txt = g_strconcat (stem, ".txt", NULL);
      g_autofree char *text = NULL;

      if (g_file_get_contents (txt, &text, NULL, NULL))
        {
          g_strchomp (text);
          g_assert_cmpstr (caption, ==, text);
          with_caption++;
        }
      else
        g_assert_true (caption == NULL || *caption == '\0');
    }
  g_assert_cmpuint (with_caption, ==, f.written);
  gui_test_close_all_windows (GTK_APPLICATION (app));
  delete_project ();
}

static void
test_not_clip_refused (void)
{
  g_autofree char *sd = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "models", "sd15-tiny", NULL);
  g_autofree char *csv = NULL, *csv_before = NULL, *csv_after = NULL;
  StudioWindow *window;
  StudioDatasetView *view;
  StudioAutoCaptionDialog *dialog;
  Finished f = { 0 };
  const char *error;

  copy_demo ();
  csv = g_build_filename (project_dir, "dataset", "metadata.csv", NULL);
  g_assert_true (g_file_get_contents (csv, &csv_before, NULL, NULL));
  window = open_project_window (app, project_dir, 1200, 800);
  view = dataset_view (window);
  dialog = open_dialog (view, &f);
  studio_auto_caption_dialog_set_model (dialog, sd);
  g_assert_true (studio_auto_caption_dialog_start (dialog));
  g_assert_true (gui_test_wait_until (not_running, dialog, 60000));
  gui_test_settle (200);
  /* The dialog stays, with the engine's own words, for another choice. */
  g_assert_false (f.finished);
  error = studio_auto_caption_dialog_get_error (dialog);
  g_assert_nonnull (error);
  g_test_message ("engine: %s", error);
  g_assert_nonnull (strstr (error, "not a CLIP model"));
  g_assert_nonnull (strstr (error, "sd15-tiny"));
  gui_test_save_screenshot (GTK_WIDGET (dialog), "auto-caption-refused.png");
  g_assert_true (g_file_get_contents (csv, &csv_after, NULL, NULL));
  g_assert_cmpstr (csv_after, ==, csv_before);
  g_assert_cmpuint (studio_dataset_get_n_captioned (studio_dataset_view_get_dataset (view)), ==, 20);

  /* A missing engine is said as well. */
  {
    g_autofree char *saved = g_strdup (g_getenv ("LORA_ENGINE"));
    g_setenv ("LORA_ENGINE", "/nonexistent/lora-engine", TRUE);
    studio_auto_caption_dialog_set_model (dialog, clip_model);
    g_assert_false (studio_auto_caption_dialog_start (dialog));
    g_assert_nonnull (studio_auto_caption_dialog_get_error (dialog));
    g_setenv ("LORA_ENGINE", saved, TRUE);
  }
  studio_auto_caption_dialog_cancel (dialog);   /* not running: closes */
  gui_test_settle (100);
  g_assert_null (gui_test_find_toplevel (STUDIO_TYPE_AUTO_CAPTION_DIALOG));
  gui_test_close_all_windows (GTK_APPLICATION (app));
  delete_project ();
}

/* An image the engine cannot read is skipped, the rest are captioned, and the toast's
 * Details names it as the import's refusals are named. */
static void
test_skipped_details (void)
{
  g_autofree char *broken = NULL, *png = NULL, *data = NULL;
  StudioWindow *window;
  StudioDatasetView *view;
  StudioAutoCaptionDialog *dialog;
  GtkWindow *details;
  Finished f = { 0 };
  gsize len;

  copy_demo ();
  png = g_build_filename (project_dir, "dataset", "shape-01-red-circle.png", NULL);
  broken = g_build_filename (project_dir, "dataset", "broken.png", NULL);
  g_assert_true (g_file_get_contents (png, &data, &len, NULL));
  g_assert_true (g_file_set_contents (broken, data, 100, NULL));   /* stops half-way */
  window = open_project_window (app, project_dir, 1200, 800);
  view = dataset_view (window);
  dialog = open_dialog (view, &f);
  g_assert_true (studio_auto_caption_dialog_start (dialog));
  g_assert_true (gui_test_wait_until (is_finished, &f, 60000));
  g_assert_cmpint (f.status, ==, STUDIO_AUTO_CAPTION_COMPLETED);
  g_assert_cmpuint (f.written, ==, 4);
  g_assert_nonnull (f.warnings);
  g_assert_cmpuint (g_strv_length (f.warnings), ==, 1);
  g_assert_nonnull (strstr (f.warnings[0], "broken.png"));
  g_clear_pointer (&f.warnings, g_strfreev);

  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "auto-caption-skipped.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "dataset.auto-caption-details", NULL));
  details = gui_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (details);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (details)), "broken.png"));
  gtk_window_destroy (details);
  gui_test_close_all_windows (GTK_APPLICATION (app));
  delete_project ();
}

/* The demo project in a window: its Dataset view, and its page NAME ("train", ...). */
static StudioDatasetView *
open_demo_with_page (const char *name, GtkWidget **page)
{
  StudioWindow *window;
  GtkWidget *project_view;

  copy_demo ();
  window = open_project_window (app, project_dir, 1200, 800);
  project_view = gui_test_child (window, "project_view");
  *page = adw_view_stack_get_child_by_name (studio_project_view_get_stack (STUDIO_PROJECT_VIEW (project_view)),
                                            name);
  return dataset_view (window);
}

/* Auto Caption, asked for while the engine is busy, opens no dialog. */
static void
assert_auto_caption_waits (StudioDatasetView *view)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "dataset.auto-caption", NULL));
  gui_test_settle (100);
  g_assert_null (gui_test_find_toplevel (STUDIO_TYPE_AUTO_CAPTION_DIALOG));
}

/* Once the engine is free, Auto Caption opens; then the project is closed. */
static void
assert_auto_caption_opens_and_close (StudioDatasetView *view)
{
  StudioAutoCaptionDialog *dialog = open_dialog (view, NULL);

  studio_auto_caption_dialog_cancel (dialog);
  gui_test_close_all_windows (GTK_APPLICATION (app));
  delete_project ();
}

/* While the project trains, Auto Caption waits for the run instead of sharing the
 * device with it; once the run ended it opens. */
static void
test_waits_for_training (void)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *train;
  StudioDatasetView *view = open_demo_with_page ("train", &train);

  g_assert_true (STUDIO_IS_TRAIN_VIEW (train));
  g_assert_true (studio_train_view_start (STUDIO_TRAIN_VIEW (train), &error));
  g_assert_no_error (error);
  g_assert_true (studio_train_view_is_training (STUDIO_TRAIN_VIEW (train)));
  assert_auto_caption_waits (view);

  studio_train_view_stop (STUDIO_TRAIN_VIEW (train), FALSE);
  g_assert_true (gui_test_wait_until (gui_test_not_training, train, 120000));
  studio_train_view_shutdown (STUDIO_TRAIN_VIEW (train), NULL, NULL);
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, train, 20000));
  assert_auto_caption_opens_and_close (view);
}

static gboolean
not_generating (gpointer samples)
{
  return !studio_samples_view_is_generating (samples);
}

/* While the engine draws a sample asked for in the Samples view, Auto Caption waits too;
 * once the engine has answered it opens. */
static void
test_waits_for_sample (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  GtkWidget *samples;
  StudioDatasetView *view = open_demo_with_page ("samples", &samples);

  g_assert_true (STUDIO_IS_SAMPLES_VIEW (samples));
  id = studio_samples_view_generate (STUDIO_SAMPLES_VIEW (samples), "a red circle", NULL, 1, 1.0,
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_true (studio_samples_view_is_generating (STUDIO_SAMPLES_VIEW (samples)));
  assert_auto_caption_waits (view);

  /* drawn or refused, the request ends, and the engine is free again */
  g_assert_true (gui_test_wait_until (not_generating, samples, 120000));
  assert_auto_caption_opens_and_close (view);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  /* its cache: the engine's text embeddings too */
  g_autoptr (GFile) home_file = gui_test_private_home ("studio-autocap", &home);

  gui_test_init (&argc, &argv);

  if (!gui_test_have_display ())
    return gui_test_run_without_display ("/auto-caption/gui", home_file);

  /* The model the tests caption with: random weights, written by the engine itself. */
  {
    const char *engine = g_getenv ("LORA_ENGINE");
    int wait_status = 0;
    g_autofree char *err_text = NULL;
    clip_model = g_build_filename (home, "clip-tiny", NULL);
    const char *argv_fixture[] = { engine, "fixture", "--kind", "clip-tiny", "--out", clip_model, NULL };
    g_assert_nonnull (engine);
    g_assert_true (g_spawn_sync (NULL, (char **) argv_fixture, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, &err_text, &wait_status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
  }

  app = gui_test_new_app ();

  g_test_add_func ("/auto-caption/gui/fill-keep-replace", test_fill_keep_replace);
  g_test_add_func ("/auto-caption/gui/cancel-keeps-written", test_cancel_keeps_written);
  g_test_add_func ("/auto-caption/gui/not-clip-refused", test_not_clip_refused);
  g_test_add_func ("/auto-caption/gui/skipped-details", test_skipped_details);
  g_test_add_func ("/auto-caption/gui/waits-for-training", test_waits_for_training);
  g_test_add_func ("/auto-caption/gui/waits-for-sample", test_waits_for_sample);
  status = g_test_run ();
  delete_project ();
  g_object_unref (app);
  g_free (clip_model);
  gui_test_delete_tree (home_file);
  return status;
}
