/* llama-cpu-bench.c: time of one LoRA training step of a LLaMA model on the CPU backend:
 * forward, backward (LoRA gradients only) and AdamW, on a fixed batch. Run by
 * bench/llama-cpu-bench.py, which writes the model, runs PyTorch + PEFT on the same
 * weights and batch, and prints both side by side (see bench/README.md).
 *
 *   llama-cpu-bench MODEL_DIR BATCH SEQ STEPS WARMUP [RANK] [CHECKPOINTING]
 *
 * Tokens are tokens[i] = (i * 7919 + 13) % vocab (the Python twin uses the same); every
 * target counts. Prints one JSON object: median wall and CPU time (all threads) per step,
 * the losses, peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "adamw.h"
#include "bench-step.h"
#include "llama.h"
#include "omp-policy.h"

static double
cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main (int argc, char **argv)
{
  if (argc < 6)
    {
      fprintf (stderr, "usage: %s MODEL_DIR BATCH SEQ STEPS WARMUP [RANK] [CHECKPOINTING]\n",
               argv[0]);
      return 2;
    }
  const char *dir = argv[1];
  int64_t batch = atoll (argv[2]), t = atoll (argv[3]);
  int steps = atoi (argv[4]), warmup = atoi (argv[5]);
  int rank = argc > 6 ? atoi (argv[6]) : 8;
  bool ckpt = argc > 7 && atoi (argv[7]) != 0;

  le_omp_wait_policy_reexec (argv);   /* as lora-engine does (gpu/core/omp-policy.h) */
  le_error err = { 0 };
  const backend *be = backend_select ("cpu", &err);
  llama_model *m = be ? llama_model_load (dir, LLAMA_DTYPE_KEEP, be, &err) : NULL;
  const char *targets[] = { "q_proj", "k_proj", "v_proj", "o_proj", NULL };
  if (m == NULL || !llama_lora_attach (m, targets, rank, (float) (2 * rank), 0.0f, 1, &err))
    {
      fprintf (stderr, "llama-cpu-bench: %s\n", err.message);
      return 1;
    }
  m->checkpointing = ckpt;
  graph *g = graph_new (be, &err);
  param_store *ps = m->lora->ps;
  le_adamw opt;
  le_adamw_init (&opt, (size_t) ps->n_train, le_adamw_defaults (), &err);

  int32_t *tokens = malloc ((size_t) (batch * t) * sizeof *tokens);
  uint8_t *count = malloc ((size_t) (batch * t));
  for (int64_t i = 0; i < batch * t; i++)
    {
      tokens[i] = (int32_t) ((i * 7919 + 13) % m->cfg.vocab);
      count[i] = 1;
    }

  double *times = calloc ((size_t) (steps + warmup), sizeof *times);
  double *cpu = calloc ((size_t) (steps + warmup), sizeof *cpu);
  double *losses = calloc ((size_t) (steps + warmup), sizeof *losses);
  for (int s = 0; s < steps + warmup; s++)
    {
      double t0 = bench_now_s (), c0 = cpu_s ();
      graph_reset (g);
      graph_set_training (g, true);
      tensor *loss = llama_forward_loss (m, g, tokens, count, batch, t, NULL, NULL);
      losses[s] = loss ? graph_item (g, loss) : -1;
      if (loss == NULL || !graph_backward (g, loss, &err))
        {
          graph_take_error (g, &err);
          fprintf (stderr, "llama-cpu-bench: %s\n", err.message);
          return 1;
        }
      le_adamw_step (&opt, ps->train_data, ps->train_grad, 1e-4);
      param_store_zero_grad (ps);
      times[s] = bench_now_s () - t0;
      cpu[s] = cpu_s () - c0;
    }

  double *timed = times + warmup;
  qsort (timed, (size_t) steps, sizeof *timed, bench_cmp_double);
  qsort (cpu + warmup, (size_t) steps, sizeof *cpu, bench_cmp_double);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"impl\": \"lora-engine\", \"median_ms\": %.3f, \"min_ms\": %.3f, "
          "\"cpu_ms\": %.3f, "
          "\"peak_rss_mb\": %.1f, \"arena_mb\": %.1f, \"lora_params\": %lld, "
          "\"base_params\": %lld, \"losses\": [",
          1e3 * timed[steps / 2], 1e3 * timed[0], 1e3 * cpu[warmup + steps / 2], ru.ru_maxrss / 1024.0,
          graph_peak_bytes (g) / 1048576.0, (long long) llama_n_lora_params (m),
          (long long) llama_n_base_params (m));
  for (int s = 0; s < steps + warmup; s++)
    printf ("%s%.6f", s ? ", " : "", losses[s]);
  printf ("]}\n");
  return 0;
}
