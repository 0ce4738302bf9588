/* caption-job.c: a folder of images to captions (see caption-job.h). */
#include "config.h"

#include "caption-job.h"

#include <string.h>
#include <unistd.h>

#include "clip-caption.h"
#include "sd-train-job.h"
#include "studio-atomic-file.h"
#include "studio-csv.h"
#include "studio-dataset-image.h"

typedef struct {
  char *name;                   /* in the folder */
  char *path;
  char *existing;               /* its caption now, or NULL */
  char *caption;                /* the one made, or NULL */
} Entry;

static void
entry_clear (Entry *e)
{
  g_free (e->name);
  g_free (e->path);
  g_free (e->existing);
  g_free (e->caption);
}

static gboolean
has_text (const char *s)
{
  if (s == NULL)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return TRUE;
  return FALSE;
}

char *
caption_job_default_vocabulary (void)
{
  char *installed = g_build_filename (PKGDATADIR, "caption-vocabulary.txt", NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return installed;
  /* uninstalled: BUILD/gpu/cli/lora-engine and BUILD/data/caption-vocabulary.txt */
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (exe);
      char *built = g_build_filename (dir, "..", "..", "data", "caption-vocabulary.txt", NULL);
      if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
        {
          g_free (installed);
          return built;
        }
      g_free (built);
    }
  return installed;
}

const char *
caption_job_error_code (const le_error *err)
{
  switch (err->code)
    {
    case LE_ERR_IO: return "io";
    case LE_ERR_FORMAT: return "format";
    case LE_ERR_UNSUPPORTED: return "unsupported";
    case LE_ERR_MEMORY: return "out-of-memory";
    case LE_ERR_DEVICE: return "device";
    case LE_ERR_INVALID: return "invalid-request";
    case LE_OK:
    case LE_ERR_NUMERIC:
    case LE_ERR_CANCELLED:
    default: return "caption";
    }
}

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Entry *) a)->name, ((const Entry *) b)->name);
}

/* The folder's images in name order. */
static GArray *
list_images (const char *folder, le_error *err)
{
  if (!g_file_test (folder, G_FILE_TEST_EXISTS))
    {
      le_fail (err, LE_ERR_IO, "the image folder %s does not exist", folder);
      return NULL;
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (folder, 0, &error);
  if (dir == NULL)
    {
      le_fail (err, LE_ERR_IO, "cannot read the image folder: %s", error->message);
      return NULL;
    }
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (entries, (GDestroyNotify) entry_clear);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && studio_image_has_image_extension (name))
      {
        Entry e = { g_strdup (name), g_build_filename (folder, name, NULL), NULL, NULL };
        g_array_append_val (entries, e);
      }
  if (entries->len == 0)
    {
      le_fail (err, LE_ERR_INVALID, "%s has no images (JPEG, PNG, WebP or BMP files); put "
               "the pictures to caption in it", folder);
      g_array_unref (entries);
      return NULL;
    }
  g_array_sort (entries, compare_entries);
  return entries;
}

/* The name a CSV row gives, as the folder knows it ("./a.png" and "a.png" alike). */
static const char *
row_name (const StudioCsvRow *row)
{
  const char *n = row->filename;
  return g_str_has_prefix (n, "./") ? n + 2 : n;
}

/* Fills each entry's existing caption from the CSV rows or the sidecars. */
static gboolean
read_existing (GArray *entries, GPtrArray *rows, gboolean sidecars)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      if (sidecars)
        {
          g_autofree char *stem = g_strndup (e->path, strrchr (e->path, '.') - e->path);
          g_autofree char *txt = g_strconcat (stem, ".txt", NULL);
          g_file_get_contents (txt, &e->existing, NULL, NULL);
          continue;
        }
      for (guint r = 0; rows && r < rows->len; r++)
        {
          StudioCsvRow *row = rows->pdata[r];
          if (strcmp (row_name (row), e->name) == 0)
            {
              g_free (e->existing);
              e->existing = g_strdup (row->prompt);
            }
        }
    }
  return TRUE;
}

static gboolean
write_csv (const char *csv, GPtrArray *rows, GArray *entries, le_error *err)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      if (e->caption == NULL)
        continue;
      gboolean found = FALSE;
      for (guint r = 0; r < rows->len; r++)
        {
          StudioCsvRow *row = rows->pdata[r];
          if (strcmp (row_name (row), e->name) == 0)
            {
              g_free (row->prompt);
              row->prompt = g_strdup (e->caption);
              found = TRUE;
            }
        }
      if (!found)
        g_ptr_array_add (rows, studio_csv_row_new (e->name, e->caption, 0));
    }
  g_autoptr(GError) error = NULL;
  if (!studio_csv_save (csv, rows, &error))
    return le_fail (err, LE_ERR_IO, "%s", error->message);
  return TRUE;
}

static gboolean
write_sidecars (GArray *entries, GPtrArray *outputs, le_error *err)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      if (e->caption == NULL)
        continue;
      g_autofree char *stem = g_strndup (e->path, strrchr (e->path, '.') - e->path);
      g_autofree char *txt = g_strconcat (stem, ".txt", NULL);
      g_autofree char *line = g_strconcat (e->caption, "\n", NULL);
      g_autoptr(GError) error = NULL;
      if (!studio_atomic_write (txt, line, strlen (line), &error))
        return le_fail (err, LE_ERR_IO, "%s", error->message);
      if (outputs)
        g_ptr_array_add (outputs, g_steal_pointer (&txt));
    }
  return TRUE;
}

static void
say (const CaptionJobHooks *h, const char *level, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

static void
say (const CaptionJobHooks *h, const char *level, const char *fmt, ...)
{
  if (h->log == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  h->log (h->data, level, msg);
}

/* Images per forward pass of the vision tower: one image's 50 to 257 tokens make thin
 * matrix products; eight share each weight read. */
#define CAPTION_BATCH 8

typedef struct {
  const CaptionJobHooks *h;
  clip_model            *m;
  graph                 *g;
  const caption_vocabulary *vocab;
  const float           *text;       /* vocabulary embeddings */
  caption_options        o;
  float                 *pixels;     /* (CAPTION_BATCH, 3, S, S) */
  float                 *feat;       /* (CAPTION_BATCH, dim) */
  Entry                 *batch[CAPTION_BATCH];
  int                    n_batch;
  int                    done, total;
  gint64                 start;
} Captioner;

static void
report_progress (Captioner *c)
{
  if (c->h->progress)
    c->h->progress (c->h->data, c->done, c->total, (g_get_monotonic_time () - c->start) / 1e6);
}

/* Embeds the images waiting in the batch and captions each; FALSE with ERR when the
 * model fails (out of memory, a backend error). */
static bool
caption_batch (Captioner *c, le_error *err)
{
  int64_t dim = c->m->cfg.projection_dim;

  if (c->n_batch == 0)
    return true;
  if (!clip_image_features (c->m, c->g, c->pixels, c->n_batch, c->feat, err))
    return false;
  for (int k = 0; k < c->n_batch; k++)
    {
      Entry *e = c->batch[k];
      e->caption = caption_select (c->vocab, c->text, dim, c->feat + k * dim, &c->o, NULL);
      if (e->caption == NULL)
        return le_fail (err, LE_ERR_MEMORY, "out of memory making a caption");
      if (c->h->caption)
        c->h->caption (c->h->data, e->name, e->caption);
    }
  c->done += c->n_batch;
  c->n_batch = 0;
  report_progress (c);
  return true;
}

/* Decodes and preprocesses E into the next slot of the batch; an image that cannot be
 * read is reported as skipped (and counted done) instead. */
static bool
add_to_batch (Captioner *c, Entry *e, int *n_skipped, le_error *err)
{
  int64_t S = c->m->cfg.image_size;
  g_autoptr(GError) error = NULL;
  StudioImageInfo info;
  sd_rgb_image img = { 0 };
  char why[512] = "";

  if (!studio_image_probe (e->path, STUDIO_PROBE_CHEAP, &info, &error))
    g_strlcpy (why, error->message, sizeof why);
  else if (sd_images_decode (NULL, e->path, &img, why, sizeof why))
    {
      bool ok = clip_preprocess (&c->m->pre, &img, c->pixels + c->n_batch * 3 * S * S, err);
      sd_images_free (NULL, &img);
      if (!ok)
        return false;
      c->batch[c->n_batch++] = e;
      return true;
    }
  (*n_skipped)++;
  g_autofree char *msg = strstr (why, e->path) || strstr (why, e->name)
    ? g_strdup_printf ("skipped: %s", why)
    : g_strdup_printf ("skipped %s: %s", e->path, why);
  if (c->h->skipped)
    c->h->skipped (c->h->data, e->name, msg);
  c->done++;
  report_progress (c);
  return true;
}

/* Captions the entries that need one; returns FALSE with ERR only when the model fails. */
static CaptionJobStatus
caption_entries (const CaptionJobArgs *a, const CaptionJobHooks *h, GArray *entries,
                 int total, int *n_skipped, le_error *err)
{
  g_autofree char *vocab_path = a->vocabulary ? g_strdup (a->vocabulary)
                                              : caption_job_default_vocabulary ();
  g_autofree char *cache = a->cache_dir ? g_strdup (a->cache_dir)
                           : g_build_filename (g_get_user_cache_dir (), "lora-studio", "clip",
                                               NULL);
  caption_vocabulary vocab = { 0 };
  if (!caption_vocabulary_load (vocab_path, &vocab, err))
    return CAPTION_JOB_FAILED;
  const backend *be = backend_select (a->device ? a->device : "auto", err);
  clip_model *m = be ? clip_model_load (a->model, CLIP_DTYPE_KEEP, be, err) : NULL;
  graph *g = m ? graph_new (be, err) : NULL;
  float *text = NULL;
  Captioner c = { .h = h, .m = m, .g = g, .vocab = &vocab, .total = total };
  CaptionJobStatus status = CAPTION_JOB_FAILED;
  bool cached = false;
  if (g == NULL || !caption_text_embeddings (m, g, &vocab, cache, &text, &cached, err))
    goto out;
  say (h, "info", "%d vocabulary phrases %s", vocab.n_phrases,
       cached ? "read from the cache" : "embedded (cached for the next time)");
  int64_t S = m->cfg.image_size, dim = m->cfg.projection_dim;
  c.text = text;
  c.pixels = le_malloc ((size_t) (CAPTION_BATCH * 3 * S * S) * sizeof *c.pixels, "pixels", err);
  c.feat = le_malloc ((size_t) (CAPTION_BATCH * dim) * sizeof *c.feat, "image features", err);
  if (c.pixels == NULL || c.feat == NULL)
    goto out;
  caption_options_default (&c.o);
  if (a->max_tags > 0)
    c.o.max_tags = a->max_tags;
  c.o.trigger = a->trigger;
  c.start = g_get_monotonic_time ();
  status = CAPTION_JOB_COMPLETED;
  report_progress (&c);
  for (guint i = 0; i < entries->len && status == CAPTION_JOB_COMPLETED; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      if (has_text (e->existing) && !a->overwrite)
        continue;
      /* a cancel keeps the captions of the batches already made */
      if (h->cancelled && h->cancelled (h->data))
        status = CAPTION_JOB_CANCELLED;
      else if (!add_to_batch (&c, e, n_skipped, err)
               || (c.n_batch == CAPTION_BATCH && !caption_batch (&c, err)))
        status = CAPTION_JOB_FAILED;
    }
  if (status == CAPTION_JOB_COMPLETED && !caption_batch (&c, err))
    status = CAPTION_JOB_FAILED;
out:
  free (text);
  free (c.pixels);
  free (c.feat);
  if (g)
    graph_free (g);
  clip_model_free (m);
  caption_vocabulary_clear (&vocab);
  return status;
}

CaptionJobStatus
caption_job_run (const CaptionJobArgs *a, const CaptionJobHooks *hooks, GPtrArray *outputs,
                 int *n_skipped, le_error *err)
{
  static const CaptionJobHooks none = { 0 };
  const CaptionJobHooks *h = hooks ? hooks : &none;
  int skipped_local = 0;
  if (n_skipped == NULL)
    n_skipped = &skipped_local;
  *n_skipped = 0;
  if (a->model == NULL || a->images == NULL)
    {
      le_fail (err, LE_ERR_INVALID, "captioning needs a CLIP model folder and an image folder");
      return CAPTION_JOB_FAILED;
    }
  g_autoptr(GArray) entries = list_images (a->images, err);
  if (entries == NULL)
    return CAPTION_JOB_FAILED;
  g_autofree char *csv = a->sidecars ? NULL
                         : a->out ? g_strdup (a->out)
                         : g_build_filename (a->images, "metadata.csv", NULL);
  g_autoptr(GPtrArray) rows = NULL;
  if (csv != NULL && g_file_test (csv, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GError) error = NULL;
      rows = studio_csv_load (csv, &error);
      if (rows == NULL)
        {
          le_fail (err, LE_ERR_FORMAT, "%s; fix it or move it away, it was left as it is",
                   error->message);
          return CAPTION_JOB_FAILED;
        }
    }
  else if (csv != NULL)
    rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);
  read_existing (entries, rows, a->sidecars);
  int total = 0;
  for (guint i = 0; i < entries->len; i++)
    if (a->overwrite || !has_text (g_array_index (entries, Entry, i).existing))
      total++;
  if (total == 0)
    {
      say (h, "info", "every image in %s has a caption already; nothing to do (--overwrite "
           "replaces them)", a->images);
      return CAPTION_JOB_COMPLETED;
    }
  if ((guint) total < entries->len)
    say (h, "info", "%u of %u images keep the captions they have", entries->len - total,
         entries->len);
  CaptionJobStatus status = caption_entries (a, h, entries, total, n_skipped, err);
  if (status == CAPTION_JOB_FAILED)
    return status;
  /* what was made is written, also when cancelled */
  gboolean any = FALSE;
  for (guint i = 0; i < entries->len; i++)
    any = any || g_array_index (entries, Entry, i).caption != NULL;
  if (!any)
    return status;
  le_error werr = { 0 };
  gboolean ok = csv ? write_csv (csv, rows, entries, &werr)
                    : write_sidecars (entries, outputs, &werr);
  if (!ok)
    {
      *err = werr;
      return CAPTION_JOB_FAILED;
    }
  if (csv && outputs)
    g_ptr_array_add (outputs, g_strdup (csv));
  return status;
}
