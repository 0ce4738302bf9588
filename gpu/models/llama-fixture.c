/* llama-fixture.c: writes a tiny LLaMA folder with random weights (see llama-fixture.h). */
#include "llama-fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "fixture-util.h"
#include "hf-config.h"
#include "math-common.h"
#include "safetensors.h"

void
llama_fixture_defaults (llama_fixture_options *o)
{
  *o = (llama_fixture_options) {
    .hidden = 64, .layers = 2, .heads = 4, .kv_heads = 2, .intermediate = 0,
    .merges = 250, .dtype = LE_F32, .seed = 1, .tied = false,
    .rope = LLAMA_FIXTURE_ROPE_PLAIN, .shards = 1,
  };
}

/* uniform in [-1, 1), rounded once from a double (fixture_uniform rounds twice); the
 * LLaMA fixture has always drawn this way, so its bytes stay what they were */
static float
next_sym (uint64_t *s)
{
  return (float) ((double) (le_splitmix64_next (s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

typedef struct {
  char name[96];
  int64_t shape[2];
  int ndim;
  void *data;            /* in the fixture's dtype */
} fixture_tensor;

static bool
make_tensor (fixture_tensor *t, const char *name, int ndim, int64_t d0, int64_t d1,
             float center, float spread, le_dtype dt, uint64_t *rng, le_error *err)
{
  snprintf (t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = d1;
  int64_t n = ndim == 1 ? d0 : d0 * d1;
  float *f = le_malloc ((size_t) n * sizeof *f, "fixture weights", err);
  if (f == NULL)
    return false;
  for (int64_t i = 0; i < n; i++)
    f[i] = center + spread * next_sym (rng);
  if (dt == LE_F32)
    {
      t->data = f;
      return true;
    }
  t->data = le_malloc ((size_t) n * 2, "fixture weights", err);
  if (t->data)
    tensor_convert_host (t->data, dt, f, LE_F32, (size_t) n);
  free (f);
  return t->data != NULL;
}

static int
compare_tensors (const void *a, const void *b)
{
  return strcmp (((const st_write_tensor *) a)->name, ((const st_write_tensor *) b)->name);
}

bool
llama_fixture_write (const char *dir, const llama_fixture_options *o, le_error *err)
{
  if (o->hidden < 8 || o->layers < 1 || o->heads < 1 || o->kv_heads < 1
      || o->hidden % o->heads != 0 || (o->hidden / o->heads) % 2 != 0
      || o->heads % o->kv_heads != 0 || o->shards < 1 || o->shards > 64)
    return le_fail (err, LE_ERR_INVALID, "fixture: hidden must be a multiple of heads with an "
                    "even head size, heads a multiple of kv heads, shards 1 to 64");
  if (o->dtype != LE_F32 && o->dtype != LE_F16 && o->dtype != LE_BF16)
    return le_fail (err, LE_ERR_INVALID, "fixture: dtype must be f32, f16 or bf16");
  if (!le_mkdir_p (dir, err))
    return false;
  int64_t vocab;
  if (!llama_fixture_write_tokenizer (dir, o->merges, &vocab, err))
    return false;

  llama_config cfg = { 0 };
  snprintf (cfg.architecture, sizeof cfg.architecture, "LlamaForCausalLM");
  snprintf (cfg.model_type, sizeof cfg.model_type, "llama");
  cfg.hidden = o->hidden;
  cfg.intermediate = o->intermediate > 0 ? o->intermediate
                     : ((o->hidden * 8 / 3 + 3) / 4) * 4;
  cfg.n_layers = o->layers;
  cfg.n_heads = o->heads;
  cfg.n_kv_heads = o->kv_heads;
  cfg.head_dim = o->hidden / o->heads;
  cfg.vocab = vocab;
  cfg.max_positions = 2048;
  cfg.rms_eps = 1e-5f;
  cfg.rope_theta = 10000.0f;
  cfg.rope_linear_factor = 1.0f;
  if (o->rope == LLAMA_FIXTURE_ROPE_LLAMA3)
    {
      /* a small original context, so the tiny head size still has low, mid and high
       * frequency bands and every branch of the scaling is used */
      cfg.rope_theta = 500000.0f;
      cfg.scaling = (rope_scaling) { 8.0f, 1.0f, 4.0f, 32.0f };
    }
  else if (o->rope == LLAMA_FIXTURE_ROPE_LINEAR)
    cfg.rope_linear_factor = 2.0f;
  cfg.tie_embeddings = o->tied;
  cfg.bos_id = (int32_t) vocab - 2;
  cfg.eos_id = (int32_t) vocab - 1;
  snprintf (cfg.torch_dtype, sizeof cfg.torch_dtype, "%s",
            o->dtype == LE_F32 ? "float32" : o->dtype == LE_F16 ? "float16" : "bfloat16");
  char path[2048];
  snprintf (path, sizeof path, "%s/config.json", dir);
  if (!llama_config_save (&cfg, path, err))
    return false;
  snprintf (path, sizeof path, "%s/generation_config.json", dir);
  char gen[256];
  snprintf (gen, sizeof gen, "{\n  \"bos_token_id\": %d,\n  \"eos_token_id\": %d\n}\n",
            cfg.bos_id, cfg.eos_id);
  if (!le_atomic_write_file (path, gen, strlen (gen), err))
    return false;

  int64_t C = cfg.hidden, F = cfg.intermediate, D = cfg.head_dim;
  int64_t qd = cfg.n_heads * D, kvd = cfg.n_kv_heads * D;
  int n_max = 3 + 9 * (int) cfg.n_layers;
  fixture_tensor *ts = calloc ((size_t) n_max, sizeof *ts);
  if (ts == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory");
  uint64_t rng = o->seed;
  int n = 0;
  bool ok = make_tensor (&ts[n++], "model.embed_tokens.weight", 2, vocab, C, 0, 1.0f,
                         o->dtype, &rng, err);
  static const char *const lin[7] = { "self_attn.q_proj", "self_attn.k_proj",
    "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" };
  for (int64_t l = 0; ok && l < cfg.n_layers; l++)
    {
      const int64_t shapes[7][2] = {
        { qd, C }, { kvd, C }, { kvd, C }, { C, qd }, { F, C }, { F, C }, { C, F }
      };
      char name[96];
      for (int k = 0; ok && k < 7; k++)
        {
          snprintf (name, sizeof name, "model.layers.%lld.%s.weight", (long long) l, lin[k]);
          /* nn.Linear's default range keeps activations O(1) through the layers */
          ok = make_tensor (&ts[n++], name, 2, shapes[k][0], shapes[k][1], 0,
                            1.0f / sqrtf ((float) shapes[k][1]), o->dtype, &rng, err);
        }
      snprintf (name, sizeof name, "model.layers.%lld.input_layernorm.weight", (long long) l);
      ok = ok && make_tensor (&ts[n++], name, 1, C, 1, 1.0f, 0.2f, o->dtype, &rng, err);
      snprintf (name, sizeof name, "model.layers.%lld.post_attention_layernorm.weight",
                (long long) l);
      ok = ok && make_tensor (&ts[n++], name, 1, C, 1, 1.0f, 0.2f, o->dtype, &rng, err);
    }
  ok = ok && make_tensor (&ts[n++], "model.norm.weight", 1, C, 1, 1.0f, 0.2f, o->dtype, &rng,
                          err);
  if (ok && !o->tied)
    ok = make_tensor (&ts[n++], "lm_head.weight", 2, vocab, C, 0, 1.0f / sqrtf ((float) C),
                      o->dtype, &rng, err);

  st_write_tensor *w = calloc ((size_t) n_max, sizeof *w);
  ok = ok && w != NULL;
  st_dtype sdt = o->dtype == LE_F32 ? ST_F32 : o->dtype == LE_F16 ? ST_F16 : ST_BF16;
  for (int i = 0; ok && i < n; i++)
    w[i] = (st_write_tensor) { .name = ts[i].name, .dtype = sdt, .ndim = ts[i].ndim,
                               .shape = { ts[i].shape[0], ts[i].shape[1] },
                               .data = ts[i].data };
  st_write_meta meta[] = { { "format", "pt" } };
  if (ok && o->shards == 1)
    {
      qsort (w, (size_t) n, sizeof *w, compare_tensors);
      snprintf (path, sizeof path, "%s/model.safetensors", dir);
      ok = st_write (path, w, (size_t) n, meta, 1, err);
    }
  else if (ok)
    {
      /* HF's sharded layout: consecutive tensors per shard, an index naming each one's file */
      size_t cap = 4096 + (size_t) n * 160, len = 0;
      char *index = malloc (cap);
      ok = index != NULL;
      uint64_t total = 0;
      for (int i = 0; i < n; i++)
        total += (uint64_t) (ts[i].ndim == 1 ? ts[i].shape[0] : ts[i].shape[0] * ts[i].shape[1])
                 * (o->dtype == LE_F32 ? 4 : 2);
      if (ok)
        len = (size_t) snprintf (index, cap, "{\n  \"metadata\": {\"total_size\": %llu},\n"
                                 "  \"weight_map\": {", (unsigned long long) total);
      int per = (n + o->shards - 1) / o->shards;
      for (int s = 0; ok && s < o->shards; s++)
        {
          int first = s * per, count = first + per > n ? n - first : per;
          if (count <= 0)
            count = 0;
          char file[64];
          snprintf (file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, o->shards);
          snprintf (path, sizeof path, "%s/%s", dir, file);
          qsort (w + first, (size_t) count, sizeof *w, compare_tensors);
          ok = st_write (path, w + first, (size_t) count, meta, 1, err);
          for (int i = first; ok && i < first + count; i++)
            len += (size_t) snprintf (index + len, cap - len, "%s\n    \"%s\": \"%s\"",
                                      i ? "," : "", w[i].name, file);
        }
      if (ok)
        {
          snprintf (index + len, cap - len, "\n  }\n}\n");
          snprintf (path, sizeof path, "%s/model.safetensors.index.json", dir);
          ok = le_atomic_write_file (path, index, strlen (index), err);
        }
      free (index);
    }
  for (int i = 0; i < n; i++)
    free (ts[i].data);
  free (ts);
  free (w);
  return ok;
}
