/* test-llama-units.c: the parts of text LoRA that need no reference: LoRA target matching
 * and init, config.json parsing, the text dataset's count flags, padding and cuts. TAP. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf-config.h"
#include "llama-fixture.h"
#include "llama.h"
#include "lora.h"
#include "text-dataset.h"

static int n_tests, n_failed;

static void
ok (bool cond, const char *name)
{
  n_tests++;
  if (!cond)
    n_failed++;
  printf ("%s %d - %s\n", cond ? "ok" : "not ok", n_tests, name);
}

static void
test_target_match (void)
{
  const char *t[] = { "q_proj", "to_out.0", NULL };
  ok (lora_target_match (t, "base_model.model.model.layers.3.self_attn.q_proj"),
      "q_proj matches the last path component");
  ok (!lora_target_match (t, "base_model.model.model.layers.3.self_attn.k_proj"),
      "k_proj does not match q_proj");
  ok (!lora_target_match (t, "base_model.model.model.layers.3.self_attn.xq_proj"),
      "a suffix inside a component does not match");
  ok (lora_target_match (t, "unet.up.attn1.to_out.0"), "dotted names match (to_out.0)");
}

static void
test_lora_init (void)
{
  le_error err = { 0 };
  const backend *be = backend_select ("cpu", &err);
  lora_set *s = lora_set_new (be, 4, 8, 0, &err);
  lora_linear *l = lora_set_add (s, "m.q_proj", 32, 100, &err);
  bool committed = l && lora_set_commit (s, 11, &err);
  ok (committed && fabsf (l->scale - 2.0f) < 1e-7f, "scale is alpha / rank");
  float a[400], b[128];
  lora_tensor_to_host (s, l->a, a, &err);
  lora_tensor_to_host (s, l->b, b, &err);
  float amax = 0, bmax = 0;
  for (int i = 0; i < 400; i++)
    amax = fmaxf (amax, fabsf (a[i]));
  for (int i = 0; i < 128; i++)
    bmax = fmaxf (bmax, fabsf (b[i]));
  /* Kaiming-uniform a=sqrt(5): bound 1/sqrt(100) = 0.1, and 400 draws come near it */
  ok (amax <= 0.1f && amax > 0.09f, "A is uniform within 1/sqrt(in)");
  ok (bmax == 0.0f, "B starts at zero");
  lora_set *s2 = lora_set_new (be, 4, 8, 0, &err);
  lora_linear *l2 = lora_set_add (s2, "m.q_proj", 32, 100, &err);
  lora_set_commit (s2, 11, &err);
  float a2[400];
  lora_tensor_to_host (s2, l2->a, a2, &err);
  ok (memcmp (a, a2, sizeof a) == 0, "the same seed gives the same A");
  ok (lora_set_add (s2, "m.k_proj", 4, 4, &err) == NULL && strstr (err.message, "committed"),
      "declaring after commit is an error");
  lora_set_free (s);
  lora_set_free (s2);
}

static void
test_config (void)
{
  le_error err = { 0 };
  llama_config c;
  const char *l3 = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 2048, "
    "\"intermediate_size\": 8192, \"num_hidden_layers\": 16, \"num_attention_heads\": 32, "
    "\"num_key_value_heads\": 8, \"vocab_size\": 128256, \"rms_norm_eps\": 1e-05, "
    "\"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, "
    "\"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192, "
    "\"rope_type\": \"llama3\"}, \"tie_word_embeddings\": true, \"bos_token_id\": 128000, "
    "\"eos_token_id\": [128001, 128008, 128009]}";
  bool parsed = llama_config_parse (l3, strlen (l3), "l3", &c, &err);
  ok (parsed && c.head_dim == 64 && c.n_kv_heads == 8 && c.scaling.factor == 32.0f
      && c.scaling.original_max_position == 8192.0f && c.tie_embeddings && c.eos_id == 128001,
      "Llama 3.2 1B config: GQA, llama3 rope_scaling, tied, EOS list");
  const char *missing = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64}";
  ok (!llama_config_parse (missing, strlen (missing), "x/config.json", &c, &err)
      && strstr (err.message, "intermediate_size") && strstr (err.message, "x/config.json"),
      "a missing key is named with the file");
  const char *gemma = "{\"architectures\": [\"GemmaForCausalLM\"]}";
  ok (!llama_config_parse (gemma, strlen (gemma), "g", &c, &err)
      && strstr (err.message, "architecture GemmaForCausalLM is not supported"),
      "another architecture is refused by name");
  const char *yarn = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
    "\"intermediate_size\": 1, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
    "\"vocab_size\": 10, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}}";
  ok (!llama_config_parse (yarn, strlen (yarn), "y", &c, &err) && strstr (err.message, "yarn"),
      "an unknown rope_scaling type is refused by name");
  const char *odd = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
    "\"intermediate_size\": 1, \"num_hidden_layers\": 1, \"num_attention_heads\": 6, "
    "\"vocab_size\": 10}";
  ok (!llama_config_parse (odd, strlen (odd), "o", &c, &err), "hidden not divisible by heads");
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  fputs (text, f);
  fclose (f);
}

static void
test_dataset (const char *work)
{
  le_error err = { 0 };
  char model[512], data[512], path[600];
  snprintf (model, sizeof model, "%s/tiny", work);
  snprintf (data, sizeof data, "%s/data", work);
  llama_fixture_options o;
  llama_fixture_defaults (&o);
  ok (llama_fixture_write (model, &o, &err), "fixture writes");
  mkdir (data, 0755);
  snprintf (path, sizeof path, "%s/b.txt", data);
  write_text (path, "one line\n\n  \nthe keeper walked along the shore and the boats\n");
  snprintf (path, sizeof path, "%s/a.jsonl", data);
  write_text (path, "{\"prompt\": \"Q\", \"completion\": \" yes\"}\n");
  snprintf (path, sizeof path, "%s/ignored.csv", data);
  write_text (path, "not,text\n");
  le_tokenizer *tok = le_tokenizer_load (model, &err);
  text_dataset *ds = tok ? text_dataset_load (data, tok, 8, &err) : NULL;
  ok (ds != NULL, ds ? "dataset loads" : err.message);
  if (ds == NULL)
    return;
  ok (ds->n_files == 2 && ds->n_samples == 3, "2 files (sorted), 3 non-empty lines");
  const text_sample *pc = &ds->samples[0];
  int32_t *q = NULL, *y = NULL;
  size_t nq, ny;
  le_tokenizer_encode (tok, "Q", 1, false, &q, &nq, &err);
  le_tokenizer_encode (tok, " yes", 4, false, &y, &ny, &err);
  bool flags = pc->n == (int64_t) (2 + nq + ny) && pc->ids[0] == le_tokenizer_bos_id (tok)
               && pc->ids[pc->n - 1] == le_tokenizer_eos_id (tok);
  for (int64_t i = 0; flags && i < pc->n; i++)
    flags = pc->count[i] == (i > (int64_t) nq);
  ok (flags, "prompt/completion: BOS + prompt do not count, completion + EOS do");
  const text_sample *s1 = &ds->samples[1];
  bool text_flags = s1->count[0] == 0;
  for (int64_t i = 1; i < s1->n; i++)
    text_flags &= s1->count[i] == 1;
  ok (text_flags && s1->line == 1, "text line: everything but BOS counts");
  ok (ds->n_cut == 1 && ds->samples[2].n == 8 && ds->samples[2].line == 4
      && strstr (text_dataset_cut_warning (ds), "b.txt:4"),
      "a sample longer than sequence_length is cut and reported with file:line");
  int64_t idx[2] = { 0, 1 };
  int64_t t = text_dataset_batch_len (ds, idx, 2);
  int32_t tokens[32];
  uint8_t count[32];
  text_dataset_batch (ds, idx, 2, t, tokens, count);
  ok (t == s1->n && tokens[pc->n] == ds->pad_id && count[pc->n] == 0
      && tokens[t + 1] == s1->ids[1], "batches are right-padded with uncounted padding");
  free (q);
  free (y);
  text_dataset_free (ds);
  le_tokenizer_free (tok);
}

static double
loss_of (llama_model *m, graph *g, bool training, uint64_t offset)
{
  int32_t tokens[2 * 12];
  uint8_t count[2 * 12];
  for (int i = 0; i < 24; i++)
    {
      tokens[i] = (i * 37 + 11) % 300;
      count[i] = i % 12 != 0;
    }
  graph_reset (g);
  graph_set_training (g, training);
  graph_set_rng (g, 5, offset);
  tensor *loss = llama_forward_loss (m, g, tokens, count, 2, 12, NULL, NULL);
  return loss ? graph_item (g, loss) : NAN;
}

/* LoRA dropout acts in training mode only, and its masks depend on the RNG position. */
static void
test_dropout (const char *work)
{
  le_error err = { 0 };
  char model[512];
  snprintf (model, sizeof model, "%s/tiny", work);
  const backend *be = backend_select ("cpu", &err);
  llama_model *m = llama_model_load (model, LLAMA_DTYPE_KEEP, be, &err);
  const char *targets[] = { "q_proj", "down_proj", NULL };
  bool attached = m && llama_lora_attach (m, targets, 4, 8, 0.5f, 3, &err);
  ok (attached && m->lora->n == 4, attached ? "LoRA on q_proj and down_proj of 2 layers"
                                            : err.message);
  if (!attached)
    return;
  for (int i = 0; i < m->lora->n; i++)
    {
      tensor *b = m->lora->items[i]->b;
      float *h = malloc ((size_t) b->numel * sizeof *h);
      for (int64_t k = 0; k < b->numel; k++)
        h[k] = 0.05f * (float) ((k * 7) % 11 - 5);
      lora_tensor_from_host (m->lora, b, h, &err);
      free (h);
    }
  graph *g = graph_new (be, &err);
  graph_set_grad_enabled (g, false);
  double eval_loss = loss_of (m, g, false, 0);
  m->lora->dropout = 0;
  double no_dropout = loss_of (m, g, true, 0);
  m->lora->dropout = 0.5f;
  double train1 = loss_of (m, g, true, 0), train2 = loss_of (m, g, true, 0);
  double train3 = loss_of (m, g, true, 1ull << 32);
  ok (isfinite (eval_loss) && eval_loss == no_dropout, "no dropout outside training");
  ok (train1 != eval_loss, "dropout changes the training loss");
  ok (train1 == train2 && train3 != train1,
      "dropout masks repeat at the same RNG position and change with it");

  /* checkpointed layers replay the same dropout masks: identical gradients */
  float *grads[2] = { NULL, NULL };
  double losses[2] = { 0, 0 };
  int64_t nt = m->lora->ps->n_train;
  graph_set_grad_enabled (g, true);
  for (int pass = 0; pass < 2; pass++)
    {
      m->checkpointing = pass == 1;
      param_store_zero_grad (m->lora->ps);
      int32_t tk[24];
      uint8_t ct[24];
      for (int i = 0; i < 24; i++)
        {
          tk[i] = (i * 53 + 7) % 300;
          ct[i] = i % 12 != 0;
        }
      graph_reset (g);
      graph_set_training (g, true);
      graph_set_rng (g, 9, 3ull << 32);
      tensor *loss = llama_forward_loss (m, g, tk, ct, 2, 12, NULL, NULL);
      if (loss && graph_backward (g, loss, &err))
        {
          losses[pass] = graph_item (g, loss);
          grads[pass] = malloc ((size_t) nt * sizeof (float));
          memcpy (grads[pass], m->lora->ps->train_grad, (size_t) nt * sizeof (float));
        }
    }
  double gdiff = 0, gmax = 0;
  for (int64_t i = 0; grads[0] && grads[1] && i < nt; i++)
    {
      gdiff = fmax (gdiff, fabs (grads[0][i] - grads[1][i]));
      gmax = fmax (gmax, fabs (grads[0][i]));
    }
  ok (grads[0] && grads[1] && losses[0] == losses[1] && gmax > 0 && gdiff <= 1e-6 * gmax,
      "gradient checkpointing with LoRA dropout gives the same loss and gradients");
  free (grads[0]);
  free (grads[1]);
  m->checkpointing = false;
  graph_set_grad_enabled (g, false);

  /* generation's key/value cache gives the logits of the full recomputation */
  graph_set_training (g, false);
  int32_t seq[10] = { 400, 5, 77, 123, 9, 250, 31, 8, 300, 64 };
  llama_kv_cache *cache = llama_kv_cache_new (m, 1, 10, &err);
  float full[405], cached[405];
  double worst = 0;
  bool ran = cache != NULL;
  for (int64_t n = 4, fed = 0; ran && n <= 10; fed = n, n += 2)
    {
      graph_reset (g);
      tensor *a = llama_forward_logits (m, g, seq, 1, n, true);
      ran = a && graph_to_host (g, a, full, &err);
      graph_reset (g);
      tensor *b = llama_forward_cached (m, g, cache, seq + fed, 1, n - fed);
      ran = ran && b && graph_to_host (g, b, cached, &err);
      for (int i = 0; ran && i < m->cfg.vocab; i++)
        worst = fmax (worst, fabs (full[i] - cached[i]));
    }
  ok (ran && m->cfg.vocab <= 405 && worst < 1e-4 && llama_kv_cache_len (cache) == 10,
      "KV-cached logits equal the full forward (prompt of 4, then 2 at a time)");
  graph_reset (g);
  ok (llama_forward_cached (m, g, cache, seq, 1, 1) == NULL, "a full KV cache is an error");
  llama_kv_cache_free (cache);
  graph_free (g);
  llama_model_free (m);
}

int
main (void)
{
  char work[] = "/tmp/test-llama-units-XXXXXX";
  if (mkdtemp (work) == NULL)
    return 1;
  test_target_match ();
  test_lora_init ();
  test_config ();
  test_dataset (work);
  test_dropout (work);
  printf ("1..%d\n", n_tests);
  char cmd[600];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", work);
  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", work);
  return n_failed ? 1 : 0;
}
