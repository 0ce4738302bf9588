/* text-lora-run.h: the text-generation pipeline (task_type text-generation): a LLaMA-family
 * folder, its tokenizer and a folder of .txt/.jsonl turned into batches, LoRA attached,
 * trained by the generic trainer (trainer.h), previews generated from sample prompts, and
 * the PEFT adapter written at the end. Plain C; the CLI fills the options from the
 * config. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "llama.h"
#include "tokenizer.h"
#include "trainer.h"

typedef struct {
  const char *base_model;          /* HF folder */
  const char *tokenizer_path;      /* NULL: the base model folder's tokenizer.json */
  const char *train_data_dir;
  int64_t sequence_length;
  const char *const *target_modules; /* NULL-terminated */
  int rank;
  double alpha, dropout;
  bool gradient_checkpointing;
  const char *device;              /* "auto", "cpu", "cuda"; NULL = auto */
  /* Tests: run on this backend (initialised) instead of the one DEVICE picks, e.g. the
   * CUDA kernels under the CPU emulator. NULL in the program. */
  const backend *backend;
  const char *const *sample_prompts; /* NULL-terminated, may be NULL */
  int64_t sample_max_tokens;
  double sample_temperature;
  /* output_dir, steps, optimizer, resume, ...; train.precision (mixed_precision) also
   * picks the frozen weights' dtype on a GPU: bf16 (default) BF16, fp16 F16, no F32; the
   * CPU keeps the file's dtype and converts per product */
  le_trainer_options train;
} text_lora_options;

/* Loads everything, trains, writes the adapter. Problems go to hooks->error. */
le_run_status text_lora_run (const text_lora_options *o, const le_run_hooks *hooks,
                             le_trainer_result *result, le_error *err);

/* The llama_model_load dtype for the frozen weights of a run on BE with mixed precision
 * PRECISION ("bf16", "fp16", "no"). */
int text_lora_weight_dtype (const backend *be, const char *precision);

/* Generates up to MAX_TOKENS after PROMPT (BOS + prompt tokens) with the model's current
 * weights: greedy when TEMPERATURE is 0, else sampling from softmax(logits / T) with
 * draws keyed by SEED. Returns the generated text (malloc'd) or NULL. */
char *text_lora_generate (llama_model *m, const le_tokenizer *tok, graph *g, const char *prompt,
                          int64_t max_tokens, int64_t max_len, double temperature,
                          uint64_t seed, le_error *err);
