/* test-optim.c: AdamW, gradient clipping and the learning-rate schedules against
 * torch.optim.AdamW, torch.nn.utils.clip_grad_norm_ and transformers'
 * get_*_schedule_with_warmup (ref_optim.py); accumulation and the non-finite check.
 * argv[1]: the venv's python3; argv[2]: this folder. */
#include "adamw.h"
#include "grad.h"
#include "io-test.h"
#include "scheduler.h"

static char *ref;
static size_t ref_len;

/* Finds "PREFIX VALUE" lines in the reference; returns the value or NAN. */
static double
lookup (const char *prefix)
{
  size_t n = strlen (prefix);
  for (char *line = ref; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (strncmp (line, prefix, n) == 0 && line[n] == ' ')
        return strtod (line + n + 1, NULL);
      line = nl ? nl + 1 : NULL;
    }
  return NAN;
}

static bool
close_to (double got, double want, double rel, double abs_tol)
{
  return fabs (got - want) <= abs_tol + rel * fabs (want);
}

static void
test_schedulers (void)
{
  int n_lines = 0, bad = 0;
  for (char *line = ref; line && *line;)
    {
      char *nl = strchr (line, '\n');
      char kind[64];
      long long warmup, total, step;
      double cycles, lr;
      if (sscanf (line, "sched %63s %lld %lld %lf %lld %lf", kind, &warmup, &total, &cycles,
                  &step, &lr) == 6)
        {
          le_scheduler s = { .base_lr = 0.5, .warmup_steps = warmup, .total_steps = total,
                             .num_cycles = cycles };
          le_error err = { 0 };
          if (!le_sched_kind_from_name (kind, &s.kind, &err))
            bad++;
          double got = le_scheduler_lr (&s, step);
          if (!close_to (got, lr, 1e-12, 1e-15))
            {
              if (bad++ < 10)
                tap_diag ("%s warmup %lld total %lld cycles %g step %lld: %.17g, transformers %.17g",
                          kind, warmup, total, cycles, step, got, lr);
            }
          n_lines++;
        }
      line = nl ? nl + 1 : NULL;
    }
  tap_ok (n_lines > 300 && bad == 0, "%d learning rates of 5 schedules with warmup match "
          "transformers (%d differ)", n_lines, bad);
  le_sched_kind k;
  le_error err = { 0 };
  tap_ok (!le_sched_kind_from_name ("cosine_annealing", &k, &err) && err.code == LE_ERR_INVALID
          && strstr (err.message, "cosine_with_restarts") != NULL,
          "an unknown scheduler name is an error listing the known ones");
  le_scheduler c = { .kind = LE_SCHED_CONSTANT, .base_lr = 1, .warmup_steps = 4, .total_steps = 10 };
  tap_ok (le_scheduler_lr (&c, 1) == 0.25 && le_scheduler_lr (&c, 9) == 1.0,
          "constant with warmup_steps > 0 warms up linearly too");
}

static double
grad_formula (int i, int t)
{
  return cos (i * 0.3 + t * 1.1) * (1 + 0.25 * t) + (i % 5 ? 0.0 : 3.0 * sin (t));
}

static double
cosine_lr (int t)
{
  le_scheduler s = { .kind = LE_SCHED_COSINE, .base_lr = 1e-2, .warmup_steps = 2, .total_steps = 12 };
  return le_scheduler_lr (&s, t);
}

static double
const_lr (int t)
{
  return 3e-3;
}

static void
run_case (const char *name, int n, int steps, double (*lr_of) (int), le_adamw_hparams hp,
          double max_norm)
{
  le_adamw opt;
  le_error err = { 0 };
  float *p = malloc (n * sizeof *p), *g = malloc (n * sizeof *g);
  le_adamw_init (&opt, (size_t) n, hp, &err);
  for (int i = 0; i < n; i++)
    p[i] = (float) (sin (i * 0.7) * 0.5);
  bool norms = true;
  for (int t = 0; t < steps; t++)
    {
      for (int i = 0; i < n; i++)
        g[i] = (float) grad_formula (i, t);
      double norm;
      if (!le_clip_grad_norm (g, (size_t) n, max_norm, &norm, &err))
        norms = false;
      char key[64];
      snprintf (key, sizeof key, "norm %s %d", name, t);
      if (!close_to (norm, lookup (key), 1e-6, 0))
        {
          norms = false;
          tap_diag ("%s: norm %.9g vs torch %.9g", key, norm, lookup (key));
        }
      le_adamw_step (&opt, p, g, lr_of (t));
    }
  tap_ok (norms, "%s: gradient norms match clip_grad_norm_", name);
  int bad = 0;
  double worst = 0;
  for (int i = 0; i < n; i++)
    {
      const char *what[3] = { "param", "m", "v" };
      float got[3] = { p[i], opt.m[i], opt.v[i] };
      for (int k = 0; k < 3; k++)
        {
          char key[64];
          snprintf (key, sizeof key, "%s %s %d", what[k], name, i);
          double want = lookup (key);
          double d = fabs (got[k] - want) / (fabs (want) + 1e-12);
          if (d > worst)
            worst = d;
          if (!close_to (got[k], want, 2e-6, 1e-7))
            {
              if (bad++ < 6)
                tap_diag ("%s: %.9g vs torch %.9g", key, got[k], want);
            }
        }
    }
  tap_ok (bad == 0, "%s: parameters, m and v after %d AdamW steps match torch.optim.AdamW "
          "(worst relative difference %.2g)", name, steps, worst);
  le_adamw_free (&opt);
  free (p);
  free (g);
}

static void
test_groups_and_accumulation (void)
{
  /* Two slices with their own lr in one step equal two separate optimizers. */
  le_adamw one, a, b;
  le_error err = { 0 };
  le_adamw_init (&one, 10, le_adamw_defaults (), &err);
  le_adamw_init (&a, 4, le_adamw_defaults (), &err);
  le_adamw_init (&b, 6, le_adamw_defaults (), &err);
  float p1[10], p2[10], g[10];
  for (int i = 0; i < 10; i++)
    p1[i] = p2[i] = (float) i * 0.1f, g[i] = (float) (i - 5);
  for (int t = 0; t < 3; t++)
    {
      le_adamw_begin_step (&one);
      le_adamw_update (&one, 0, 4, p1, g, 1e-3);
      le_adamw_update (&one, 4, 6, p1 + 4, g + 4, 5e-2);
      le_adamw_step (&a, p2, g, 1e-3);
      le_adamw_step (&b, p2 + 4, g + 4, 5e-2);
    }
  tap_ok (memcmp (p1, p2, sizeof p1) == 0 && memcmp (one.m + 4, b.m, 6 * 4) == 0
          && memcmp (one.v, a.v, 4 * 4) == 0, "parameter groups with their own lr update "
          "exactly like separate optimizers");
  tap_ok (one.step == 3 && p1[0] != 0.0f, "the step counter counts optimizer steps");
  le_adamw_free (&one);
  le_adamw_free (&a);
  le_adamw_free (&b);

  le_grad_accum acc;
  le_grad_accum_init (&acc, 4);
  float sum[3] = { 0 }, micro[4][3] = { { 1, 2, 3 }, { 4, 5, 6 }, { -1, 0, 1 }, { 8, 8, 8 } };
  bool steps[4];
  for (int k = 0; k < 4; k++)
    {
      le_grad_add (sum, micro[k], 3, le_grad_accum_scale (&acc));
      steps[k] = le_grad_accum_next (&acc);
    }
  tap_ok (!steps[0] && !steps[1] && !steps[2] && steps[3], "the optimizer steps after every 4th "
          "micro-batch");
  tap_ok (sum[0] == 3.0f && sum[1] == 3.75f && sum[2] == 4.5f, "accumulated gradients are the "
          "mean over the micro-batches");
  le_grad_accum_init (&acc, 0);
  tap_ok (le_grad_accum_next (&acc) && le_grad_accum_scale (&acc) == 1.0f,
          "accumulation over 0 or 1 steps is no accumulation");
}

static void
test_non_finite (void)
{
  le_error err = { 0 };
  tap_ok (le_check_finite (2.5, 1.0, 10, 1e-4, "bf16", &err), "finite loss and norm pass");
  tap_ok (!le_check_finite (NAN, 1.0, 42, 1e-3, "fp16", &err) && err.code == LE_ERR_NUMERIC
          && strstr (err.message, "step 42") && strstr (err.message, "NaN")
          && strstr (err.message, "learning_rate") && strstr (err.message, "bf16 instead of fp16")
          && strstr (err.message, "checkpoint"),
          "a NaN loss stops with advice: %s", err.message);
  err.code = LE_OK;
  tap_ok (!le_check_finite (1.0, INFINITY, 7, 1e-3, "no", &err) && err.code == LE_ERR_NUMERIC
          && strstr (err.message, "gradient norm is infinite") && strstr (err.message, "bf16"),
          "an infinite gradient norm stops with advice: %s", err.message);
  float g[3] = { 1, NAN, 2 };
  err.code = LE_OK;
  double norm;
  tap_ok (!le_clip_grad_norm (g, 3, 1.0, &norm, &err) && err.code == LE_ERR_NUMERIC && g[0] == 1
          && g[2] == 2, "clipping refuses a NaN gradient and leaves it unscaled");
  float h[2] = { 3, 4 };
  tap_ok (le_clip_grad_norm (h, 2, 0, &norm, &err) && norm == 5 && h[0] == 3,
          "max_norm 0 turns clipping off but still measures the norm");
  float s[2] = { 0.3f, 0.4f };
  tap_ok (le_clip_grad_norm (s, 2, 1.0, &norm, &err) && s[0] == 0.3f,
          "a norm below max_norm leaves gradients alone");
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    return 2;
  test_groups_and_accumulation ();
  test_non_finite ();
  if (access (argv[1], X_OK) != 0)
    {
      tap_diag ("no reference Python: skipping the torch/transformers comparisons");
      return tap_done ();
    }
  char *dir = test_tmpdir ("optim-ref");
  char path[4200];
  snprintf (path, sizeof path, "%s/ref.txt", dir);
  if (!tap_ok (run_python (argv[1], "'%s/ref_optim.py' '%s'", argv[2], path) == 0,
               "torch and transformers compute the reference"))
    return tap_done ();
  ref = (char *) read_bytes (path, &ref_len);
  test_schedulers ();
  le_adamw_hparams clip_hp = { 0.9, 0.999, 1e-8, 0.01 };
  run_case ("clip", 37, 12, cosine_lr, clip_hp, 1.0);
  le_adamw_hparams plain_hp = { 0.8, 0.99, 1e-6, 0.1 };
  run_case ("plain", 23, 6, const_lr, plain_hp, 0.0);
  free (ref);
  rm_rf (dir);
  free (dir);
  return tap_done ();
}
