/* test-engine-cli.c: runs the lora-engine program ($LORA_ENGINE) as users and the
 * app do: --version and --help of every command, check on good and broken configs,
 * devices on this machine, and serve speaking the protocol over pipes. */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "studio-protocol.h"

static const char *engine;

/* ---- running the program ---- */

typedef struct {
  int   status;
  char *out, *err;
} Result;

static void
result_clear (Result *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
run_argv (Result *r, const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) engine);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_autoptr(GSubprocess) proc = g_subprocess_newv ((const char *const *) argv->pdata,
                                                   G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                   | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

#define RUN(r, ...) run_argv (r, (const char *const[]) { __VA_ARGS__, NULL })

static const char *const built_commands[] = { "check", "devices", "serve", "train", "eval",
                                              "generate", "merge", "fixture", "sample",
                                              "inspect", "caption", NULL };
static const char *const later_commands[] = { NULL };

static void
test_version (void)
{
  g_auto(Result) r = { 0 };
  RUN (&r, "--version");
  g_assert_cmpint (r.status, ==, 0);
  g_autofree char *expected = g_strdup_printf ("lora-engine %s (protocol %s", PACKAGE_VERSION,
                                               studio_protocol_version ());
  g_assert_true (g_str_has_prefix (r.out, expected));
}

static void
test_help (void)
{
  g_auto(Result) r = { 0 };
  RUN (&r, "--help");
  g_assert_cmpint (r.status, ==, 0);
  for (guint i = 0; built_commands[i]; i++)
    g_assert_nonnull (strstr (r.out, built_commands[i]));
  for (guint i = 0; later_commands[i]; i++)
    g_assert_nonnull (strstr (r.out, later_commands[i]));

  g_auto(Result) bare = { 0 };
  RUN (&bare, "");
  g_assert_cmpint (bare.status, ==, 2);
}

static void
test_command_help (void)
{
  const char *const *lists[] = { built_commands, later_commands };
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l][i]; i++)
      {
        const char *name = lists[l][i];
        g_autofree char *usage = g_strdup_printf ("lora-engine %s", name);
        g_auto(Result) r = { 0 };
        RUN (&r, name, "--help");
        g_assert_cmpint (r.status, ==, 0);
        g_assert_nonnull (strstr (r.out, "Usage:"));
        g_assert_nonnull (strstr (r.out, usage));

        g_auto(Result) h = { 0 };
        RUN (&h, "help", name);
        g_assert_cmpint (h.status, ==, 0);
        g_assert_cmpstr (h.out, ==, r.out);
      }

  /* train --help documents the config keys from the key table. */
  g_auto(Result) train = { 0 };
  RUN (&train, "train", "--help");
  g_assert_nonnull (strstr (train.out, "lora_rank"));
  g_assert_nonnull (strstr (train.out, "--config"));
}

static void
test_unknown_command (void)
{
  g_auto(Result) r = { 0 };
  RUN (&r, "fly");
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "unknown command \"fly\""));

  g_auto(Result) h = { 0 };
  RUN (&h, "help", "fly");
  g_assert_cmpint (h.status, ==, 2);

  g_auto(Result) o = { 0 };
  RUN (&o, "devices", "--frobnicate");
  g_assert_cmpint (o.status, ==, 2);
  g_assert_nonnull (strstr (o.err, "frobnicate"));
}

static void
test_not_built (void)
{
  for (guint i = 0; later_commands[i]; i++)
    {
      g_auto(Result) r = { 0 };
      RUN (&r, later_commands[i]);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, "not available in this build yet"));
    }
}

/* ---- a project on disk ---- */

typedef struct {
  char *dir;
  char *config;
} Project;

static void
write_file (const char *path, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
project_init (Project *p, const char *config_text)
{
  g_autoptr(GError) error = NULL;
  p->dir = g_dir_make_tmp ("lora-engine-cli-XXXXXX", &error);
  g_assert_no_error (error);

  g_autofree char *images = g_build_filename (p->dir, "images", NULL);
  g_assert_cmpint (g_mkdir (images, 0755), ==, 0);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 16, 16);
  gdk_pixbuf_fill (pixbuf, 0x3366ccff);
  g_autofree char *png = g_build_filename (images, "red.png", NULL);
  gdk_pixbuf_save (pixbuf, png, "png", &error, NULL);
  g_assert_no_error (error);
  g_autofree char *caption = g_build_filename (images, "red.txt", NULL);
  write_file (caption, "a blue square");

  /* check looks at the name and the first bytes only; a real model is not needed. */
  g_autofree char *model = g_build_filename (p->dir, "model.safetensors", NULL);
  write_file (model, "\x08\0\0\0\0\0\0\0{}      ");

  p->config = g_build_filename (p->dir, "config.yaml", NULL);
  write_file (p->config, config_text);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
    }
  g_remove (path);
}

static void
project_clear (Project *p)
{
  remove_tree (p->dir);
  g_free (p->dir);
  g_free (p->config);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Project, project_clear)

static const char good_config[] =
  "task_type: image-lora\n"
  "train_data_dir: images\n"
  "base_model: model.safetensors\n"
  "output_dir: out\n"
  "lora_rank: 4\n"
  "lora_alpha: 4\n"
  "batch_size: 1\n"
  "epochs: 2\n"
  "learning_rate: 1e-4\n";

static void
test_check_good (void)
{
  g_auto(Project) p = { 0 };
  project_init (&p, good_config);
  g_auto(Result) r = { 0 };
  RUN (&r, "check", "--config", p.config);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "no problems"));
  g_assert_nonnull (strstr (r.out, "image-lora"));
  g_assert_cmpstr (r.err, ==, "");

  /* --json: a log line with the summary, then done "completed". */
  g_auto(Result) j = { 0 };
  RUN (&j, "check", "--json", "--config", p.config);
  g_assert_cmpint (j.status, ==, 0);
  g_auto(GStrv) lines = g_strsplit (g_strchomp (j.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(StudioEvent) log = studio_protocol_parse_event (lines[0], &error);
  g_assert_no_error (error);
  g_assert_cmpint (log->kind, ==, STUDIO_EVENT_LOG);
  g_autoptr(StudioEvent) done = studio_protocol_parse_event (lines[1], &error);
  g_assert_no_error (error);
  g_assert_cmpint (done->kind, ==, STUDIO_EVENT_DONE);
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "completed");
}

static void
test_check_unknown_key (void)
{
  g_auto(Project) p = { 0 };
  g_autofree char *text = g_strconcat (good_config, "lora_rnak: 8\n", NULL);
  project_init (&p, text);
  g_auto(Result) r = { 0 };
  RUN (&r, "check", "--config", p.config);
  g_assert_cmpint (r.status, ==, 1);
  /* The line of the typo (10) and the key it most likely meant. */
  g_autofree char *where = g_strdup_printf ("%s:10:", p.config);
  g_assert_nonnull (strstr (r.err, where));
  g_assert_nonnull (strstr (r.err, "lora_rnak"));
  g_assert_nonnull (strstr (r.err, "lora_rank"));
}

static void
test_check_missing_folder (void)
{
  g_auto(Project) p = { 0 };
  g_autofree char *text = g_strconcat (good_config, "", NULL);
  char *at = strstr (text, "train_data_dir: images");
  memcpy (at, "train_data_dir: nowher", strlen ("train_data_dir: nowher"));
  /* Two problems at once: both are printed. */
  g_autofree char *two = g_strconcat (text, "", NULL);
  at = strstr (two, "base_model: model.safetensors");
  memcpy (at, "base_model: modex.safetensors", strlen ("base_model: modex.safetensors"));
  project_init (&p, two);

  g_auto(Result) r = { 0 };
  RUN (&r, "check", "--config", p.config);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "nowher"));
  g_assert_nonnull (strstr (r.err, "modex.safetensors"));
  g_assert_nonnull (strstr (r.err, "2 problems"));

  /* --json: the same problems as protocol error events, then done "failed". */
  g_auto(Result) j = { 0 };
  RUN (&j, "check", "--json", "--config", p.config);
  g_assert_cmpint (j.status, ==, 1);
  g_auto(GStrv) lines = g_strsplit (g_strchomp (j.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StudioEvent) event = studio_protocol_parse_event (lines[i], &error);
      g_assert_no_error (error);
      g_assert_cmpint (event->kind, ==, i < 2 ? STUDIO_EVENT_ERROR : STUDIO_EVENT_DONE);
      if (i < 2)
        g_assert_cmpstr (json_object_get_string_member (event->object, "code"), ==,
                         "config-file");
      else
        g_assert_cmpstr (json_object_get_string_member (event->object, "status"), ==,
                         "failed");
    }
}

static void
test_check_usage (void)
{
  g_auto(Result) r = { 0 };
  RUN (&r, "check");
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--config"));

  g_auto(Result) m = { 0 };
  RUN (&m, "check", "--config", "/nonexistent/config.yaml");
  g_assert_cmpint (m.status, ==, 1);
  g_assert_nonnull (strstr (m.err, "/nonexistent/config.yaml"));
}

/* The project's model is only a header: check passes, training names the file. */
static void
test_train_bad_model (void)
{
  g_auto(Project) p = { 0 };
  project_init (&p, good_config);
  g_autofree char *model = g_build_filename (p.dir, "model.safetensors", NULL);
  g_auto(Result) r = { 0 };
  RUN (&r, "train", "--config", p.config);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, model));

  g_auto(Result) j = { 0 };
  RUN (&j, "train", "--json", "--config", p.config);
  g_assert_cmpint (j.status, ==, 1);
  g_assert_nonnull (strstr (j.out, "\"event\":\"error\""));
  g_assert_true (g_str_has_suffix (j.out, "{\"event\":\"done\",\"status\":\"failed\","
                                          "\"outputs\":[]}\n"));

  /* Bad --device and --resume are named, on top of a fine config. */
  g_auto(Result) d = { 0 };
  RUN (&d, "train", "--config", p.config, "--device", "tpu", "--resume", "/nonexistent/ckpt");
  g_assert_cmpint (d.status, ==, 1);
  g_assert_nonnull (strstr (d.err, "unknown device \"tpu\""));
  g_assert_nonnull (strstr (d.err, "/nonexistent/ckpt"));
  g_assert_null (strstr (d.err, "truncated"));
}

/* ---- devices ---- */

static void
test_devices (void)
{
  g_auto(Result) r = { 0 };
  RUN (&r, "devices");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "cpu "));
  g_assert_nonnull (strstr (r.out, " cores"));
#if HAVE_CUDA
  /* A GPU is listed, or the reason is one of the explained driver states. */
  if (strstr (r.out, "cuda:0") == NULL)
    g_assert_true (strstr (r.out, "CUDA unavailable: no NVIDIA driver") != NULL
                   || strstr (r.out, "CUDA unavailable: the NVIDIA driver") != NULL
                   || strstr (r.out, "CUDA unavailable: only the CUDA stub") != NULL);
#else
  g_assert_nonnull (strstr (r.out, "CUDA unavailable: this lora-engine was built without CUDA"));
#endif

  g_auto(Result) j = { 0 };
  RUN (&j, "devices", "--json");
  g_assert_cmpint (j.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data (parser, j.out, -1, &error);
  g_assert_no_error (error);
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_boolean_member (o, "cuda_built"), ==, HAVE_CUDA);
  JsonArray *devices = json_object_get_array_member (o, "devices");
  guint n = json_array_get_length (devices);
  g_assert_cmpuint (n, >=, 1);
  JsonObject *cpu = json_array_get_object_element (devices, n - 1);
  g_assert_cmpstr (json_object_get_string_member (cpu, "kind"), ==, "cpu");
  g_assert_cmpint (json_object_get_int_member (cpu, "cores"), ==, g_get_num_processors ());
  g_assert_cmpint (json_object_get_int_member (cpu, "memory_total"), >, 0);
  if (n == 1)
    g_assert_true (json_object_has_member (o, "cuda_unavailable"));
}

/* ---- serve ---- */

typedef struct {
  GSubprocess      *proc;
  GOutputStream    *in;
  GDataInputStream *out;
} Server;

static void
server_start (Server *s)
{
  g_autoptr(GError) error = NULL;
  s->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                              &error, engine, "serve", NULL);
  g_assert_no_error (error);
  s->in = g_subprocess_get_stdin_pipe (s->proc);
  s->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
}

static void
server_send (Server *s, const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strconcat (line, "\n", NULL);
  g_output_stream_write_all (s->in, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_flush (s->in, NULL, &error);
  g_assert_no_error (error);
}

/* For lines sent after shutdown: the engine may be gone, and the write may fail. */
static void
server_send_late (Server *s, const char *line)
{
  g_autofree char *text = g_strconcat (line, "\n", NULL);
  g_output_stream_write_all (s->in, text, strlen (text), NULL, NULL, NULL);
  g_output_stream_flush (s->in, NULL, NULL);
}

/* The next line, which must be a valid event; NULL at end of output. */
static StudioEvent *
server_next (Server *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_utf8 (s->out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    return NULL;
  g_test_message ("engine: %s", line);
  StudioEvent *event = studio_protocol_parse_event (line, &error);
  g_assert_no_error (error);
  return event;
}

static StudioEvent *
server_expect (Server *s, StudioEventKind kind, const char *id)
{
  StudioEvent *event = server_next (s);
  g_assert_nonnull (event);
  g_assert_cmpstr (studio_event_kind_name (event->kind), ==, studio_event_kind_name (kind));
  g_assert_cmpstr (event->id, ==, id);
  return event;
}

/* A started server whose hello has come. */
static void
server_start_ready (Server *s)
{
  server_start (s);
  g_autoptr(StudioEvent) hello = server_expect (s, STUDIO_EVENT_HELLO, NULL);
}

/* The request ID: train on CONFIG. */
static char *
train_line (const char *id, const char *config)
{
  g_autoptr(JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "config", config);
  return studio_protocol_request_line (id, "train", args);
}

/* Sends the request ID: train on CONFIG. */
static void
send_train (Server *s, const char *id, const char *config)
{
  g_autofree char *line = train_line (id, config);
  server_send (s, line);
}

static void
server_expect_error (Server *s, const char *id, const char *code)
{
  g_autoptr(StudioEvent) event = server_expect (s, STUDIO_EVENT_ERROR, id);
  g_assert_cmpstr (json_object_get_string_member (event->object, "code"), ==, code);
}

static void
server_expect_state (Server *s, const char *id, const char *state)
{
  g_autoptr(StudioEvent) event = server_expect (s, STUDIO_EVENT_STATE, id);
  g_assert_cmpstr (json_object_get_string_member (event->object, "state"), ==, state);
}

/* Closes stdin unless CLOSED, expects no more output and exit status 0. */
static void
server_finish (Server *s, gboolean close_stdin)
{
  g_autoptr(GError) error = NULL;
  if (close_stdin)
    g_output_stream_close (s->in, NULL, NULL);
  g_assert_null (server_next (s));
  g_subprocess_wait (s->proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (s->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (s->proc), ==, 0);
  g_clear_object (&s->out);
  g_clear_object (&s->proc);
}

static void
test_serve_hello (void)
{
  Server s;
  server_start (&s);
  g_autoptr(StudioEvent) hello = server_expect (&s, STUDIO_EVENT_HELLO, NULL);
  const char *version = json_object_get_string_member (hello->object, "protocol");
  g_assert_cmpstr (version, ==, studio_protocol_version ());
  g_autoptr(GError) error = NULL;
  g_assert_true (studio_protocol_check_version (version, &error));
  g_assert_cmpstr (json_object_get_string_member (hello->object, "engine"), ==, PACKAGE_VERSION);
  JsonArray *devices = json_object_get_array_member (hello->object, "devices");
  g_assert_cmpuint (json_array_get_length (devices), >=, 1);
  /* End of input ends the server cleanly. */
  server_finish (&s, TRUE);
}

static void
test_serve_bad_lines (void)
{
  Server s;
  server_start_ready (&s);

  server_send (&s, "this is not json");
  server_expect_error (&s, NULL, "malformed");
  /* Still serving: the next valid request gets its own answer. */
  server_send (&s, "{\"id\":\"1\",\"cmd\":\"pause\"}");
  server_expect_error (&s, "1", "no-run");

  server_send (&s, "{\"id\":\"2\",\"cmd\":\"teleport\"}");
  server_expect_error (&s, "2", "unknown-cmd");
  server_send (&s, "{\"cmd\":\"stop\"}");
  server_expect_error (&s, NULL, "missing-field");
  server_send (&s, "{\"id\":\"3\",\"cmd\":\"train\",\"config\":42}");
  server_expect_error (&s, "3", "wrong-type");
  server_send (&s, "");
  server_send (&s, "{\"id\":\"4\",\"cmd\":\"resume\"}");
  server_expect_error (&s, "4", "no-run");
  server_send (&s, "{\"id\":\"5\",\"cmd\":\"stop\"}");
  server_expect_error (&s, "5", "no-run");
  server_send (&s, "{\"id\":\"6\",\"cmd\":\"cancel\",\"target\":\"99\"}");
  server_expect_error (&s, "6", "no-run");
  server_send (&s, "{\"id\":\"7\",\"cmd\":\"caption\",\"path\":\"/x\"}");
  server_expect_error (&s, "7", "missing-field");

  /* shutdown ends the server at once: the request after it gets no answer. */
  server_send (&s, "{\"id\":\"8\",\"cmd\":\"shutdown\"}");
  server_send_late (&s, "{\"id\":\"9\",\"cmd\":\"pause\"}");
  server_finish (&s, FALSE);
}

static void
test_serve_train (void)
{
  g_auto(Project) p = { 0 };
  project_init (&p, good_config);
  g_auto(Project) bad = { 0 };
  project_init (&bad, "train_data_dir: images\nbase_model: model.safetensors\nlora_rnak: 2\n");

  Server s;
  server_start_ready (&s);

  send_train (&s, "t1", bad.config);
  server_expect_state (&s, "t1", "running");
  g_autoptr(StudioEvent) problem = server_expect (&s, STUDIO_EVENT_ERROR, "t1");
  g_assert_cmpstr (json_object_get_string_member (problem->object, "code"), ==,
                   "config-unknown-key");
  g_assert_nonnull (strstr (json_object_get_string_member (problem->object, "message"),
                            "lora_rank"));
  g_autoptr(StudioEvent) done = server_expect (&s, STUDIO_EVENT_DONE, "t1");
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "failed");
  server_expect_state (&s, "t1", "idle");

  /* A good config is checked, then the model (only a header here) fails to load, and
   * the error names it. */
  send_train (&s, "t2", p.config);
  server_expect_state (&s, "t2", "running");
  StudioEvent *e;
  while ((e = server_next (&s)) != NULL && e->kind == STUDIO_EVENT_LOG)
    studio_event_free (e);
  g_assert_nonnull (e);
  g_assert_cmpint (e->kind, ==, STUDIO_EVENT_ERROR);
  g_assert_nonnull (strstr (json_object_get_string_member (e->object, "message"),
                            "model.safetensors"));
  studio_event_free (e);
  g_autoptr(StudioEvent) done2 = server_expect (&s, STUDIO_EVENT_DONE, "t2");
  server_expect_state (&s, "t2", "idle");

  server_send (&s, "{\"id\":\"q\",\"cmd\":\"shutdown\"}");
  server_finish (&s, FALSE);
}

/* ---- serve: inspect and sample on the sd15-tiny fixture ---- */

/* A folder with the sd15-tiny fixture (models/sd15-tiny) and a config that trains on the
 * demo dataset for STEPS steps, with a fast preview. */
static void
sd_project_init (Project *p, int steps)
{
  g_autoptr(GError) error = NULL;
  const char *demo = g_getenv ("DEMO_DIR");
  g_assert_nonnull (demo);
  p->dir = g_dir_make_tmp ("lora-engine-sample-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *model = g_build_filename (p->dir, "sd15-tiny", NULL);
  g_auto(Result) r = { 0 };
  RUN (&r, "fixture", "--kind", "sd15-tiny", "--out", model);
  g_assert_cmpint (r.status, ==, 0);
  g_autofree char *text = g_strdup_printf (
    "task_type: image-lora\n"
    "train_data_dir: %s/dataset\n"
    "metadata_path: %s/dataset/metadata.csv\n"
    "base_model: %s\n"
    "resolution: 64\n"
    "lora_rank: 4\n"
    "lora_alpha: 4\n"
    "batch_size: 4\n"
    /* large enough that two steps move the image */
    "learning_rate: 0.05\n"
    "max_train_steps: %d\n"
    "save_steps: 0\n"
    "sample_every: 0\n"
    "sample_steps: 4\n"
    "sample_prompts: [\"a red circle\"]\n"
    "output_dir: %s/out\n", demo, demo, model, steps, p->dir);
  p->config = g_build_filename (p->dir, "config.yaml", NULL);
  write_file (p->config, text);
}

/* Reads events until one of KIND for ID, which it returns; the others are dropped. */
static StudioEvent *
server_until (Server *s, StudioEventKind kind, const char *id)
{
  for (;;)
    {
      StudioEvent *e = server_next (s);
      g_assert_nonnull (e);
      if (e->kind == kind && g_strcmp0 (e->id, id) == 0)
        return e;
      /* an error nobody expected fails here, with its message in the log */
      if (e->kind == STUDIO_EVENT_ERROR)
        g_assert_cmpstr (json_object_get_string_member (e->object, "message"), ==, "");
      studio_event_free (e);
    }
}

/* Trains on CONFIG (request "t") to the end: the run completes, the engine is idle
 * again and WRITTEN, the run's output, is a file. */
static void
train_to_end (Server *s, const char *config, const char *written)
{
  send_train (s, "t", config);
  g_autoptr(StudioEvent) done = server_until (s, STUDIO_EVENT_DONE, "t");
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "completed");
  server_expect_state (s, "t", "idle");
  g_assert_true (g_file_test (written, G_FILE_TEST_IS_REGULAR));
}

static void
test_serve_inspect (void)
{
  g_auto(Project) p = { 0 };
  sd_project_init (&p, 2);
  g_autofree char *model = g_build_filename (p.dir, "sd15-tiny", NULL);
  g_autofree char *missing = g_build_filename (p.dir, "no-such-model.safetensors", NULL);
  Server s;
  server_start_ready (&s);

  g_autoptr(JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "path", model);
  g_autofree char *line = studio_protocol_request_line ("i1", "inspect", args);
  server_send (&s, line);
  g_autoptr(StudioEvent) result = server_expect (&s, STUDIO_EVENT_RESULT, "i1");
  JsonObject *data = json_object_get_object_member (result->object, "data");
  g_assert_cmpstr (json_object_get_string_member (data, "kind"), ==, "sd15-diffusers");
  g_assert_cmpstr (json_object_get_string_member (data, "path"), ==, model);
  g_assert_true (json_object_get_boolean_member (data, "trainable"));
  g_assert_true (json_object_has_member (data, "summary"));

  /* the same answer as the command line's */
  g_auto(Result) cli = { 0 };
  RUN (&cli, "inspect", "--json", model);
  g_autoptr(JsonNode) data_node = json_node_init_object (json_node_alloc (), data);
  g_autofree char *data_text = json_to_string (data_node, FALSE);
  g_assert_cmpstr (g_strchomp (cli.out), ==, data_text);

  json_object_set_string_member (args, "path", missing);
  g_autofree char *bad = studio_protocol_request_line ("i2", "inspect", args);
  server_send (&s, bad);
  g_autoptr(StudioEvent) error = server_expect (&s, STUDIO_EVENT_ERROR, "i2");
  g_assert_nonnull (strstr (json_object_get_string_member (error->object, "message"), missing));

  server_send (&s, "{\"id\":\"q\",\"cmd\":\"shutdown\"}");
  server_finish (&s, FALSE);
}

static guchar *
png_pixels (const char *path, gsize *len, char **parameters)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  *parameters = g_strdup (gdk_pixbuf_get_option (pb, "tEXt::parameters"));
  return g_memdup2 (gdk_pixbuf_read_pixels (pb), *len = gdk_pixbuf_get_byte_length (pb));
}

static char *
sample_line (const char *id, const char *config, const char *lora, double weight,
             const char *out, int steps)
{
  g_autoptr(JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "prompt", "a red circle");
  json_object_set_string_member (args, "negative_prompt", "blurry");
  json_object_set_string_member (args, "config", config);
  if (lora != NULL)
    json_object_set_string_member (args, "lora", lora);
  json_object_set_double_member (args, "weight", weight);
  json_object_set_int_member (args, "seed", 7);
  json_object_set_int_member (args, "steps", steps);
  if (out != NULL)
    json_object_set_string_member (args, "out", out);
  return studio_protocol_request_line (id, "sample", args);
}

static void
send_sample (Server *s, const char *id, const char *config, const char *lora, double weight,
             const char *out, int steps)
{
  g_autofree char *line = sample_line (id, config, lora, weight, out, steps);
  server_send (s, line);
}

/* Draws SAMPLE with a LoRA and expects its sample event and done; returns the path. */
static char *
expect_sample (Server *s, const char *id, const char *out)
{
  g_autoptr(StudioEvent) ev = server_expect (s, STUDIO_EVENT_SAMPLE, id);
  g_assert_cmpstr (json_object_get_string_member (ev->object, "path"), ==, out);
  g_assert_cmpstr (json_object_get_string_member (ev->object, "prompt"), ==, "a red circle");
  g_autoptr(StudioEvent) done = server_expect (s, STUDIO_EVENT_DONE, id);
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "completed");
  JsonArray *outputs = json_object_get_array_member (done->object, "outputs");
  g_assert_cmpuint (json_array_get_length (outputs), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (outputs, 0), ==, out);
  return g_strdup (out);
}

static void
test_serve_sample (void)
{
  g_auto(Project) p = { 0 };
  sd_project_init (&p, 2);
  g_autofree char *lora = g_build_filename (p.dir, "out", "pytorch_lora_weights.safetensors",
                                            NULL);
  g_autofree char *with = g_build_filename (p.dir, "with.png", NULL);
  g_autofree char *without = g_build_filename (p.dir, "without.png", NULL);
  g_autofree char *missing = g_build_filename (p.dir, "no-such.safetensors", NULL);
  Server s;
  server_start_ready (&s);

  /* a 2-step run writes the LoRA */
  train_to_end (&s, p.config, lora);

  /* the LoRA at 1.5 and at 0 from the same seed: two PNGs, which differ */
  send_sample (&s, "s1", p.config, lora, 1.5, with, 4);
  g_free (expect_sample (&s, "s1", with));
  send_sample (&s, "s2", p.config, lora, 0, without, 4);
  g_free (expect_sample (&s, "s2", without));
  gsize n1, n2;
  g_autofree char *params1 = NULL, *params2 = NULL;
  g_autofree guchar *px1 = png_pixels (with, &n1, &params1);
  g_autofree guchar *px2 = png_pixels (without, &n2, &params2);
  g_assert_cmpuint (n1, ==, n2);
  g_assert_true (memcmp (px1, px2, n1) != 0);

  /* the run's last checkpoint holds the LoRA file too (written before the folder's
   * rename: no temp folder is left), and it draws what the final LoRA of the same step
   * draws */
  g_autofree char *ck = g_build_filename (p.dir, "out", "checkpoints", "step-000002", NULL);
  g_autofree char *ck_lora = g_build_filename (ck, "pytorch_lora_weights.safetensors", NULL);
  g_autofree char *ck_tmp = g_build_filename (p.dir, "out", "checkpoints", ".tmp-step-000002",
                                              NULL);
  g_autofree char *from_ck = g_build_filename (p.dir, "from-checkpoint.png", NULL);
  g_assert_true (g_file_test (ck_lora, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (ck_tmp, G_FILE_TEST_EXISTS));
  send_sample (&s, "sc", p.config, ck, 1.5, from_ck, 4);
  g_free (expect_sample (&s, "sc", from_ck));
  gsize n3;
  g_autofree char *params3 = NULL;
  g_autofree guchar *px3 = png_pixels (from_ck, &n3, &params3);
  g_assert_cmpuint (n3, ==, n1);
  g_assert_true (memcmp (px1, px3, n1) == 0);
  /* the same step's weights and the same metadata (named after the run's folder, not
   * the checkpoint's temp folder): the same file */
  g_autofree char *final_bytes = NULL, *ck_bytes = NULL;
  gsize final_len, ck_len;
  g_assert_true (g_file_get_contents (lora, &final_bytes, &final_len, NULL));
  g_assert_true (g_file_get_contents (ck_lora, &ck_bytes, &ck_len, NULL));
  g_assert_cmpmem (ck_bytes, ck_len, final_bytes, final_len);
  g_assert_nonnull (strstr (params1, "a red circle"));
  g_assert_nonnull (strstr (params1, "<lora:pytorch_lora_weights:1.5>"));
  g_assert_nonnull (strstr (params1, "Seed: 7"));

  /* without "out": into the run's samples folder */
  send_sample (&s, "s3", p.config, lora, 1, NULL, 2);
  g_autoptr(StudioEvent) ev3 = server_expect (&s, STUDIO_EVENT_SAMPLE, "s3");
  const char *path3 = json_object_get_string_member (ev3->object, "path");
  g_autofree char *samples = g_build_filename (p.dir, "out", "samples", NULL);
  g_assert_true (g_str_has_prefix (path3, samples));
  g_assert_true (g_file_test (path3, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (json_object_get_int_member (ev3->object, "step"), ==, 2);
  g_autoptr(StudioEvent) done3 = server_expect (&s, STUDIO_EVENT_DONE, "s3");

  /* a LoRA that is not there: an error naming it, then done failed */
  send_sample (&s, "s4", p.config, missing, 1, with, 2);
  g_autoptr(StudioEvent) err4 = server_expect (&s, STUDIO_EVENT_ERROR, "s4");
  g_assert_nonnull (strstr (json_object_get_string_member (err4->object, "message"), missing));
  g_autoptr(StudioEvent) done4 = server_expect (&s, STUDIO_EVENT_DONE, "s4");
  g_assert_cmpstr (json_object_get_string_member (done4->object, "status"), ==, "failed");

  /* train while a sample is drawn: busy (both lines arrive in one write, and drawing
   * 60 steps takes far longer than reading the next line) */
  g_autofree char *s5 = sample_line ("s5", p.config, lora, 1, without, 60);
  g_autofree char *train = train_line ("t", p.config);
  g_autofree char *both = g_strconcat (s5, "\n", train, NULL);
  server_send (&s, both);
  server_expect_error (&s, "t", "busy");
  server_send (&s, "{\"id\":\"p\",\"cmd\":\"pause\"}");
  server_expect_error (&s, "p", "no-run");
  g_free (expect_sample (&s, "s5", without));

  /* cancel while drawing: the drawing ends, then done "cancelled" without a sample event */
  g_autofree char *s6 = sample_line ("s6", p.config, lora, 1, with, 60);
  g_autofree char *cancel = g_strconcat (s6, "\n{\"id\":\"c\",\"cmd\":\"cancel\","
                                         "\"target\":\"s6\"}", NULL);
  server_send (&s, cancel);
  g_autoptr(StudioEvent) cancelled = server_expect (&s, STUDIO_EVENT_DONE, "s6");
  g_assert_cmpstr (json_object_get_string_member (cancelled->object, "status"), ==, "cancelled");

  server_send (&s, "{\"id\":\"q\",\"cmd\":\"shutdown\"}");
  server_finish (&s, FALSE);
}

/* A text project: the adapter's continuation of the prompt, in a .txt file. */
static void
test_serve_sample_text (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(Project) p = { 0 };
  p.dir = g_dir_make_tmp ("lora-engine-text-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *model = g_build_filename (p.dir, "llama-tiny", NULL);
  g_auto(Result) r = { 0 };
  RUN (&r, "fixture", "--kind", "llama-tiny", "--out", model);
  g_assert_cmpint (r.status, ==, 0);
  g_autofree char *data = g_build_filename (p.dir, "data", NULL);
  g_assert_cmpint (g_mkdir (data, 0755), ==, 0);
  for (int i = 0; i < 8; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/story-%d.txt", data, i);
      g_autofree char *line = g_strdup_printf ("The river number %d ran past the old mill.\n", i);
      write_file (file, line);
    }
  g_autofree char *text = g_strdup_printf (
    "task_type: text-generation\ntrain_data_dir: %s\nbase_model: %s\nsequence_length: 16\n"
    "lora_rank: 4\nlora_alpha: 8\nbatch_size: 4\nmax_train_steps: 2\nsave_steps: 0\n"
    "sample_every: 0\nsample_max_tokens: 8\nsample_prompts: [\"a red circle\"]\n"
    "output_dir: %s/out\n", data, model, p.dir);
  p.config = g_build_filename (p.dir, "config.yaml", NULL);
  write_file (p.config, text);
  g_autofree char *adapter = g_build_filename (p.dir, "out", "adapter_model.safetensors", NULL);
  Server s;
  server_start_ready (&s);
  train_to_end (&s, p.config, adapter);

  g_autofree char *out = g_build_filename (p.dir, "generated.txt", NULL);
  g_autofree char *missing = g_build_filename (p.dir, "no-adapter", NULL);
  send_sample (&s, "s", p.config, adapter, 1, out, 0);
  g_free (expect_sample (&s, "s", out));
  g_autofree char *written = NULL;
  g_assert_true (g_file_get_contents (out, &written, NULL, NULL));
  g_assert_true (g_str_has_prefix (written, "### a red circle\n"));
  /* the continuation starts with the prompt, as generate prints it */
  g_assert_nonnull (strstr (written + strlen ("### a red circle\n"), "a red circle"));

  /* the last checkpoint holds the adapter and its config, and serve draws with it */
  g_autofree char *ck = g_build_filename (p.dir, "out", "checkpoints", "step-000002", NULL);
  g_autofree char *ck_model = g_build_filename (ck, "adapter_model.safetensors", NULL);
  g_autofree char *ck_config = g_build_filename (ck, "adapter_config.json", NULL);
  g_autofree char *ck_out = g_build_filename (p.dir, "from-checkpoint.txt", NULL);
  g_assert_true (g_file_test (ck_model, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (ck_config, G_FILE_TEST_IS_REGULAR));
  send_sample (&s, "sc", p.config, ck, 1, ck_out, 0);
  g_free (expect_sample (&s, "sc", ck_out));
  g_autofree char *ck_written = NULL;
  g_assert_true (g_file_get_contents (ck_out, &ck_written, NULL, NULL));
  g_assert_cmpstr (ck_written, ==, written);
  g_autofree char *final_config = g_build_filename (p.dir, "out", "adapter_config.json", NULL);
  g_autofree char *config_a = NULL, *config_b = NULL;
  g_assert_true (g_file_get_contents (final_config, &config_a, NULL, NULL));
  g_assert_true (g_file_get_contents (ck_config, &config_b, NULL, NULL));
  g_assert_cmpstr (config_b, ==, config_a);

  send_sample (&s, "b", p.config, missing, 1, out, 0);
  g_autoptr(StudioEvent) bad = server_expect (&s, STUDIO_EVENT_ERROR, "b");
  g_assert_nonnull (strstr (json_object_get_string_member (bad->object, "message"), missing));
  g_autoptr(StudioEvent) bad_done = server_expect (&s, STUDIO_EVENT_DONE, "b");

  server_send (&s, "{\"id\":\"q\",\"cmd\":\"shutdown\"}");
  server_finish (&s, FALSE);
}

/* sample during a run: the run draws its previews at the next step boundary, announces
 * them under the run's id, and done answers the sample request with the files. */
static void
test_serve_sample_during_run (void)
{
  g_auto(Project) p = { 0 };
  sd_project_init (&p, 100000);
  Server s;
  server_start_ready (&s);
  send_train (&s, "t", p.config);
  g_autoptr(StudioEvent) first = server_until (&s, STUDIO_EVENT_PROGRESS, "t");

  send_sample (&s, "s", p.config, NULL, 1, NULL, 4);
  gint64 last_step = json_object_get_int_member (first->object, "step");
  g_autofree char *preview = NULL;
  for (;;)
    {
      g_autoptr(StudioEvent) e = server_next (&s);
      g_assert_nonnull (e);
      if (e->kind == STUDIO_EVENT_PROGRESS)
        last_step = json_object_get_int_member (e->object, "step");
      else if (e->kind == STUDIO_EVENT_SAMPLE)
        {
          /* drawn right after a step, before the next one's progress */
          g_assert_cmpstr (e->id, ==, "t");
          g_assert_null (preview);
          g_assert_cmpint (json_object_get_int_member (e->object, "step"), ==, last_step);
          g_assert_cmpint (last_step, >, 0);
          preview = g_strdup (json_object_get_string_member (e->object, "path"));
          g_assert_true (g_file_test (preview, G_FILE_TEST_IS_REGULAR));
        }
      else if (e->kind == STUDIO_EVENT_DONE)
        {
          g_assert_cmpstr (e->id, ==, "s");
          g_assert_cmpstr (json_object_get_string_member (e->object, "status"), ==, "completed");
          JsonArray *outputs = json_object_get_array_member (e->object, "outputs");
          g_assert_cmpuint (json_array_get_length (outputs), ==, 1);
          g_assert_cmpstr (json_array_get_string_element (outputs, 0), ==, preview);
          break;
        }
      else if (e->kind == STUDIO_EVENT_ERROR)
        g_assert_cmpstr (json_object_get_string_member (e->object, "message"), ==, "");
    }
  g_assert_nonnull (preview);

  server_send (&s, "{\"id\":\"x\",\"cmd\":\"stop\",\"save_checkpoint\":false}");
  g_autoptr(StudioEvent) done = server_until (&s, STUDIO_EVENT_DONE, "t");
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "stopped");
  server_expect_state (&s, "t", "idle");
  server_send (&s, "{\"id\":\"q\",\"cmd\":\"shutdown\"}");
  server_finish (&s, FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Writing to an engine that already exited must be an error, not a crash. */
  signal (SIGPIPE, SIG_IGN);
  engine = g_getenv ("LORA_ENGINE");
  if (engine == NULL)
    {
      g_printerr ("LORA_ENGINE must name the lora-engine program (meson test sets it)\n");
      return 1;
    }
  g_test_add_func ("/engine-cli/version", test_version);
  g_test_add_func ("/engine-cli/help", test_help);
  g_test_add_func ("/engine-cli/command-help", test_command_help);
  g_test_add_func ("/engine-cli/unknown-command", test_unknown_command);
  g_test_add_func ("/engine-cli/not-built", test_not_built);
  g_test_add_func ("/engine-cli/check/good", test_check_good);
  g_test_add_func ("/engine-cli/check/unknown-key", test_check_unknown_key);
  g_test_add_func ("/engine-cli/check/missing-folder", test_check_missing_folder);
  g_test_add_func ("/engine-cli/check/usage", test_check_usage);
  g_test_add_func ("/engine-cli/train/bad-model", test_train_bad_model);
  g_test_add_func ("/engine-cli/devices", test_devices);
  g_test_add_func ("/engine-cli/serve/hello", test_serve_hello);
  g_test_add_func ("/engine-cli/serve/bad-lines", test_serve_bad_lines);
  g_test_add_func ("/engine-cli/serve/train", test_serve_train);
  g_test_add_func ("/engine-cli/serve/inspect", test_serve_inspect);
  g_test_add_func ("/engine-cli/serve/sample", test_serve_sample);
  g_test_add_func ("/engine-cli/serve/sample-text", test_serve_sample_text);
  g_test_add_func ("/engine-cli/serve/sample-during-run", test_serve_sample_during_run);
  return g_test_run ();
}
