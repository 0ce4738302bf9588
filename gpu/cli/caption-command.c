/* caption-command.c: `lora-engine caption --model CLIP_DIR --images DIR [--out metadata.csv |
 * --sidecars] [--trigger WORD] [--max-tags N] [--overwrite] [--vocabulary FILE] [--json]`:
 * zero-shot CLIP tags for each image without a caption (see caption-job.h). */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "caption-events.h"
#include "caption-job.h"
#include "commands.h"

/* Ctrl-C: stop after the image in progress and write the captions made (a second
 * Ctrl-C ends the program at once; the CSV is then left as it was). */
static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  (void) sig;
  interrupted = 1;
  signal (SIGINT, SIG_DFL);
}

static gboolean
is_interrupted (gpointer data)
{
  CaptionEventSink *sink = data;
  return interrupted || (sink != NULL && g_atomic_int_get (&sink->cancelled));
}

static void
print_caption (gpointer data, const char *filename, const char *caption)
{
  (void) data;
  printf ("%s: %s\n", filename, caption);
  fflush (stdout);
}

static void
print_log (gpointer data, const char *level, const char *message)
{
  (void) data;
  fprintf (stderr, "%s%s\n", g_str_equal (level, "warning") ? "warning: " : "", message);
}

static void
print_skipped (gpointer data, const char *filename, const char *why)
{
  (void) filename;
  print_log (data, "warning", why);
}

int
cmd_caption (int argc, char **argv)
{
  g_autofree char *model = NULL, *images = NULL, *out = NULL, *trigger = NULL;
  g_autofree char *vocabulary = NULL, *device = NULL, *cache_dir = NULL;
  gboolean sidecars = FALSE, overwrite = FALSE, json = FALSE;
  int max_tags = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      "A Hugging Face CLIPModel folder (config.json, model.safetensors, vocab.json, "
      "merges.txt), such as openai/clip-vit-base-patch32", "CLIP_DIR" },
    { "images", 'i', 0, G_OPTION_ARG_FILENAME, &images, "The folder of images to caption",
      "DIR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "The filename,prompt CSV to merge into (default DIR/metadata.csv)", "FILE.csv" },
    { "sidecars", 0, 0, G_OPTION_ARG_NONE, &sidecars,
      "Write IMAGE.txt beside each image instead of a CSV", NULL },
    { "trigger", 't', 0, G_OPTION_ARG_STRING, &trigger,
      "A word to put first in every caption (the LoRA's trigger word)", "WORD" },
    { "max-tags", 'n', 0, G_OPTION_ARG_INT, &max_tags,
      "At most N phrases after the trigger (default 8)", "N" },
    { "overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite,
      "Replace captions that exist (without it, images with a caption are left alone)", NULL },
    { "vocabulary", 0, 0, G_OPTION_ARG_FILENAME, &vocabulary,
      "The tag vocabulary (default the installed caption-vocabulary.txt)", "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "auto (default), cpu or cuda", "DEVICE" },
    { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
      "Where the vocabulary's text embeddings are cached (default "
      "~/.cache/lora-studio/clip)", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print progress, result and done events as lora-engine serve does", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- caption a folder of images");
  g_option_context_set_summary (context,
    "Tags each image with CLIP (zero-shot): the vocabulary's phrases are ranked by their\n"
    "similarity to the image; the caption is the trigger word, the best subject, medium\n"
    "and framing, then the other phrases that come close to the best, joined by \", \".\n"
    "Captions that exist are kept unless --overwrite; metadata.csv is replaced\n"
    "atomically. Images that cannot be read are skipped and reported (exit status 1).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (model == NULL || images == NULL)
    {
      fprintf (stderr, "%s: --model CLIP_DIR and --images DIR are required (see %s --help)\n",
               argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  if (sidecars && out != NULL)
    {
      fprintf (stderr, "%s: --out and --sidecars are exclusive: captions go either into one "
               "CSV or beside each image\n", argv[0]);
      return CLI_EXIT_USAGE;
    }
  if (max_tags < 0 || max_tags > 64)
    {
      fprintf (stderr, "%s: --max-tags must be from 1 to 64\n", argv[0]);
      return CLI_EXIT_USAGE;
    }
  CaptionJobArgs args = {
    .model = model, .images = images, .out = out, .sidecars = sidecars, .trigger = trigger,
    .max_tags = max_tags, .overwrite = overwrite, .vocabulary = vocabulary, .device = device,
    .cache_dir = cache_dir,
  };
  CaptionEventSink sink = { NULL, 0 };
  CaptionJobHooks hooks = {
    .caption = print_caption, .skipped = print_skipped, .log = print_log,
  };
  if (json)
    caption_event_hooks_init (&hooks, &sink);
  hooks.cancelled = is_interrupted;
  hooks.data = &sink;
  signal (SIGINT, on_sigint);
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  le_error err = { 0 };
  int skipped = 0;
  CaptionJobStatus status = caption_job_run (&args, &hooks, outputs, &skipped, &err);
  if (json)
    caption_events_finish (&sink, status, outputs, &err);
  else if (status == CAPTION_JOB_FAILED)
    fprintf (stderr, "%s: %s\n", argv[0], err.message);
  else
    for (guint i = 0; i < outputs->len; i++)
      fprintf (stderr, "wrote %s\n", (const char *) outputs->pdata[i]);
  if (status == CAPTION_JOB_CANCELLED && !json)
    fprintf (stderr, "%s: interrupted; the captions made so far were written\n", argv[0]);
  if (status == CAPTION_JOB_FAILED || status == CAPTION_JOB_CANCELLED || skipped > 0)
    return CLI_EXIT_PROBLEMS;
  return CLI_EXIT_OK;
}
