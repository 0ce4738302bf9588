/* llama-gpu-bench.c: LoRA training throughput of a ~1B-parameter LLaMA on the CUDA backend,
 * the way `lora-engine train --device cuda` runs it (frozen weights BF16 on the device,
 * LoRA weights, gradients and AdamW state F32 in device memory, be->adamw). Run by
 * bench/llama-gpu-bench.py, which puts transformers + PEFT on the same GPU next to it when
 * PyTorch is there (see bench/README.md, GPU).
 *
 *   llama-gpu-bench write DIR [HIDDEN LAYERS HEADS KV_HEADS INTERMEDIATE VOCAB]
 *       a Hugging Face LLaMA folder (config.json, model.safetensors in BF16) with seeded
 *       random weights; defaults hidden 2048, 16 layers, 32 heads, 8 kv heads,
 *       intermediate 5632, vocab 32000 (about 1.0B parameters, 2 GB)
 *   llama-gpu-bench run DIR BATCH SEQ STEPS WARMUP [RANK] [CHECKPOINTING] [DEVICE]
 *       DEVICE cuda (default) or cpu
 *
 * Tokens are tokens[i] = (i * 7919 + 13) % vocab, every target counts (the Python twin
 * uses the same). `run` prints one JSON object: median step time, tokens per second, the
 * losses, and device memory: in use before loading and at its highest during the steps
 * (cudaMemGetInfo, so it counts cuBLAS workspaces and the CUDA context like nvidia-smi). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "adamw.h"
#include "bench-step.h"
#include "llama.h"
#include "math-common.h"
#include "safetensors.h"

/* ---- write ---- */

typedef struct {
  int64_t n, fan_in;
  uint64_t seed;
  bool norm;        /* RMSNorm weight: 1 */
} fill_ctx;

/* Streams N seeded BF16 values, uniform +-1/sqrt(fan_in) (nn.Linear's range), in chunks. */
static bool
fill_bf16 (void *user, st_sink *sink, le_error *err)
{
  const fill_ctx *c = user;
  enum { CHUNK = 1 << 16 };
  static uint16_t buf[CHUNK];
  float bound = 1.0f / sqrtf ((float) c->fan_in);
  uint64_t s = c->seed;
  for (int64_t done = 0; done < c->n;)
    {
      int64_t k = c->n - done < CHUNK ? c->n - done : CHUNK;
      for (int64_t i = 0; i < k; i++)
        {
          s = s * 6364136223846793005ull + 1442695040888963407ull;
          float u = (float) (s >> 40) / (float) (1 << 24) * 2 - 1;
          buf[i] = le_f32_to_bf16 (c->norm ? 1.0f : u * bound);
        }
      if (!st_sink_write (sink, buf, (size_t) k * sizeof *buf, err))
        return false;
      done += k;
    }
  return true;
}

static int
write_model (const char *dir, int64_t hidden, int64_t layers, int64_t heads, int64_t kv,
             int64_t inter, int64_t vocab)
{
  le_error err = { 0 };
  mkdir (dir, 0755);
  char path[1200];
  snprintf (path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen (path, "w");
  if (f == NULL)
    {
      perror (path);
      return 1;
    }
  fprintf (f, "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
           "\"hidden_size\": %lld, \"num_hidden_layers\": %lld, \"num_attention_heads\": %lld, "
           "\"num_key_value_heads\": %lld, \"intermediate_size\": %lld, \"vocab_size\": %lld, "
           "\"max_position_embeddings\": 4096, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, "
           "\"hidden_act\": \"silu\", \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", "
           "\"bos_token_id\": 1, \"eos_token_id\": 2}\n",
           (long long) hidden, (long long) layers, (long long) heads, (long long) kv,
           (long long) inter, (long long) vocab);
  fclose (f);

  int64_t hd = hidden / heads;
  int n = 3 + 9 * (int) layers, k = 0;
  st_write_tensor *ts = calloc ((size_t) n, sizeof *ts);
  fill_ctx *cs = calloc ((size_t) n, sizeof *cs);
  char (*names)[128] = calloc ((size_t) n, sizeof *names);
  int64_t total = 0;
#define ADD(NAME, ROWS, COLS, NORM)                                                       \
  do {                                                                                    \
    snprintf (names[k], sizeof names[k], "%s", NAME);                                     \
    cs[k] = (fill_ctx) { .n = (ROWS) * (COLS), .fan_in = (COLS), .seed = 1000u + (uint64_t) k, \
                         .norm = (NORM) };                                                \
    ts[k] = (st_write_tensor) { .name = names[k], .dtype = ST_BF16,                       \
                                .ndim = (ROWS) == 1 ? 1 : 2, .fill = fill_bf16, .user = &cs[k] }; \
    if ((ROWS) == 1)                                                                      \
      ts[k].shape[0] = (COLS);                                                            \
    else                                                                                  \
      ts[k].shape[0] = (ROWS), ts[k].shape[1] = (COLS);                                   \
    total += (ROWS) * (COLS);                                                             \
    k++;                                                                                  \
  } while (0)
  char name[128];
  ADD ("model.embed_tokens.weight", vocab, hidden, false);
  for (int64_t l = 0; l < layers; l++)
    {
      static const char *const proj[] = { "self_attn.q_proj", "self_attn.k_proj",
                                          "self_attn.v_proj", "self_attn.o_proj",
                                          "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" };
      const int64_t rows[] = { heads * hd, kv * hd, kv * hd, hidden, inter, inter, hidden };
      const int64_t cols[] = { hidden, hidden, hidden, heads * hd, hidden, hidden, inter };
      for (int p = 0; p < 7; p++)
        {
          snprintf (name, sizeof name, "model.layers.%lld.%s.weight", (long long) l, proj[p]);
          ADD (name, rows[p], cols[p], false);
        }
      snprintf (name, sizeof name, "model.layers.%lld.input_layernorm.weight", (long long) l);
      ADD (name, 1, hidden, true);
      snprintf (name, sizeof name, "model.layers.%lld.post_attention_layernorm.weight",
                (long long) l);
      ADD (name, 1, hidden, true);
    }
  ADD ("model.norm.weight", 1, hidden, true);
  ADD ("lm_head.weight", vocab, hidden, false);
#undef ADD
  snprintf (path, sizeof path, "%s/model.safetensors", dir);
  const st_write_meta meta[] = { { "format", "pt" } };
  bool ok = st_write (path, ts, (size_t) k, meta, 1, &err);
  if (!ok)
    fprintf (stderr, "llama-gpu-bench: %s\n", err.message);
  else
    printf ("{\"params\": %lld}\n", (long long) total);
  free (ts);
  free (cs);
  free (names);
  return ok ? 0 : 1;
}

/* ---- run ---- */

static int
run (int argc, char **argv)
{
  const char *dir = argv[2];
  int64_t batch = atoll (argv[3]), t = atoll (argv[4]);
  int steps = atoi (argv[5]), warmup = atoi (argv[6]);
  int rank = argc > 7 ? atoi (argv[7]) : 8;
  bool ckpt = argc > 8 && atoi (argv[8]) != 0;
  const char *device = argc > 9 ? argv[9] : "cuda";
  if (steps < 1 || batch < 1 || t < 2)
    {
      fprintf (stderr, "llama-gpu-bench: STEPS, BATCH must be >= 1 and SEQ >= 2\n");
      return 2;
    }

  le_error err = { 0 };
  const backend *be = backend_select (device, &err);
  if (be == NULL)
    {
      fprintf (stderr, "llama-gpu-bench: %s\n", err.message);
      return 3;
    }
  size_t used0 = 0, total = 0;
  if (be->mem_info != NULL)
    be->mem_info (&used0, &total);
  double t_load = bench_now_s ();
  /* as the trainer loads it for mixed_precision bf16 on a GPU (text_lora_weight_dtype) */
  llama_model *m = llama_model_load (dir, be->device == LE_CPU ? LLAMA_DTYPE_KEEP : LE_BF16,
                                     be, &err);
  const char *targets[] = { "q_proj", "k_proj", "v_proj", "o_proj", NULL };
  if (m == NULL || !llama_lora_attach (m, targets, rank, (float) (2 * rank), 0.0f, 1, &err)
      || !be->sync (&err))
    {
      fprintf (stderr, "llama-gpu-bench: %s\n", err.message);
      return 1;
    }
  t_load = bench_now_s () - t_load;
  m->checkpointing = ckpt;
  graph *g = graph_new (be, &err);
  param_store *ps = m->lora->ps;
  size_t n = (size_t) ps->n_train;
  /* AdamW where the parameters are, as the trainer does on a device */
  float *moments = be->alloc (2 * n * sizeof (float), &err);
  if (g == NULL || moments == NULL)
    {
      fprintf (stderr, "llama-gpu-bench: %s\n", err.message);
      return 1;
    }
  be->memset_zero (moments, 2 * n * sizeof (float));

  int32_t *tokens = malloc ((size_t) (batch * t) * sizeof *tokens);
  uint8_t *count = malloc ((size_t) (batch * t));
  for (int64_t i = 0; i < batch * t; i++)
    {
      tokens[i] = (int32_t) ((i * 7919 + 13) % m->cfg.vocab);
      count[i] = i % t != 0;   /* position 0 predicts nothing */
    }

  double *times = calloc ((size_t) (steps + warmup), sizeof *times);
  double *losses = calloc ((size_t) (steps + warmup), sizeof *losses);
  for (int s = 0; s < steps + warmup; s++)
    {
      double t0 = bench_now_s ();
      graph_reset (g);
      graph_set_grad_enabled (g, true);
      graph_set_training (g, true);
      tensor *loss = llama_forward_loss (m, g, tokens, count, batch, t, NULL, NULL);
      losses[s] = loss ? graph_item (g, loss) : -1;
      if (!bench_optimizer_step ("llama-gpu-bench", be, g, loss, ps, moments, n, s + 1))
        return 1;
      times[s] = bench_now_s () - t0;
    }

  double *timed = times + warmup;
  qsort (timed, (size_t) steps, sizeof *timed, bench_cmp_double);
  double med = timed[steps / 2];
  printf ("{\"impl\": \"lora-engine\", \"device\": \"%s\", \"median_ms\": %.3f, "
          "\"min_ms\": %.3f, \"tokens_per_s\": %.1f, \"load_s\": %.2f, "
          "\"mem_before_mb\": %.1f, \"mem_peak_mb\": %.1f, \"mem_total_mb\": %.1f, "
          "\"arena_mb\": %.1f, \"lora_params\": %lld, \"base_params\": %lld, \"losses\": [",
          be->name, 1e3 * med, 1e3 * timed[0], (double) (batch * t) / med, t_load,
          used0 / 1048576.0, bench_mem_peak / 1048576.0, total / 1048576.0,
          graph_peak_bytes (g) / 1048576.0, (long long) llama_n_lora_params (m),
          (long long) llama_n_base_params (m));
  for (int s = 0; s < steps + warmup; s++)
    printf ("%s%.6f", s ? ", " : "", losses[s]);
  printf ("]}\n");
  be->free (moments);
  graph_free (g);
  llama_model_free (m);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 3 && strcmp (argv[1], "write") == 0)
    {
      int64_t v[6] = { 2048, 16, 32, 8, 5632, 32000 };
      for (int i = 0; i < 6 && 3 + i < argc; i++)
        v[i] = atoll (argv[3 + i]);
      return write_model (argv[2], v[0], v[1], v[2], v[3], v[4], v[5]);
    }
  if (argc >= 7 && strcmp (argv[1], "run") == 0)
    return run (argc, argv);
  fprintf (stderr,
           "usage: %s write DIR [HIDDEN LAYERS HEADS KV_HEADS INTERMEDIATE VOCAB]\n"
           "       %s run DIR BATCH SEQ STEPS WARMUP [RANK] [CHECKPOINTING] [DEVICE]\n",
           argv[0], argv[0]);
  return 2;
}
