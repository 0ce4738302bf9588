/* ddpm.h: the diffusion arithmetic of SD 1.5 training and sampling, on host floats.
 *
 * The schedule is SD 1.5's "scaled linear" one: betas = linspace(sqrt(0.00085),
 * sqrt(0.012), 1000)^2, alphas_cumprod = cumprod(1 - betas). Training adds noise with
 * x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) eps and regresses eps; samplers are DDIM (eta 0,
 * "leading" spacing with steps_offset 1, as SD 1.5's scheduler config says) and Euler
 * ancestral ("linspace" spacing), each step written to match diffusers' DDIMScheduler and
 * EulerAncestralDiscreteScheduler of diffusers 0.27.
 *
 * Randomness comes from sd_rng: a counter-based generator keyed by (seed, stream), so a
 * draw depends only on where it is taken, not on what was drawn before (exact resume). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define DDPM_STEPS 1000

typedef struct {
  double betas[DDPM_STEPS];
  double acp[DDPM_STEPS];       /* alphas_cumprod */
} ddpm_schedule;

void ddpm_schedule_sd15 (ddpm_schedule *s);

/* SNR(t) = acp / (1 - acp). */
double ddpm_snr (const ddpm_schedule *s, int t);
/* min_snr_gamma weight for epsilon prediction: min(SNR, gamma) / SNR; 1 when gamma <= 0. */
double ddpm_min_snr_weight (const ddpm_schedule *s, int t, double gamma);
/* x_t = sqrt(acp_t) x0 + sqrt(1 - acp_t) noise, N values. */
void ddpm_add_noise (const ddpm_schedule *s, int t, const float *x0, const float *noise,
                     float *xt, int64_t n);

/* ---- random numbers ---- */
typedef struct {
  uint64_t key, counter;
} sd_rng;

void sd_rng_init (sd_rng *r, uint64_t seed, uint64_t stream);
uint64_t sd_rng_u64 (sd_rng *r);
double sd_rng_uniform (sd_rng *r);          /* [0, 1) */
float sd_rng_normal (sd_rng *r);            /* N(0, 1) */
void sd_rng_normals (sd_rng *r, float *out, int64_t n);

/* ---- DDIM (eta 0) ---- */
/* The timesteps of an N-step run, high to low, into OUT (N of them): leading spacing
 * (1000 / N) * i + 1. Returns N, or 0 when N is outside 1..1000. */
int ddim_timesteps (int n, int *out);
/* One step from timestep T to T_PREV (< 0: the end, alpha_prev = acp[0] as SD 1.5's
 * set_alpha_to_one false says). X (N values) is updated in place from the model's EPS. */
void ddim_step (const ddpm_schedule *s, int t, int t_prev, const float *eps, float *x,
                int64_t n);

/* ---- Euler ancestral ---- */
/* N float timesteps (linspace(0, 999, N) reversed) and N + 1 sigmas (the last is 0),
 * sigma(t) interpolated linearly in t from sqrt((1 - acp) / acp). Returns N or 0. */
int euler_schedule (const ddpm_schedule *s, int n, double *timesteps, double *sigmas);
/* The initial noise scale: the largest sigma (diffusers' linspace spacing). */
double euler_init_sigma (const double *sigmas, int n);
/* Model input for sigma: x / sqrt(sigma^2 + 1). */
double euler_input_scale (double sigma);
/* One step from SIGMA to SIGMA_NEXT with the model's EPS and fresh NOISE (N(0,1)). */
void euler_a_step (double sigma, double sigma_next, const float *eps, const float *noise,
                   float *x, int64_t n);
