/* test-cuda-train.c: training on the CUDA backend's code without a GPU. The CUDA kernels
 * run under the CPU emulator (backend_cuda, renamed backend_cuda_emu by the build), whose
 * "device" memory is recorded so that a copy in the wrong direction fails (emu/
 * cuda_runtime.h). Against backend_cpu on the same llama-tiny fixture:
 *   - one LoRA forward + backward (dropout on, B not zero so A gets gradients too) gives
 *     the same loss and LoRA gradients, for F32, BF16 and F16 frozen weights;
 *   - whole text LoRA runs (text_lora_run with the backend injected): the same losses
 *     per step, adapter and optimizer moments, with mixed_precision no (F32) and fp16
 *     (F16 weights, loss scaling on); the run reports device memory in its progress
 *     events and generates its sample on the device;
 *   - resuming on the device from a checkpoint continues to the uninterrupted losses;
 *   - fp16 loss scaling on a model whose scaled gradients overflow: the steps are skipped,
 *     the scale halves until they fit, then AdamW steps, and the scale is in the
 *     checkpoint (on both backends);
 *   - the SD 1.5 UNet (sd15-tiny) with LoRA and LoCon: one denoising MSE step gives the
 *     same loss and LoRA/LoCon gradients, for F32 and BF16 frozen weights;
 *   - no copy ever went in the wrong direction;
 *   - `lora-engine train --device cuda` without a usable GPU is an error naming why.
 * Built twice: against the emulator (never skipped: nothing needs a GPU), and against the
 * real backend_cuda in CUDA builds, where it skips without a usable GPU and is what
 * tests/gpu/device-check.sh runs on a lent one. Prints TAP. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run-test.h"   /* first: config.h before backend.h */
#include "checkpoint.h"
#include "llama-fixture.h"
#include "llama.h"
#include "loss-scale.h"
#include "ops.h"
#include "safetensors.h"
#include "sd-fixture.h"
#include "sd15.h"
#include "text-lora-run.h"
#include "trainer.h"

/* max |a - b| / max(max |a|, floor): a relative error that tolerates near-zero elements */
static double
rel_diff (const float *a, const float *b, int64_t n, double floor)
{
  double worst = 0, scale = floor;
  for (int64_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      if (!(d <= worst))
        worst = d;   /* NaN wins */
      if (fabs (a[i]) > scale)
        scale = fabs (a[i]);
    }
  return worst / scale;
}

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f == NULL || fputs (text, f) < 0 || fclose (f) != 0)
    {
      printf ("Bail out! cannot write %s\n", path);
      exit (1);
    }
}

/* ---- one forward + backward on each backend ---- */

static const char *const all_linear[] = { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                          "up_proj", "down_proj", NULL };

typedef struct {
  float loss;
  float *grads;
  int64_t n;
} step_result;

/* The next of a seeded sequence in [0, 1): inputs that both backends get alike. */
static float
lcg_next (uint64_t *s)
{
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (float) (*s >> 40) / (float) (1 << 24);
}

/* Gives every B of SET seeded values: B is zero at init, which would leave A without
 * gradient. */
static void
randomize_b (lora_set *set, uint64_t seed)
{
  param_store *ps = set->ps;
  float *host = calloc ((size_t) ps->n_train, sizeof *host);
  set->be->copy_d2h (host, ps->train_data, (size_t) ps->n_train * sizeof *host);
  for (int i = 0; i < set->n; i++)
    {
      tensor *b = set->items[i]->b;
      float *p = host + ((float *) b->data - ps->train_data);
      for (int64_t j = 0; j < b->numel; j++)
        p[j] = (lcg_next (&seed) - 0.5f) * 0.1f;
    }
  set->be->copy_h2d (ps->train_data, host, (size_t) ps->n_train * sizeof *host);
  free (host);
}

/* A graph that records for backward in training mode (dropout on), its RNG at SEED and
 * OFFSET so both backends draw the same masks. */
static graph *
training_graph (const backend *be, uint64_t seed, uint64_t offset)
{
  le_error e = { 0 };
  graph *g = graph_new (be, &e);
  if (g == NULL)
    bail ("graph", e.message);
  graph_set_grad_enabled (g, true);
  graph_set_training (g, true);
  graph_set_rng (g, seed, offset);
  return g;
}

/* Backward from LOSS (NULL when the forward failed, its error then in G), or bail out. */
static void
backward_or_bail (graph *g, tensor *loss, const char *what)
{
  le_error e = { 0 };
  if (loss == NULL || !graph_backward (g, loss, &e))
    {
      if (loss == NULL)
        graph_take_error (g, &e);
      bail (what, e.message);
    }
}

static step_result
model_step (const backend *be, const char *model_dir, int dtype)
{
  le_error e = { 0 };
  step_result r = { 0 };
  llama_model *m = llama_model_load (model_dir, dtype, be, &e);
  if (m == NULL)
    bail ("load", e.message);
  if (!llama_lora_attach (m, all_linear, 4, 8.0f, 0.1f, 7, &e))
    bail ("attach", e.message);
  /* B is zero at init, which would leave A without gradient: give every B values */
  randomize_b (m->lora, 99);
  param_store *ps = m->lora->ps;
  r.n = ps->n_train;
  float *host = calloc ((size_t) r.n, sizeof *host);

  enum { B = 2, T = 24 };
  int32_t tokens[B * T];
  uint8_t count[B * T];
  for (int i = 0; i < B * T; i++)
    {
      tokens[i] = (int32_t) ((i * 37 + 11) % (m->cfg.vocab - 2));
      count[i] = (i % T) != 0 && !(i / T == 1 && i % T >= T - 3);   /* a masked tail */
    }
  graph *g = training_graph (be, 11, 3ull << 32);
  tensor *loss = llama_forward_loss (m, g, tokens, count, B, T, NULL, NULL);
  backward_or_bail (g, loss, "forward/backward");
  r.loss = graph_item (g, loss);
  be->copy_d2h (host, ps->train_grad, (size_t) r.n * sizeof *host);
  if (!be->sync (&e))
    bail ("sync", e.message);
  r.grads = host;
  graph_free (g);
  llama_model_free (m);
  return r;
}

/* ---- the SD UNet: one LoRA + LoCon step on each backend ---- */

static step_result
unet_step (const backend *be, const char *model_dir, int dtype)
{
  le_error e = { 0 };
  step_result r = { 0 };
  sd15_model *m = sd15_model_load (model_dir, SD15_LOAD_UNET, dtype, be, &e);
  if (m == NULL)
    bail ("sd15 load", e.message);
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  lo.rank = 2;
  lo.conv_rank = 2;
  lo.dropout = 0.1f;
  lo.seed = 5;
  if (!sd15_lora_attach (m, &lo, &e))
    bail ("sd15 attach", e.message);
  randomize_b (m->lora_unet, 17);
  randomize_b (m->lora_conv, 23);

  const sd15_config *c = &m->cfg;
  int64_t side = 2 * sd15_unet_multiple (c), n_x = 2 * c->unet_in * side * side,
          n_ctx = 2 * 7 * c->cross_dim;
  float *x = malloc ((size_t) n_x * sizeof *x), *ctx = malloc ((size_t) n_ctx * sizeof *ctx),
        *target = malloc ((size_t) n_x * sizeof *target);
  uint64_t s = 1234;
  for (int64_t i = 0; i < n_x + n_ctx; i++)
    {
      float v = lcg_next (&s) * 2 - 1;
      if (i < n_x)
        x[i] = v, target[i] = -0.5f * v;
      else
        ctx[i - n_x] = v;
    }
  const float timesteps[2] = { 999, 250 };
  graph *g = training_graph (be, 4, 9ull << 32);
  int64_t xs[4] = { 2, c->unet_in, side, side }, cs[3] = { 2, 7, c->cross_dim };
  tensor *tx = graph_from_host (g, LE_F32, 4, xs, x, "x");
  tensor *tc = graph_from_host (g, LE_F32, 3, cs, ctx, "context");
  tensor *tt = graph_from_host (g, LE_F32, 4, xs, target, "target");
  tensor *out = sd15_unet_forward (m, g, tx, timesteps, tc);
  tensor *loss = out ? op_mse (g, out, tt) : NULL;
  backward_or_bail (g, loss, "unet forward/backward");
  r.loss = graph_item (g, loss);
  param_store *pa = m->lora_unet->ps, *pb = m->lora_conv->ps;
  r.n = pa->n_train + pb->n_train;
  r.grads = calloc ((size_t) r.n, sizeof (float));
  be->copy_d2h (r.grads, pa->train_grad, (size_t) pa->n_train * sizeof (float));
  be->copy_d2h (r.grads + pa->n_train, pb->train_grad, (size_t) pb->n_train * sizeof (float));
  if (!be->sync (&e))
    bail ("sync", e.message);
  graph_free (g);
  sd15_model_free (m);
  free (x);
  free (ctx);
  free (target);
  return r;
}

/* One step of STEP (model_step or unet_step) on the CPU with the weights as stored (KEEP)
 * and on the device in DT: the loss and every gradient agree within the tolerances. WHAT
 * names the model in the test lines, LOSS_NAME the loss, GRADS the gradients. */
static void
test_step (step_result (*step) (const backend *, const char *, int), int keep,
           const char *model_dir, le_dtype dt, const char *what, const char *loss_name,
           const char *grads, double loss_tol, double grad_tol)
{
  step_result a = step (cpu, model_dir, keep);
  step_result b = step (dev, model_dir, dt);
  double dl = fabs ((double) a.loss - b.loss) / fabs ((double) a.loss);
  tap_ok (isfinite (b.loss) && dl <= loss_tol, "%s%s weights: %s on the device %.7g, CPU "
          "%.7g (relative difference %.2g, tolerance %.0g)", what, dtype_name (dt), loss_name,
          b.loss, a.loss, dl, loss_tol);
  double nz = 0;
  for (int64_t i = 0; i < a.n; i++)
    nz += a.grads[i] != 0;
  double dg = rel_l2 (a.grads, b.grads, a.n), dm = rel_diff (a.grads, b.grads, a.n, 1e-12);
  tap_ok (a.n == b.n && nz > 0.9 * a.n && dg <= grad_tol,
          "%s%s weights: %lld %s (%.0f non-zero) agree to %.2g relative L2 (tolerance %.0g; "
          "worst element %.2g of the largest)", what, dtype_name (dt), (long long) a.n, grads,
          nz, dg, grad_tol, dm);
  free (a.grads);
  free (b.grads);
}

/* ---- whole runs ---- */

typedef struct {
  int progress, errors, skipped_warnings;
  long long memory_used, memory_total;
  char last_error[1400];
} run_log;

static void h_progress (void *u, const le_run_progress *p)
{
  run_log *l = u;
  l->progress++;
  l->memory_used = p->memory_used;
  l->memory_total = p->memory_total;
}
static void h_sample (void *u, long long s, const char *p, const char *q) { (void) u; (void) s; (void) p; (void) q; }
static void h_checkpoint (void *u, long long s, const char *p) { (void) u; (void) s; (void) p; }
static void
h_log (void *u, const char *level, const char *msg)
{
  run_log *l = u;
  if (strcmp (level, "warning") == 0 && strstr (msg, "overflowed") != NULL)
    l->skipped_warnings++;
}
static void
h_error (void *u, const char *code, const char *msg)
{
  run_log *l = u;
  l->errors++;
  snprintf (l->last_error, sizeof l->last_error, "%s: %s", code, msg);
}
static bool h_true (void *u) { (void) u; return true; }
static bool h_false (void *u) { (void) u; return false; }

static le_run_hooks
hooks_for (run_log *l)
{
  memset (l, 0, sizeof *l);
  return (le_run_hooks) { .user = l, .progress = h_progress, .sample = h_sample,
                          .checkpoint = h_checkpoint, .log = h_log, .error = h_error,
                          .keep_going = h_true, .save_on_stop = h_false };
}

static text_lora_options
run_options (const char *model_dir, const char *data_dir, const char *out, const char *precision)
{
  static const char *const targets[] = { "q_proj", "v_proj", "o_proj", "gate_proj", NULL };
  static const char *const prompts[] = { "the cat", NULL };
  text_lora_options o = {
    .base_model = model_dir, .train_data_dir = data_dir, .sequence_length = 32,
    .target_modules = targets, .rank = 4, .alpha = 8, .dropout = 0.1,
    .sample_prompts = prompts, .sample_max_tokens = 4, .sample_temperature = 0,
  };
  le_trainer_options_default (&o.train);
  o.train.output_dir = out;
  o.train.epochs = 1;
  o.train.batch_size = 2;
  o.train.grad_accum = 2;
  o.train.save_steps = 1;
  o.train.sample_every = 0;
  o.train.learning_rate = 2e-2;
  o.train.warmup_steps = 1;
  o.train.precision = precision;
  o.train.seed = 3;
  return o;
}

static le_run_status
run_on (const backend *be, text_lora_options *o, run_log *log)
{
  le_run_hooks hooks = hooks_for (log);
  le_trainer_result res;
  le_error e = { 0 };
  o->backend = be;
  le_run_status st = text_lora_run (o, &hooks, &res, &e);
  if (st != LE_RUN_COMPLETED)
    printf ("# %s run: %s\n", be->name, log->last_error);
  return st;
}

static void
test_runs (const char *model_dir, const char *data_dir, const char *tag, const char *precision,
           double loss_tol, double weight_tol)
{
  char out_c[400], out_d[400], p1[600], p2[600];
  snprintf (out_c, sizeof out_c, "%s/run-%s-cpu", tmp, tag);
  snprintf (out_d, sizeof out_d, "%s/run-%s-dev", tmp, tag);
  text_lora_options oc = run_options (model_dir, data_dir, out_c, precision);
  text_lora_options od = run_options (model_dir, data_dir, out_d, precision);
  run_log lc, ld;
  le_run_status sc = run_on (cpu, &oc, &lc), sd = run_on (dev, &od, &ld);
  tap_ok (sc == LE_RUN_COMPLETED && sd == LE_RUN_COMPLETED,
          "%s: the run completes on the CPU and on the emulated device", tag);

  double la[16] = { 0 }, lb[16] = { 0 };
  int na = read_losses (out_c, la, 16), nb = read_losses (out_d, lb, 16);
  double worst = na == nb && na > 0 ? 0 : INFINITY;
  for (int i = 0; i < na && i < nb; i++)
    {
      double d = fabs (la[i] - lb[i]) / fabs (la[i]);
      worst = d > worst || isnan (d) ? d : worst;
    }
  tap_ok (na == 3 && worst <= loss_tol, "%s: %d losses per step agree to %.2g (tolerance %.0g); "
          "first %.6f last %.6f", tag, nb, worst, loss_tol, lb[0], lb[nb > 0 ? nb - 1 : 0]);
  tap_ok (na == 3 && la[2] < la[0], "%s: training lowers the loss (%.5f -> %.5f)", tag, la[0], la[2]);

  int nt = 0;
  snprintf (p1, sizeof p1, "%s/adapter_model.safetensors", out_c);
  snprintf (p2, sizeof p2, "%s/adapter_model.safetensors", out_d);
  double dw = compare_st (p1, p2, NULL, &nt, NULL);
  tap_ok (nt > 0 && dw <= weight_tol, "%s: the %d adapter tensors written from device memory agree "
          "to %.2g (tolerance %.0g)", tag, nt, dw, weight_tol);
  snprintf (p1, sizeof p1, "%s/checkpoints/step-000002/checkpoint.safetensors", out_c);
  snprintf (p2, sizeof p2, "%s/checkpoints/step-000002/checkpoint.safetensors", out_d);
  double dc = compare_st (p1, p2, NULL, &nt, NULL);
  tap_ok (nt > 2 && dc <= weight_tol, "%s: checkpoint at step 2 (weights and AdamW m, v "
          "downloaded from the device) agrees to %.2g", tag, dc);
  le_error e = { 0 };
  st_file *ck = st_open (p2, &e);
  const char *scale = ck ? st_metadata_get (ck, "loss_scale") : NULL;
  bool fp16 = strcmp (precision, "fp16") == 0;
  tap_ok (scale != NULL && strcmp (scale, fp16 ? "65536" : "1") == 0,
          "%s: the checkpoint's loss scale is %s (fp16 scales from 65536, else 1)", tag,
          scale ? scale : "missing");
  if (ck)
    st_close (ck);

  tap_ok (ld.progress == 3 && ld.memory_used > 0 && ld.memory_total > ld.memory_used
          && lc.memory_used == -1,
          "%s: progress events carry device memory on the device (%lld of %lld bytes) and "
          "none on the CPU (%lld)", tag, ld.memory_used, ld.memory_total, lc.memory_used);

  snprintf (p1, sizeof p1, "%s/samples/step-000003.txt", out_c);
  snprintf (p2, sizeof p2, "%s/samples/step-000003.txt", out_d);
  struct stat st1, st2 = { 0 };
  bool both = stat (p1, &st1) == 0 && stat (p2, &st2) == 0;
  tap_ok (both && st2.st_size > 10, "%s: the final sample is generated on the device (%lld bytes)",
          tag, (long long) st2.st_size);

  if (strcmp (tag, "f32") == 0)
    {
      /* resume on the device from step 2: step 3 as in the uninterrupted run */
      char out_r[400], ck_dir[600];
      snprintf (out_r, sizeof out_r, "%s/run-%s-resumed", tmp, tag);
      snprintf (ck_dir, sizeof ck_dir, "%s/checkpoints/step-000002", out_d);
      text_lora_options orr = run_options (model_dir, data_dir, out_r, precision);
      orr.train.resume = ck_dir;
      run_log lr;
      le_run_status sr = run_on (dev, &orr, &lr);
      double lr_[16] = { 0 };
      int nr = read_losses (out_r, lr_, 16);
      double d3 = fabs (lr_[2] - lb[2]) / lb[2];
      tap_ok (sr == LE_RUN_COMPLETED && nr == 3 && d3 <= 1e-5,
              "resumed on the device at step 2 (moments uploaded): step 3 loses %.6f, "
              "uninterrupted %.6f", lr_[2], lb[2]);
      snprintf (p1, sizeof p1, "%s/adapter_model.safetensors", out_r);
      snprintf (p2, sizeof p2, "%s/adapter_model.safetensors", out_d);
      double dr = compare_st (p1, p2, NULL, &nt, NULL);
      tap_ok (nt > 0 && dr <= 1e-5, "resumed adapter equals the uninterrupted one (%.2g)", dr);
    }
}

/* ---- fp16 loss scaling on a model whose scaled gradients overflow ---- */

typedef struct {
  param_store *ps;
  tensor *w;
} toy;

/* loss = 4e15 * mean(w): each gradient is 1e15; times the scale its squares overflow
 * the F32 sum of squares (the gradient norm) at 65536, 32768 and 16384, and fit from 8192
 * down (4 * (8192e15)^2 < FLT_MAX). */
static tensor *
toy_loss (void *self, graph *g, const int64_t *idx, int64_t n)
{
  (void) idx;
  (void) n;
  toy *t = self;
  return op_scale (g, op_mean (g, t->w), 4e15f);
}

static void
test_loss_scaling (const backend *be)
{
  le_error e = { 0 };
  toy t = { 0 };
  t.ps = param_store_new (be, &e);
  t.w = param_store_add (t.ps, "w", LE_F32, 1, (int64_t[]) { 4 }, true, &e);
  if (t.w == NULL || !param_store_commit (t.ps, &e))
    bail ("toy", e.message);
  float w0[4] = { 0.5f, -0.25f, 1.0f, 2.0f }, w1[4];
  param_store_upload (t.ps, t.w, w0, sizeof w0, &e);
  le_train_model tm = { .self = &t, .params = t.ps, .n_samples = 8, .forward_loss = toy_loss };
  le_trainer_options opt;
  le_trainer_options_default (&opt);
  char out[400];
  snprintf (out, sizeof out, "%s/scale-%s", tmp, be->name);
  opt.output_dir = out;
  opt.epochs = 1;
  opt.batch_size = 1;
  opt.save_steps = 0;
  opt.sample_every = 0;
  opt.learning_rate = 0.1;
  opt.max_grad_norm = 0;
  opt.scheduler = "constant";
  opt.precision = "fp16";
  run_log log;
  le_run_hooks hooks = hooks_for (&log);
  le_trainer_result res;
  le_run_status st = le_trainer_run (&tm, be, &opt, &hooks, &res, &e);
  be->copy_d2h (w1, t.w->data, sizeof w1);
  be->sync (&e);

  le_checkpoint ck;
  memset (&ck, 0, sizeof ck);
  char dir[600];
  snprintf (dir, sizeof dir, "%s/checkpoints/step-000008", out);
  bool loaded = le_checkpoint_load (dir, &ck, &e);
  tap_ok (st == LE_RUN_COMPLETED && log.skipped_warnings == 3 && loaded
          && ck.state.loss_scale == 8192 && ck.adamw_step == 5,
          "%s fp16: 3 overflowing steps skipped with a warning each, scale 65536 -> %g in the "
          "checkpoint, AdamW stepped %lld times of 8", be->name, loaded ? ck.state.loss_scale : -1,
          (long long) ck.adamw_step);
  /* Adam moves each weight by about lr per step against the gradient's sign (+) */
  bool moved = true;
  for (int i = 0; i < 4; i++)
    moved = moved && w1[i] < w0[i] - 0.4f && w1[i] > w0[i] - 0.6f;
  tap_ok (moved, "%s fp16: the unscaled gradient moved the weights by about 5 lr (%.4f -> %.4f)",
          be->name, w0[0], w1[0]);
  if (loaded)
    le_checkpoint_close (&ck);
  param_store_free (t.ps);
}

static void
test_scaler_unit (void)
{
  le_loss_scaler s;
  le_error e = { 0 };
  bool step;
  le_loss_scaler_init (&s, true);
  s.growth_interval = 3;
  bool a = le_loss_scaler_update (&s, true, &step, &e) && step && s.scale == 65536;
  a = a && le_loss_scaler_update (&s, true, &step, &e) && le_loss_scaler_update (&s, true, &step, &e);
  tap_ok (a && s.scale == 131072 && s.good_steps == 0,
          "loss scale doubles after growth_interval finite steps (%g)", s.scale);
  s.scale = 1;
  tap_ok (!le_loss_scaler_update (&s, false, &step, &e) && !step && e.code == LE_ERR_NUMERIC
          && strstr (e.message, "bf16") != NULL,
          "an overflow at scale 1 is a numeric error with advice: %s", e.message);
  le_loss_scaler_init (&s, false);
  tap_ok (le_loss_scaler_update (&s, false, &step, &e) && step && s.scale == 1,
          "without fp16 the scaler never skips");
}

/* ---- the CLI without a GPU ---- */

static void
test_cli_device (const char *engine, const char *model_dir, const char *data_dir)
{
  char config[600], cmd[1600], buf[4096] = "";
  snprintf (config, sizeof config, "%s/cli.yaml", tmp);
  char yaml[1400];
  snprintf (yaml, sizeof yaml,
            "task_type: text-generation\nbase_model: %s\ntrain_data_dir: %s\n"
            "output_dir: %s/cli-out\nlora_rank: 2\nlora_alpha: 4\nbatch_size: 2\nepochs: 1\n"
            "sequence_length: 32\nsample_every: 0\nmax_train_steps: 1\n", model_dir, data_dir, tmp);
  write_file (config, yaml);
  snprintf (cmd, sizeof cmd, "'%s' train --json --device cuda --config '%s' 2>&1", engine,
            config);
  FILE *p = popen (cmd, "r");
  size_t got = p ? fread (buf, 1, sizeof buf - 1, p) : 0;
  buf[got] = '\0';
  int rc = p ? pclose (p) : -1;
  if (rc == 0)
    {
      tap_ok (true, "# SKIP a GPU is usable here, so --device cuda trains");
      return;
    }
  const char *why = strstr (buf, "CUDA cannot be used (");
  char detail[300];
  snprintf (detail, sizeof detail, "%s", why ? why : buf);
  detail[strcspn (detail, "\n\"")] = '\0';   /* one TAP line */
  tap_ok (strstr (buf, "\"error\"") != NULL && strstr (buf, "\"device\"") != NULL
          && why != NULL && strncmp (why, "CUDA cannot be used ()", 22) != 0,
          "--device cuda without a usable GPU: a device error that says why: %s", detail);
}

int
main (int argc, char **argv)
{
  le_error e = { 0 };
  run_test_start ("cuda-train");

  /* fixtures in each dtype, and 12 lines of text */
  char models[3][400], data[400], file[500];
  const le_dtype dts[3] = { LE_F32, LE_BF16, LE_F16 };
  for (int i = 0; i < 3; i++)
    {
      llama_fixture_options fo;
      llama_fixture_defaults (&fo);
      fo.dtype = dts[i];
      snprintf (models[i], sizeof models[i], "%s/model-%s", tmp, dtype_name (dts[i]));
      if (!llama_fixture_write (models[i], &fo, &e))
        bail ("fixture", e.message);
    }
  snprintf (data, sizeof data, "%s/data", tmp);
  mkdir (data, 0755);
  snprintf (file, sizeof file, "%s/a.txt", data);
  write_file (file, "the cat sat on the mat.\nthe dog sat on the log.\na bird sang.\n"
              "the cat and the dog.\nrain on the roof.\nthe mat is red.\n"
              "one two three four.\nthe log is wet.\nsing, bird, sing.\n"
              "a red roof.\nfour three two one.\nthe end.\n");

  /* tolerances per dtype: F32 is the same arithmetic in another order; F16 and BF16 round
   * the activations on the device (autocast) and not on the CPU: 2^-11 and 2^-8 */
  test_step (model_step, LLAMA_DTYPE_KEEP, models[0], LE_F32, "", "loss",
             "LoRA gradients of A and B", 1e-5, 1e-4);
  test_step (model_step, LLAMA_DTYPE_KEEP, models[1], LE_BF16, "", "loss",
             "LoRA gradients of A and B", 1e-3, 1e-2);
  test_step (model_step, LLAMA_DTYPE_KEEP, models[2], LE_F16, "", "loss",
             "LoRA gradients of A and B", 1e-4, 2e-3);
  for (int i = 0; i < 2; i++)
    {
      sd15_fixture_options so;
      sd15_fixture_defaults (&so);
      so.dtype = dts[i];
      char sd_dir[400];
      snprintf (sd_dir, sizeof sd_dir, "%s/sd15-%s", tmp, dtype_name (dts[i]));
      if (!sd15_fixture_write (sd_dir, &so, NULL, 0, &e))
        bail ("sd15 fixture", e.message);
      test_step (unet_step, SD15_DTYPE_KEEP, sd_dir, dts[i], "SD UNet, ", "MSE",
                 "LoRA + LoCon gradients", i == 0 ? 1e-5 : 5e-3, i == 0 ? 1e-4 : 5e-2);
    }
  /* what mixed_precision picks */
  tap_ok (text_lora_weight_dtype (dev, "bf16") == LE_BF16 && text_lora_weight_dtype (dev, "fp16") == LE_F16
          && text_lora_weight_dtype (dev, "no") == LE_F32
          && text_lora_weight_dtype (cpu, "bf16") == LLAMA_DTYPE_KEEP,
          "mixed_precision on the device: bf16 -> BF16, fp16 -> F16, no -> F32 frozen weights; "
          "the CPU keeps the file's dtype");

  test_runs (models[0], data, "f32", "no", 1e-5, 1e-4);
  test_runs (models[2], data, "fp16", "fp16", 1e-4, 5e-3);

  test_scaler_unit ();
  test_loss_scaling (cpu);
  test_loss_scaling (dev);

#ifdef GT_EMULATED
  unsigned long misuse = cuda_emu_copy_misuse ();
  tap_ok (misuse == 0, "no host/device copy went in the wrong direction (%lu did)", misuse);
  /* and the emulator does catch one: a host buffer passed where device memory belongs */
  float host_a[4] = { 1, 2, 3, 4 }, host_b[4];
  dev->copy_h2d (host_b, host_a, sizeof host_a);
  le_error ce = { 0 };
  tap_ok (cuda_emu_copy_misuse () == misuse + 1 && !dev->sync (&ce) && ce.message[0] != '\0',
          "a host-to-device copy into host memory is caught: %s", ce.message);
#endif

  if (argc > 1)
    test_cli_device (argv[1], models[0], data);

  return run_test_finish ();
}
