/* sd-bench.c: time of one SD 1.5 UNet LoRA training step (forward, backward to the LoRA
 * matrices, AdamW) on a fixed batch, on the CPU or CUDA backend. Run by
 * bench/sd-cpu-bench.py (the sd15-tiny fixture, next to diffusers' UNet + a hand LoRA in
 * PyTorch on the same weights and inputs) and bench/sd-gpu-bench.py (the full-size UNet,
 * random weights, 512x512, batch 1/4/8, BF16).
 *
 *   sd-bench MODEL|full INPUTS|none BATCH RES STEPS WARMUP RANK DEVICE DTYPE CKPT
 *
 * MODEL is a diffusers folder or single file (UNet only is loaded); "full" builds SD 1.5's
 * UNet with zero weights (speed does not depend on values). INPUTS is a .safetensors with
 * "noisy" (B, 4, h, w), "noise" (same), "context" (B, 77, C) and "timesteps" (B) F32 from
 * the Python twin, or "none" for seeded random ones. DTYPE f32 or bf16 (frozen weights).
 * Prints one JSON object: median step time, images per second, losses, memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench-step.h"
#include "ddpm.h"
#include "ops.h"
#include "safetensors.h"
#include "sd15.h"

static float *
input (st_file *f, const char *name, int64_t n)
{
  float *v = malloc ((size_t) n * sizeof *v);
  const st_tensor *t = f ? st_find (f, name) : NULL;
  if (t == NULL || (int64_t) t->numel != n || !st_to_f32 (t, v, t->numel, NULL))
    {
      fprintf (stderr, "sd-bench: input %s missing or of the wrong size\n", name);
      exit (1);
    }
  return v;
}

int
main (int argc, char **argv)
{
  if (argc < 11)
    {
      fprintf (stderr, "usage: sd-bench MODEL|full INPUTS|none BATCH RES STEPS WARMUP RANK "
               "DEVICE DTYPE CKPT\n");
      return 2;
    }
  const char *model = argv[1], *inputs = argv[2];
  int64_t batch = atoll (argv[3]), res = atoll (argv[4]);
  int steps = atoi (argv[5]), warmup = atoi (argv[6]), rank = atoi (argv[7]);
  const char *device = argv[8];
  le_dtype dt = strcmp (argv[9], "bf16") == 0 ? LE_BF16 : LE_F32;
  bool ckpt = atoi (argv[10]) != 0;
  le_error err = { 0 };
  const backend *be = backend_select (device, &err);
  if (be == NULL)
    {
      fprintf (stderr, "sd-bench: %s\n", err.message);
      return 1;
    }
  bench_note_memory (be);
  size_t used0 = bench_mem_peak;
  sd15_model *m;
  if (strcmp (model, "full") == 0)
    {
      sd15_config c;
      sd15_config_default (&c);
      m = sd15_model_new_empty (&c, SD15_LOAD_UNET, dt, be, &err);
    }
  else
    m = sd15_model_load (model, SD15_LOAD_UNET, dt == LE_F32 ? SD15_DTYPE_KEEP : (int) dt, be,
                         &err);
  sd15_lora_options lo;
  sd15_lora_defaults (&lo);
  lo.rank = rank;
  lo.alpha = (float) rank;
  if (m == NULL || !sd15_lora_attach (m, &lo, &err))
    {
      fprintf (stderr, "sd-bench: %s\n", err.message);
      return 1;
    }
  m->checkpointing = ckpt;
  const sd15_config *c = &m->cfg;
  int64_t h = res / 8, w = res / 8;
  if (strcmp (model, "full") != 0)
    h = w = res >> (c->vae_levels - 1);
  int64_t ln = batch * c->unet_in * h * w, cn = batch * 77 * c->cross_dim;
  float *noisy, *noise, *ctx, *ts;
  if (strcmp (inputs, "none") != 0)
    {
      st_file *f = st_open (inputs, &err);
      if (f == NULL)
        {
          fprintf (stderr, "sd-bench: %s\n", err.message);
          return 1;
        }
      noisy = input (f, "noisy", ln);
      noise = input (f, "noise", ln);
      ctx = input (f, "context", cn);
      ts = input (f, "timesteps", batch);
    }
  else
    {
      sd_rng r;
      sd_rng_init (&r, 1, 2);
      noisy = malloc ((size_t) ln * 4);
      noise = malloc ((size_t) ln * 4);
      ctx = malloc ((size_t) cn * 4);
      ts = malloc ((size_t) batch * 4);
      sd_rng_normals (&r, noisy, ln);
      sd_rng_normals (&r, noise, ln);
      sd_rng_normals (&r, ctx, cn);
      for (int64_t i = 0; i < batch; i++)
        ts[i] = (float) (sd_rng_u64 (&r) % 1000);
    }
  graph *g = graph_new (be, &err);
  param_store *ps = m->lora_unet->ps;
  size_t n = (size_t) ps->n_train;
  float *moments = be->alloc (2 * n * sizeof (float), &err);
  if (g == NULL || moments == NULL)
    {
      fprintf (stderr, "sd-bench: %s\n", err.message);
      return 1;
    }
  be->memset_zero (moments, 2 * n * sizeof (float));
  int64_t sx[4] = { batch, c->unet_in, h, w }, sc[3] = { batch, 77, c->cross_dim };
  double *times = calloc ((size_t) (steps + warmup), sizeof *times);
  double *losses = calloc ((size_t) (steps + warmup), sizeof *losses);
  for (int s = 0; s < steps + warmup; s++)
    {
      double t0 = bench_now_s ();
      graph_reset (g);
      graph_set_grad_enabled (g, true);
      graph_set_training (g, true);
      tensor *x = graph_from_host (g, LE_F32, 4, sx, noisy, "noisy");
      tensor *y = graph_from_host (g, LE_F32, 4, sx, noise, "noise");
      tensor *ct = graph_from_host (g, LE_F32, 3, sc, ctx, "context");
      tensor *eps = sd15_unet_forward (m, g, x, ts, ct);
      tensor *loss = eps ? op_mse (g, eps, y) : NULL;
      losses[s] = loss ? graph_item (g, loss) : NAN;
      if (!bench_optimizer_step ("sd-bench", be, g, loss, ps, moments, n, s + 1))
        return 1;
      times[s] = bench_now_s () - t0;
    }
  double *timed = times + warmup;
  qsort (timed, (size_t) steps, sizeof *timed, bench_cmp_double);
  double med = timed[steps / 2];
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"impl\": \"lora-engine\", \"device\": \"%s\", \"batch\": %lld, \"res\": %lld, "
          "\"median_ms\": %.3f, \"min_ms\": %.3f, \"images_per_s\": %.3f, "
          "\"peak_rss_mb\": %.1f, \"mem_before_mb\": %.1f, \"mem_peak_mb\": %.1f, "
          "\"arena_mb\": %.1f, \"lora_params\": %lld, \"losses\": [",
          be->name, (long long) batch, (long long) res, 1e3 * med, 1e3 * timed[0],
          batch / med, ru.ru_maxrss / 1024.0, used0 / 1048576.0, bench_mem_peak / 1048576.0,
          graph_peak_bytes (g) / 1048576.0, (long long) sd15_n_lora_params (m));
  for (int s = 0; s < steps + warmup; s++)
    printf ("%s%.6f", s ? ", " : "", losses[s]);
  printf ("]}\n");
  return 0;
}
