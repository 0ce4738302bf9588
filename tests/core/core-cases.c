/* core-cases.c: the op cases (see core-cases.h). Shapes include odd sizes, batched and
 * broadcast forms, frozen half-precision weights, grouped-query and causal attention with
 * more than one query block, strided and asymmetrically padded convolutions. */
#include "core-cases.h"

#include <stdlib.h>
#include <string.h>

#include "math-common.h"

#define S1(a) 1, { a }
#define S2(a, b) 2, { a, b }
#define S3(a, b, c) 3, { a, b, c }
#define S4(a, b, c, d) 4, { a, b, c, d }
#define G(shape) { shape, K_RAND, LE_F32, true, 0 }
#define F(shape) { shape, K_RAND, LE_F32, false, 0 }
#define P(shape) { shape, K_POS, LE_F32, true, 0 }

const core_case core_cases[] = {
  { "linear", "linear", 3, { G (S3 (3, 5, 7)), G (S2 (4, 7)), G (S1 (4)) } },
  { "linear_nobias", "linear", 2, { G (S2 (2, 9)), G (S2 (6, 9)) } },
  { "linear_frozen_bf16", "linear", 2,
    { G (S2 (5, 8)), { S2 (3, 8), K_RAND, LE_BF16, false, 0 } } },
  { "linear_frozen_f16", "linear", 3,
    { G (S3 (2, 3, 8)), { S2 (3, 8), K_RAND, LE_F16, false, 0 }, F (S1 (3)) } },
  { "matmul_nn", "matmul", 2, { G (S3 (2, 3, 5)), G (S3 (2, 5, 4)) }, .ip = { 0, 0 } },
  { "matmul_nt", "matmul", 2, { G (S2 (3, 5)), G (S2 (4, 5)) }, .ip = { 0, 1 } },
  { "matmul_tn", "matmul", 2, { G (S3 (2, 5, 3)), G (S3 (2, 5, 4)) }, .ip = { 1, 0 } },
  { "matmul_tt", "matmul", 2, { G (S3 (2, 5, 3)), G (S3 (2, 4, 5)) }, .ip = { 1, 1 } },
  { "matmul_shared_b", "matmul", 2, { G (S3 (3, 2, 5)), G (S2 (5, 4)) }, .ip = { 0, 0 } },
  { "matmul_shared_b_ta", "matmul", 2, { G (S3 (3, 5, 2)), G (S2 (4, 5)) }, .ip = { 1, 1 } },
  /* big enough that cpu_sgemm splits the product over threads, by columns and by rows */
  { "linear_split", "linear", 3, { G (S2 (64, 96)), G (S2 (80, 96)), G (S1 (80)) } },
  { "matmul_split_rows", "matmul", 2, { G (S3 (2, 100, 64)), G (S3 (2, 64, 48)) } },
  { "matmul_split_tt", "matmul", 2, { G (S3 (2, 64, 100)), G (S3 (2, 48, 64)) },
    .ip = { 1, 1 } },
  { "matmul_4d", "matmul", 2, { G (S4 (2, 2, 3, 4)), G (S4 (2, 2, 4, 5)) } },
  { "add", "add", 2, { G (S2 (3, 7)), G (S2 (3, 7)) } },
  { "sub", "sub", 2, { G (S2 (3, 7)), G (S2 (3, 7)) } },
  { "mul", "mul", 2, { G (S3 (2, 3, 5)), G (S3 (2, 3, 5)) } },
  { "scale", "scale", 1, { G (S2 (4, 3)) }, .f = { -1.7f } },
  { "add_bias_last", "add_bias", 2, { G (S2 (4, 6)), G (S1 (6)) }, .ip = { 1 } },
  { "add_bias_channels", "add_bias", 2, { G (S3 (2, 3, 5)), G (S1 (3)) }, .ip = { 1 } },
  { "add_bias_per_sample", "add_bias", 2, { G (S4 (2, 3, 4, 5)), G (S2 (2, 3)) }, .ip = { 1 } },
  { "reshape_scale", "reshape_scale", 1, { G (S2 (2, 6)) }, .f = { 2.0f } },
  { "permute_0213", "permute", 1, { G (S4 (2, 3, 4, 5)) }, .ip = { 0, 2, 1, 3 } },
  { "permute_201", "permute", 1, { G (S3 (2, 3, 4)) }, .ip = { 2, 0, 1 } },
  { "transpose", "transpose", 1, { G (S2 (3, 5)) }, .ip = { 0, 1 } },
  { "concat_channels", "concat", 2, { G (S3 (2, 3, 4)), G (S3 (2, 5, 4)) }, .ip = { 1 } },
  { "concat_last3", "concat", 3, { G (S2 (3, 2)), F (S2 (3, 1)), G (S2 (3, 4)) }, .ip = { 1 } },
  { "slice_last", "slice", 1, { G (S2 (3, 10)) }, .ip = { 1, 2, 5 } },
  { "slice_first", "slice", 1, { G (S3 (4, 3, 2)) }, .ip = { 0, 1, 2 } },
  { "upsample2x", "upsample2x", 1, { G (S4 (2, 3, 3, 5)) } },
  { "embedding", "embedding", 2, { G (S2 (11, 6)), { S2 (2, 5), K_IDS, LE_I32, false, 11 } } },
  { "embedding_bf16", "embedding", 2,
    { { S2 (7, 4), K_RAND, LE_BF16, false, 0 }, { S1 (5), K_IDS, LE_I32, false, 7 } } },
  { "rmsnorm", "rmsnorm", 2, { G (S3 (3, 4, 16)), P (S1 (16)) }, .f = { 1e-6f } },
  { "rmsnorm_odd", "rmsnorm", 2, { G (S2 (5, 13)), P (S1 (13)) }, .f = { 1e-5f } },
  { "layernorm", "layernorm", 3, { G (S2 (5, 12)), P (S1 (12)), G (S1 (12)) }, .f = { 1e-5f } },
  { "layernorm_odd", "layernorm", 3, { G (S3 (2, 3, 7)), P (S1 (7)), G (S1 (7)) },
    .f = { 1e-5f } },
  { "groupnorm", "groupnorm", 3, { G (S4 (2, 8, 3, 5)), P (S1 (8)), G (S1 (8)) },
    .f = { 1e-5f }, .ip = { 4 } },
  { "groupnorm_32", "groupnorm", 3, { G (S4 (1, 64, 2, 3)), P (S1 (64)), G (S1 (64)) },
    .f = { 1e-6f }, .ip = { 32 } },
  { "silu", "silu", 1, { G (S2 (4, 9)) } },
  { "gelu", "gelu", 1, { G (S2 (4, 9)) } },
  { "gelu_tanh", "gelu_tanh", 1, { G (S2 (4, 9)) } },
  { "quick_gelu", "quick_gelu", 1, { G (S2 (4, 9)) } },
  { "geglu", "geglu", 1, { G (S3 (3, 2, 10)) } },
  { "swiglu", "swiglu", 2, { G (S2 (5, 7)), G (S2 (5, 7)) } },
  { "softmax", "softmax", 1, { G (S2 (4, 11)) } },
  { "dropout", "dropout", 1, { G (S2 (6, 9)) }, .f = { 0.3f }, .ip = { 1234, 77 } },
  { "rope", "rope", 3,
    { G (S4 (2, 3, 5, 8)), { S2 (10, 8), K_COS, LE_F32, false, 0 },
      { S2 (10, 8), K_SIN, LE_F32, false, 0 } }, .f = { 10000.0f }, .ip = { 2 } },
  { "rope_llama3", "rope", 3,
    { G (S4 (1, 2, 3, 64)), { S2 (3000, 64), K_COS, LE_F32, false, 0 },
      { S2 (3000, 64), K_SIN, LE_F32, false, 0 } },
    .f = { 500000.0f, 8.0f, 1.0f, 4.0f, 8192.0f }, .ip = { 2990 } },
  { "attention_gqa", "attention", 3, { G (S4 (2, 4, 5, 8)), G (S4 (2, 2, 7, 8)),
    G (S4 (2, 2, 7, 8)) }, .f = { 0.35355339f }, .ip = { 0 } },
  { "attention_causal", "attention", 3, { G (S4 (1, 2, 6, 4)), G (S4 (1, 2, 6, 4)),
    G (S4 (1, 2, 6, 4)) }, .f = { 0.5f }, .ip = { 1 } },
  { "attention_causal_kv_longer", "attention", 3, { G (S4 (1, 2, 3, 4)), G (S4 (1, 1, 5, 4)),
    G (S4 (1, 1, 5, 4)) }, .f = { 0.5f }, .ip = { 1 } },
  { "attention_blocks", "attention", 3, { G (S4 (1, 1, 150, 4)), G (S4 (1, 1, 150, 4)),
    G (S4 (1, 1, 150, 4)) }, .f = { 0.5f }, .ip = { 1 } },
  { "conv2d", "conv2d", 3, { G (S4 (2, 3, 5, 6)), G (S4 (4, 3, 3, 3)), G (S1 (4)) },
    .ip = { 1, 1, 1, 1, 1 } },
  { "conv2d_stride2", "conv2d", 2, { G (S4 (1, 2, 7, 7)), G (S4 (3, 2, 3, 3)) },
    .ip = { 2, 1, 1, 1, 1 } },
  { "conv2d_asym_pad", "conv2d", 3, { G (S4 (1, 2, 6, 6)), G (S4 (2, 2, 3, 3)), G (S1 (2)) },
    .ip = { 2, 0, 0, 1, 1 } },
  { "conv2d_1x1", "conv2d", 3, { G (S4 (2, 5, 3, 4)), G (S4 (3, 5, 1, 1)), G (S1 (3)) },
    .ip = { 1, 0, 0, 0, 0 } },
  { "conv2d_frozen_bf16", "conv2d", 2,
    { G (S4 (1, 2, 4, 5)), { S4 (3, 2, 3, 3), K_RAND, LE_BF16, false, 0 } },
    .ip = { 1, 1, 1, 1, 1 } },
  { "sum", "sum", 1, { G (S2 (3, 4)) } },
  { "mean", "mean", 1, { G (S2 (3, 5)) } },
  { "mean_rows", "mean_rows", 1, { G (S3 (4, 3, 2)) } },
  { "mse", "mse", 2, { G (S2 (3, 7)), G (S2 (3, 7)) } },
  { "cross_entropy", "cross_entropy", 2,
    { G (S3 (2, 5, 13)), { S2 (2, 5), K_TARGETS, LE_I32, false, 13 } } },
};
const int n_core_cases = sizeof core_cases / sizeof core_cases[0];

int64_t
case_numel (const case_input *in)
{
  int64_t n = 1;
  for (int d = 0; d < in->ndim; d++)
    n *= in->shape[d];
  return n;
}

void
core_case_inputs (const core_case *c, float **inputs)
{
  for (int j = 0; j < c->n_in; j++)
    {
      inputs[j] = malloc ((size_t) case_numel (&c->in[j]) * sizeof (float));
      core_case_fill (c, j, inputs[j]);
    }
}

void
core_case_grads (const core_case *c, bool all, float **grads)
{
  for (int j = 0; j < c->n_in; j++)
    grads[j] = all || c->in[j].grad ? calloc ((size_t) case_numel (&c->in[j]), sizeof (float))
                                    : NULL;
}

void
core_case_free_buffers (const core_case *c, float **buffers)
{
  for (int j = 0; j < c->n_in; j++)
    {
      free (buffers[j]);
      buffers[j] = NULL;
    }
}

static uint64_t
name_hash (const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (uint8_t) *s) * 1099511628211ull;
  return h;
}

void
core_case_fill (const core_case *c, int j, float *data)
{
  const case_input *in = &c->in[j];
  int64_t n = case_numel (in);
  uint64_t seed = name_hash (c->name) + (uint64_t) j;
  if (in->kind == K_COS || in->kind == K_SIN)
    {
      int64_t p = in->shape[0], d = in->shape[1];
      rope_scaling sc = { c->f[1], c->f[2], c->f[3], c->f[4] };
      float *other = malloc ((size_t) (p * d) * sizeof (float));
      if (in->kind == K_COS)
        rope_table_build (data, other, p, d, c->f[0], &sc);
      else
        rope_table_build (other, data, p, d, c->f[0], &sc);
      free (other);
      return;
    }
  for (int64_t i = 0; i < n; i++)
    {
      float u = le_rand_uniform (seed, (uint64_t) i);
      switch (in->kind)
        {
        case K_POS: data[i] = 0.5f + u; break;
        case K_IDS: data[i] = (float) (int64_t) (u * (float) in->range); break;
        case K_TARGETS:
          data[i] = le_rand_uniform (seed + 99, (uint64_t) i) < 0.25f
                    ? -100.0f : (float) (int64_t) (u * (float) in->range);
          break;
        default: data[i] = 2.0f * u - 1.0f; break;
        }
      if (in->dt == LE_BF16)
        data[i] = le_bf16_to_f32 (le_f32_to_bf16 (data[i]));
      else if (in->dt == LE_F16)
        data[i] = le_f16_to_f32 (le_f32_to_f16 (data[i]));
    }
}

tensor *
core_case_forward (graph *g, const core_case *c, tensor **in)
{
  const char *op = c->op;
  if (!strcmp (op, "linear"))
    return op_linear (g, in[0], in[1], c->n_in > 2 ? in[2] : NULL);
  if (!strcmp (op, "matmul"))
    return op_matmul (g, in[0], in[1], c->ip[0], c->ip[1]);
  if (!strcmp (op, "add"))
    return op_add (g, in[0], in[1]);
  if (!strcmp (op, "sub"))
    return op_sub (g, in[0], in[1]);
  if (!strcmp (op, "mul"))
    return op_mul (g, in[0], in[1]);
  if (!strcmp (op, "scale"))
    return op_scale (g, in[0], c->f[0]);
  if (!strcmp (op, "add_bias"))
    return op_add_bias (g, in[0], in[1], (int) c->ip[0]);
  if (!strcmp (op, "reshape_scale"))
    {
      int64_t shape[2] = { in[0]->numel / 4, 4 };
      return op_scale (g, op_reshape (g, in[0], 2, shape), c->f[0]);
    }
  if (!strcmp (op, "permute"))
    {
      int perm[4] = { (int) c->ip[0], (int) c->ip[1], (int) c->ip[2], (int) c->ip[3] };
      return op_permute (g, in[0], perm);
    }
  if (!strcmp (op, "transpose"))
    return op_transpose (g, in[0], (int) c->ip[0], (int) c->ip[1]);
  if (!strcmp (op, "concat"))
    return op_concat (g, in, c->n_in, (int) c->ip[0]);
  if (!strcmp (op, "slice"))
    return op_slice (g, in[0], (int) c->ip[0], c->ip[1], c->ip[2]);
  if (!strcmp (op, "upsample2x"))
    return op_upsample2x (g, in[0]);
  if (!strcmp (op, "embedding"))
    return op_embedding (g, in[0], in[1]);
  if (!strcmp (op, "rmsnorm"))
    return op_rmsnorm (g, in[0], in[1], c->f[0]);
  if (!strcmp (op, "layernorm"))
    return op_layernorm (g, in[0], in[1], in[2], c->f[0]);
  if (!strcmp (op, "groupnorm"))
    return op_groupnorm (g, in[0], (int) c->ip[0], in[1], in[2], c->f[0]);
  if (!strcmp (op, "silu"))
    return op_silu (g, in[0]);
  if (!strcmp (op, "gelu"))
    return op_gelu (g, in[0]);
  if (!strcmp (op, "gelu_tanh"))
    return op_gelu_tanh (g, in[0]);
  if (!strcmp (op, "quick_gelu"))
    return op_quick_gelu (g, in[0]);
  if (!strcmp (op, "geglu"))
    return op_geglu (g, in[0]);
  if (!strcmp (op, "swiglu"))
    return op_swiglu (g, in[0], in[1]);
  if (!strcmp (op, "softmax"))
    return op_softmax (g, in[0]);
  if (!strcmp (op, "dropout"))
    {
      graph_set_training (g, true);
      graph_set_rng (g, (uint64_t) c->ip[0], (uint64_t) c->ip[1]);
      return op_dropout (g, in[0], c->f[0]);
    }
  if (!strcmp (op, "rope"))
    return op_rope (g, in[0], in[1], in[2], c->ip[0]);
  if (!strcmp (op, "attention"))
    return op_attention (g, in[0], in[1], in[2], c->ip[0], c->f[0]);
  if (!strcmp (op, "conv2d"))
    return op_conv2d_ex (g, in[0], in[1], c->n_in > 2 ? in[2] : NULL, (int) c->ip[0],
                         (int) c->ip[1], (int) c->ip[2], (int) c->ip[3], (int) c->ip[4]);
  if (!strcmp (op, "sum"))
    return op_sum (g, in[0]);
  if (!strcmp (op, "mean"))
    return op_mean (g, in[0]);
  if (!strcmp (op, "mean_rows"))
    return op_mean_rows (g, in[0]);
  if (!strcmp (op, "mse"))
    return op_mse (g, in[0], in[1]);
  if (!strcmp (op, "cross_entropy"))
    return op_cross_entropy (g, in[0], in[1], NULL, NULL);
  return graph_fail (g, LE_ERR_INVALID, "test case %s: unknown op %s", c->name, op);
}

static tensor *
upload (graph *g, const case_input *ci, const float *host, bool with_grad)
{
  int64_t n = case_numel (ci);
  void *buf = malloc ((size_t) n * 4);
  if (ci->dt == LE_I32)
    for (int64_t i = 0; i < n; i++)
      ((int32_t *) buf)[i] = (int32_t) host[i];
  else
    tensor_convert_host (buf, ci->dt, host, LE_F32, (size_t) n);
  tensor *t = graph_from_host (g, ci->dt, ci->ndim, ci->shape, buf, "input");
  free (buf);
  if (t)
    t->requires_grad = with_grad && ci->grad;
  return t;
}

float *
core_case_run (graph *g, const core_case *c, float **inputs, const float *r, float **grads,
               int64_t *n_out, le_error *err)
{
  graph_reset (g);
  graph_set_grad_enabled (g, r != NULL);
  graph_set_training (g, false);
  tensor *in[4] = { NULL };
  for (int j = 0; j < c->n_in; j++)
    in[j] = upload (g, &c->in[j], inputs[j], r != NULL);
  tensor *out = core_case_forward (g, c, in);
  if (out == NULL)
    {
      graph_take_error (g, err);
      return NULL;
    }
  float *host = malloc ((size_t) out->numel * sizeof (float));
  *n_out = out->numel;
  if (!graph_to_host (g, out, host, err))
    {
      free (host);
      return NULL;
    }
  if (r == NULL)
    return host;
  tensor *rt = graph_from_host (g, LE_F32, out->ndim, out->shape, r, "r");
  tensor *loss = op_sum (g, op_mul (g, out, rt));
  if (loss && !loss->requires_grad)   /* only frozen inputs: a forward-only case */
    return host;
  if (!graph_backward (g, loss, err))
    {
      free (host);
      return NULL;
    }
  for (int j = 0; j < c->n_in; j++)
    if (grads[j] && in[j]->grad
        && !graph_to_host (g, &(tensor) { .dtype = LE_F32, .numel = in[j]->numel,
                                          .data = in[j]->grad }, grads[j], err))
      {
        free (host);
        return NULL;
      }
  return host;
}
