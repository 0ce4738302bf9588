/* sd-train-dump.c: prints, as JSON, sampler steps the engine takes on fixed inputs so that
 * sd_train_reference.py can run diffusers' schedulers on the same inputs and compare:
 * DDIM (eta 0) and Euler ancestral for N steps on a 64-value latent with model outputs and
 * ancestral noise drawn from sd_rng, plus the schedule and the min-SNR weights. */
#include <stdio.h>
#include <stdlib.h>

#include "ddpm.h"

#define N 64

static void
print_array (const char *name, const float *v, int n, const char *end)
{
  printf ("\"%s\": [", name);
  for (int i = 0; i < n; i++)
    printf ("%s%.9g", i ? ", " : "", v[i]);
  printf ("]%s\n", end);
}

int
main (int argc, char **argv)
{
  int steps = argc > 1 ? atoi (argv[1]) : 5;
  ddpm_schedule s;
  ddpm_schedule_sd15 (&s);
  sd_rng rng;
  sd_rng_init (&rng, 42, 7);
  printf ("{\"steps\": %d,\n\"acp\": [", steps);
  for (int i = 0; i < DDPM_STEPS; i++)
    printf ("%s%.12g", i ? ", " : "", s.acp[i]);
  printf ("],\n\"snr_weight_5\": [");
  for (int i = 0; i < DDPM_STEPS; i += 111)
    printf ("%s[%d, %.12g]", i ? ", " : "", i, ddpm_min_snr_weight (&s, i, 5.0));
  printf ("],\n");

  float x[N], eps[N], noise[N];
  sd_rng_normals (&rng, x, N);
  print_array ("x0", x, N, ",");
  /* DDIM */
  int ts[1000];
  ddim_timesteps (steps, ts);
  printf ("\"ddim_timesteps\": [");
  for (int i = 0; i < steps; i++)
    printf ("%s%d", i ? ", " : "", ts[i]);
  printf ("],\n\"ddim\": [\n");
  float xd[N];
  for (int k = 0; k < N; k++)
    xd[k] = x[k];
  for (int i = 0; i < steps; i++)
    {
      sd_rng_normals (&rng, eps, N);
      printf ("{");
      print_array ("eps", eps, N, ",");
      ddim_step (&s, ts[i], i + 1 < steps ? ts[i + 1] : ts[i] - DDPM_STEPS / steps, eps, xd, N);
      print_array ("x", xd, N, i + 1 < steps ? "}," : "}");
    }
  printf ("],\n");
  /* Euler ancestral */
  double et[1001], sig[1001];
  euler_schedule (&s, steps, et, sig);
  double init = euler_init_sigma (sig, steps);
  printf ("\"euler_init_sigma\": %.12g,\n\"euler_timesteps\": [", init);
  for (int i = 0; i < steps; i++)
    printf ("%s%.9g", i ? ", " : "", et[i]);
  printf ("],\n\"euler_sigmas\": [");
  for (int i = 0; i <= steps; i++)
    printf ("%s%.9g", i ? ", " : "", sig[i]);
  printf ("],\n\"euler\": [\n");
  float xe[N];
  for (int k = 0; k < N; k++)
    xe[k] = (float) (x[k] * init);
  for (int i = 0; i < steps; i++)
    {
      sd_rng_normals (&rng, eps, N);
      sd_rng_normals (&rng, noise, N);
      printf ("{\"input_scale\": %.12g, ", euler_input_scale (sig[i]));
      print_array ("eps", eps, N, ",");
      print_array ("noise", noise, N, ",");
      euler_a_step (sig[i], sig[i + 1], eps, noise, xe, N);
      print_array ("x", xe, N, i + 1 < steps ? "}," : "}");
    }
  printf ("]}\n");
  return 0;
}
