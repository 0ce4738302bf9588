/* trainer.c: the training loop (see trainer.h). */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "grad.h"
#include "ops.h"
#include "trainer-private.h"

void
le_trainer_options_default (le_trainer_options *opt)
{
  *opt = (le_trainer_options) {
    .epochs = 10, .batch_size = 1, .grad_accum = 1, .max_train_steps = 0,
    .save_steps = 100, .sample_every = 100, .warmup_steps = 0,
    .learning_rate = 1e-4, .weight_decay = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
    .max_grad_norm = 1.0, .num_cycles = 1.0, .scheduler = "cosine", .precision = "no",
    .seed = 42, .device_name = "cpu",
  };
}

static int64_t
batches_per_epoch (const le_trainer_options *opt, int64_t n_samples)
{
  return (n_samples + opt->batch_size - 1) / opt->batch_size;
}

int64_t
le_trainer_total_steps (const le_trainer_options *opt, int64_t n_samples)
{
  int64_t batches = batches_per_epoch (opt, n_samples);
  int64_t per_epoch = (batches + opt->grad_accum - 1) / opt->grad_accum;
  int64_t total = per_epoch * opt->epochs;
  if (opt->max_train_steps > 0 && opt->max_train_steps < total)
    total = opt->max_train_steps;
  return total;
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
log_info (const le_run_hooks *hooks, const char *level, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

static void
log_info (const le_run_hooks *hooks, const char *level, const char *fmt, ...)
{
  char msg[1400];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  hooks->log (hooks->user, level, msg);
}

static void
on_sample_file (void *user, int64_t step, const char *path, const char *prompt)
{
  const le_run_hooks *hooks = user;
  hooks->sample (hooks->user, step, path, prompt);
}

/* One micro-batch: forward, scaled backward (gradients add up in the param store).
 * *LOSS gets the unscaled loss value. */
static bool
micro_step (trainer_run *run, graph *g, const int64_t *idx, int64_t n, float scale,
            uint64_t micro_index, bool inject_nan, double *loss, le_error *err)
{
  graph_reset (g);
  graph_set_grad_enabled (g, true);
  graph_set_training (g, true);
  graph_set_rng (g, run->data_seed ^ 0x5eedd20u, micro_index << 32);
  tensor *l = run->model->forward_loss (run->model->self, g, idx, n);
  if (l != NULL && inject_nan)
    l = op_scale (g, l, NAN);
  if (l == NULL)
    return graph_take_error (g, err);
  *loss = graph_item (g, l);
  tensor *scaled = op_scale (g, l, scale);
  return graph_backward (g, scaled, err);
}

typedef struct {
  trainer_run run;
  graph *g;
  le_metrics_log metrics;
  le_tfevents events;
  bool metrics_open, events_open;
  int64_t *order;
} trainer_ctx;

static le_run_status
fail (trainer_ctx *c, const char *code, le_error *src, le_error *err)
{
  c->run.hooks->error (c->run.hooks->user, code, src->message);
  if (err != NULL && err != src)
    *err = *src;
  return LE_RUN_FAILED;
}

static const char *
error_code_word (const le_error *e)
{
  switch (e->code)
    {
    case LE_ERR_NUMERIC: return "non-finite";
    case LE_ERR_MEMORY: return "out-of-memory";
    case LE_ERR_IO: return "io";
    case LE_ERR_DEVICE: return "device";
    default: return "training";
    }
}

static bool
checkpoint_now (trainer_ctx *c, le_trainer_result *result, le_error *e)
{
  char dir[1200];
  if (!trainer_save_checkpoint (&c->run, dir, sizeof dir, e))
    return false;
  snprintf (result->last_checkpoint, sizeof result->last_checkpoint, "%s", dir);
  c->run.hooks->checkpoint (c->run.hooks->user, c->run.step, dir);
  return true;
}

static bool
sample_now (trainer_ctx *c, le_error *e)
{
  const le_train_model *m = c->run.model;
  if (m->sample == NULL)
    return true;
  char dir[1200];
  snprintf (dir, sizeof dir, "%s/samples", c->run.opt->output_dir);
  if (!le_mkdir_p (dir, e))
    return false;
  bool ok = m->sample (m->self, c->g, c->run.step, dir, on_sample_file,
                       (void *) c->run.hooks, e);
  graph_reset (c->g);
  return ok;
}

/* True once after someone asked for previews now (le_run_hooks.sample_wanted). */
static bool
sample_wanted (const le_run_hooks *hooks)
{
  return hooks->sample_wanted != NULL && hooks->sample_wanted (hooks->user);
}

/* sample_now, then the answer to whoever ASKED for it. */
static bool
sample_answered (trainer_ctx *c, bool asked, le_error *e)
{
  bool ok = sample_now (c, e);
  if (asked && c->run.hooks->sample_drawn != NULL)
    c->run.hooks->sample_drawn (c->run.hooks->user, ok);
  return ok;
}

static bool
has_checkpoints (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *ent;
  bool found = false;
  while (d != NULL && !found && (ent = readdir (d)) != NULL)
    found = strncmp (ent->d_name, "step-", 5) == 0;
  if (d != NULL)
    closedir (d);
  return found;
}

/* Sets up logs, optimizer and (when resuming) the saved state. */
static bool
setup (trainer_ctx *c, le_error *e)
{
  trainer_run *run = &c->run;
  const le_trainer_options *opt = run->opt;
  const param_store *ps = run->model->params;

  if (run->model->n_samples <= 0)
    return le_fail (e, LE_ERR_INVALID, "the dataset has no samples to train on");
  if (ps->n_train <= 0)
    return le_fail (e, LE_ERR_INVALID, "the model has no trainable parameters");
  int64_t end = 0;
  for (int i = 0; i < run->model->n_groups; i++)
    {
      const le_param_group *gr = &run->model->groups[i];
      if (gr->offset < end || gr->count < 0 || gr->offset + gr->count > ps->n_train)
        return le_fail (e, LE_ERR_INVALID, "parameter group %d (%lld + %lld) is out of order "
                        "or outside the %lld trainable values", i, (long long) gr->offset,
                        (long long) gr->count, (long long) ps->n_train);
      end = gr->offset + gr->count;
    }
  if (!le_mkdir_p (opt->output_dir, e))
    return false;
  snprintf (run->checkpoints_dir, sizeof run->checkpoints_dir, "%s/checkpoints",
            opt->output_dir);

  le_sched_kind kind;
  if (!le_sched_kind_from_name (opt->scheduler, &kind, e))
    return false;
  run->sched = (le_scheduler) {
    .kind = kind, .base_lr = opt->learning_rate, .warmup_steps = opt->warmup_steps,
    .total_steps = le_trainer_total_steps (opt, run->model->n_samples),
    .num_cycles = kind == LE_SCHED_COSINE_WITH_RESTARTS ? opt->num_cycles : 0,
  };
  le_adamw_hparams hp = { opt->beta1, opt->beta2, opt->eps, opt->weight_decay };
  if (!le_adamw_init (&run->adamw, (size_t) ps->n_train, hp, e))
    return false;
  run->host_params = le_malloc ((size_t) ps->n_train * sizeof (float), "parameters", e);
  c->order = le_malloc ((size_t) run->model->n_samples * sizeof (int64_t), "data order", e);
  if (run->host_params == NULL || c->order == NULL)
    return false;

  le_loss_scaler_init (&run->scaler, opt->precision != NULL && strcmp (opt->precision, "fp16") == 0);
  if (ps->be->device != LE_CPU)
    {
      /* the optimizer runs where the parameters are: moments and the norm on the device */
      size_t bytes = 2 * (size_t) ps->n_train * sizeof (float);
      run->dev_moments = ps->be->alloc (bytes, e);
      run->dev_scalar = ps->be->alloc (sizeof (float), e);
      if (run->dev_moments == NULL || run->dev_scalar == NULL)
        return le_error_prefix (e, "optimizer state on %s", ps->be->name);
      ps->be->memset_zero (run->dev_moments, bytes);
    }

  run->data_seed = opt->seed;
  run->rng_state[0] = opt->seed;
  if (opt->resume != NULL && !trainer_restore (run, opt->resume, e))
    return false;
  if (opt->resume == NULL && has_checkpoints (run->checkpoints_dir))
    log_info (run->hooks, "warning",
              "%s already holds checkpoints of an earlier run; they are kept (those at the "
              "steps this run saves are replaced); to continue that run instead, resume it",
              run->checkpoints_dir);

  /* metrics.jsonl appends: a resumed run continues the file of the run it resumes */
  char path[1200];
  snprintf (path, sizeof path, "%s/metrics.jsonl", opt->output_dir);
  if (opt->resume == NULL && unlink (path) != 0 && errno != ENOENT)
    return le_fail (e, LE_ERR_IO, "%s: cannot replace the old metrics log: %s", path,
                    strerror (errno));
  if (!le_metrics_open (&c->metrics, path, e))
    return false;
  c->metrics_open = true;
  char log_dir[1200];
  if (opt->log_dir != NULL)
    snprintf (log_dir, sizeof log_dir, "%s", opt->log_dir);
  else
    snprintf (log_dir, sizeof log_dir, "%s/logs", opt->output_dir);
  if (!le_tfevents_open (&c->events, log_dir, e))
    return false;
  c->events_open = true;

  c->g = graph_new (run->model->params->be, e);
  return c->g != NULL;
}

/* The norm of the (loss-scaled) gradients: on the host, or on the device with
 * be->sumsq and one float read back. */
static bool
grad_norm (trainer_run *run, double *norm, le_error *e)
{
  param_store *ps = run->model->params;
  if (run->dev_moments == NULL)
    {
      *norm = sqrt (le_grad_sumsq (ps->train_grad, (size_t) ps->n_train));
      return true;
    }
  float sumsq = 0;
  ps->be->sumsq (run->dev_scalar, ps->train_grad, ps->n_train);
  ps->be->copy_d2h (&sumsq, run->dev_scalar, sizeof sumsq);
  if (!ps->be->sync (e))
    return false;
  *norm = sqrt ((double) sumsq);
  return true;
}

/* AdamW on elements [OFF, OFF + CNT) with rate LR; the gradients are multiplied by
 * GRAD_FACTOR (clipping, and 1 / loss scale) on the way. The host path scales the
 * gradients in place as before; the device path passes the factor to be->adamw, which
 * keeps parameters, gradients and moments in device memory. */
static void
adamw_slice (trainer_run *run, size_t off, size_t cnt, double lr, float grad_factor)
{
  param_store *ps = run->model->params;
  if (cnt == 0)
    return;
  if (run->dev_moments == NULL)
    {
      le_adamw_update (&run->adamw, off, cnt, ps->train_data + off, ps->train_grad + off, lr);
      return;
    }
  const le_adamw_hparams *hp = &run->adamw.hp;
  double t = (double) run->adamw.step;
  float *m = run->dev_moments, *v = run->dev_moments + run->adamw.n;
  ps->be->adamw (ps->train_data + off, ps->train_grad + off, m + off, v + off, (int64_t) cnt,
                 (float) lr, (float) hp->beta1, (float) hp->beta2, (float) hp->eps,
                 (float) hp->weight_decay, (float) (1.0 - pow (hp->beta1, t)),
                 (float) (1.0 - pow (hp->beta2, t)), grad_factor);
}

/* Gradient check, loss-scale bookkeeping, clipping and the AdamW step on the flat vector,
 * where the parameters live (host or device). *STEPPED is false when an fp16 overflow
 * skipped the step. */
static bool
optimizer_step (trainer_ctx *c, double loss, double lr, bool *stepped, le_error *e)
{
  trainer_run *run = &c->run;
  param_store *ps = run->model->params;
  size_t n = (size_t) ps->n_train;
  double scaled_norm;
  *stepped = false;
  if (!grad_norm (run, &scaled_norm, e))
    return false;
  double norm = scaled_norm / run->scaler.scale;
  if (isfinite (loss) && run->scaler.enabled)
    {
      /* overflow as an F32 sum of squares sees it, on the host as on the device */
      bool finite = scaled_norm * scaled_norm <= FLT_MAX;
      bool step;
      if (!le_loss_scaler_update (&run->scaler, finite, &step, e))
        return le_error_prefix (e, "step %lld", (long long) run->step + 1);
      if (!step)
        {
          /* fp16 overflow: drop these gradients, try again with half the scale */
          param_store_zero_grad (ps);
          return true;
        }
    }
  if (!le_check_finite (loss, norm, run->step + 1, lr, run->opt->precision, e))
    return false;
  double coef = le_clip_coef (norm, run->opt->max_grad_norm);
  float factor = (float) (coef / run->scaler.scale);
  if (run->dev_moments == NULL && factor != 1.0f)
    le_grad_scale (ps->train_grad, n, factor);
  const le_train_model *m = run->model;
  le_adamw_begin_step (&run->adamw);
  if (m->n_groups == 0)
    adamw_slice (run, 0, n, lr, factor);
  else
    {
      /* every element steps once: the groups' slices with their rates, the rest with
       * the run's rate, in order */
      double sched = le_scheduler_factor (&run->sched, run->step);
      size_t done = 0;
      for (int i = 0; i < m->n_groups; i++)
        {
          size_t off = (size_t) m->groups[i].offset, cnt = (size_t) m->groups[i].count;
          if (off > done)
            adamw_slice (run, done, off - done, lr, factor);
          adamw_slice (run, off, cnt, sched * m->groups[i].learning_rate, factor);
          done = off + cnt;
        }
      if (done < n)
        adamw_slice (run, done, n - done, lr, factor);
    }
  param_store_zero_grad (ps);
  *stepped = true;
  return ps->be->sync (e);
}

static le_run_status
stop_now (trainer_ctx *c, le_trainer_result *result, le_error *e, le_error *err)
{
  if (c->run.hooks->save_on_stop (c->run.hooks->user) && c->run.step > 0
      && !checkpoint_now (c, result, e))
    return fail (c, "checkpoint", e, err);
  log_info (c->run.hooks, "info", "stopped at step %lld", (long long) c->run.step);
  return LE_RUN_STOPPED;
}

static le_run_status
loop (trainer_ctx *c, le_trainer_result *result, le_error *err)
{
  trainer_run *run = &c->run;
  const le_trainer_options *opt = run->opt;
  const le_run_hooks *hooks = run->hooks;
  int64_t n_samples = run->model->n_samples;
  int64_t bpe = batches_per_epoch (opt, n_samples);
  int64_t total = run->sched.total_steps;
  int64_t start_step = run->step;
  double t0 = now_s ();
  le_error e = { 0 };
  int64_t order_epoch = -1;

  result->total_steps = total;
  while (run->step < total)
    {
      if (run->position >= bpe)
        {
          run->epoch++;
          run->position = 0;
        }
      if (!hooks->keep_going (hooks->user))
        return stop_now (c, result, &e, err);
      if (order_epoch != run->epoch)
        {
          le_trainer_epoch_order (run->data_seed, run->epoch, c->order, n_samples);
          order_epoch = run->epoch;
        }

      int64_t group = bpe - run->position < opt->grad_accum ? bpe - run->position
                                                             : opt->grad_accum;
      double loss_sum = 0;
      for (int64_t j = 0; j < group; j++)
        {
          int64_t first = (run->position + j) * opt->batch_size;
          int64_t n = n_samples - first < opt->batch_size ? n_samples - first
                                                          : opt->batch_size;
          double loss = 0;
          uint64_t micro = (uint64_t) (run->step * opt->grad_accum + j);
          bool nan = opt->fault_nan_step == run->step + 1;
          float scale = (float) (run->scaler.scale / (double) group);
          if (!micro_step (run, c->g, c->order + first, n, scale, micro, nan, &loss, &e))
            return fail (c, error_code_word (&e), &e, err);
          loss_sum += loss;
        }
      double loss = loss_sum / (double) group;
      double lr = le_scheduler_lr (&run->sched, run->step);
      bool stepped = false;
      if (!optimizer_step (c, loss, lr, &stepped, &e))
        {
          const char *kept = result->last_checkpoint[0] ? result->last_checkpoint
                                                        : run->resumed_from;
          if (kept[0] != '\0')
            {
              size_t len = strlen (e.message);
              snprintf (e.message + len, sizeof e.message - len, " (last good checkpoint: %.900s)",
                        kept);
            }
          return fail (c, error_code_word (&e), &e, err);
        }
      if (!stepped)
        log_info (hooks, "warning", "step %lld: fp16 gradients overflowed; the step is "
                  "skipped and the loss scale lowered to %g", (long long) run->step + 1,
                  run->scaler.scale);
      run->position += group;
      run->step++;
      result->steps_done = run->step;
      result->last_loss = loss;

      double elapsed = now_s () - t0;
      double it_s = elapsed > 0 ? (double) (run->step - start_step) / elapsed : 0;
      if (!le_metrics_write (&c->metrics, run->step, run->epoch + 1, loss, lr, elapsed, &e)
          || !le_tfevents_scalar (&c->events, "loss", run->step, (float) loss, &e)
          || !le_tfevents_scalar (&c->events, "lr", run->step, (float) lr, &e))
        return fail (c, "io", &e, err);
      le_run_progress p = {
        .step = run->step, .total = total, .epoch = (int) run->epoch + 1,
        .loss = loss, .lr = lr, .it_s = it_s,
        .eta_s = it_s > 0 ? (double) (total - run->step) / it_s : -1,
        .elapsed_s = elapsed, .memory_used = -1, .memory_total = -1,
        .device = opt->device_name,
      };
      const backend *be = run->model->params->be;
      size_t mem_used, mem_total;
      if (be->mem_info != NULL && be->mem_info (&mem_used, &mem_total))
        {
          p.memory_used = (long long) mem_used;
          p.memory_total = (long long) mem_total;
        }
      hooks->progress (hooks->user, &p);

      bool last = run->step == total;
      if (!last && opt->save_steps > 0 && run->step % opt->save_steps == 0
          && !checkpoint_now (c, result, &e))
        return fail (c, "checkpoint", &e, err);
      bool asked = !last && sample_wanted (hooks);
      if (((!last && opt->sample_every > 0 && run->step % opt->sample_every == 0) || asked)
          && !sample_answered (c, asked, &e))
        return fail (c, "sample", &e, err);
    }

  /* The end: the result, a final checkpoint (resumable, and a record of the weights), the
   * final samples. */
  if (run->model->save_output != NULL
      && !run->model->save_output (run->model->self, opt->output_dir, result->outputs,
                                   &result->n_outputs, &e))
    return fail (c, "output", &e, err);
  if (run->step > start_step)
    {
      if (!checkpoint_now (c, result, &e))
        return fail (c, "checkpoint", &e, err);
      if (!sample_answered (c, sample_wanted (hooks), &e))
        return fail (c, "sample", &e, err);
    }
  return LE_RUN_COMPLETED;
}

le_run_status
le_trainer_run (const le_train_model *model, const backend *be,
                const le_trainer_options *opt, const le_run_hooks *hooks,
                le_trainer_result *result, le_error *err)
{
  (void) be;  /* the model's param store says where its tensors live */
  trainer_ctx c;
  memset (&c, 0, sizeof c);
  memset (result, 0, sizeof *result);
  c.run.model = model;
  c.run.opt = opt;
  c.run.hooks = hooks;
  le_error e = { 0 };
  le_run_status status;

  if (!setup (&c, &e))
    status = fail (&c, error_code_word (&e), &e, err);
  else
    {
      if (c.run.resumed_from[0] != '\0')
        log_info (hooks, "info", "resuming from %s at step %lld", c.run.resumed_from,
                  (long long) c.run.step);
      status = loop (&c, result, err);
    }
  result->steps_done = c.run.step;
  if (c.metrics_open)
    le_metrics_close (&c.metrics);
  if (c.events_open)
    le_tfevents_close (&c.events);
  graph_free (c.g);
  le_adamw_free (&c.run.adamw);
  if (c.run.dev_moments != NULL)
    model->params->be->free (c.run.dev_moments);
  if (c.run.dev_scalar != NULL)
    model->params->be->free (c.run.dev_scalar);
  free (c.run.host_params);
  free (c.order);
  return status;
}
