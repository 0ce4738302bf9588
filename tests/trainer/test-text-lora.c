/* test-text-lora.c: text LoRA training through lora-engine, as users and the app run it,
 * on the llama-tiny fixture: `train --json` prints only protocol events and lowers the
 * loss; a run stopped over `serve` leaves a checkpoint that `train --resume latest`
 * continues to the same losses and adapter as an uninterrupted run; a forced NaN stops
 * with advice and keeps the last good checkpoint; TensorBoard and PEFT read what we write
 * (check_run.py); bad inputs give clear errors and leave nothing half-written. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "studio-config.h"
#include "studio-protocol.h"

static const char *engine;
static char *base;        /* temporary folder of this test run */
static char *model_dir;   /* the fixture */

typedef struct {
  int status;
  char *out, *err;
  char *both;   /* out + err: text mode prints logs on stdout and errors on stderr */
} Result;

static void
result_clear (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r->both);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static rlim_t child_fsize = RLIM_INFINITY;

static void
child_setup (gpointer user)
{
  if (child_fsize != RLIM_INFINITY)
    {
      struct rlimit rl = { child_fsize, child_fsize };
      setrlimit (RLIMIT_FSIZE, &rl);
      signal (SIGXFSZ, SIG_IGN);   /* writes past the limit fail with EFBIG instead */
    }
}

static void
run_argv (Result *r, const char *const *env, const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) engine);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (l, env[i], env[i + 1], TRUE);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv (
    l, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  r->both = g_strconcat (r->out, r->err, NULL);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

#define RUN(r, ...) run_argv (r, NULL, (const char *const[]) { __VA_ARGS__, NULL })
#define RUN_ENV(r, env, ...) run_argv (r, env, (const char *const[]) { __VA_ARGS__, NULL })

/* A project folder NAME with data/ (LINES lines) and config.yaml (the base settings plus
 * EXTRA); returns the config path. */
static char *
make_project (const char *name, int lines, const char *extra)
{
  g_autofree char *dir = g_build_filename (base, name, NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_assert_cmpint (g_mkdir_with_parents (data, 0755), ==, 0);
  g_autoptr(GString) text = g_string_new (NULL);
  for (int i = 0; i < lines; i++)
    g_string_append_printf (text, "line %d: the cat sat on the mat and the dog sat too.\n", i);
  g_autofree char *file = g_build_filename (data, "a.txt", NULL);
  g_assert_true (g_file_set_contents (file, text->str, -1, NULL));
  g_autofree char *config = g_build_filename (dir, "config.yaml", NULL);
  /* the base settings, each unless EXTRA sets it */
  static const char *const defaults[] = {
    "task_type: text-generation", "train_data_dir: data", "output_dir: out",
    "lora_rank: 4", "lora_alpha: 8", "lora_dropout: 0.1", "batch_size: 4", "epochs: 2",
    "learning_rate: 1e-2", "warmup_steps: 1", "sequence_length: 48", "seed: 5",
    "sample_every: 0", NULL,
  };
  g_autoptr(GString) yaml = g_string_new (extra);
  if (strstr (extra, "base_model:") == NULL)
    g_string_append_printf (yaml, "base_model: %s\n", model_dir);
  for (guint i = 0; defaults[i] != NULL; i++)
    {
      g_autofree char *key = g_strndup (defaults[i], strchr (defaults[i], ':') - defaults[i] + 1);
      g_autofree char *line_key = g_strconcat ("\n", key, NULL);
      if (!g_str_has_prefix (extra, key) && strstr (extra, line_key) == NULL)
        g_string_append_printf (yaml, "%s\n", defaults[i]);
    }
  g_assert_true (g_file_set_contents (config, yaml->str, -1, NULL));
  return g_steal_pointer (&config);
}

static char *
out_path (const char *project, const char *rel)
{
  return g_build_filename (base, project, "out", rel, NULL);
}

/* Losses of metrics.jsonl by step ("step" -> loss text); a later line for a step wins. */
static GHashTable *
read_losses (const char *project)
{
  g_autofree char *path = out_path (project, "metrics.jsonl");
  g_autofree char *text = NULL;
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return h;
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      long long step;
      char loss[64];
      if (sscanf (lines[i], "{\"step\": %lld, \"epoch\": %*d, \"loss\": %63[^,],", &step,
                  loss) == 2)
        g_hash_table_insert (h, g_strdup_printf ("%lld", step), g_strdup (loss));
    }
  return h;
}

/* Every stdout line must be a protocol event; returns them. */
static GPtrArray *
parse_events (const char *out)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_event_free);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0' && lines[i + 1] == NULL)
        break;
      g_autoptr(GError) error = NULL;
      StudioEvent *ev = studio_protocol_parse_event (lines[i], &error);
      if (ev == NULL)
        g_error ("stdout line %u is not a protocol event (%s): %s", i + 1, error->message,
                 lines[i]);
      g_ptr_array_add (events, ev);
    }
  return events;
}

static const char *
ev_str (StudioEvent *ev, const char *member)
{
  return json_object_has_member (ev->object, member)
           ? json_object_get_string_member (ev->object, member) : NULL;
}

static void
test_train_json (void)
{
  g_autofree char *config = make_project ("json", 12,
                                          "save_steps: 3\nsample_every: 3\n"
                                          "sample_max_tokens: 8\n"
                                          "sample_prompts:\n  - \"the cat\"\n");
  g_auto(Result) r = { 0 };
  RUN (&r, "train", "--json", "--config", config, "--device", "auto");
  g_assert_cmpint (r.status, ==, 0);
  g_autoptr(GPtrArray) events = parse_events (r.out);

  int progress = 0, checkpoints = 0, samples = 0, no_gpu = 0;
  double first = 0, last = 0;
  StudioEvent *done = NULL;
  for (guint i = 0; i < events->len; i++)
    {
      StudioEvent *ev = events->pdata[i];
      if (ev->kind == STUDIO_EVENT_PROGRESS)
        {
          double loss = json_object_get_double_member (ev->object, "loss");
          if (progress++ == 0)
            first = loss;
          last = loss;
          g_assert_cmpint (json_object_get_int_member (ev->object, "total"), ==, 6);
        }
      else if (ev->kind == STUDIO_EVENT_CHECKPOINT)
        checkpoints++;
      else if (ev->kind == STUDIO_EVENT_SAMPLE)
        {
          samples++;
          g_assert_true (g_file_test (ev_str (ev, "path"), G_FILE_TEST_IS_REGULAR));
        }
      else if (ev->kind == STUDIO_EVENT_LOG && strstr (ev_str (ev, "message"), "no usable GPU"))
        no_gpu++;
      else if (ev->kind == STUDIO_EVENT_DONE)
        done = ev;
    }
  /* 12 samples in batches of 4: 3 steps an epoch, 2 epochs */
  g_assert_cmpint (progress, ==, 6);
  g_assert_cmpfloat (last, <, first);
  g_assert_cmpint (checkpoints, ==, 2);    /* step 3 and the end */
  g_assert_cmpint (samples, ==, 2);
  g_assert_cmpint (no_gpu, ==, 1);
  g_assert_nonnull (done);
  g_assert_cmpstr (ev_str (done, "status"), ==, "completed");
  g_assert_true (done == events->pdata[events->len - 1]);
  JsonArray *outputs = json_object_get_array_member (done->object, "outputs");
  gboolean has_adapter = FALSE;
  for (guint i = 0; i < json_array_get_length (outputs); i++)
    has_adapter |= g_str_has_suffix (json_array_get_string_element (outputs, i),
                                     "adapter_model.safetensors");
  g_assert_true (has_adapter);

  g_autofree char *sample = out_path ("json", "samples/step-000003.txt");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (sample, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "### the cat\nthe cat"));

  /* the resolved config that ran */
  g_autofree char *ran = out_path ("json", "config.yaml");
  g_autoptr(GError) error = NULL;
  g_autoptr(StudioConfig) c = studio_config_load (ran, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->lora_rank, ==, 4);
  g_assert_cmpstr (c->base_model, ==, model_dir);

  /* TensorBoard and PEFT read the run (skips without the venv) */
  const char *python = g_getenv ("PYTHON_VENV");
  if (python != NULL && g_file_test (python, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_autofree char *script = g_test_build_filename (G_TEST_DIST, "trainer", "check_run.py", NULL);
      g_autofree char *out = out_path ("json", "");
      g_autofree char *cmd = g_strdup_printf ("'%s' '%s' '%s' '%s'", python, script, out,
                                              model_dir);
      g_autofree char *sout = NULL, *serr = NULL;
      int status = 0;
      g_assert_true (g_spawn_command_line_sync (cmd, &sout, &serr, &status, NULL));
      g_test_message ("check_run.py: %s%s", sout, serr);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (sout, "tfevents ok"));
      g_assert_nonnull (strstr (sout, "peft ok"));
    }
  else
    g_test_message ("no venv: TensorBoard and PEFT checks skipped");
}

/* serve: start a run (resuming from RESUME when not NULL), stop it after AFTER progress
 * events (never when AFTER is 0); returns the done event's status and first output. */
static void
serve_and_stop (const char *config, const char *resume, int after, char **status,
                char **output)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { engine, "serve", NULL };
  g_autoptr(GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                   | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  GOutputStream *in = g_subprocess_get_stdin_pipe (proc);
  g_autoptr(GDataInputStream) out = g_data_input_stream_new (
    g_subprocess_get_stdout_pipe (proc));
  g_autofree char *resume_field = resume ? g_strdup_printf (",\"resume\":\"%s\"", resume)
                                         : g_strdup ("");
  g_autofree char *req = g_strdup_printf (
    "{\"id\":\"1\",\"cmd\":\"train\",\"config\":\"%s\"%s}\n", config, resume_field);
  g_assert_true (g_output_stream_write_all (in, req, strlen (req), NULL, NULL, &error));
  int progress = 0;
  *status = *output = NULL;
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_autoptr(StudioEvent) ev = studio_protocol_parse_event (line, &error);
      g_assert_no_error (error);
      if (ev->kind == STUDIO_EVENT_PROGRESS && ++progress == after)
        {
          const char *stop = "{\"id\":\"2\",\"cmd\":\"stop\"}\n";
          g_assert_true (g_output_stream_write_all (in, stop, strlen (stop), NULL, NULL,
                                                    &error));
        }
      if (ev->kind == STUDIO_EVENT_DONE && g_strcmp0 (ev->id, "1") == 0)
        {
          *status = g_strdup (ev_str (ev, "status"));
          JsonArray *o = json_object_get_array_member (ev->object, "outputs");
          if (json_array_get_length (o) > 0)
            *output = g_strdup (json_array_get_string_element (o, 0));
          break;
        }
    }
  g_output_stream_close (in, NULL, NULL);
  g_subprocess_wait (proc, NULL, &error);
}

static void
test_resume_equals (void)
{
  const char *extra = "epochs: 3\nsave_steps: 4\n";   /* 9 steps */
  g_autofree char *config_a = make_project ("straight", 12, extra);
  g_autofree char *config_b = make_project ("stopped", 12, extra);
  g_auto(Result) a = { 0 };
  RUN (&a, "train", "--config", config_a);
  g_assert_cmpint (a.status, ==, 0);

  g_autofree char *status = NULL, *ckpt = NULL;
  serve_and_stop (config_b, NULL, 2, &status, &ckpt);
  g_assert_cmpstr (status, ==, "stopped");
  g_assert_nonnull (ckpt);
  g_assert_true (strstr (ckpt, "/checkpoints/step-") != NULL);
  g_autofree char *ck_file = g_build_filename (ckpt, "checkpoint.safetensors", NULL);
  g_assert_true (g_file_test (ck_file, G_FILE_TEST_IS_REGULAR));
  g_autofree char *adapter_b = out_path ("stopped", "adapter_model.safetensors");
  g_assert_false (g_file_test (adapter_b, G_FILE_TEST_EXISTS));

  g_auto(Result) b = { 0 };
  RUN (&b, "train", "--config", config_b, "--resume", "latest");
  g_assert_cmpint (b.status, ==, 0);
  g_assert_nonnull (strstr (b.out, "resuming from"));

  g_autoptr(GHashTable) la = read_losses ("straight");
  g_autoptr(GHashTable) lb = read_losses ("stopped");
  g_assert_cmpint (g_hash_table_size (la), ==, 9);
  g_assert_cmpint (g_hash_table_size (lb), ==, 9);
  for (int s = 1; s <= 9; s++)
    {
      g_autofree char *key = g_strdup_printf ("%d", s);
      g_assert_cmpstr (g_hash_table_lookup (la, key), ==, g_hash_table_lookup (lb, key));
    }
  g_autofree char *adapter_a = out_path ("straight", "adapter_model.safetensors");
  g_autofree char *bytes_a = NULL, *bytes_b = NULL;
  gsize len_a, len_b;
  g_assert_true (g_file_get_contents (adapter_a, &bytes_a, &len_a, NULL));
  g_assert_true (g_file_get_contents (adapter_b, &bytes_b, &len_b, NULL));
  g_assert_true (len_a == len_b && memcmp (bytes_a, bytes_b, len_a) == 0);
}

static void
test_non_finite (void)
{
  g_autofree char *config = make_project ("nan", 12, "save_steps: 2\n");
  g_auto(Result) r = { 0 };
  const char *env[] = { "LORA_ENGINE_TEST_NAN_STEP", "5", NULL };
  RUN_ENV (&r, env, "train", "--json", "--config", config);
  g_assert_cmpint (r.status, ==, 1);
  g_autoptr(GPtrArray) events = parse_events (r.out);
  StudioEvent *error = NULL;
  for (guint i = 0; i < events->len; i++)
    if (((StudioEvent *) events->pdata[i])->kind == STUDIO_EVENT_ERROR)
      error = events->pdata[i];
  g_assert_nonnull (error);
  g_assert_cmpstr (ev_str (error, "code"), ==, "non-finite");
  const char *msg = ev_str (error, "message");
  g_assert_nonnull (strstr (msg, "learning_rate"));
  g_assert_nonnull (strstr (msg, "bf16"));
  g_assert_nonnull (strstr (msg, "step-000004"));
  g_autofree char *good = out_path ("nan", "checkpoints/step-000004/checkpoint.safetensors");
  g_autofree char *bad = out_path ("nan", "checkpoints/step-000005");
  g_autofree char *adapter = out_path ("nan", "adapter_model.safetensors");
  g_assert_true (g_file_test (good, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (adapter, G_FILE_TEST_EXISTS));
  /* the kept checkpoint resumes over the protocol (and, without the fault, finishes) */
  g_autofree char *status = NULL, *first = NULL;
  serve_and_stop (config, "latest", 0, &status, &first);
  g_assert_cmpstr (status, ==, "completed");
  g_assert_true (g_file_test (adapter, G_FILE_TEST_EXISTS));
  g_autoptr(GHashTable) losses = read_losses ("nan");
  g_assert_cmpint (g_hash_table_size (losses), ==, 6);
}

static void
test_bad_inputs (void)
{
  /* an empty data folder */
  g_autofree char *empty = make_project ("empty", 0, "");
  g_auto(Result) e = { 0 };
  RUN (&e, "train", "--config", empty);
  g_assert_cmpint (e.status, ==, 1);
  g_assert_nonnull (strstr (e.both, "data"));

  /* a missing base model */
  g_autofree char *missing = make_project ("missing", 4, "base_model: nowhere\n");
  g_auto(Result) m = { 0 };
  RUN (&m, "train", "--config", missing);
  g_assert_cmpint (m.status, ==, 1);
  g_assert_nonnull (strstr (m.both, "nowhere"));

  /* a sample longer than sequence_length is cut and reported with its file and line */
  g_autofree char *longp = make_project ("long", 4, "sequence_length: 8\nepochs: 1\n");
  g_auto(Result) l = { 0 };
  RUN (&l, "train", "--config", longp);
  g_assert_cmpint (l.status, ==, 0);
  g_assert_nonnull (strstr (l.both, "a.txt:1"));

  /* --device cuda where CUDA cannot be used: a clear error, no silent CPU run */
  g_auto(Result) dv = { 0 };
  RUN (&dv, "devices", "--json");
  if (strstr (dv.out, "\"kind\" : \"cuda\"") == NULL)
    {
      g_auto(Result) c = { 0 };
      RUN (&c, "train", "--json", "--config", longp, "--device", "cuda");
      g_assert_cmpint (c.status, ==, 1);
      g_assert_nonnull (strstr (c.out, "\"code\":\"device\""));
      g_assert_nonnull (strstr (c.out, "--device cpu"));
    }

  /* an output folder that cannot be created */
  g_autofree char *blocker = g_build_filename (base, "blocker", NULL);
  g_assert_true (g_file_set_contents (blocker, "x", -1, NULL));
  g_autofree char *extra = g_strdup_printf ("output_dir: %s/out\n", blocker);
  g_autofree char *unwritable = make_project ("unwritable", 4, extra);
  g_auto(Result) u = { 0 };
  RUN (&u, "train", "--config", unwritable);
  g_assert_cmpint (u.status, ==, 1);
  g_assert_nonnull (strstr (u.both, blocker));

  /* a full disk (file size limit): the run fails with a message and no checkpoint or
   * adapter is left half-written; only complete files remain */
  g_autofree char *full = make_project ("full", 8, "save_steps: 1\n");
  child_fsize = 20000;   /* config.yaml and logs fit, a checkpoint does not */
  g_auto(Result) f = { 0 };
  RUN (&f, "train", "--config", full);
  child_fsize = RLIM_INFINITY;
  g_assert_cmpint (f.status, ==, 1);
  g_assert_nonnull (strstr (f.both, "checkpoint"));
  g_autofree char *ckdir = out_path ("full", "checkpoints");
  g_autoptr(GDir) dir = g_dir_open (ckdir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, "step-"));   /* no partial checkpoint */
  g_autofree char *adapter = out_path ("full", "adapter_model.safetensors");
  g_assert_false (g_file_test (adapter, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  engine = g_getenv ("LORA_ENGINE");
  g_assert_nonnull (engine);
  base = g_dir_make_tmp ("text-lora-XXXXXX", NULL);
  model_dir = g_build_filename (base, "model", NULL);
  g_auto(Result) fx = { 0 };
  RUN (&fx, "fixture", "--kind", "llama-tiny", "--out", model_dir);
  g_assert_cmpint (fx.status, ==, 0);

  g_test_add_func ("/text-lora/train-json", test_train_json);
  g_test_add_func ("/text-lora/resume-equals-no-resume", test_resume_equals);
  g_test_add_func ("/text-lora/non-finite", test_non_finite);
  g_test_add_func ("/text-lora/bad-inputs", test_bad_inputs);
  int status = g_test_run ();

  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", base);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", base);
  return status;
}
