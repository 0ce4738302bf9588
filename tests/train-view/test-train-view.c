/* test-train-view.c: the Train and Samples views under Xvfb: the config panel (a spin
 * row saves config.yaml atomically, a bad value shows the inline error, an edit made
 * elsewhere is picked up, a conflicting one is shown and not overwritten, presets); the
 * engine client against stand-in engines (a scripted run with pause and stop, one that
 * dies mid-run, one that prints garbage and a wrong protocol) and against the real
 * `lora-engine serve` (the demo project's error without its model, the demo project with
 * its tiny model training on the CPU, a text LoRA run with the tiny LLaMA fixture whose
 * progress reaches the status and the curve, Stop, shutdown); closing the window during a
 * run; the loss plot at 100,000 points; the Samples view (runs, steps, compare, large
 * view, snippet, export, Generate with a stand-in and with the real engine, Generate
 * during a run). Screenshots go to $STUDIO_ARTIFACTS_DIR. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "studio-project-view.h"
#include "studio-resources.h"
#include "studio-run-data.h"
#include "studio-samples-view.h"
#include "studio-train-view.h"

#include "gui-test-util.h"

static char *real_engine;
static char *tmp_root;

static char *
standin (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, name, NULL);
}

static void
use_engine (const char *path)
{
  g_setenv ("LORA_ENGINE", path, TRUE);
}

/* A copy of the shipped demo project (24 images, the article's settings). */
static StudioProject *
demo_project (const char *name)
{
  g_autofree char *shipped = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", NULL);
  g_autofree char *folder = g_build_filename (tmp_root, name, NULL);
  g_autofree char *config_src = g_build_filename (shipped, "config.yaml", NULL);
  g_autofree char *config_dst = g_build_filename (folder, "config.yaml", NULL);
  g_autofree char *data_src = g_build_filename (shipped, "dataset", NULL);
  g_autofree char *data_dst = g_build_filename (folder, "dataset", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  StudioProject *project;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_assert_true (g_file_get_contents (config_src, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (config_dst, text, -1, NULL));
  gui_test_copy_tree (data_src, data_dst);
  project = studio_project_open (folder, &error);
  g_assert_no_error (error);
  return project;
}

typedef struct {
  GtkWindow         *window;
  StudioProjectView *project_view;
  StudioTrainView   *train;
  StudioSamplesView *samples;
  StudioProject     *project;
} Fixture;

static void
fixture_open (Fixture *f, StudioProject *project)
{
  f->project = project;
  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 1200, 800);
  f->project_view = g_object_new (STUDIO_TYPE_PROJECT_VIEW, NULL);
  gtk_window_set_child (f->window, GTK_WIDGET (f->project_view));
  studio_project_view_set_project (f->project_view, project);
  f->train = STUDIO_TRAIN_VIEW (gui_test_child (f->project_view, "train_view"));
  f->samples = STUDIO_SAMPLES_VIEW (gui_test_child (f->project_view, "samples_view"));
  studio_project_view_set_visible_view (f->project_view, "train");
  gtk_window_present (f->window);
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, f->window, 5000));
}

static void
fixture_close (Fixture *f)
{
  /* The engine ends with the view; wait so that no process outlives the test. */
  studio_train_view_shutdown (f->train, NULL, NULL);
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f->train, 20000));
  gtk_window_destroy (f->window);
  g_clear_object (&f->project);
  gui_test_settle (50);
}

static char *
read_config (StudioProject *project)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (studio_project_get_config_path (project), &text, NULL, NULL));
  return text;
}

typedef struct {
  StudioProject *project;
  const char    *needle;
} FileHas;

static gboolean
config_has (gpointer data)
{
  FileHas *fh = data;
  g_autofree char *text = read_config (fh->project);
  return strstr (text, fh->needle) != NULL;
}

static guint64
config_inode (StudioProject *project)
{
  GStatBuf st;
  g_assert_cmpint (g_stat (studio_project_get_config_path (project), &st), ==, 0);
  return (guint64) st.st_ino;
}

/* --- config panel ------------------------------------------------------------------ */

static gboolean
has_model_info (gpointer data)
{
  return studio_config_panel_get_model_info (data) != NULL;
}

static gboolean
spin_is_48 (gpointer data)
{
  return gtk_spin_button_get_value (data) == 48;
}

static gboolean
has_conflict (gpointer data)
{
  return studio_config_panel_has_conflict (data);
}

static void
test_config_panel (void)
{
  Fixture f = { 0 };
  StudioConfigPanel *panel;
  GtkWidget *spin;
  guint64 inode;
  FileHas fh;
  g_autofree char *before = NULL;
  const char *external = "task_type: image-lora\ntrain_data_dir: ./dataset\n"
                         "metadata_path: ./dataset/metadata.csv\nlora_rank: 48\nepochs: 3\n";

  fixture_open (&f, demo_project ("panel"));
  panel = studio_train_view_get_config_panel (f.train);
  fh.project = f.project;

  /* The rows come from the key table, grouped, with the key's help as subtitle. */
  g_assert_true (ADW_IS_COMBO_ROW (studio_config_panel_get_row (panel, "optimizer")));
  g_assert_true (GTK_IS_SWITCH (studio_config_panel_get_control (panel, "random_flip")));
  g_assert_true (GTK_IS_SPIN_BUTTON (studio_config_panel_get_control (panel, "lora_rank")));
  g_assert_true (GTK_IS_BUTTON (studio_config_panel_get_control (panel, "train_data_dir")));
  g_assert_true (ADW_IS_EXPANDER_ROW (studio_config_panel_get_row (panel, "sample_prompts")));
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    g_assert_nonnull (studio_config_panel_get_row (panel, k->name));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (studio_config_panel_get_row (panel, "lora_rank"))),
                   ==, studio_config_key_lookup ("lora_rank")->help);
  /* Text-only keys are hidden for an image LoRA. */
  g_assert_false (gtk_widget_get_visible (studio_config_panel_get_row (panel, "sequence_length")));
  g_assert_true (gtk_widget_get_visible (studio_config_panel_get_row (panel, "resolution")));

  /* The demo's values are shown. */
  spin = studio_config_panel_get_control (panel, "lora_rank");
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin)), ==, 16);
  /* The base model row says what the file is, here that it does not exist yet. */
  g_assert_true (gui_test_wait_until (has_model_info, panel, 5000));
  g_assert_nonnull (strstr (studio_config_panel_get_model_info (panel), "does not exist"));

  /* A spin edit is validated and written atomically (a new inode: rename, not rewrite). */
  inode = config_inode (f.project);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 32);
  g_assert_null (studio_config_panel_get_error (panel, "lora_rank"));
  fh.needle = "lora_rank: 32";
  g_assert_true (gui_test_wait_until (config_has, &fh, 5000));
  g_assert_cmpuint (config_inode (f.project), !=, inode);
  {
    g_autofree char *dir = g_path_get_dirname (studio_project_get_config_path (f.project));
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_true (g_str_equal (name, "config.yaml") || g_str_equal (name, "dataset"));
  }

  /* A value out of range: the row names the problem, the file keeps the last good one. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 5000);
  g_assert_nonnull (studio_config_panel_get_error (panel, "lora_rank"));
  g_assert_nonnull (strstr (studio_config_panel_get_error (panel, "lora_rank"), "1024"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (studio_config_panel_get_row (panel, "lora_rank"))),
                            "1024"));
  g_assert_true (gtk_widget_has_css_class (studio_config_panel_get_row (panel, "lora_rank"), "error"));
  gui_test_settle (700);
  before = read_config (f.project);
  g_assert_nonnull (strstr (before, "lora_rank: 32"));
  g_assert_cmpint (studio_config_panel_get_config (panel)->lora_rank, ==, 32);
  /* A good value clears the error. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 24);
  g_assert_null (studio_config_panel_get_error (panel, "lora_rank"));
  gui_test_settle (700);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "config-panel.png");

  /* Reset to the default removes the key's explicit value. */
  {
    GtkWidget *learning = studio_config_panel_get_control (panel, "learning_rate");
    g_assert_true (studio_config_panel_set_value (panel, "learning_rate", "3e-4"));
    g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (learning)), ==, 3e-4);
  }

  /* An edit made elsewhere is picked up. */
  gui_test_settle (700);
  g_assert_true (g_file_set_contents (studio_project_get_config_path (f.project), external, -1, NULL));
  g_assert_true (gui_test_wait_until (spin_is_48, spin, 5000));
  g_assert_false (studio_config_panel_has_conflict (panel));
  g_assert_cmpint (studio_config_panel_get_config (panel)->epochs, ==, 3);

  /* An edit here and one elsewhere at once: shown, and the file is not overwritten. */
  g_assert_true (studio_config_panel_set_value (panel, "epochs", "7"));
  g_assert_true (g_file_set_contents (studio_project_get_config_path (f.project),
                                      "task_type: image-lora\ntrain_data_dir: ./dataset\nepochs: 9\n", -1, NULL));
  g_assert_true (gui_test_wait_until (has_conflict, panel, 5000));
  g_assert_nonnull (strstr (studio_config_panel_get_banner (panel), "changed by another program"));
  gui_test_settle (800);
  {
    g_autofree char *text = read_config (f.project);
    g_assert_nonnull (strstr (text, "epochs: 9"));
  }
  gui_test_save_screenshot (GTK_WIDGET (f.window), "config-conflict.png");
  /* Keeping the panel's values replaces the file. */
  studio_config_panel_resolve_conflict (panel, FALSE);
  g_assert_false (studio_config_panel_has_conflict (panel));
  fh.needle = "epochs: 7";
  g_assert_true (config_has (&fh));

  /* A preset fills the values and switches the rows to the task. */
  g_assert_true (studio_config_panel_apply_preset (panel, "text"));
  g_assert_cmpint (studio_config_panel_get_config (panel)->lora_rank, ==, 64);
  g_assert_true (gtk_widget_get_visible (studio_config_panel_get_row (panel, "sequence_length")));
  g_assert_false (gtk_widget_get_visible (studio_config_panel_get_row (panel, "resolution")));
  fh.needle = "task_type: \"text-generation\"";
  if (!gui_test_wait_until (config_has, &fh, 5000))
    {
      g_autofree char *text = read_config (f.project);
      g_error ("preset not saved; config.yaml is:\n%s", text);
    }

  fixture_close (&f);
}

/* --- engine: stand-ins --------------------------------------------------------------- */

static gboolean
has_error (gpointer data)
{
  return studio_train_view_get_error (data) != NULL;
}

typedef struct {
  StudioTrainView *train;
  guint            n;
} PointCount;

static gboolean
has_points (gpointer data)
{
  PointCount *pc = data;
  return studio_loss_plot_get_n_points (studio_train_view_get_loss_plot (pc->train)) >= pc->n;
}

typedef struct {
  StudioTrainView *train;
  const char      *text;
} StateIs;

static gboolean
state_is (gpointer data)
{
  StateIs *s = data;
  return g_strcmp0 (studio_train_view_get_state_text (s->train), s->text) == 0;
}

static const char *
label_text (gpointer view, const char *name)
{
  return gtk_label_get_text (GTK_LABEL (gui_test_child (view, name)));
}

static gboolean
action_enabled (gpointer widget, const char *name)
{
  /* A disabled action leaves its button insensitive. */
  const char *button = g_str_equal (name, "train.start") ? "start_button" : "stop_button";
  return gtk_widget_get_sensitive (gui_test_child (widget, button));
}

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* owned by GTK */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static gboolean
has_message_dialog (gpointer data)
{
  return find_message_dialog () != NULL;
}

static void
test_standin_run (void)
{
  Fixture f = { 0 };
  g_autofree char *engine = standin ("standin-train.sh");
  g_autofree char *png = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                           "shape-01-red-circle.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *config_before = NULL;
  PointCount pc;
  StateIs st;

  use_engine (engine);
  g_setenv ("STANDIN_HOLD", "1", TRUE);
  g_setenv ("STANDIN_SAMPLE_PNG", png, TRUE);
  fixture_open (&f, demo_project ("standin-run"));
  config_before = read_config (f.project);
  g_assert_true (action_enabled (f.train, "train.start"));
  g_assert_false (action_enabled (f.train, "train.stop"));

  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  g_assert_true (studio_train_view_is_training (f.train));
  g_assert_false (action_enabled (f.train, "train.start"));
  pc.train = f.train;
  pc.n = 50;
  g_assert_true (gui_test_wait_until (has_points, &pc, 15000));
  gui_test_settle (200);

  /* Progress reached the status and the curve. */
  g_assert_cmpstr (label_text (f.train, "step_label"), ==, "50 of 100");
  g_assert_cmpstr (label_text (f.train, "epoch_label"), ==, "5");
  g_assert_cmpstr (label_text (f.train, "speed_label"), ==, "2.50 it/s");
  g_assert_cmpstr (label_text (f.train, "eta_label"), ==, "0:50");
  g_assert_cmpstr (label_text (f.train, "device_label"), ==, "cuda:0");
  g_assert_cmpstr (label_text (f.train, "memory_label"), ==, "524.3\u00a0MB of 8.6\u00a0GB");
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (gui_test_child (f.train, "progress_bar"))),
                     ==, 0.5);
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training");
  g_assert_true (action_enabled (f.train, "train.stop"));

  /* The run has its own folder with the config that ran (output_dir = the folder). */
  {
    const char *run_dir = studio_train_view_get_run_dir (f.train);
    g_autofree char *run_config = g_build_filename (run_dir, "config.yaml", NULL);
    g_autofree char *log = g_build_filename (run_dir, "engine.log", NULL);
    g_autofree char *log_text = NULL;
    g_autoptr (StudioConfig) config = studio_config_load (run_config, &error);
    g_autofree char *runs = studio_project_dup_runs_dir (f.project);

    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (run_dir, runs));
    g_assert_cmpstr (config->output_dir, ==, run_dir);
    g_assert_true (g_file_get_contents (log, &log_text, NULL, NULL));
    g_assert_nonnull (strstr (log_text, "stand-in engine started"));
  }
  gui_test_save_screenshot (GTK_WIDGET (f.window), "train-midrun.png");

  /* Pause and resume go through the engine's state events. */
  studio_train_view_pause (f.train);
  st.train = f.train;
  st.text = "Paused";
  g_assert_true (gui_test_wait_until (state_is, &st, 5000));
  studio_train_view_resume (f.train);
  st.text = "Training";
  g_assert_true (gui_test_wait_until (state_is, &st, 5000));
  /* Ctrl+Space's action toggles: it pauses a running run and resumes a paused one. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.train), "train.pause-toggle", NULL));
  st.text = "Paused";
  g_assert_true (gui_test_wait_until (state_is, &st, 5000));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.train), "train.pause-toggle", NULL));
  st.text = "Training";
  g_assert_true (gui_test_wait_until (state_is, &st, 5000));

  /* Stop asks whether to save a checkpoint, then ends the run; the config was left alone. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f.train), "train.stop", NULL));
  g_assert_true (gui_test_wait_until (has_message_dialog, NULL, 5000));
  {
    AdwMessageDialog *dialog = find_message_dialog ();
    g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Stop Training?");
    g_assert_true (adw_message_dialog_has_response (dialog, "discard"));
    g_signal_emit_by_name (dialog, "response", "save");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 5000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training stopped");
  g_assert_null (studio_train_view_get_error (f.train));
  {
    g_autofree char *after = read_config (f.project);
    g_assert_cmpstr (after, ==, config_before);
  }
  g_unsetenv ("STANDIN_HOLD");

  /* The run's sample and the prompt the engine gave it reach the Samples view. */
  {
    GPtrArray *items;
    g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 5000));
    gui_test_settle (100);
    g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 5000));
    items = studio_samples_view_get_items (f.samples);
    g_assert_cmpuint (items->len, ==, 1);
    g_assert_cmpstr (((StudioSampleItem *) g_ptr_array_index (items, 0))->prompt, ==, "a red circle");
  }
  g_unsetenv ("STANDIN_SAMPLE_PNG");
  fixture_close (&f);
}

static void
test_standin_crash (void)
{
  Fixture f = { 0 };
  g_autofree char *crash = standin ("standin-crash.sh");
  g_autofree char *good = standin ("standin-train.sh");
  g_autoptr (GError) error = NULL;
  g_autofree char *config_before = NULL;
  g_autofree char *crashed_run = NULL;

  use_engine (crash);
  fixture_open (&f, demo_project ("standin-crash"));
  config_before = read_config (f.project);
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_true (gui_test_wait_until (has_error, f.train, 15000));
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 5000));

  /* The view says the engine died, shows its last log lines and offers to resume. */
  g_assert_nonnull (strstr (studio_train_view_get_error (f.train), "stopped unexpectedly"));
  g_assert_nonnull (strstr (studio_train_view_get_error (f.train), "137"));
  g_assert_nonnull (strstr (studio_train_view_get_error_log (f.train), "cudaMalloc failed: out of memory"));
  g_assert_true (studio_train_view_get_resume_offered (f.train));
  /* The out-of-memory error opened the article's advice for it. */
  g_assert_true (studio_config_panel_get_advice_shown (studio_train_view_get_config_panel (f.train),
                                                       STUDIO_ADVICE_OUT_OF_MEMORY));
  g_assert_false (studio_config_panel_get_advice_shown (studio_train_view_get_config_panel (f.train),
                                                        STUDIO_ADVICE_OVERFITTING));
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (gui_test_child (f.train, "error_revealer"))));
  g_assert_true (gtk_widget_get_visible (gui_test_child (f.train, "offer_resume_button")));
  g_assert_cmpuint (studio_loss_plot_get_n_points (studio_train_view_get_loss_plot (f.train)), ==, 5);
  {
    g_autofree char *after = read_config (f.project);
    g_assert_cmpstr (after, ==, config_before);
  }
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "train-engine-died.png");
  crashed_run = g_strdup (studio_train_view_get_run_dir (f.train));

  /* Resume continues that run from its checkpoint, in its folder. */
  use_engine (good);
  g_assert_true (studio_train_view_resume_last (f.train, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (studio_train_view_get_run_dir (f.train), ==, crashed_run);
  g_assert_null (studio_train_view_get_error (f.train));
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 15000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training finished");
  /* That run's loss fell: no advice about convergence. */
  g_assert_false (studio_config_panel_get_advice_shown (studio_train_view_get_config_panel (f.train),
                                                        STUDIO_ADVICE_NOT_CONVERGING));

  /* A run whose loss stays flat opens the advice for it (higher rank, more epochs). */
  studio_train_view_shutdown (f.train, NULL, NULL);   /* a new engine sees the new env */
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f.train, 10000));
  g_setenv ("STANDIN_FLAT", "1", TRUE);
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 15000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training finished");
  g_assert_true (studio_config_panel_get_advice_shown (studio_train_view_get_config_panel (f.train),
                                                       STUDIO_ADVICE_NOT_CONVERGING));
  g_unsetenv ("STANDIN_FLAT");
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (gui_test_child (f.train, "log_view")));
    GtkTextIter start, end;
    g_autofree char *log = NULL;
    g_autofree char *want = g_strdup_printf ("resume=%s/checkpoints/step-000005", crashed_run);
    gtk_text_buffer_get_bounds (buffer, &start, &end);
    log = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_nonnull (strstr (log, want));
  }
  fixture_close (&f);
}

static void
test_standin_garbage (void)
{
  Fixture f = { 0 };
  g_autofree char *engine = standin ("standin-garbage.sh");
  g_autoptr (GError) error = NULL;

  use_engine (engine);
  fixture_open (&f, demo_project ("standin-garbage"));
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_true (gui_test_wait_until (has_error, f.train, 15000));
  /* Refused with a message that names both versions; no training with it. */
  g_assert_nonnull (strstr (studio_train_view_get_error (f.train), "9.0"));
  g_assert_nonnull (strstr (studio_train_view_get_error (f.train), "1."));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Engine refused");
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f.train, 10000));
  g_assert_false (studio_train_view_is_training (f.train));
  g_assert_false (action_enabled (f.train, "train.start"));
  g_assert_false (studio_train_view_get_resume_offered (f.train));
  {
    /* The garbage lines went to the log, not to the parser's victims. */
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (gui_test_child (f.train, "log_view")));
    GtkTextIter start, end;
    g_autofree char *log = NULL;
    gtk_text_buffer_get_bounds (buffer, &start, &end);
    log = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_nonnull (strstr (log, "Loading libcuda"));
    g_assert_nonnull (strstr (log, "not a protocol line"));
  }
  fixture_close (&f);
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
window_gone (gpointer data)
{
  return *(GtkWindow **) data == NULL;
}

/* Closing the window during a run asks, then ends the engine cleanly. */
static void
test_close_while_training (void)
{
  Fixture f = { 0 };
  g_autofree char *engine = standin ("standin-train.sh");
  g_autofree char *marker = g_build_filename (tmp_root, "clean-exit", NULL);
  g_autoptr (GError) error = NULL;
  AdwMessageDialog *dialog;
  PointCount pc;

  use_engine (engine);
  g_setenv ("STANDIN_HOLD", "1", TRUE);
  g_setenv ("STANDIN_MARKER", marker, TRUE);
  fixture_open (&f, demo_project ("close-while-training"));
  g_assert_true (studio_train_view_start (f.train, &error));
  pc.train = f.train;
  pc.n = 50;
  g_assert_true (gui_test_wait_until (has_points, &pc, 15000));

  gtk_window_close (f.window);
  g_assert_true (gui_test_wait_until (has_message_dialog, NULL, 5000));
  dialog = find_message_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Stop Training and Close?");
  /* Still open while the question stands. */
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (f.window)));
  g_object_add_weak_pointer (G_OBJECT (f.window), (gpointer *) &f.window);
  g_signal_emit_by_name (dialog, "response", "quit");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (gui_test_wait_until (file_exists, marker, 10000));
  g_assert_true (gui_test_wait_until (window_gone, &f.window, 10000));
  g_clear_object (&f.project);
  g_unsetenv ("STANDIN_HOLD");
  g_unsetenv ("STANDIN_MARKER");
}

/* --- engine: the real lora-engine --------------------------------------------------- */

static gboolean
has_engine_model_info (gpointer data)
{
  return studio_config_panel_get_engine_model_info (data) != NULL;
}

static void
test_real_engine_demo (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  StudioConfigPanel *panel;

  use_engine (real_engine);
  fixture_open (&f, demo_project ("real-demo"));
  panel = studio_train_view_get_config_panel (f.train);
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  /* The demo's tiny SD model is not there: the engine's error is shown, nothing hangs. */
  g_assert_true (gui_test_wait_until (has_error, f.train, 60000));
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 60000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training failed");
  g_assert_cmpuint (strlen (studio_train_view_get_error (f.train)), >, 10);
  /* The bar says that no step ran, not “Starting…” for ever. */
  g_assert_cmpstr (gtk_progress_bar_get_text (GTK_PROGRESS_BAR (gui_test_child (f.train, "progress_bar"))),
                   ==, "No step was run");
  g_test_message ("engine said: %s", studio_train_view_get_error (f.train));
  /* The engine is still there, and was asked what the base model is. */
  g_assert_nonnull (studio_train_view_get_engine (f.train));
  g_assert_true (gui_test_wait_until (has_engine_model_info, panel, 10000));
  g_test_message ("inspect: %s", studio_config_panel_get_engine_model_info (panel));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "train-demo-error.png");
  fixture_close (&f);
}


/* The demo project as the README's first command opens it, tiny base model included:
 * training starts on the CPU, progress reaches the status and the plot, Stop ends it. */
static void
test_real_engine_demo_trains (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  StudioProject *project = demo_project ("real-demo-train");
  g_autofree char *models_src = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "models", NULL);
  g_autofree char *models_dst = g_build_filename (studio_project_get_folder (project), "models", NULL);
  PointCount pc;

  gui_test_copy_tree (models_src, models_dst);
  use_engine (real_engine);
  fixture_open (&f, project);
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  pc.train = f.train;
  pc.n = 2;
  if (!gui_test_wait_until (has_points, &pc, 300000))
    g_error ("no progress from the demo run: state \"%s\", error \"%s\"",
             studio_train_view_get_state_text (f.train), studio_train_view_get_error (f.train));
  g_assert_cmpstr (label_text (f.train, "device_label"), ==, "cpu");
  g_assert_true (g_str_has_suffix (label_text (f.train, "step_label"), "of 30"));
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "train-demo-midrun.png");
  studio_train_view_stop (f.train, TRUE);
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 120000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training stopped");
  studio_train_view_shutdown (f.train, NULL, NULL);
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f.train, 20000));
  fixture_close (&f);
}

static StudioProject *
text_project (const char *name, int epochs)
{
  g_autofree char *folder = g_build_filename (tmp_root, name, NULL);
  g_autofree char *model = g_build_filename (tmp_root, "llama-tiny", NULL);
  g_autofree char *config = g_build_filename (folder, "config.yaml", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  StudioProject *project;

  if (!g_file_test (model, G_FILE_TEST_IS_DIR))
    {
      const char *argv[] = { real_engine, "fixture", "--kind", "llama-tiny", "--out", model, NULL };
      int status;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }
  for (int i = 0; i < 24; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/data/story-%02d.txt", folder, i);
      g_autofree char *dir = g_path_get_dirname (file);
      g_autofree char *line = g_strdup_printf ("The river number %d ran past the old mill.\n", i);
      g_mkdir_with_parents (dir, 0755);
      g_assert_true (g_file_set_contents (file, line, -1, NULL));
    }
  text = g_strdup_printf ("task_type: text-generation\ntrain_data_dir: ./data\nbase_model: %s\n"
                          "sequence_length: 16\nlora_rank: 4\nlora_alpha: 8\nbatch_size: 4\n"
                          "epochs: %d\nlearning_rate: 1e-3\nsave_steps: 3\nsample_every: 6\n"
                          "sample_max_tokens: 8\nsample_prompts:\n  - \"The river\"\n"
                          "output_dir: ./output\n", model, epochs);
  g_assert_true (g_file_set_contents (config, text, -1, NULL));
  project = studio_project_open (folder, &error);
  g_assert_no_error (error);
  return project;
}

static void
test_real_engine_text_run (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  PointCount pc;
  StateIs st;

  use_engine (real_engine);
  fixture_open (&f, text_project ("text-run", 2));
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  st.train = f.train;
  st.text = "Training finished";
  if (!gui_test_wait_until (state_is, &st, 180000))
    g_error ("the run did not finish: state \"%s\", error \"%s\"",
             studio_train_view_get_state_text (f.train), studio_train_view_get_error (f.train));
  /* 24 samples, batch 4, 2 epochs: 12 steps, each in the status and on the curve. */
  g_assert_cmpstr (label_text (f.train, "step_label"), ==, "12 of 12");
  g_assert_cmpstr (label_text (f.train, "epoch_label"), ==, "2");
  g_assert_cmpstr (label_text (f.train, "device_label"), ==, "cpu");
  g_assert_cmpuint (studio_loss_plot_get_n_points (studio_train_view_get_loss_plot (f.train)), ==, 12);
  {
    /* The engine's metrics.jsonl in the run folder reopens the same curve. */
    const char *run_dir = studio_train_view_get_run_dir (f.train);
    g_autofree char *lora = studio_run_find_lora (run_dir);
    g_assert_true (isfinite (studio_run_final_loss (run_dir)));
    g_assert_nonnull (lora);
    g_assert_true (g_str_has_suffix (lora, "adapter_model.safetensors"));
    studio_train_view_show_run (f.train, run_dir);
    g_assert_cmpuint (studio_loss_plot_get_n_points (studio_train_view_get_loss_plot (f.train)), ==, 12);
  }
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "train-text-finished.png");

  /* The Samples view lists the run and shows its generated texts. */
  studio_project_view_set_visible_view (f.project_view, "samples");
  g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));
  g_assert_cmpuint (studio_samples_view_get_n_runs (f.samples), ==, 1);
  g_assert_nonnull (strstr (studio_samples_view_get_run_subtitle (f.samples, 0), "final loss"));
  {
    GPtrArray *items = studio_samples_view_get_items (f.samples);
    StudioSampleItem *item;
    g_assert_cmpuint (items->len, >=, 1);
    item = g_ptr_array_index (items, 0);
    g_assert_cmpstr (item->prompt, ==, "The river");
    g_assert_nonnull (item->text);
    g_assert_true (g_str_has_prefix (item->text, "The river"));
    g_assert_true (g_utf8_validate (item->text, -1, NULL));
  }
  /* The run that just finished is the one shown, with its actions available. */
  g_assert_cmpstr (studio_samples_view_get_run (f.samples), ==, studio_train_view_get_run_dir (f.train));
  {
    g_autofree char *name = g_path_get_basename (studio_train_view_get_run_dir (f.train));
    g_assert_cmpstr (label_text (f.samples, "run_title"), ==, name);
    g_assert_true (gtk_widget_get_sensitive (gui_test_child (f.samples, "export_button")));
  }
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "samples-text.png");

  /* A long run: progress, then Stop with a checkpoint, then the engine ends. */
  fixture_close (&f);
  use_engine (real_engine);
  fixture_open (&f, text_project ("text-stop", 400));
  g_assert_true (studio_train_view_start (f.train, &error));
  pc.train = f.train;
  pc.n = 4;
  g_assert_true (gui_test_wait_until (has_points, &pc, 60000));
  studio_train_view_stop (f.train, TRUE);
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 60000));
  g_assert_cmpstr (studio_train_view_get_state_text (f.train), ==, "Training stopped");
  {
    g_autofree char *checkpoint = studio_run_find_last_checkpoint (studio_train_view_get_run_dir (f.train));
    g_assert_nonnull (checkpoint);
  }
  g_assert_nonnull (studio_train_view_get_engine (f.train));
  studio_train_view_shutdown (f.train, NULL, NULL);
  g_assert_true (gui_test_wait_until (gui_test_engine_gone, f.train, 20000));
  fixture_close (&f);
}

/* --- loss plot ------------------------------------------------------------------------ */

static void
test_loss_plot_100k (void)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *plot = studio_loss_plot_new ();
  StudioLossPlot *lp = STUDIO_LOSS_PLOT (plot);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  guint builds;
  const char *readout;
  double first, last;

  gtk_window_set_default_size (window, 900, 400);
  gtk_window_set_child (window, plot);
  gtk_window_present (window);
  g_assert_true (gui_test_wait_until ((Condition) gtk_widget_get_mapped, window, 5000));
  for (guint i = 1; i <= 100000; i++)
    studio_loss_plot_append (lp, i, 0.3 / (1 + i * 2e-5) + g_rand_double_range (rand, 0, 0.05)
                                    + (i == 61234 ? 1.0 : 0), 1e-4 * (1 - i / 100001.0));
  g_assert_cmpuint (studio_loss_plot_get_n_points (lp), ==, 100000);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "loss-plot-100k.png");

  /* The cache is built once per change, and frames without a change reuse it. */
  builds = studio_loss_plot_get_cache_builds (lp);
  g_assert_cmpuint (builds, >=, 1);
  gtk_widget_queue_draw (plot);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "loss-plot-100k-again.png");
  g_assert_cmpuint (studio_loss_plot_get_cache_builds (lp), ==, builds);
  studio_loss_plot_set_smoothing (lp, 0.9);
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (window), "loss-plot-100k-smooth.png");
  g_assert_cmpuint (studio_loss_plot_get_cache_builds (lp), ==, builds + 1);

  /* TensorBoard's debiased EMA: the first smoothed value is the first value. */
  g_assert_cmpfloat_with_epsilon (studio_loss_plot_get_smoothed (lp, 0),
                                  0.3 / (1 + 2e-5) + 0, 0.06);
  /* Hover reads out a step and its values. */
  readout = studio_loss_plot_hover (lp, 300);
  g_assert_nonnull (readout);
  g_assert_nonnull (strstr (readout, "step "));
  g_assert_nonnull (strstr (readout, "lr "));
  g_assert_null (studio_loss_plot_hover (lp, 2));   /* the axis margin */

  /* Zoom to a range, then back. */
  studio_loss_plot_zoom (lp, 60000, 62000);
  g_assert_true (studio_loss_plot_get_zoom (lp, &first, &last));
  g_assert_cmpfloat (first, ==, 60000);
  gui_test_settle (200);
  gui_test_save_screenshot (GTK_WIDGET (window), "loss-plot-zoomed.png");
  studio_loss_plot_reset_zoom (lp);
  g_assert_false (studio_loss_plot_get_zoom (lp, NULL, NULL));
  studio_loss_plot_hover (lp, 450);

  /* The dark style draws too. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  gui_test_settle (200);
  gui_test_save_screenshot (GTK_WIDGET (window), "loss-plot-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (window);
}

/* --- Samples view ----------------------------------------------------------------------- */

static void
make_image_run (StudioProject *project, const char *name)
{
  g_autofree char *runs = studio_project_dup_runs_dir (project);
  g_autofree char *run = g_build_filename (runs, name, NULL);
  g_autofree char *shipped = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset", NULL);
  const char *images[] = { "shape-01-red-circle.png", "shape-04-green-star.png" };
  const char *prompts[] = { "a red circle", "a green star" };
  const int steps[] = { 10, 20, 30 };
  GString *metrics = g_string_new (NULL);
  g_autofree char *metrics_path = g_build_filename (run, "metrics.jsonl", NULL);
  g_autofree char *lora = g_build_filename (run, "pytorch_lora_weights.safetensors", NULL);
  g_autofree char *checkpoint = g_build_filename (run, "checkpoints", "step-000020", NULL);

  g_assert_cmpint (g_mkdir_with_parents (checkpoint, 0755), ==, 0);
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    for (guint p = 0; p < G_N_ELEMENTS (images); p++)
      {
        g_autofree char *src = g_build_filename (shipped, images[(p + s) % 2], NULL);
        g_autofree char *file = g_strdup_printf ("%s/samples/step-%06d-%u.png", run, steps[s], p);
        g_autofree char *dir = g_path_get_dirname (file);
        g_autofree char *data = NULL;
        gsize len;
        g_mkdir_with_parents (dir, 0755);
        g_assert_true (g_file_get_contents (src, &data, &len, NULL));
        g_assert_true (g_file_set_contents (file, data, len, NULL));
        g_assert_true (studio_run_add_sample_index (run, steps[s], file, prompts[p], NULL));
      }
  for (int i = 1; i <= 30; i++)
    g_string_append_printf (metrics, "{\"step\": %d, \"epoch\": 1, \"loss\": %g, \"lr\": 1e-4, \"time\": %d}\n",
                            i, i == 30 ? 0.25 : 1.0 / i + 0.2, i);
  g_assert_true (g_file_set_contents (metrics_path, metrics->str, -1, NULL));
  g_string_free (metrics, TRUE);
  g_assert_true (g_file_set_contents (lora, "LORA", -1, NULL));
}

typedef struct {
  StudioSamplesView *view;
  guint              n;
} GeneratedCount;

static gboolean
has_generated (gpointer data)
{
  GeneratedCount *g = data;
  return studio_samples_view_get_generated (g->view)->len >= g->n;
}

static gboolean
status_has (gpointer data)
{
  StudioSamplesView *view = ((gpointer *) data)[0];
  const char *needle = ((gpointer *) data)[1];
  const char *status = studio_samples_view_get_status (view);
  return status != NULL && strstr (status, needle) != NULL;
}

/* The picture of a Samples view tile (a button whose tooltip is PROMPT), or NULL. */
static GtkPicture *
find_tile_picture (GtkWidget *widget, const char *prompt, gboolean in_tile)
{
  if (GTK_IS_BUTTON (widget))
    {
      in_tile = g_strcmp0 (gtk_widget_get_tooltip_text (widget), prompt) == 0;
    }
  if (in_tile && GTK_IS_PICTURE (widget))
    return GTK_PICTURE (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkPicture *found = find_tile_picture (c, prompt, in_tile);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_samples_view (void)
{
  Fixture f = { 0 };
  StudioProject *project = demo_project ("samples");
  g_autofree char *engine = standin ("standin-train.sh");
  g_autofree char *png = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                           "shape-02-purple-square.png", NULL);
  g_autofree char *export_dir = g_build_filename (tmp_root, "webui-models-Lora", NULL);
  g_autofree char *requests = g_build_filename (tmp_root, "samples-requests.jsonl", NULL);
  g_autoptr (GError) error = NULL;
  GPtrArray *items;
  GArray *steps;
  GeneratedCount gc;

  make_image_run (project, "20261128-090000-older");
  make_image_run (project, "20261129-101500-cat");
  fixture_open (&f, project);
  studio_project_view_set_visible_view (f.project_view, "samples");
  g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));
  gui_test_settle (100);
  g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));

  /* Runs, newest first, with final loss and date. */
  g_assert_cmpuint (studio_samples_view_get_n_runs (f.samples), ==, 2);
  g_assert_nonnull (strstr (studio_samples_view_get_run_subtitle (f.samples, 0), "final loss 0.25"));
  g_assert_nonnull (strstr (studio_samples_view_get_run_subtitle (f.samples, 0), "2026"));
  g_assert_true (g_str_has_suffix (studio_samples_view_get_run (f.samples), "20261129-101500-cat"));

  /* Samples by step, newest first, each with its prompt. */
  items = studio_samples_view_get_items (f.samples);
  g_assert_cmpuint (items->len, ==, 6);
  g_assert_cmpint (((StudioSampleItem *) g_ptr_array_index (items, 0))->step, ==, 30);
  g_assert_cmpstr (((StudioSampleItem *) g_ptr_array_index (items, 0))->prompt, ==, "a red circle");
  g_assert_cmpstr (((StudioSampleItem *) g_ptr_array_index (items, 1))->prompt, ==, "a green star");
  steps = studio_samples_view_get_steps (f.samples);
  g_assert_cmpuint (steps->len, ==, 3);
  g_assert_cmpint (g_array_index (steps, gint64, 2), ==, 10);
  g_assert_cmpstr (studio_samples_view_get_page (f.samples), ==, "gallery");
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "samples.png");

  /* Two steps side by side, and one sample large. */
  g_assert_true (studio_samples_view_compare (f.samples, 30, 10));
  g_assert_cmpstr (studio_samples_view_get_page (f.samples), ==, "compare");
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "samples-compare.png");
  studio_samples_view_show_large (f.samples, 1);
  g_assert_cmpstr (studio_samples_view_get_page (f.samples), ==, "large");
  gui_test_settle (200);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "samples-large.png");

  /* The prompt snippet and the export. */
  {
    g_autofree char *snippet = studio_samples_view_copy_snippet (f.samples);
    g_autofree char *exported = NULL;
    g_autofree char *data = NULL;
    g_assert_cmpstr (snippet, ==, "<lora:20261129-101500-cat:0.8>");
    g_mkdir_with_parents (export_dir, 0755);
    exported = studio_samples_view_export_to (f.samples, export_dir, &error);
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (exported, &data, NULL, NULL));
    g_assert_cmpstr (data, ==, "LORA");
    g_assert_true (g_str_has_suffix (exported, "20261129-101500-cat.safetensors"));
  }

  /* Another run's samples. */
  {
    g_autofree char *runs = studio_project_dup_runs_dir (project);
    g_autofree char *older = g_build_filename (runs, "20261128-090000-older", NULL);
    studio_samples_view_select_run (f.samples, older);
    g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));
    g_assert_cmpuint (studio_samples_view_get_items (f.samples)->len, ==, 6);
    g_assert_cmpstr (studio_samples_view_get_run (f.samples), ==, older);
  }

  /* Generate through the engine's sample request (a stand-in draws it). */
  use_engine (engine);
  g_setenv ("STANDIN_SAMPLE_PNG", png, TRUE);
  g_setenv ("STANDIN_REQUESTS", requests, TRUE);
  {
    g_autofree char *id = studio_samples_view_generate (f.samples, "a purple square", "blurry", 7, 1.2,
                                                        NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (id);
  }
  gc.view = f.samples;
  gc.n = 1;
  g_assert_true (gui_test_wait_until (has_generated, &gc, 10000));
  {
    StudioSampleItem *item = g_ptr_array_index (studio_samples_view_get_generated (f.samples), 0);
    g_autoptr (GdkTexture) texture = NULL;
    g_autofree char *run_samples = g_build_filename (studio_samples_view_get_run (f.samples), "samples", NULL);

    g_assert_cmpstr (item->prompt, ==, "a purple square");
    /* Drawn into the selected run's samples folder, and a picture that loads. */
    g_assert_true (g_str_has_prefix (item->path, run_samples));
    texture = gdk_texture_new_from_filename (item->path, &error);
    g_assert_no_error (error);
    g_assert_nonnull (texture);
  }
  gui_test_settle (300);
  gui_test_save_screenshot (GTK_WIDGET (f.window), "samples-generated.png");

  /* The weights list offers the checkpoints that hold the LoRA file the engine writes
   * into each, and Generate with one sends that file. */
  {
    g_autofree char *run = g_strdup (studio_samples_view_get_run (f.samples));
    g_autofree char *ck = g_build_filename (run, "checkpoints", "step-000010", NULL);
    g_autofree char *ck_lora = g_build_filename (ck, "pytorch_lora_weights.safetensors", NULL);
    g_autofree char *old_state = g_build_filename (run, "checkpoints", "step-000020",
                                                   "checkpoint.safetensors", NULL);
    g_autofree char *old_dir = g_path_get_dirname (old_state);
    g_autofree char *sent = NULL;
    g_autofree char *expected = g_strdup_printf ("\"lora\":\"%s\"", ck_lora);
    GtkDropDown *dropdown = GTK_DROP_DOWN (gui_test_child (f.samples, "checkpoint_dropdown"));
    GListModel *names;

    g_assert_cmpint (g_mkdir_with_parents (ck, 0755), ==, 0);
    g_assert_cmpint (g_mkdir_with_parents (old_dir, 0755), ==, 0);
    g_assert_true (g_file_set_contents (ck_lora, "LORA", -1, NULL));
    /* a checkpoint of an older engine: training state only, nothing to draw with */
    g_assert_true (g_file_set_contents (old_state, "STATE", -1, NULL));
    studio_samples_view_select_run (f.samples, run);
    g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));
    names = gtk_drop_down_get_model (dropdown);
    g_assert_cmpuint (g_list_model_get_n_items (names), ==, 3);
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (names), 1), ==, "Checkpoint step-000010");
    gtk_drop_down_set_selected (dropdown, 1);
    gtk_editable_set_text (GTK_EDITABLE (gui_test_child (f.samples, "prompt_entry")), "a purple square");
    g_signal_emit_by_name (gui_test_child (f.samples, "generate_button"), "clicked");
    gc.n = 2;
    g_assert_true (gui_test_wait_until (has_generated, &gc, 10000));
    g_assert_true (g_file_get_contents (requests, &sent, NULL, NULL));
    if (strstr (sent, expected) == NULL)
      g_error ("Generate with the checkpoint sent %s", sent);
    g_unsetenv ("STANDIN_REQUESTS");
  }
  fixture_close (&f);
  g_unsetenv ("STANDIN_SAMPLE_PNG");

  /* The real engine draws with the demo's tiny base model (no run yet: the base model
   * alone): a PNG that loads, shown in a tile. */
  use_engine (real_engine);
  {
    StudioProject *real = demo_project ("samples-real");
    g_autofree char *models_src = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "models", NULL);
    g_autofree char *models_dst = g_build_filename (studio_project_get_folder (real), "models", NULL);
    gui_test_copy_tree (models_src, models_dst);
    fixture_open (&f, real);
  }
  studio_project_view_set_visible_view (f.project_view, "samples");
  {
    g_autofree char *id = studio_samples_view_generate (f.samples, "a red circle", NULL, 1, 0.8, NULL, &error);
    StudioSampleItem *item;
    g_autoptr (GdkTexture) drawn = NULL;
    GtkPicture *picture;
    GdkPaintable *shown;

    g_assert_no_error (error);
    gc.view = f.samples;
    gc.n = 1;
    if (!gui_test_wait_until (has_generated, &gc, 240000))
      g_error ("no drawing from the real engine; the view says \"%s\"",
               studio_samples_view_get_status (f.samples));
    g_assert_cmpstr (studio_samples_view_get_status (f.samples), ==, "Sample generated");
    item = g_ptr_array_index (studio_samples_view_get_generated (f.samples), 0);
    g_assert_true (g_str_has_suffix (item->path, ".png"));
    g_assert_true (g_file_test (item->path, G_FILE_TEST_IS_REGULAR));
    drawn = gdk_texture_new_from_filename (item->path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (gdk_texture_get_width (drawn), ==, 64);
    gui_test_settle (300);
    picture = find_tile_picture (GTK_WIDGET (f.samples), "a red circle", FALSE);
    g_assert_nonnull (picture);
    shown = gtk_picture_get_paintable (picture);
    g_assert_true (GDK_IS_TEXTURE (shown));
    g_assert_cmpint (gdk_texture_get_width (GDK_TEXTURE (shown)), ==, gdk_texture_get_width (drawn));
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (picture)));
    gui_test_save_screenshot (GTK_WIDGET (f.window), "samples-real-generated.png");
  }
  fixture_close (&f);
}

/* "Generate" during a run: serve answers with the run's previews (under the run's id,
 * shown in the run's gallery) and then done for the request, which ends "Generating…". */
static void
test_samples_generate_during_run (void)
{
  Fixture f = { 0 };
  g_autofree char *engine = standin ("standin-train.sh");
  g_autofree char *png = g_build_filename (g_getenv ("LORA_STUDIO_DATADIR"), "demo", "dataset",
                                           "shape-04-green-star.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  gpointer args[2];
  PointCount pc;

  use_engine (engine);
  g_setenv ("STANDIN_HOLD", "1", TRUE);
  g_setenv ("STANDIN_STEPS", "20", TRUE);
  g_setenv ("STANDIN_SAMPLE_PNG", png, TRUE);
  fixture_open (&f, demo_project ("samples-during-run"));
  g_assert_true (studio_train_view_start (f.train, &error));
  g_assert_no_error (error);
  pc.train = f.train;
  pc.n = 10;
  g_assert_true (gui_test_wait_until (has_points, &pc, 15000));
  studio_project_view_set_visible_view (f.project_view, "samples");
  g_assert_true (gui_test_wait_until ((Condition) studio_samples_view_is_loaded, f.samples, 10000));
  g_assert_cmpstr (studio_samples_view_get_run (f.samples), ==, studio_train_view_get_run_dir (f.train));

  id = studio_samples_view_generate (f.samples, "a green star", NULL, 3, 1.0, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  args[0] = f.samples;
  args[1] = (gpointer) "Sample generated";
  if (!gui_test_wait_until (status_has, args, 10000))
    g_error ("the status stayed \"%s\" after the request's done",
             studio_samples_view_get_status (f.samples));
  /* The previews belong to the run, not to the generated list. */
  g_assert_cmpuint (studio_samples_view_get_generated (f.samples)->len, ==, 0);
  g_assert_true (studio_train_view_is_training (f.train));

  studio_train_view_stop (f.train, FALSE);
  g_assert_true (gui_test_wait_until (gui_test_not_training, f.train, 5000));
  g_unsetenv ("STANDIN_HOLD");
  g_unsetenv ("STANDIN_STEPS");
  g_unsetenv ("STANDIN_SAMPLE_PNG");
  fixture_close (&f);
}

static gboolean
ignore_environment_warnings (const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
  /* Under Xvfb the notification a finished run sends has no service to go to either. */
  return gui_test_ignore_session_bus (domain, level, message, data) &&
         strstr (message, "notification") == NULL;
}

int
main (int argc, char **argv)
{
  int status;

  g_autoptr (GFile) root = gui_test_private_home ("train-view", &tmp_root);
  real_engine = g_strdup (g_getenv ("LORA_ENGINE"));

  g_test_init (&argc, &argv, NULL);
  g_test_log_set_fatal_handler (ignore_environment_warnings, NULL);

  if (!gui_test_have_display ())
    return gui_test_run_without_display ("/train-view", root);
  g_assert_nonnull (real_engine);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  /* Referencing the resource keeps its constructor (which registers the UI files). */
  (void) studio_get_resource ();
  adw_init ();

  g_test_add_func ("/train-view/config-panel", test_config_panel);
  g_test_add_func ("/train-view/engine/standin-run", test_standin_run);
  g_test_add_func ("/train-view/engine/standin-crash", test_standin_crash);
  g_test_add_func ("/train-view/engine/standin-garbage", test_standin_garbage);
  g_test_add_func ("/train-view/engine/close-while-training", test_close_while_training);
  g_test_add_func ("/train-view/engine/real-demo", test_real_engine_demo);
  g_test_add_func ("/train-view/engine/real-demo-train", test_real_engine_demo_trains);
  g_test_add_func ("/train-view/engine/real-text-run", test_real_engine_text_run);
  g_test_add_func ("/train-view/loss-plot-100k", test_loss_plot_100k);
  g_test_add_func ("/train-view/samples", test_samples_view);
  g_test_add_func ("/train-view/samples/generate-during-run", test_samples_generate_during_run);
  status = g_test_run ();
  gui_test_delete_tree (root);
  g_free (real_engine);
  return status;
}
