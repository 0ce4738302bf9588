/* test-caption-editor-tokens.c: the caption editor's token count in a real window under
 * Xvfb. A project whose base model ships a CLIP tokenizer (the demo's tiny SD model,
 * written by `lora-engine fixture --kind sd15-tiny`) shows the exact count once the
 * tokenizer has loaded, "N / 75 tokens" without "≈", with the warning style only past
 * 75; tokenizer_path naming OpenAI's merges file gives real SD 1.5 counts; a base model
 * without a tokenizer, and a project without a base model, keep the "≈" estimate with a
 * tooltip saying why. Page Up / Page Down in the caption text go to the previous / next
 * image through the text view's own shortcuts and leave the focus in the text. The
 * demo project counts exactly.
 * Usage: test-caption-editor-tokens [--tap] BPE_SIMPLE_VOCAB_GZ */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "studio-application.h"
#include "studio-caption-editor.h"
#include "studio-caption-tokens.h"
#include "studio-dataset-view.h"
#include "studio-project-view.h"
#include "studio-window.h"

#include "dsview-test.h"
#include "gui-test-util.h"

static StudioApplication *app;
static char *home;
static const char *bpe_file;

static char *
demo_model (void)
{
  return g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "models", "sd15-tiny", NULL);
}

/* A new image-lora project NAME with three demo images, its config given KEY = VALUE
 * pairs (NULL-terminated), opened in a window; the first image is selected. */
static StudioWindow *
open_project (const char *name, ...)
{
  g_autofree char *folder = g_build_filename (home, name, NULL);
  g_autoptr (StudioProject) project = NULL;
  g_autoptr (GError) error = NULL;
  const char *images[] = { "shape-01-red-circle.png", "shape-02-purple-square.png",
                           "shape-03-blue-triangle.png" };
  const char *key;
  StudioWindow *window;
  StudioDatasetView *view;
  va_list args;

  project = studio_project_create (folder, STUDIO_TASK_IMAGE_LORA, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    copy_demo_image (images[i], studio_project_get_dataset_dir (project), NULL);
  va_start (args, name);
  while ((key = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);
      g_assert_true (studio_config_set (studio_project_get_config (project), key, value, &error));
      g_assert_no_error (error);
    }
  va_end (args);
  g_assert_true (studio_project_save_config (project, &error));
  g_assert_no_error (error);

  window = open_project_window (app, folder, 1100, 760);
  view = dataset_view (window);
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 0, TRUE);
  g_assert_nonnull (studio_caption_editor_get_item (studio_dataset_view_get_editor (view)));
  return window;
}

static gboolean
count_is_exact (gpointer data)
{
  return strstr (studio_caption_editor_get_count_text (data), "≈") == NULL;
}

static GtkWidget *
count_label (StudioCaptionEditor *editor)
{
  return gui_test_child (editor, "count_label");
}

static void
set_caption (StudioCaptionEditor *editor, const char *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (studio_caption_editor_get_text_view (editor));
  gtk_text_buffer_set_text (buffer, text, -1);
}

static char *
repeat (const char *words, guint times)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < times; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", words);
  return g_string_free (s, FALSE);
}

static void
test_exact_with_model_tokenizer (void)
{
  g_autofree char *model = demo_model ();
  g_autofree char *tokenizer_dir = g_build_filename (model, "tokenizer", "vocab.json", NULL);
  StudioWindow *window;
  StudioCaptionEditor *editor;
  g_autoptr (StudioClipTokenizer) reference = NULL;
  g_autofree char *at_limit = repeat ("a cat sitting on the", 15);      /* 75 tokens */
  g_autofree char *past_limit = repeat ("a cat sitting on", 20);        /* 80 tokens */
  guint n = 0;

  /* The demo's model is what a new user opens: it must carry its tokenizer. */
  g_assert_true (g_file_test (tokenizer_dir, G_FILE_TEST_IS_REGULAR));
  window = open_project ("with-tokenizer", "base_model", model, NULL);
  editor = studio_dataset_view_get_editor (dataset_view (window));
  g_assert_true (gui_test_wait_until (count_is_exact, editor, 15000));

  /* Every word is whole in the tiny vocabulary: 7 tokens, where the estimate says 8. */
  set_caption (editor, "a red cat sitting in the field");
  g_assert_cmpuint (studio_caption_estimate_tokens ("a red cat sitting in the field"), ==, 8);
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "30 characters · 7 / 75 tokens"));
  g_assert_false (gtk_widget_has_css_class (count_label (editor), "warning"));
  {
    const char *tooltip = gtk_widget_get_tooltip_text (count_label (editor));
    g_assert_nonnull (strstr (tooltip, "Counted with the CLIP tokenizer"));
  }
  /* And the label says what the engine's tokenizer says. */
  reference = studio_clip_tokenizer_find (NULL, model, NULL);
  g_assert_nonnull (reference);
  g_assert_true (studio_clip_tokenizer_count (reference, past_limit, &n, NULL));
  g_assert_cmpuint (n, ==, 80);

  /* Exactly 75: no warning, though the estimate (90) would have warned. */
  set_caption (editor, at_limit);
  g_assert_cmpuint (studio_caption_estimate_tokens (at_limit), >, STUDIO_CLIP_MAX_TOKENS);
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), " 75 / 75 tokens"));
  g_assert_false (gtk_widget_has_css_class (count_label (editor), "warning"));
  /* 80: warned. */
  set_caption (editor, past_limit);
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), " 80 / 75 tokens"));
  g_assert_null (strstr (studio_caption_editor_get_count_text (editor), "≈"));
  g_assert_true (gtk_widget_has_css_class (count_label (editor), "warning"));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "caption-tokens-exact-warning.png");

  /* A huge paste is estimated, not tokenized on every key, and still warned. */
  {
    g_autofree char *huge = repeat ("a cat sitting on", 300);
    const char *tooltip;

    g_assert_cmpuint (strlen (huge), >, STUDIO_CAPTION_EXACT_MAX_BYTES);
    set_caption (editor, huge);
    g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "≈"));
    g_assert_true (gtk_widget_has_css_class (count_label (editor), "warning"));
    tooltip = gtk_widget_get_tooltip_text (count_label (editor));
    g_assert_nonnull (strstr (tooltip, "too long to count exactly"));
  }

  /* The next image counts with the same tokenizer at once. */
  gtk_widget_activate_action (GTK_WIDGET (editor), "dataset.next-image", NULL);
  set_caption (editor, "a red cat");
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), " 3 / 75 tokens"));
  g_assert_false (gtk_widget_has_css_class (count_label (editor), "warning"));
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* SD 1.5's real vocabulary through tokenizer_path (OpenAI's merges file); 21 is what
 * transformers' CLIPTokenizer counts for this caption (make_caption_tokens.py). */
static void
test_exact_with_configured_tokenizer (void)
{
  g_autofree char *empty_model = g_build_filename (home, "model-without-tokenizer", NULL);
  StudioWindow *window;
  StudioCaptionEditor *editor;

  g_assert_cmpint (g_mkdir_with_parents (empty_model, 0755), ==, 0);
  window = open_project ("configured-tokenizer", "base_model", empty_model,
                         "tokenizer_path", bpe_file, NULL);
  editor = studio_dataset_view_get_editor (dataset_view (window));
  g_assert_true (gui_test_wait_until (count_is_exact, editor, 15000));
  set_caption (editor, "it's a dog's life; they've said \"I'm fine\" -- 3.5 stars?");
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "· 21 / 75 tokens"));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "caption-tokens-exact.png");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

static void
test_estimate_without_tokenizer (void)
{
  g_autofree char *empty_model = g_build_filename (home, "bare-model", NULL);
  StudioWindow *window;
  StudioCaptionEditor *editor;

  g_assert_cmpint (g_mkdir_with_parents (empty_model, 0755), ==, 0);
  window = open_project ("no-tokenizer", "base_model", empty_model, NULL);
  editor = studio_dataset_view_get_editor (dataset_view (window));
  /* The lookup runs in a thread and fails; the tooltip then names where it looked. */
  {
    gboolean named = FALSE;
    for (guint i = 0; i < 150 && !named; i++)
      {
        const char *tooltip = gtk_widget_get_tooltip_text (count_label (editor));
        named = tooltip != NULL && strstr (tooltip, "no CLIP tokenizer was found") != NULL;
        if (!named)
          gui_test_settle (100);
      }
    g_assert_true (named);
  }
  {
    const char *tooltip = gtk_widget_get_tooltip_text (count_label (editor));
    g_assert_true (g_str_has_prefix (tooltip, "Estimated"));
    g_assert_nonnull (strstr (tooltip, empty_model));
  }
  set_caption (editor, "a red cat sitting in the field");
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "≈ 8 / 75 tokens"));
  /* The estimate warns too. */
  {
    g_autofree char *long_caption = repeat ("a cat sitting on the", 15);
    set_caption (editor, long_caption);
    g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "≈ 90 / 75 tokens"));
    g_assert_true (gtk_widget_has_css_class (count_label (editor), "warning"));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));

  /* No base model at all: said so, without a lookup. */
  window = open_project ("no-base-model", NULL);
  editor = studio_dataset_view_get_editor (dataset_view (window));
  set_caption (editor, "a red cat");
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), "≈ 3 / 75 tokens"));
  {
    const char *tooltip = gtk_widget_get_tooltip_text (count_label (editor));
    g_assert_nonnull (strstr (tooltip, "no base model"));
  }
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* The demo project a new user opens: its tiny model ships a tokenizer, so its captions
 * are counted exactly, with the same count as that tokenizer gives. */
static void
test_demo_counts_exactly (void)
{
  StudioWindow *window;
  StudioDatasetView *view;
  StudioCaptionEditor *editor;
  g_autofree char *demo_dir = g_build_filename (g_get_user_data_dir (), "lora-studio", "demo", NULL);
  g_autofree char *model = NULL;
  g_autoptr (StudioClipTokenizer) reference = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *expected = NULL;
  guint n = 0;

  gui_test_new_window (app, 1100, 760);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-demo", NULL);
  g_assert_true (gui_test_wait_until (gui_test_has_project_window, app, 15000));
  window = gui_test_find_project_window (app);
  view = dataset_view (window);
  g_assert_true (gui_test_wait_until (view_ready, view, 15000));
  gtk_selection_model_select_item (studio_dataset_view_get_selection (view), 0, TRUE);
  editor = studio_dataset_view_get_editor (view);
  g_assert_nonnull (studio_caption_editor_get_item (editor));
  g_assert_true (gui_test_wait_until (count_is_exact, editor, 15000));

  /* The user's copy of the demo names its model relatively: ./models/sd15-tiny. */
  model = g_build_filename (demo_dir, "models", "sd15-tiny", NULL);
  reference = studio_clip_tokenizer_find (NULL, model, NULL);
  g_assert_nonnull (reference);
  caption = g_strdup (studio_dataset_item_get_caption (studio_caption_editor_get_item (editor)));
  g_assert_nonnull (caption);
  g_assert_true (studio_clip_tokenizer_count (reference, caption, &n, NULL));
  expected = g_strdup_printf (" %u / 75 tokens", n);
  g_assert_nonnull (strstr (studio_caption_editor_get_count_text (editor), expected));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "caption-tokens-demo.png");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

/* The text view's shortcut for KEYVAL (no modifiers), and the controller that holds it. */
static GtkShortcut *
find_shortcut (GtkWidget *text_view, const char *trigger, GtkEventController **owner)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (text_view);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          g_autofree char *text = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          if (g_strcmp0 (text, trigger) == 0)
            {
              *owner = controller;
              return shortcut;   /* the controller keeps it alive */
            }
        }
    }
  return NULL;
}

static void
press (GtkWidget *text_view, const char *trigger)
{
  GtkEventController *owner = NULL;
  GtkShortcut *shortcut = find_shortcut (text_view, trigger, &owner);

  g_assert_nonnull (shortcut);
  /* Capture phase: the editor's shortcut sees the key before GtkTextView's own Page
   * Up/Down binding (which scrolls) in the bubble phase. */
  g_assert_cmpint (gtk_event_controller_get_propagation_phase (owner), ==, GTK_PHASE_CAPTURE);
  g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut),
                                               GTK_SHORTCUT_ACTION_EXCLUSIVE, text_view,
                                               gtk_shortcut_get_arguments (shortcut)));
}

static const char *
current_name (StudioCaptionEditor *editor)
{
  return studio_dataset_item_get_name (studio_caption_editor_get_item (editor));
}

static void
test_page_keys_navigate (void)
{
  StudioWindow *window = open_project ("page-keys", NULL);
  StudioDatasetView *view = dataset_view (window);
  StudioCaptionEditor *editor = studio_dataset_view_get_editor (view);
  GtkWidget *text_view = GTK_WIDGET (studio_caption_editor_get_text_view (editor));

  gtk_widget_grab_focus (text_view);
  g_assert_true (gtk_widget_has_focus (text_view));
  g_assert_cmpstr (current_name (editor), ==, "shape-01-red-circle.png");

  press (text_view, "Page_Down");
  g_assert_cmpstr (current_name (editor), ==, "shape-02-purple-square.png");
  g_assert_true (gtk_widget_has_focus (text_view));
  g_assert_true (gtk_selection_model_is_selected (studio_dataset_view_get_selection (view), 1));
  press (text_view, "Page_Down");
  g_assert_cmpstr (current_name (editor), ==, "shape-03-blue-triangle.png");
  g_assert_true (gtk_widget_has_focus (text_view));

  press (text_view, "Page_Up");
  g_assert_cmpstr (current_name (editor), ==, "shape-02-purple-square.png");
  g_assert_true (gtk_selection_model_is_selected (studio_dataset_view_get_selection (view), 1));
  g_assert_true (gtk_widget_has_focus (text_view));
  /* Typing goes on into the new image's caption. */
  set_caption (editor, "typed after Page Up");
  g_assert_cmpstr (gtk_window_get_focus (GTK_WINDOW (window)) == text_view ? "text" : "elsewhere", ==, "text");
  gui_test_close_all_windows (GTK_APPLICATION (app));
}

int
main (int argc, char **argv)
{
  g_autofree char *hub = NULL;
  int status;

  g_autoptr (GFile) home_file = gui_test_private_home ("studio-captok", &home);
  /* The lookup ends in the Hugging Face cache: an empty one, so this machine's cannot
   * turn a miss into a hit. */
  hub = g_build_filename (home, "hub", NULL);
  g_setenv ("HF_HUB_CACHE", hub, TRUE);

  gui_test_init (&argc, &argv);
  if (argc < 2)
    {
      g_printerr ("usage: test-caption-editor-tokens [--tap] BPE_SIMPLE_VOCAB_GZ\n");
      return 1;
    }
  bpe_file = argv[1];

  if (!gui_test_have_display ())
    return gui_test_run_without_display ("/caption-editor/gui", home_file);

  app = gui_test_new_app ();

  g_test_add_func ("/caption-editor/gui/exact-with-model-tokenizer", test_exact_with_model_tokenizer);
  g_test_add_func ("/caption-editor/gui/exact-with-configured-tokenizer", test_exact_with_configured_tokenizer);
  g_test_add_func ("/caption-editor/gui/estimate-without-tokenizer", test_estimate_without_tokenizer);
  g_test_add_func ("/caption-editor/gui/page-keys-navigate", test_page_keys_navigate);
  g_test_add_func ("/caption-editor/gui/demo-counts-exactly", test_demo_counts_exactly);
  status = g_test_run ();
  g_object_unref (app);
  gui_test_delete_tree (home_file);
  return status;
}
