/* checkpoint.c: saving, finding, loading and pruning checkpoints (see checkpoint.h). */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"

#define FORMAT_NAME "lora-studio-checkpoint"
#define FORMAT_VERSION "1"
#define M_NAME "optimizer.adamw.m"
#define V_NAME "optimizer.adamw.v"

/* Removes a folder of files (a checkpoint never holds subfolders deeper than this). */
static bool
remove_tree (const char *path, int depth, le_error *err)
{
  DIR *d = opendir (path);
  if (d == NULL)
    return errno == ENOENT || le_fail (err, LE_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      char child[4096];
      snprintf (child, sizeof child, "%s/%s", path, e->d_name);
      if (unlink (child) != 0)
        {
          if ((errno == EISDIR || errno == EPERM) && depth < 4)
            ok = remove_tree (child, depth + 1, err);
          else
            ok = le_fail (err, LE_ERR_IO, "%s: cannot remove: %s", child, strerror (errno));
        }
    }
  closedir (d);
  if (ok && rmdir (path) != 0)
    ok = le_fail (err, LE_ERR_IO, "%s: cannot remove: %s", path, strerror (errno));
  return ok;
}

/* "step-000100" -> 100; -1 for anything else. */
static int64_t
parse_step_name (const char *name)
{
  if (strncmp (name, "step-", 5) != 0 || name[5] == '\0')
    return -1;
  int64_t v = 0;
  for (const char *p = name + 5; *p; p++)
    {
      if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
        return -1;
      v = v * 10 + (*p - '0');
    }
  return v;
}

static int
cmp_desc (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Steps of the complete checkpoints in DIR, newest first. */
static bool
list_steps (const char *dir, int64_t **steps, size_t *n, le_error *err)
{
  *steps = NULL;
  *n = 0;
  DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT || le_fail (err, LE_ERR_IO, "%s: cannot open: %s", dir, strerror (errno));
  size_t cap = 0;
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir (d)) != NULL)
    {
      int64_t s = parse_step_name (e->d_name);
      if (s < 0)
        continue;
      if (*n == cap)
        {
          cap = cap ? 2 * cap : 16;
          int64_t *p = realloc (*steps, cap * sizeof *p);
          if (p == NULL)
            ok = le_fail (err, LE_ERR_MEMORY, "out of memory");
          else
            *steps = p;
        }
      if (ok)
        (*steps)[(*n)++] = s;
    }
  closedir (d);
  if (!ok)
    {
      free (*steps);
      *steps = NULL;
      *n = 0;
      return false;
    }
  qsort (*steps, *n, sizeof **steps, cmp_desc);
  return true;
}

typedef struct {
  char key[32];
  char value[128];
} kv;

static void
put (kv *m, size_t *n, const char *key, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

static void
put (kv *m, size_t *n, const char *key, const char *fmt, ...)
{
  snprintf (m[*n].key, sizeof m[*n].key, "%s", key);
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (m[*n].value, sizeof m[*n].value, fmt, ap);
  va_end (ap);
  (*n)++;
}

bool
le_checkpoint_save (const char *checkpoints_dir, const le_train_state *s,
                    const st_write_tensor *weights, size_t n_weights, const le_adamw *opt,
                    int keep_last, char *out_dir, size_t out_dir_len, le_error *err)
{
  return le_checkpoint_save_with (checkpoints_dir, s, weights, n_weights, opt, keep_last,
                                  NULL, NULL, out_dir, out_dir_len, err);
}

bool
le_checkpoint_save_with (const char *checkpoints_dir, const le_train_state *s,
                         const st_write_tensor *weights, size_t n_weights,
                         const le_adamw *opt, int keep_last,
                         le_checkpoint_extra_fn extra, void *extra_user,
                         char *out_dir, size_t out_dir_len, le_error *err)
{
  if (!le_mkdir_p (checkpoints_dir, err))
    return false;
  char final_dir[4096], tmp_dir[4096], old_dir[4096], file[4200];
  snprintf (final_dir, sizeof final_dir, "%s/step-%06lld", checkpoints_dir, (long long) s->step);
  snprintf (tmp_dir, sizeof tmp_dir, "%s/.tmp-step-%06lld", checkpoints_dir, (long long) s->step);
  snprintf (old_dir, sizeof old_dir, "%s/.old-step-%06lld", checkpoints_dir, (long long) s->step);
  snprintf (file, sizeof file, "%s/" LE_CHECKPOINT_FILE, tmp_dir);
  if (!remove_tree (tmp_dir, 0, err))
    return false;
  if (mkdir (tmp_dir, 0777) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot create: %s", tmp_dir, strerror (errno));

  kv meta[32];
  size_t n_meta = 0;
  put (meta, &n_meta, "format", FORMAT_NAME);
  put (meta, &n_meta, "format_version", FORMAT_VERSION);
  put (meta, &n_meta, "step", "%" PRId64, s->step);
  put (meta, &n_meta, "epoch", "%" PRId64, s->epoch);
  put (meta, &n_meta, "epoch_position", "%" PRId64, s->epoch_position);
  put (meta, &n_meta, "data_seed", "%" PRIu64, s->data_seed);
  put (meta, &n_meta, "rng_state", "%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64,
       s->rng_state[0], s->rng_state[1], s->rng_state[2], s->rng_state[3]);
  put (meta, &n_meta, "loss_scale", "%.17g", s->loss_scale);
  put (meta, &n_meta, "loss_scale_good_steps", "%" PRId64, s->loss_scale_good_steps);
  put (meta, &n_meta, "scheduler", "%s", le_sched_kind_name (s->scheduler.kind));
  put (meta, &n_meta, "scheduler_base_lr", "%.17g", s->scheduler.base_lr);
  put (meta, &n_meta, "scheduler_warmup_steps", "%" PRId64, s->scheduler.warmup_steps);
  put (meta, &n_meta, "scheduler_total_steps", "%" PRId64, s->scheduler.total_steps);
  put (meta, &n_meta, "scheduler_num_cycles", "%.17g", s->scheduler.num_cycles);
  if (opt != NULL)
    {
      put (meta, &n_meta, "adamw_step", "%" PRId64, opt->step);
      put (meta, &n_meta, "adamw_beta1", "%.17g", opt->hp.beta1);
      put (meta, &n_meta, "adamw_beta2", "%.17g", opt->hp.beta2);
      put (meta, &n_meta, "adamw_eps", "%.17g", opt->hp.eps);
      put (meta, &n_meta, "adamw_weight_decay", "%.17g", opt->hp.weight_decay);
    }
  st_write_meta wm[32];
  for (size_t i = 0; i < n_meta; i++)
    wm[i] = (st_write_meta) { meta[i].key, meta[i].value };

  st_write_tensor *all = le_calloc (n_weights + 2, sizeof *all, "checkpoint tensors", err);
  if (all == NULL)
    return false;
  memcpy (all, weights, n_weights * sizeof *all);
  size_t n_all = n_weights;
  if (opt != NULL)
    {
      all[n_all++] = (st_write_tensor) { .name = M_NAME, .dtype = ST_F32, .ndim = 1,
                                         .shape = { (int64_t) opt->n }, .data = opt->m };
      all[n_all++] = (st_write_tensor) { .name = V_NAME, .dtype = ST_F32, .ndim = 1,
                                         .shape = { (int64_t) opt->n }, .data = opt->v };
    }
  bool ok = st_write (file, all, n_all, wm, n_meta, err);
  free (all);
  ok = ok && (extra == NULL || extra (extra_user, tmp_dir, err));
  ok = ok && le_fsync_dir (tmp_dir, err);
  if (!ok)
    {
      remove_tree (tmp_dir, 0, NULL);
      return le_error_prefix (err, "saving checkpoint %s", final_dir);
    }
  /* Saving a step that exists (a resumed run passing it again): move the old one aside
   * first, since rename cannot replace a non-empty folder. */
  struct stat st;
  bool had_old = stat (final_dir, &st) == 0;
  if (had_old)
    {
      remove_tree (old_dir, 0, NULL);
      if (rename (final_dir, old_dir) != 0)
        return le_fail (err, LE_ERR_IO, "%s: cannot replace: %s", final_dir, strerror (errno));
    }
  if (rename (tmp_dir, final_dir) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot rename to %s: %s", tmp_dir, final_dir,
                    strerror (errno));
  if (!le_fsync_dir (checkpoints_dir, err))
    return false;
  if (had_old && !remove_tree (old_dir, 0, err))
    return false;
  if (out_dir != NULL)
    snprintf (out_dir, out_dir_len, "%s", final_dir);
  if (keep_last > 0)
    return le_checkpoint_prune (checkpoints_dir, keep_last, err);
  return true;
}

static bool
meta_i64 (const le_checkpoint *ck, const char *key, int64_t *out, le_error *err)
{
  const char *v = st_metadata_get (ck->file, key);
  char *end;
  errno = 0;
  long long x = v ? strtoll (v, &end, 10) : 0;
  if (v == NULL || *v == '\0' || *end != '\0' || errno != 0)
    return le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint state has no valid \"%s\"; the "
                    "checkpoint is damaged, delete it to resume from an earlier one", ck->dir, key);
  *out = x;
  return true;
}

static bool
meta_u64 (const le_checkpoint *ck, const char *key, uint64_t *out, le_error *err)
{
  const char *v = st_metadata_get (ck->file, key);
  char *end;
  errno = 0;
  unsigned long long x = v ? strtoull (v, &end, 10) : 0;
  if (v == NULL || *v < '0' || *v > '9' || *end != '\0' || errno != 0)
    return le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint state has no valid \"%s\"; the "
                    "checkpoint is damaged, delete it to resume from an earlier one", ck->dir, key);
  *out = x;
  return true;
}

static bool
meta_f64 (const le_checkpoint *ck, const char *key, double *out, le_error *err)
{
  const char *v = st_metadata_get (ck->file, key);
  char *end;
  double x = v ? strtod (v, &end) : 0;
  if (v == NULL || *v == '\0' || *end != '\0')
    return le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint state has no valid \"%s\"; the "
                    "checkpoint is damaged, delete it to resume from an earlier one", ck->dir, key);
  *out = x;
  return true;
}

bool
le_checkpoint_load (const char *step_dir, le_checkpoint *ck, le_error *err)
{
  memset (ck, 0, sizeof *ck);
  ck->dir = strdup (step_dir);
  char file[4200];
  snprintf (file, sizeof file, "%s/" LE_CHECKPOINT_FILE, step_dir);
  ck->file = ck->dir ? st_open (file, err) : NULL;
  if (ck->file == NULL)
    {
      le_checkpoint_close (ck);
      return le_error_prefix (err, "checkpoint %s is damaged or incomplete (delete it to "
                              "resume from an earlier one)", step_dir);
    }
  le_train_state *s = &ck->state;
  const char *format = st_metadata_get (ck->file, "format");
  const char *version = st_metadata_get (ck->file, "format_version");
  const char *sched = st_metadata_get (ck->file, "scheduler");
  const char *rng = st_metadata_get (ck->file, "rng_state");
  bool ok = true;
  if (format == NULL || strcmp (format, FORMAT_NAME) != 0)
    ok = le_fail (err, LE_ERR_FORMAT, "%s: not a LoRA Studio checkpoint", file);
  else if (version == NULL || strcmp (version, FORMAT_VERSION) != 0)
    ok = le_fail (err, LE_ERR_UNSUPPORTED, "%s: checkpoint format version %s is not supported "
                  "by this engine (it reads version " FORMAT_VERSION ")", file, version ? version : "?");
  ok = ok && meta_i64 (ck, "step", &s->step, err) && meta_i64 (ck, "epoch", &s->epoch, err)
       && meta_i64 (ck, "epoch_position", &s->epoch_position, err)
       && meta_u64 (ck, "data_seed", &s->data_seed, err) && meta_f64 (ck, "loss_scale", &s->loss_scale, err)
       && meta_f64 (ck, "scheduler_base_lr", &s->scheduler.base_lr, err)
       && meta_i64 (ck, "scheduler_warmup_steps", &s->scheduler.warmup_steps, err)
       && meta_i64 (ck, "scheduler_total_steps", &s->scheduler.total_steps, err)
       && meta_f64 (ck, "scheduler_num_cycles", &s->scheduler.num_cycles, err);
  /* written since fp16 loss scaling; older checkpoints start counting again */
  if (ok && st_metadata_get (ck->file, "loss_scale_good_steps") != NULL)
    ok = meta_i64 (ck, "loss_scale_good_steps", &s->loss_scale_good_steps, err);
  if (ok && (sched == NULL || !le_sched_kind_from_name (sched, &s->scheduler.kind, err)))
    ok = le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint has no valid scheduler", file);
  if (ok && (rng == NULL
             || sscanf (rng, "%16" SCNx64 ",%16" SCNx64 ",%16" SCNx64 ",%16" SCNx64,
                        &s->rng_state[0], &s->rng_state[1], &s->rng_state[2], &s->rng_state[3]) != 4))
    ok = le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint has no valid rng_state", file);
  const st_tensor *m = st_find (ck->file, M_NAME), *v = st_find (ck->file, V_NAME);
  if (ok && (m != NULL || v != NULL))
    {
      if (m == NULL || v == NULL || m->dtype != ST_F32 || v->dtype != ST_F32
          || m->ndim != 1 || v->ndim != 1 || m->numel != v->numel)
        ok = le_fail (err, LE_ERR_FORMAT, "%s: the optimizer state is incomplete", file);
      ck->has_optimizer = ok;
      ok = ok && meta_i64 (ck, "adamw_step", &ck->adamw_step, err)
           && meta_f64 (ck, "adamw_beta1", &ck->adamw.beta1, err)
           && meta_f64 (ck, "adamw_beta2", &ck->adamw.beta2, err)
           && meta_f64 (ck, "adamw_eps", &ck->adamw.eps, err)
           && meta_f64 (ck, "adamw_weight_decay", &ck->adamw.weight_decay, err);
    }
  if (!ok)
    {
      le_checkpoint_close (ck);
      return false;
    }
  return true;
}

void
le_checkpoint_close (le_checkpoint *ck)
{
  st_close (ck->file);
  free (ck->dir);
  memset (ck, 0, sizeof *ck);
}

bool
le_checkpoint_restore_optimizer (const le_checkpoint *ck, le_adamw *opt, le_error *err)
{
  if (!ck->has_optimizer)
    return le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint holds no optimizer state", ck->dir);
  const st_tensor *m = st_find (ck->file, M_NAME), *v = st_find (ck->file, V_NAME);
  if (m->numel != opt->n)
    return le_fail (err, LE_ERR_INVALID, "%s: the checkpoint's optimizer has %llu values but this "
                    "run trains %zu parameters; the config changed (rank or target modules?) since "
                    "it was saved", ck->dir, (unsigned long long) m->numel, opt->n);
  memcpy (opt->m, m->data, m->nbytes);
  memcpy (opt->v, v->data, v->nbytes);
  opt->step = ck->adamw_step;
  opt->hp = ck->adamw;
  return true;
}

bool
le_checkpoint_load_latest (const char *checkpoints_dir, le_checkpoint *ck, bool *found,
                           char *skipped, size_t skipped_len, le_error *err)
{
  *found = false;
  if (skipped != NULL && skipped_len > 0)
    skipped[0] = '\0';
  int64_t *steps;
  size_t n;
  if (!list_steps (checkpoints_dir, &steps, &n, err))
    return false;
  le_error first = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/step-%06lld", checkpoints_dir, (long long) steps[i]);
      le_error e = { 0 };
      if (le_checkpoint_load (dir, ck, &e))
        {
          *found = true;
          free (steps);
          return true;
        }
      if (i == 0)
        first = e;
      if (skipped != NULL && skipped_len > 0)
        {
          size_t used = strlen (skipped);
          snprintf (skipped + used, skipped_len - used, "%sskipped damaged checkpoint: %s",
                    used ? "\n" : "", e.message);
        }
    }
  free (steps);
  if (n > 0)
    return le_fail (err, first.code, "no usable checkpoint in %s; the newest failed with: %s",
                    checkpoints_dir, first.message);
  return true;
}

bool
le_checkpoint_prune (const char *checkpoints_dir, int keep_last, le_error *err)
{
  int64_t *steps;
  size_t n;
  if (!list_steps (checkpoints_dir, &steps, &n, err))
    return false;
  /* Newest first: count the checkpoints that load; once KEEP_LAST are kept, everything
   * older goes. A damaged newer one does not count, so it never pushes out a good one. */
  bool ok = true;
  int kept = 0;
  for (size_t i = 0; i < n && ok && keep_last > 0; i++)
    {
      char dir[4096];
      snprintf (dir, sizeof dir, "%s/step-%06lld", checkpoints_dir, (long long) steps[i]);
      if (kept >= keep_last)
        {
          ok = remove_tree (dir, 0, err);
          continue;
        }
      le_checkpoint ck;
      if (le_checkpoint_load (dir, &ck, NULL))
        {
          kept++;
          le_checkpoint_close (&ck);
        }
    }
  free (steps);
  /* Temp folders of saves that crashed. */
  DIR *d = ok ? opendir (checkpoints_dir) : NULL;
  struct dirent *e;
  while (d != NULL && ok && (e = readdir (d)) != NULL)
    if (strncmp (e->d_name, ".tmp-step-", 10) == 0 || strncmp (e->d_name, ".old-step-", 10) == 0)
      {
        char dir[4096];
        snprintf (dir, sizeof dir, "%s/%s", checkpoints_dir, e->d_name);
        ok = remove_tree (dir, 0, err);
      }
  if (d != NULL)
    closedir (d);
  return ok;
}
