/* test-trainer.c: the generic training loop (gpu/train/trainer.h) on a small model that
 * needs no files: a linear regression with dropout on its input, y = dropout(x) @ w^T.
 * Checks that steps lower the loss, the planned step count, that a run stopped and
 * resumed gives the same losses and weights bit for bit as one that ran straight through,
 * that a forced NaN stops the run with advice and leaves only good checkpoints, and
 * that stop without save_on_stop writes nothing. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io-test.h"
#include "ops.h"
#include "param-store.h"
#include "trainer.h"

#define N_SAMPLES 10
#define DIM 6

typedef struct {
  param_store *ps;
  tensor *w;                     /* (1, DIM) trainable */
  float x[N_SAMPLES][DIM], y[N_SAMPLES];
  float dropout;
} toy_model;

static tensor *
toy_forward_loss (void *self, graph *g, const int64_t *idx, int64_t n)
{
  toy_model *m = self;
  float xs[N_SAMPLES * DIM], ys[N_SAMPLES];
  for (int64_t i = 0; i < n; i++)
    {
      memcpy (xs + i * DIM, m->x[idx[i]], sizeof m->x[0]);
      ys[i] = m->y[idx[i]];
    }
  tensor *x = graph_from_host (g, LE_F32, 2, (int64_t[]) { n, DIM }, xs, "x");
  tensor *y = graph_from_host (g, LE_F32, 2, (int64_t[]) { n, 1 }, ys, "y");
  tensor *h = op_dropout (g, x, m->dropout);
  return op_mse (g, op_linear (g, h, m->w, NULL), y);
}

static bool
toy_save (void *self, const char *dir, char paths[][1024], int *n_paths, le_error *err)
{
  snprintf (paths[0], 1024, "%s/toy", dir);
  *n_paths = 1;
  return true;
}

static void
toy_init (toy_model *m, le_train_model *tm)
{
  memset (m, 0, sizeof *m);
  le_error err;
  m->ps = param_store_new (&backend_cpu, &err);
  m->w = param_store_add (m->ps, "w", LE_F32, 2, (int64_t[]) { 1, DIM }, true, &err);
  param_store_commit (m->ps, &err);
  memset (m->w->data, 0, DIM * sizeof (float));
  for (int i = 0; i < N_SAMPLES; i++)
    {
      m->y[i] = 0;
      for (int d = 0; d < DIM; d++)
        {
          m->x[i][d] = sinf ((float) (i * DIM + d) * 1.7f);
          m->y[i] += (float) (d + 1) * 0.3f * m->x[i][d];
        }
    }
  m->dropout = 0.1f;
  *tm = (le_train_model) {
    .self = m, .params = m->ps, .n_samples = N_SAMPLES,
    .forward_loss = toy_forward_loss, .save_output = toy_save,
  };
}

/* Hooks that record what the trainer reports and stop after stop_at steps. */
typedef struct {
  int64_t progress_steps, checkpoints, stop_at, last_step, earlier_run_warnings;
  bool save_on_stop;
  char error_code[64], error_msg[1024];
  double first_loss, last_loss;
} recorder;

static void
rec_progress (void *user, const le_run_progress *p)
{
  recorder *r = user;
  if (r->progress_steps++ == 0)
    r->first_loss = p->loss;
  r->last_loss = p->loss;
  r->last_step = p->step;
}
static void rec_sample (void *u, long long s, const char *p, const char *q) { }
static void
rec_checkpoint (void *user, long long step, const char *path)
{
  ((recorder *) user)->checkpoints++;
}
static void
rec_log (void *user, const char *level, const char *msg)
{
  if (strcmp (level, "warning") == 0 && strstr (msg, "earlier run") != NULL)
    ((recorder *) user)->earlier_run_warnings++;
}
static void
rec_error (void *user, const char *code, const char *msg)
{
  recorder *r = user;
  snprintf (r->error_code, sizeof r->error_code, "%s", code);
  snprintf (r->error_msg, sizeof r->error_msg, "%s", msg);
}
static bool
rec_keep_going (void *user)
{
  recorder *r = user;
  return r->stop_at <= 0 || r->last_step < r->stop_at;
}
static bool
rec_save_on_stop (void *user)
{
  return ((recorder *) user)->save_on_stop;
}

static le_run_hooks
hooks_for (recorder *r)
{
  return (le_run_hooks) { r, rec_progress, rec_sample, rec_checkpoint, rec_log, rec_error,
                          rec_keep_going, rec_save_on_stop, NULL, NULL };
}

/* A run of a fresh toy model M with options O, reported to R. */
static le_run_status
run_toy (toy_model *m, recorder *r, const le_trainer_options *o, le_trainer_result *res,
         le_error *err)
{
  le_train_model t;
  toy_init (m, &t);
  le_run_hooks h = hooks_for (r);
  return le_trainer_run (&t, &backend_cpu, o, &h, res, err);
}

static le_trainer_options
options (const char *out)
{
  le_trainer_options o;
  le_trainer_options_default (&o);
  o.output_dir = out;
  o.epochs = 4;
  o.batch_size = 3;
  o.grad_accum = 2;
  o.learning_rate = 0.05;
  o.warmup_steps = 2;
  o.save_steps = 3;
  o.sample_every = 0;
  o.seed = 7;
  return o;
}

/* Reads the losses of OUT/metrics.jsonl by step (a later line for a step wins). */
static int
read_losses (const char *out, char losses[][32], int max)
{
  char path[4200], line[512];
  snprintf (path, sizeof path, "%s/metrics.jsonl", out);
  FILE *f = fopen (path, "r");
  int n = 0;
  while (f != NULL && fgets (line, sizeof line, f))
    {
      long long step;
      char loss[32];
      if (sscanf (line, "{\"step\": %lld, \"epoch\": %*d, \"loss\": %31[^,],", &step, loss) == 2
          && step >= 1 && step <= max)
        {
          snprintf (losses[step - 1], 32, "%s", loss);
          if (step > n)
            n = (int) step;
        }
    }
  if (f)
    fclose (f);
  return n;
}

static bool
exists (const char *dir, const char *name)
{
  char p[4200];
  snprintf (p, sizeof p, "%s/%s", dir, name);
  return access (p, F_OK) == 0;
}

int
main (void)
{
  char *base = test_tmpdir ("trainer");
  char out_a[4200], out_b[4200], out_c[4200], out_d[4200];
  snprintf (out_a, sizeof out_a, "%s/a", base);
  snprintf (out_b, sizeof out_b, "%s/b", base);
  snprintf (out_c, sizeof out_c, "%s/c", base);
  snprintf (out_d, sizeof out_d, "%s/d", base);

  /* Planned steps: 10 samples in batches of 3 = 4 micro-batches, 2 per step = 2 steps
   * an epoch; max_train_steps caps it. */
  le_trainer_options o = options (out_a);
  tap_ok (le_trainer_total_steps (&o, N_SAMPLES) == 8, "4 epochs of 2 steps plan 8 steps");
  o.max_train_steps = 5;
  tap_ok (le_trainer_total_steps (&o, N_SAMPLES) == 5, "max_train_steps caps the total");
  o.grad_accum = 3;
  o.max_train_steps = 0;
  tap_ok (le_trainer_total_steps (&o, N_SAMPLES) == 8,
          "a partial accumulation group at the end of an epoch is a step");

  int64_t order[N_SAMPLES], order2[N_SAMPLES];
  le_trainer_epoch_order (7, 0, order, N_SAMPLES);
  le_trainer_epoch_order (7, 1, order2, N_SAMPLES);
  int seen = 0, same = 0;
  for (int i = 0; i < N_SAMPLES; i++)
    {
      seen |= 1 << order[i];
      same += order[i] == order2[i];
    }
  tap_ok (seen == (1 << N_SAMPLES) - 1 && same < N_SAMPLES,
          "each epoch's order is a permutation, different per epoch");

  /* A: straight through, longer, with a lower loss at the end. */
  toy_model ma;
  recorder ra = { 0 };
  o = options (out_a);
  o.epochs = 12;
  le_trainer_result res;
  le_error err = { 0 };
  le_run_status st = run_toy (&ma, &ra, &o, &res, &err);
  tap_ok (st == LE_RUN_COMPLETED, "an uninterrupted run completes (%s)", err.message);
  tap_ok (res.steps_done == 24 && ra.progress_steps == 24, "24 steps ran, 24 progress events");
  tap_ok (ra.last_loss < 0.5 * ra.first_loss, "training lowers the loss (%g -> %g)",
          ra.first_loss, ra.last_loss);
  tap_ok (ra.checkpoints == 8 && exists (out_a, "checkpoints/step-000003")
          && exists (out_a, "checkpoints/step-000024"),
          "a checkpoint every save_steps and one at the end (%lld)",
          (long long) ra.checkpoints);
  tap_ok (exists (out_a, "logs") && res.n_outputs == 1, "logs and the model's output");
  tap_ok (ra.earlier_run_warnings == 0, "a fresh output folder gets no warning");
  float wa[DIM];
  memcpy (wa, ma.w->data, sizeof wa);

  /* B: stop after 7 steps (checkpoint on stop), then resume to the end. */
  toy_model mb;
  recorder rb = { .stop_at = 7, .save_on_stop = true };
  o.output_dir = out_b;
  st = run_toy (&mb, &rb, &o, &res, &err);
  tap_ok (st == LE_RUN_STOPPED && res.steps_done == 7, "stop ends the run after 7 steps");
  tap_ok (exists (out_b, "checkpoints/step-000007"), "stop with save_on_stop checkpoints");

  toy_model mb2;
  recorder rb2 = { 0 };
  o.resume = out_b;  /* the output folder: its newest checkpoint */
  st = run_toy (&mb2, &rb2, &o, &res, &err);
  tap_ok (st == LE_RUN_COMPLETED && rb2.progress_steps == 17,
          "resume runs the 17 steps left (%s)", err.message);
  char la[24][32], lb[24][32];
  int na = read_losses (out_a, la, 24), nb = read_losses (out_b, lb, 24);
  int equal = 0;
  for (int i = 0; i < 24 && na == 24 && nb == 24; i++)
    equal += strcmp (la[i], lb[i]) == 0;
  tap_ok (equal == 24, "every logged loss after resuming equals the uninterrupted run's "
          "(%d of 24 equal; step 8: %s vs %s)", equal, la[7], lb[7]);
  tap_ok (memcmp (wa, mb2.w->data, sizeof wa) == 0, "final weights are bit-identical");

  /* C: a NaN at step 8 stops the run; checkpoints 3 and 6 stay, nothing after. */
  toy_model mc;
  recorder rc = { 0 };
  o = options (out_c);
  o.epochs = 12;
  o.fault_nan_step = 8;
  st = run_toy (&mc, &rc, &o, &res, &err);
  tap_ok (st == LE_RUN_FAILED && strcmp (rc.error_code, "non-finite") == 0,
          "a NaN loss fails the run with code non-finite (%s)", rc.error_code);
  tap_ok (strstr (rc.error_msg, "learning") != NULL && strstr (rc.error_msg, "step-000006"),
          "the message says what to try and names the kept checkpoint: %s", rc.error_msg);
  tap_ok (exists (out_c, "checkpoints/step-000006") && !exists (out_c, "checkpoints/step-000008")
          && rc.progress_steps == 7, "no checkpoint or progress after the NaN");
  bool finite = true;
  for (int d = 0; d < DIM; d++)
    finite = finite && isfinite (((float *) mc.w->data)[d]);
  tap_ok (finite, "the weights never took the NaN step");

  /* D: stop without save_on_stop leaves no checkpoint. */
  toy_model md;
  recorder rd = { .stop_at = 2 };
  o = options (out_d);
  st = run_toy (&md, &rd, &o, &res, &err);
  tap_ok (st == LE_RUN_STOPPED && !exists (out_d, "checkpoints/step-000002"),
          "stop without save_on_stop writes no checkpoint");

  /* A fresh run where an earlier one left checkpoints says so (and keeps them). */
  toy_model me;
  recorder re = { 0 };
  o = options (out_a);
  o.epochs = 1;
  st = run_toy (&me, &re, &o, &res, &err);
  tap_ok (st == LE_RUN_COMPLETED && re.earlier_run_warnings == 1
          && exists (out_a, "checkpoints/step-000024"),
          "a new run over an earlier run's checkpoints warns and keeps them");

  /* Parameter groups: the first half of w at learning rate 0 does not move (AdamW's
   * decay is scaled by the rate too), the rest trains at the run's rate. */
  toy_model mg;
  le_train_model tg;
  toy_init (&mg, &tg);
  le_param_group frozen_half = { .offset = 0, .count = DIM / 2, .learning_rate = 0.0 };
  tg.groups = &frozen_half;
  tg.n_groups = 1;
  float *wg = mg.w->data;
  for (int d = 0; d < DIM; d++)
    wg[d] = 0.25f;
  recorder rg = { 0 };
  le_run_hooks hg = hooks_for (&rg);
  char out_g[4200];
  snprintf (out_g, sizeof out_g, "%s/g", base);
  o = options (out_g);
  st = le_trainer_run (&tg, &backend_cpu, &o, &hg, &res, &err);
  bool first_still = true, rest_moved = true;
  for (int d = 0; d < DIM; d++)
    if (d < DIM / 2)
      first_still = first_still && wg[d] == 0.25f;
    else
      rest_moved = rest_moved && wg[d] != 0.25f;
  tap_ok (st == LE_RUN_COMPLETED && first_still && rest_moved,
          "a group at learning rate 0 stays, the rest trains");
  frozen_half.offset = DIM;
  st = le_trainer_run (&tg, &backend_cpu, &o, &hg, &res, &err);
  tap_ok (st == LE_RUN_FAILED && strstr (rg.error_msg, "parameter group 0") != NULL,
          "a group outside the parameters is refused: %s", rg.error_msg);

  /* Resuming from nothing is a clear error. */
  o.resume = out_d;
  rd = (recorder) { 0 };
  st = run_toy (&md, &rd, &o, &res, &err);
  tap_ok (st == LE_RUN_FAILED && strstr (rd.error_msg, "no checkpoint") != NULL,
          "resume without a checkpoint says so: %s", rd.error_msg);

  char cmd[4300];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", base);
  if (system (cmd) != 0)
    tap_diag ("could not remove %s", base);
  return tap_done ();
}
