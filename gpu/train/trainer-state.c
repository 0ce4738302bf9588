/* trainer-state.c: what the trainer puts into a checkpoint and takes back out: the
 * trainable tensors of a param_store (by name, F32), the AdamW moments and the run state
 * (checkpoint.h does the file format). Also the per-epoch data order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "math-common.h"
#include "trainer-private.h"

void
le_trainer_epoch_order (uint64_t data_seed, int64_t epoch, int64_t *order, int64_t n)
{
  /* Fisher-Yates with a counter-based generator: draw i depends only on (seed, epoch, i). */
  uint64_t key = le_splitmix64 (data_seed ^ le_splitmix64 ((uint64_t) epoch + 0x9e37u));
  for (int64_t i = 0; i < n; i++)
    order[i] = i;
  for (int64_t i = n - 1; i > 0; i--)
    {
      uint64_t r = le_splitmix64 (key + (uint64_t) i);
      int64_t j = (int64_t) (r % (uint64_t) (i + 1));
      int64_t t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
}

/* The trainable tensors of PS as checkpoint entries pointing into HOST, a host copy of
 * the flat vector. Returns the number of entries (allocated in *OUT). */
static int
weight_entries (const param_store *ps, const float *host, st_write_tensor **out,
                le_error *err)
{
  int n = 0;
  for (int i = 0; i < ps->n_tensors; i++)
    n += ps->tensors[i]->requires_grad ? 1 : 0;
  st_write_tensor *w = le_calloc ((size_t) (n > 0 ? n : 1), sizeof *w, "checkpoint list", err);
  if (w == NULL)
    return -1;
  int k = 0;
  for (int i = 0; i < ps->n_tensors; i++)
    {
      const tensor *t = ps->tensors[i];
      if (!t->requires_grad)
        continue;
      ptrdiff_t off = (const float *) t->data - ps->train_data;
      w[k].name = t->name;
      w[k].dtype = ST_F32;
      w[k].ndim = t->ndim;
      for (int d = 0; d < t->ndim; d++)
        w[k].shape[d] = t->shape[d];
      w[k].data = host + off;
      k++;
    }
  *out = w;
  return n;
}

bool
trainer_params_to_host (const param_store *ps, float *host)
{
  ps->be->copy_d2h (host, ps->train_data, (size_t) ps->n_train * sizeof (float));
  return true;
}

/* The run's output file(s) in the checkpoint folder DIR too, so that a checkpoint is a
 * LoRA that `sample`, the app's Generate and export can use as it is. save_output may name
 * the LoRA after the folder it writes into (kohya's ss_output_name), so it writes into a
 * subfolder named as the run's output folder and the files move up from there: the
 * checkpoint's LoRA carries the run's name, not the temp folder's. */
static bool
save_output_into (void *user, const char *dir, le_error *err)
{
  const trainer_run *run = user;
  const le_train_model *m = run->model;
  const char *out = run->opt->output_dir;
  const char *base = strrchr (out, '/');
  char sub[1400], paths[4][1024];
  int n = 0;

  base = base != NULL ? base + 1 : out;
  if (base[0] == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return m->save_output (m->self, dir, paths, &n, err)
           || le_error_prefix (err, "writing the LoRA file into the checkpoint");
  snprintf (sub, sizeof sub, "%s/%s", dir, base);
  if (mkdir (sub, 0777) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot create: %s", sub, strerror (errno));
  if (!m->save_output (m->self, sub, paths, &n, err))
    return le_error_prefix (err, "writing the LoRA file into the checkpoint");
  for (int i = 0; i < n; i++)
    {
      char to[1400];
      const char *name = strrchr (paths[i], '/');
      snprintf (to, sizeof to, "%s/%s", dir, name != NULL ? name + 1 : paths[i]);
      /* a path listed but not written (nothing to write) is not an error */
      if (rename (paths[i], to) != 0 && errno != ENOENT)
        return le_fail (err, LE_ERR_IO, "%s: cannot move into the checkpoint: %s", paths[i],
                        strerror (errno));
    }
  if (rmdir (sub) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot remove (the output hook wrote files it did "
                    "not list): %s", sub, strerror (errno));
  return true;
}

bool
trainer_save_checkpoint (trainer_run *run, char *out_dir, size_t out_len, le_error *err)
{
  const param_store *ps = run->model->params;
  trainer_params_to_host (ps, run->host_params);
  if (run->dev_moments != NULL)
    ps->be->copy_d2h (run->adamw.m, run->dev_moments, 2 * run->adamw.n * sizeof (float));
  if (!ps->be->sync (err))
    return le_error_prefix (err, "reading the weights back for a checkpoint");
  st_write_tensor *w = NULL;
  int n = weight_entries (ps, run->host_params, &w, err);
  if (n < 0)
    return false;
  le_train_state s = {
    .step = run->step,
    .epoch = run->epoch,
    .epoch_position = run->position,
    .data_seed = run->data_seed,
    .loss_scale = run->scaler.scale,
    .loss_scale_good_steps = run->scaler.good_steps,
    .scheduler = run->sched,
  };
  memcpy (s.rng_state, run->rng_state, sizeof s.rng_state);
  le_checkpoint_extra_fn extra = run->model->save_output != NULL ? save_output_into : NULL;
  bool ok = le_checkpoint_save_with (run->checkpoints_dir, &s, w, (size_t) n, &run->adamw,
                                     run->opt->keep_checkpoints, extra, run,
                                     out_dir, out_len, err);
  free (w);
  return ok;
}

/* Finds the checkpoint RESUME names: a step folder, a checkpoints folder, or an output
 * folder with checkpoints/ inside. */
static bool
load_resume (const char *resume, le_checkpoint *ck, le_error *err)
{
  char path[1200];
  struct stat st;
  snprintf (path, sizeof path, "%s/%s", resume, LE_CHECKPOINT_FILE);
  if (stat (path, &st) == 0)
    return le_checkpoint_load (resume, ck, err);

  char dir[1200];
  snprintf (dir, sizeof dir, "%s/checkpoints", resume);
  const char *where = stat (dir, &st) == 0 && S_ISDIR (st.st_mode) ? dir : resume;
  bool found = false;
  char skipped[1024] = "";
  if (!le_checkpoint_load_latest (where, ck, &found, skipped, sizeof skipped, err))
    return false;
  if (!found)
    return le_fail (err, LE_ERR_IO,
                    "%s: no checkpoint to resume from; checkpoints are written every "
                    "save_steps steps under output_dir/checkpoints/", where);
  return true;
}

bool
trainer_restore (trainer_run *run, const char *resume, le_error *err)
{
  le_checkpoint ck;
  memset (&ck, 0, sizeof ck);
  if (!load_resume (resume, &ck, err))
    return false;

  param_store *ps = run->model->params;
  bool ok = true;
  for (int i = 0; i < ps->n_tensors && ok; i++)
    {
      tensor *t = ps->tensors[i];
      if (!t->requires_grad)
        continue;
      const st_tensor *st = st_find (ck.file, t->name);
      ptrdiff_t off = (float *) t->data - ps->train_data;
      if (st == NULL)
        ok = le_fail (err, LE_ERR_FORMAT,
                      "%s: the checkpoint has no tensor %s; it was written for another "
                      "model or other target_modules", ck.dir, t->name);
      else
        ok = st_to_f32 (st, run->host_params + off, (uint64_t) t->numel, err)
             || le_error_prefix (err, "%s: tensor %s", ck.dir, t->name);
    }
  if (ok && !ck.has_optimizer)
    ok = le_fail (err, LE_ERR_FORMAT, "%s: the checkpoint has no optimizer state", ck.dir);
  if (ok)
    ok = le_checkpoint_restore_optimizer (&ck, &run->adamw, err);
  if (ok)
    {
      ps->be->copy_h2d (ps->train_data, run->host_params, (size_t) ps->n_train * sizeof (float));
      if (run->dev_moments != NULL)
        ps->be->copy_h2d (run->dev_moments, run->adamw.m, 2 * run->adamw.n * sizeof (float));
      ok = ps->be->sync (err);
    }
  if (ok)
    {
      /* a checkpoint of a run without loss scaling says 1: start scaling afresh then */
      if (run->scaler.enabled && ck.state.loss_scale > LE_LOSS_SCALE_MIN)
        {
          run->scaler.scale = ck.state.loss_scale;
          run->scaler.good_steps = ck.state.loss_scale_good_steps;
        }
      run->step = ck.state.step;
      run->epoch = ck.state.epoch;
      run->position = ck.state.epoch_position;
      run->data_seed = ck.state.data_seed;
      memcpy (run->rng_state, ck.state.rng_state, sizeof run->rng_state);
      snprintf (run->resumed_from, sizeof run->resumed_from, "%s", ck.dir);
    }
  le_checkpoint_close (&ck);
  return ok;
}
