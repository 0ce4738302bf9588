/* ddpm.c: SD 1.5's noise schedule, the training noise arithmetic, the DDIM and Euler
 * ancestral sampler steps and a counter-based random generator (see ddpm.h). */
#include "ddpm.h"

#include <math.h>

#include "math-common.h"

void
ddpm_schedule_sd15 (ddpm_schedule *s)
{
  double lo = sqrt (0.00085), hi = sqrt (0.012), acp = 1.0;
  for (int i = 0; i < DDPM_STEPS; i++)
    {
      double r = lo + (hi - lo) * i / (DDPM_STEPS - 1);
      s->betas[i] = r * r;
      acp *= 1.0 - s->betas[i];
      s->acp[i] = acp;
    }
}

double
ddpm_snr (const ddpm_schedule *s, int t)
{
  return s->acp[t] / (1.0 - s->acp[t]);
}

double
ddpm_min_snr_weight (const ddpm_schedule *s, int t, double gamma)
{
  if (gamma <= 0)
    return 1.0;
  double snr = ddpm_snr (s, t);
  return fmin (snr, gamma) / snr;
}

void
ddpm_add_noise (const ddpm_schedule *s, int t, const float *x0, const float *noise,
                float *xt, int64_t n)
{
  double a = sqrt (s->acp[t]), b = sqrt (1.0 - s->acp[t]);
  for (int64_t i = 0; i < n; i++)
    xt[i] = (float) (a * x0[i] + b * noise[i]);
}

/* draws are le_splitmix64 of (key + counter): each a pure function of its position */

void
sd_rng_init (sd_rng *r, uint64_t seed, uint64_t stream)
{
  r->key = le_splitmix64 (le_splitmix64 (seed)
                          ^ (stream * 0xd1342543de82ef95ull + 0x632be59bd9b4e019ull));
  r->counter = 0;
}

uint64_t
sd_rng_u64 (sd_rng *r)
{
  return le_splitmix64 (r->key + 0x9e3779b97f4a7c15ull * ++r->counter);
}

double
sd_rng_uniform (sd_rng *r)
{
  return (double) (sd_rng_u64 (r) >> 11) * (1.0 / 9007199254740992.0);
}

float
sd_rng_normal (sd_rng *r)
{
  /* Box-Muller on (0, 1] so log never sees 0 */
  double u1 = 1.0 - sd_rng_uniform (r), u2 = sd_rng_uniform (r);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2));
}

void
sd_rng_normals (sd_rng *r, float *out, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    out[i] = sd_rng_normal (r);
}

int
ddim_timesteps (int n, int *out)
{
  if (n < 1 || n > DDPM_STEPS)
    return 0;
  int ratio = DDPM_STEPS / n;
  for (int i = 0; i < n; i++)
    out[i] = (n - 1 - i) * ratio + 1;
  return n;
}

void
ddim_step (const ddpm_schedule *s, int t, int t_prev, const float *eps, float *x,
           int64_t n)
{
  double a_t = s->acp[t];
  double a_prev = t_prev >= 0 ? s->acp[t_prev] : s->acp[0];
  double sa = sqrt (a_t), sb = sqrt (1.0 - a_t);
  double pa = sqrt (a_prev), pb = sqrt (1.0 - a_prev);
  for (int64_t i = 0; i < n; i++)
    {
      double x0 = (x[i] - sb * eps[i]) / sa;
      x[i] = (float) (pa * x0 + pb * eps[i]);
    }
}

int
euler_schedule (const ddpm_schedule *s, int n, double *timesteps, double *sigmas)
{
  if (n < 1 || n > DDPM_STEPS)
    return 0;
  for (int i = 0; i < n; i++)
    {
      double t = n == 1 ? 0.0 : (double) (DDPM_STEPS - 1) * (n - 1 - i) / (n - 1);
      timesteps[i] = t;
      int lo = (int) floor (t);
      int hi = lo + 1 < DDPM_STEPS ? lo + 1 : lo;
      double f = t - lo;
      double slo = sqrt ((1.0 - s->acp[lo]) / s->acp[lo]);
      double shi = sqrt ((1.0 - s->acp[hi]) / s->acp[hi]);
      sigmas[i] = slo + f * (shi - slo);
    }
  sigmas[n] = 0.0;
  return n;
}

double
euler_init_sigma (const double *sigmas, int n)
{
  double mx = 0;
  for (int i = 0; i <= n; i++)
    mx = fmax (mx, sigmas[i]);
  return mx;
}

double
euler_input_scale (double sigma)
{
  return 1.0 / sqrt (sigma * sigma + 1.0);
}

void
euler_a_step (double sigma, double sigma_next, const float *eps, const float *noise,
              float *x, int64_t n)
{
  double up = sqrt (sigma_next * sigma_next * (sigma * sigma - sigma_next * sigma_next)
                    / (sigma * sigma));
  double down = sqrt (sigma_next * sigma_next - up * up);
  double dt = down - sigma;
  for (int64_t i = 0; i < n; i++)
    {
      /* pred_x0 = x - sigma eps; derivative (x - pred_x0) / sigma = eps */
      x[i] = (float) (x[i] + eps[i] * dt + noise[i] * up);
    }
}
