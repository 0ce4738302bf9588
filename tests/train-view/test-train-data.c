/* test-train-data.c: the Train and Samples views' non-GUI parts: the loss plot's
 * per-column decimation (every column keeps its min and max), reading a run folder back
 * (metrics, samples by step and prompt, checkpoints, snippet, export), presets and the
 * article's advice, and the local description of a base model file. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "studio-config-panel-model.h"
#include "studio-config-panel-presets.h"
#include "studio-loss-plot.h"
#include "studio-run-data.h"

static char *
make_tmp (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("train-data-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* 100,000 noisy points into 733 columns: each column's min and max are exactly those
 * of the points that fall in it, so no spike is lost however many points there are. */
static void
test_decimate_keeps_extremes (void)
{
  const guint n = 100000, columns = 733;
  g_autofree double *x = g_new (double, n);
  g_autofree double *y = g_new (double, n);
  g_autofree double *lo = g_new (double, columns);
  g_autofree double *hi = g_new (double, columns);
  g_autofree double *want_lo = g_new (double, columns);
  g_autofree double *want_hi = g_new (double, columns);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  guint filled, want_filled = 0;

  for (guint i = 0; i < n; i++)
    {
      x[i] = i + 1;
      y[i] = 1.0 / (1 + i * 1e-4) + g_rand_double_range (rand, -0.05, 0.05);
    }
  y[54321] = 25.0;      /* one spike */
  y[77777] = -3.0;      /* one dip */
  y[100] = NAN;         /* a non-finite loss is left out */

  filled = studio_loss_plot_decimate (x, y, n, 1, n, columns, lo, hi);

  for (guint c = 0; c < columns; c++)
    want_lo[c] = INFINITY, want_hi[c] = -INFINITY;
  for (guint i = 0; i < n; i++)
    {
      guint c = (guint) ((x[i] - 1) / (n - 1) * columns);
      if (!isfinite (y[i]))
        continue;
      c = MIN (c, columns - 1);
      want_lo[c] = MIN (want_lo[c], y[i]);
      want_hi[c] = MAX (want_hi[c], y[i]);
    }
  for (guint c = 0; c < columns; c++)
    {
      if (!isfinite (want_lo[c]))
        {
          g_assert_true (isnan (lo[c]));
          continue;
        }
      want_filled++;
      g_assert_cmpfloat (lo[c], ==, want_lo[c]);
      g_assert_cmpfloat (hi[c], ==, want_hi[c]);
    }
  g_assert_cmpuint (filled, ==, want_filled);
  g_assert_cmpuint (filled, ==, columns);
  {
    double top = -INFINITY, bottom = INFINITY;
    for (guint c = 0; c < columns; c++)
      top = MAX (top, hi[c]), bottom = MIN (bottom, lo[c]);
    g_assert_cmpfloat (top, ==, 25.0);
    g_assert_cmpfloat (bottom, ==, -3.0);
  }
}

/* A zoomed range leaves out points outside it and empty columns stay empty. */
static void
test_decimate_range (void)
{
  double x[] = { 1, 2, 3, 10, 11 };
  double y[] = { 5, 6, 7, 8, 9 };
  double lo[10], hi[10];

  g_assert_cmpuint (studio_loss_plot_decimate (x, y, 5, 2, 11, 9, lo, hi), ==, 3);
  g_assert_cmpfloat (lo[0], ==, 6);
  g_assert_cmpfloat (lo[1], ==, 7);
  g_assert_true (isnan (lo[2]));
  g_assert_cmpfloat (lo[8], ==, 8);
  g_assert_cmpfloat (hi[8], ==, 9);
}

static void
test_metrics_and_final_loss (void)
{
  g_autofree char *dir = make_tmp ();
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) loss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) lr = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GError) error = NULL;

  /* The engine's format; the last line was cut by a crash. */
  write_file (dir, "metrics.jsonl",
              "{\"step\": 1, \"epoch\": 1, \"loss\": 0.9, \"lr\": 1e-4, \"time\": 0.5}\n"
              "{\"step\": 2, \"epoch\": 1, \"loss\": 0.7, \"lr\": 9e-5, \"time\": 1.0}\n"
              "{\"step\": 3, \"epoch\": 1, \"loss\": null, \"lr\": 8e-5, \"time\": 1.5}\n"
              "{\"step\": 4, \"epoch\": 1, \"lo");
  g_assert_true (studio_run_read_metrics (dir, steps, loss, lr, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 3);
  g_assert_cmpfloat (g_array_index (steps, double, 1), ==, 2);
  g_assert_cmpfloat (g_array_index (loss, double, 1), ==, 0.7);
  g_assert_cmpfloat (g_array_index (lr, double, 0), ==, 1e-4);
  g_assert_true (isnan (g_array_index (loss, double, 2)));
  /* The last finite loss. */
  g_assert_cmpfloat (studio_run_final_loss (dir), ==, 0.7);

  {
    g_autofree char *empty = make_tmp ();
    g_assert_true (isnan (studio_run_final_loss (empty)));
    g_assert_false (studio_run_read_metrics (empty, steps, loss, lr, NULL));
  }
}

static void
test_samples_by_step (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *a = g_build_filename (dir, "samples", "step-000010-0.png", NULL);
  g_autofree char *b = g_build_filename (dir, "samples", "step-000020-0.png", NULL);
  g_autofree char *c = g_build_filename (dir, "samples", "step-000020-1.png", NULL);
  g_autoptr (GPtrArray) items = NULL;
  StudioSampleItem *item;

  write_file (dir, "samples/step-000010-0.png", "png");
  write_file (dir, "samples/step-000020-0.png", "png");
  write_file (dir, "samples/step-000020-1.png", "png");
  write_file (dir, "samples/notes.md", "not a sample");
  g_assert_true (studio_run_add_sample_index (dir, 10, a, "a red circle", NULL));
  g_assert_true (studio_run_add_sample_index (dir, 20, b, "a red circle", NULL));
  g_assert_true (studio_run_add_sample_index (dir, 20, c, "a \"blue\" star", NULL));

  items = studio_run_list_samples (dir);
  g_assert_cmpuint (items->len, ==, 3);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->step, ==, 20);     /* newest first */
  g_assert_cmpstr (item->path, ==, b);
  g_assert_cmpstr (item->prompt, ==, "a red circle");
  item = g_ptr_array_index (items, 1);
  g_assert_cmpstr (item->prompt, ==, "a \"blue\" star");
  g_assert_null (item->text);
  item = g_ptr_array_index (items, 2);
  g_assert_cmpint (item->step, ==, 10);
}

static void
test_text_samples (void)
{
  g_autofree char *dir = make_tmp ();
  g_autoptr (GPtrArray) items = NULL;
  StudioSampleItem *item;

  /* The text trainer's format: "### prompt", then the prompt and what followed. */
  write_file (dir, "samples/step-000005.txt",
              "### Once upon\nOnce upon a time there was\n\n### The river\nThe river ran dry.\n\n");
  write_file (dir, "samples/step-000015.txt", "### Once upon\nOnce upon a star\n\n");
  /* A barely trained model writes bytes that are not UTF-8. */
  write_file (dir, "samples/step-000001.txt", "### The river\nThe river\xff\xfe ran\n\n");
  items = studio_run_list_samples (dir);
  g_assert_cmpuint (items->len, ==, 4);
  item = g_ptr_array_index (items, 3);
  g_assert_true (g_utf8_validate (item->text, -1, NULL));
  g_assert_true (g_str_has_prefix (item->text, "The river"));
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->step, ==, 15);
  g_assert_cmpstr (item->prompt, ==, "Once upon");
  g_assert_cmpstr (item->text, ==, "Once upon a star");
  item = g_ptr_array_index (items, 2);
  g_assert_cmpint (item->step, ==, 5);
  g_assert_cmpstr (item->prompt, ==, "The river");
  g_assert_cmpstr (item->text, ==, "The river ran dry.");
}

static void
test_checkpoint_snippet_export (void)
{
  g_autofree char *root = make_tmp ();
  g_autofree char *dir = g_build_filename (root, "20261129-141500-cat", NULL);
  g_autofree char *dest = g_build_filename (root, "webui", "models", "Lora", NULL);
  g_autofree char *checkpoint = NULL;
  g_autofree char *snippet = NULL;
  g_autofree char *exported = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_assert_null (studio_run_find_lora (root));
  write_file (dir, "checkpoints/step-000100/state.bin", "x");
  write_file (dir, "checkpoints/step-000020/state.bin", "x");
  write_file (dir, "checkpoints/.tmp-step-000300/state.bin", "x");
  checkpoint = studio_run_find_last_checkpoint (dir);
  g_assert_true (g_str_has_suffix (checkpoint, "checkpoints/step-000100"));

  snippet = studio_run_prompt_snippet (dir, 0.8);
  g_assert_cmpstr (snippet, ==, "<lora:20261129-141500-cat:0.8>");

  /* No LoRA yet: the export says so and writes nothing. */
  g_assert_null (studio_run_export_lora (dir, dest, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir_with_parents (dest, 0755), ==, 0);
  /* A stopped run: the engine wrote the LoRA file into its last checkpoint. */
  write_file (dir, "checkpoints/step-000020/pytorch_lora_weights.safetensors", "OLDER");
  write_file (dir, "checkpoints/step-000100/pytorch_lora_weights.safetensors", "STEP-100");
  exported = studio_run_export_lora (dir, dest, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (exported, &data, &len, NULL));
  g_assert_cmpstr (data, ==, "STEP-100");
  g_clear_pointer (&exported, g_free);
  g_clear_pointer (&data, g_free);

  /* The final LoRA wins over the checkpoints'. */
  write_file (dir, "pytorch_lora_weights.safetensors", "LORA-BYTES");
  exported = studio_run_export_lora (dir, dest, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (exported, "models/Lora/20261129-141500-cat.safetensors"));
  g_assert_true (g_file_get_contents (exported, &data, &len, NULL));
  g_assert_cmpstr (data, ==, "LORA-BYTES");
  {
    /* Only the exported file: no temporary left behind. */
    g_autoptr (GDir) d = g_dir_open (dest, 0, NULL);
    guint n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
}

static void
test_presets (void)
{
  g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (studio_config_preset_lookup ("character"));
  g_assert_nonnull (studio_config_preset_lookup ("style"));
  g_assert_nonnull (studio_config_preset_lookup ("low-vram"));
  g_assert_nonnull (studio_config_preset_lookup ("text"));
  g_assert_null (studio_config_preset_lookup ("nope"));

  /* The article's character LoRA. */
  g_assert_true (studio_config_preset_apply (studio_config_preset_lookup ("character"), config, &error));
  g_assert_no_error (error);
  g_assert_cmpint (config->lora_rank, ==, 16);
  g_assert_cmpfloat (config->lora_alpha, ==, 32);
  g_assert_cmpint (config->epochs, ==, 15);
  g_assert_cmpfloat (config->learning_rate, ==, 1e-4);

  /* Low VRAM keeps the task and sets only what applies. */
  g_assert_true (studio_config_preset_apply (studio_config_preset_lookup ("low-vram"), config, &error));
  g_assert_cmpint (config->batch_size, ==, 1);
  g_assert_true (studio_config_get_bool (config, "gradient_checkpointing"));
  g_assert_cmpint (config->task_type, ==, STUDIO_TASK_IMAGE_LORA);

  /* Text: the task changes first, then the text keys apply. */
  g_assert_true (studio_config_preset_apply (studio_config_preset_lookup ("text"), config, &error));
  g_assert_cmpint (config->task_type, ==, STUDIO_TASK_TEXT_GENERATION);
  g_assert_cmpint (config->lora_rank, ==, 64);
  g_assert_cmpint (config->sequence_length, ==, 512);

  /* Every preset's values pass the loader's checks. */
  for (const StudioConfigPreset *p = studio_config_presets (); p->id != NULL; p++)
    {
      g_autoptr (StudioConfig) fresh = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
      g_assert_true (studio_config_preset_apply (p, fresh, &error));
      g_assert_no_error (error);
      g_assert_nonnull (p->title);
      g_assert_nonnull (p->description);
    }
}

static void
test_advice (void)
{
  g_autoptr (StudioConfig) config = studio_config_new_default (STUDIO_TASK_IMAGE_LORA);
  g_autoptr (GError) error = NULL;

  g_assert_true (studio_config_set (config, "batch_size", "4", &error));
  g_assert_true (studio_config_set (config, "lora_rank", "16", &error));
  g_assert_true (studio_config_set (config, "epochs", "15", &error));
  g_assert_true (studio_config_set (config, "lora_dropout", "0.1", &error));

  g_assert_true (studio_advice_apply (STUDIO_ADVICE_OUT_OF_MEMORY, config, &error));
  g_assert_cmpint (config->batch_size, ==, 2);
  g_assert_true (studio_config_get_bool (config, "gradient_checkpointing"));
  g_assert_true (studio_advice_apply (STUDIO_ADVICE_OUT_OF_MEMORY, config, &error));
  g_assert_true (studio_advice_apply (STUDIO_ADVICE_OUT_OF_MEMORY, config, &error));
  g_assert_cmpint (config->batch_size, ==, 1);

  g_assert_true (studio_advice_apply (STUDIO_ADVICE_NOT_CONVERGING, config, &error));
  g_assert_cmpint (config->lora_rank, ==, 32);
  g_assert_cmpint (config->epochs, >, 15);

  g_assert_true (studio_advice_apply (STUDIO_ADVICE_OVERFITTING, config, &error));
  g_assert_cmpfloat_with_epsilon (config->lora_dropout, 0.2, 1e-9);
  g_assert_no_error (error);
  for (guint a = 0; a < STUDIO_N_ADVICE; a++)
    g_assert_cmpuint (strlen (studio_advice_body (a)), >, 20);
}

static void
write_safetensors (const char *path, const char *header, gsize data_len)
{
  gsize hlen = strlen (header);
  g_autofree guint8 *bytes = g_malloc0 (8 + hlen + data_len);

  for (int i = 0; i < 8; i++)
    bytes[i] = (guint8) (((guint64) hlen >> (8 * i)) & 0xff);
  memcpy (bytes + 8, header, hlen);
  g_assert_true (g_file_set_contents (path, (char *) bytes, 8 + hlen + data_len, NULL));
}

static void
test_describe_model (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *sd = g_build_filename (dir, "sd.safetensors", NULL);
  g_autofree char *lora = g_build_filename (dir, "lora.safetensors", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.safetensors", NULL);
  g_autofree char *llama = g_build_filename (dir, "llama", NULL);
  g_autofree char *text = NULL;

  write_safetensors (sd, "{\"__metadata__\":{},"
                         "\"model.diffusion_model.input_blocks.0.0.weight\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                         "\"model.diffusion_model.out.2.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}", 8);
  text = studio_describe_model_path (sd);
  g_assert_nonnull (strstr (text, "Stable Diffusion checkpoint"));
  g_assert_nonnull (strstr (text, "2 tensors"));
  g_assert_nonnull (strstr (text, "F16"));
  g_clear_pointer (&text, g_free);

  write_safetensors (lora, "{\"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
  text = studio_describe_model_path (lora);
  g_assert_nonnull (strstr (text, "LoRA, not a base model"));
  g_clear_pointer (&text, g_free);

  /* A header length beyond the file: named, not read. */
  g_assert_true (g_file_set_contents (cut, "\xff\xff\xff\x00\x00\x00\x00\x00{", 9, NULL));
  text = studio_describe_model_path (cut);
  g_assert_nonnull (strstr (text, "cut.safetensors"));
  g_assert_nonnull (strstr (text, "not a safetensors file"));
  g_clear_pointer (&text, g_free);

  write_file (llama, "config.json", "{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,\"torch_dtype\":\"float32\"}");
  text = studio_describe_model_path (llama);
  g_assert_nonnull (strstr (text, "llama"));
  g_assert_nonnull (strstr (text, "2 layers"));
  g_clear_pointer (&text, g_free);

  text = studio_describe_model_path ("/nonexistent/model.safetensors");
  g_assert_nonnull (strstr (text, "does not exist"));
  g_clear_pointer (&text, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train-data/decimate/keeps-extremes", test_decimate_keeps_extremes);
  g_test_add_func ("/train-data/decimate/range", test_decimate_range);
  g_test_add_func ("/train-data/run/metrics", test_metrics_and_final_loss);
  g_test_add_func ("/train-data/run/samples-by-step", test_samples_by_step);
  g_test_add_func ("/train-data/run/text-samples", test_text_samples);
  g_test_add_func ("/train-data/run/checkpoint-snippet-export", test_checkpoint_snippet_export);
  g_test_add_func ("/train-data/presets", test_presets);
  g_test_add_func ("/train-data/advice", test_advice);
  g_test_add_func ("/train-data/describe-model", test_describe_model);
  return g_test_run ();
}
