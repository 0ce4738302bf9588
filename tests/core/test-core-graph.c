/* test-core-graph.c: the tape and memory behaviours model code relies on: frozen weights
 * get no gradient memory and cost no backward work, the param store's few allocations,
 * gradient checkpointing (identical gradients, lower peak), arena reuse, sticky errors,
 * dropout's deterministic masks, the cross-entropy counts and backend selection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "math-common.h"
#include "ops.h"
#include "param-store.h"
#include "tap.h"

/* ---- a CPU backend that counts what it is asked to do ---- */

static backend counting;
static int n_matmul, n_alloc;

static void
count_matmul (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
              int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb, int64_t sa,
              int64_t sb, int64_t sc, float alpha, float beta)
{
  n_matmul++;
  backend_cpu.matmul (c, a, a_dt, b, b_dt, batch, m, n, k, ta, tb, sa, sb, sc, alpha, beta);
}

static void *
count_alloc (size_t bytes, le_error *err)
{
  n_alloc++;
  return backend_cpu.alloc (bytes, err);
}

static void
fill_random (float *x, int64_t n, uint64_t seed, float amp)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = amp * (2.0f * le_rand_uniform (seed, (uint64_t) i) - 1.0f);
}

static void
upload_random (param_store *ps, tensor *t, uint64_t seed)
{
  float *h = malloc ((size_t) t->numel * sizeof (float));
  fill_random (h, t->numel, seed, 0.5f);
  if (t->dtype == LE_F32)
    param_store_upload (ps, t, h, tensor_bytes (t), NULL);
  else
    {
      uint16_t *c = malloc ((size_t) t->numel * 2);
      tensor_convert_host (c, t->dtype, h, LE_F32, (size_t) t->numel);
      param_store_upload (ps, t, c, tensor_bytes (t), NULL);
      free (c);
    }
  free (h);
}

static double
abs_sum (const float *x, int64_t n)
{
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    s += fabs (x[i]);
  return s;
}

/* ---- frozen base weight + trainable LoRA pair ---- */

static void
test_frozen_branch (void)
{
  le_error err = { 0 };
  param_store *ps = param_store_new (&counting, &err);
  int64_t ws[2] = { 16, 12 }, as[2] = { 4, 12 }, bs[2] = { 16, 4 };
  tensor *w = param_store_add (ps, "base.weight", LE_BF16, 2, ws, false, &err);
  tensor *a = param_store_add (ps, "lora_A", LE_F32, 2, as, true, &err);
  tensor *b = param_store_add (ps, "lora_B", LE_F32, 2, bs, true, &err);
  n_alloc = 0;
  bool ok = param_store_commit (ps, &err);
  tap_ok (ok && n_alloc == 3, "param store: commit makes 3 allocations (frozen, trainable, "
          "grads), made %d", n_alloc);
  tap_ok (w->grad == NULL && a->data == ps->train_data
          && b->data == ps->train_data + a->numel && b->grad == ps->train_grad + a->numel
          && ps->n_train == a->numel + b->numel,
          "param store: trainable params and grads are one flat vector each; the frozen "
          "weight has no gradient");
  tap_ok (((uintptr_t) w->data % 256) == 0, "param store: frozen tensors are 256-byte aligned");
  upload_random (ps, w, 1);
  upload_random (ps, a, 2);
  upload_random (ps, b, 3);

  graph *g = graph_new (&counting, &err);
  float xh[5 * 12];
  fill_random (xh, 5 * 12, 4, 1.0f);
  int64_t xs[2] = { 5, 12 };
  tensor *x = graph_from_host (g, LE_F32, 2, xs, xh, "x");   // (N, in), no grad
  tensor *base = op_linear (g, x, w, NULL);
  tensor *lora = op_scale (g, op_linear (g, op_linear (g, x, a, NULL), b, NULL), 0.5f);
  tensor *y = op_add (g, base, lora);
  tensor *loss = op_mean (g, op_mul (g, y, y));
  tap_ok (base && !base->requires_grad, "a frozen branch's output does not require grad");
  n_matmul = 0;
  ok = graph_backward (g, loss, &err);
  tap_ok (ok, "backward through a frozen base and a LoRA pair (%s)", ok ? "ok" : err.message);
  tap_ok (n_matmul == 3, "backward does only the 3 products that reach trainable tensors "
          "(dA, dB, d(xA)), did %d", n_matmul);
  tap_ok (w->grad == NULL && x->grad == NULL, "no gradient memory for the frozen weight and "
          "the input");
  tap_ok (abs_sum (a->grad, a->numel) > 0 && abs_sum (b->grad, b->numel) > 0,
          "both LoRA matrices receive gradients");

  /* grad mode off: nothing is recorded even though params are trainable */
  graph_reset (g);
  graph_set_grad_enabled (g, false);
  x = graph_from_host (g, LE_F32, 2, xs, xh, "x");
  y = op_linear (g, op_linear (g, x, a, NULL), b, NULL);
  tap_ok (y && !y->requires_grad && g->n_tape == 0, "with grad mode off nothing is recorded");
  graph_free (g);

  tap_ok (!param_store_add (ps, "late", LE_F32, 2, ws, false, &err),
          "param store: declaring after commit is refused (%s)", err.message);
  param_store_free (ps);
  ps = param_store_new (&backend_cpu, &err);
  param_store_add (ps, "w", LE_F32, 2, ws, false, &err);
  tap_ok (!param_store_add (ps, "w", LE_F32, 2, ws, false, &err) && strstr (err.message, "twice"),
          "param store: a duplicate name is refused (%s)", err.message);
  tap_ok (!param_store_add (ps, "h", LE_BF16, 2, ws, true, &err) && strstr (err.message, "F32"),
          "param store: a trainable half-precision tensor is refused (%s)", err.message);
  param_store_free (ps);
}

/* ---- checkpointing ---- */

enum { CK_BLOCKS = 4, CK_N = 48, CK_C = 64, CK_H = 128 };

typedef struct {
  tensor *w1, *b1, *w2, *ln_w, *ln_b, *wc;
  tensor *context;   /* made outside the block, reached through ctx (like SD's text) */
} ck_block;

static bool
ck_block_fn (graph *g, void *ctx, tensor **in, int n_in, tensor **out, int n_out)
{
  (void) n_in;
  (void) n_out;
  ck_block *p = ctx;
  tensor *h = op_dropout (g, in[0], 0.1f);
  h = op_add (g, op_linear (g, h, p->w1, p->b1), p->context);        // (N, H)
  h = op_gelu (g, op_layernorm (g, h, p->ln_w, p->ln_b, 1e-5f));
  h = op_linear (g, h, p->w2, NULL);                                  // (N, C)
  out[0] = op_add (g, in[0], h);
  return out[0] != NULL;
}

static float
ck_run (param_store *ps, ck_block *blocks, bool checkpoint, float *x_grad, size_t *peak)
{
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  graph_set_training (g, true);
  graph_set_rng (g, 99, 1000);
  param_store_zero_grad (ps);
  float xh[CK_N * CK_C];
  fill_random (xh, CK_N * CK_C, 5, 1.0f);
  int64_t xs[2] = { CK_N, CK_C };
  tensor *x = graph_from_host (g, LE_F32, 2, xs, xh, "x");
  x->requires_grad = true;
  tensor *h = x;
  tensor *context = op_linear (g, x, blocks[0].wc, NULL);            // (N, H), trainable
  for (int i = 0; i < CK_BLOCKS; i++)
    {
      blocks[i].context = context;
      tensor *out = NULL;
      if (checkpoint)
        graph_checkpoint (g, ck_block_fn, &blocks[i], &h, 1, &out, 1);
      else
        ck_block_fn (g, &blocks[i], &h, 1, &out, 1);
      h = out;
    }
  tensor *loss = op_mean (g, op_mul (g, h, h));
  float value = graph_item (g, loss);
  if (!graph_backward (g, loss, &err))
    {
      tap_diag ("checkpoint run: %s", err.message);
      value = NAN;
    }
  memcpy (x_grad, x->grad, sizeof (float) * CK_N * CK_C);
  *peak = graph_peak_bytes (g);
  graph_free (g);
  return value;
}

static void
test_checkpointing (void)
{
  le_error err = { 0 };
  param_store *ps = param_store_new (&backend_cpu, &err);
  ck_block blocks[CK_BLOCKS];
  for (int i = 0; i < CK_BLOCKS; i++)
    {
      char name[64];
      int64_t s1[2] = { CK_H, CK_C }, sb[1] = { CK_H }, s2[2] = { CK_C, CK_H };
      snprintf (name, sizeof name, "b%d.w1", i);
      blocks[i].w1 = param_store_add (ps, name, LE_F32, 2, s1, true, &err);
      snprintf (name, sizeof name, "b%d.b1", i);
      blocks[i].b1 = param_store_add (ps, name, LE_F32, 1, sb, true, &err);
      snprintf (name, sizeof name, "b%d.w2", i);
      blocks[i].w2 = param_store_add (ps, name, LE_F32, 2, s2, true, &err);
      snprintf (name, sizeof name, "b%d.ln_w", i);
      blocks[i].ln_w = param_store_add (ps, name, LE_F32, 1, sb, false, &err);
      snprintf (name, sizeof name, "b%d.ln_b", i);
      blocks[i].ln_b = param_store_add (ps, name, LE_F32, 1, sb, false, &err);
      snprintf (name, sizeof name, "b%d.wc", i);
      blocks[i].wc = param_store_add (ps, name, LE_F32, 2, s1, true, &err);
    }
  param_store_commit (ps, &err);
  for (int i = 0; i < ps->n_tensors; i++)
    upload_random (ps, ps->tensors[i], 100 + (uint64_t) i);

  static float gx_plain[CK_N * CK_C], gx_ck[CK_N * CK_C];
  size_t peak_plain, peak_ck;
  float loss_plain = ck_run (ps, blocks, false, gx_plain, &peak_plain);
  float *grads_plain = malloc ((size_t) ps->n_train * sizeof (float));
  memcpy (grads_plain, ps->train_grad, (size_t) ps->n_train * sizeof (float));
  float loss_ck = ck_run (ps, blocks, true, gx_ck, &peak_ck);
  tap_ok (loss_plain == loss_ck && isfinite (loss_plain),
          "checkpointing: the same loss (%g, %g)", loss_plain, loss_ck);
  tap_ok (memcmp (grads_plain, ps->train_grad, (size_t) ps->n_train * sizeof (float)) == 0
          && abs_sum (grads_plain, ps->n_train) > 0,
          "checkpointing: bit-identical parameter gradients (dropout masks replayed, a "
          "tensor reached through ctx keeps its gradient)");
  tap_ok (memcmp (gx_plain, gx_ck, sizeof gx_plain) == 0,
          "checkpointing: bit-identical input gradient across block boundaries");
  tap_ok (peak_ck < peak_plain * 3 / 4, "checkpointing: peak activation memory drops "
          "(%zu KiB -> %zu KiB)", peak_plain >> 10, peak_ck >> 10);
  free (grads_plain);
  param_store_free (ps);
}

/* ---- arena, errors, dropout, cross-entropy ---- */

/* Three 12 MiB tensors (more than the first chunk) per step on BE; their addresses. */
static int
arena_step (graph *g, void *ptrs[3])
{
  int64_t big[1] = { (int64_t) 3 << 20 };
  n_alloc = 0;
  for (int i = 0; i < 3; i++)
    {
      tensor *t = graph_tensor (g, LE_F32, 1, big, "big");
      ptrs[i] = t ? t->data : NULL;
    }
  return n_alloc;
}

static void
test_arena_reuse (void)
{
  le_error err = { 0 };
  /* CPU: the grown chunks are kept and refilled in the same order, so the second step's
   * tensors land on the first step's (already faulted-in) pages */
  graph *g = graph_new (&counting, &err);
  void *p1[3], *p2[3];
  int first = arena_step (g, p1);
  graph_reset (g);
  int second = arena_step (g, p2);
  tap_ok (first > 1 && second == 0 && graph_ok (g),
          "arena: the next step allocates nothing (%d allocations in the first)", first);
  tap_ok (memcmp (p1, p2, sizeof p1) == 0,
          "arena (CPU): the next step reuses the first step's memory, address for address");
  graph_free (g);

  /* steps of other shapes fill the chunks' tails (16, 16 and 32 MiB chunks, peak 36 MiB):
   * kept while the pages touched stay within 1.25x the peak, folded once they pass it */
  g = graph_new (&counting, &err);
  arena_step (g, p1);                               /* 12 12 | 12: touched 36 MiB */
  graph_reset (g);
  int64_t mib16[1] = { 4 << 20 }, mib4[1] = { 1 << 20 }, mib1[1] = { 1 << 18 };
  graph_tensor (g, LE_F32, 1, mib16, "a");
  graph_tensor (g, LE_F32, 1, mib16, "b");
  graph_tensor (g, LE_F32, 1, mib4, "c");         /* 16 | 16 | 4: touched 16+16+12 = 44 */
  graph_reset (g);
  int kept = g->act.n_chunks;
  graph_tensor (g, LE_F32, 1, mib1, "a");
  graph_tensor (g, LE_F32, 1, mib16, "b");
  graph_tensor (g, LE_F32, 1, mib16, "c");        /* 1 | 16 | 16: touched 48 > 45 */
  graph_reset (g);
  tap_ok (kept == 3 && g->act.n_chunks == 1 && graph_ok (g),
          "arena (CPU): chunks kept at 44 MiB touched for a 36 MiB peak (%d chunks), "
          "folded into one past 45 MiB (%d)", kept, g->act.n_chunks);
  graph_free (g);

  /* a device backend: reset folds the chunks into one of the peak size */
  backend dev = counting;
  dev.device = LE_CUDA;
  g = graph_new (&dev, &err);
  arena_step (g, p1);
  graph_reset (g);
  tap_ok (g->act.n_chunks == 1, "arena (device): after a step that grew it, reset keeps "
          "one chunk");
  second = arena_step (g, p2);
  tap_ok (second == 0 && graph_ok (g), "arena (device): the next step allocates nothing");
  graph_free (g);
}

static void
test_sticky_errors (void)
{
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  int64_t xs[2] = { 2, 3 }, ws[2] = { 4, 5 };
  float z[20] = { 0 };
  tensor *x = graph_from_host (g, LE_F32, 2, xs, z, "x");
  tensor *w = graph_from_host (g, LE_F32, 2, ws, z, "proj.weight");
  w->requires_grad = true;
  tensor *y = op_linear (g, x, w, NULL);
  tensor *loss = op_mean (g, op_gelu (g, y));
  tap_ok (y == NULL && loss == NULL && !graph_ok (g), "a bad op returns NULL and so do the "
          "ops after it");
  tap_ok (!graph_backward (g, loss, &err) && strstr (err.message, "linear")
          && strstr (err.message, "proj.weight"),
          "backward reports the first error, naming the op and tensor: %s", err.message);
  graph_reset (g);
  tap_ok (graph_ok (g), "reset clears the error for the next step");
  x = graph_from_host (g, LE_F32, 2, xs, z, "x");
  loss = op_mean (g, x);
  tap_ok (!graph_backward (g, loss, &err) && strstr (err.message, "trainable"),
          "a loss without trainable inputs is refused: %s", err.message);
  graph_free (g);
}

static void
test_dropout (void)
{
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  enum { N = 4000 };
  static float ones[N], a[N], b[N], c[N];
  for (int i = 0; i < N; i++)
    ones[i] = 1.0f;
  int64_t s[1] = { N };
  tensor *x = graph_from_host (g, LE_F32, 1, s, ones, "x");
  tap_ok (op_dropout (g, x, 0.5f) == x, "dropout outside training is the identity");
  graph_set_training (g, true);
  graph_set_rng (g, 7, 0);
  graph_to_host (g, op_dropout (g, x, 0.25f), a, NULL);
  tap_ok (g->rng_offset == N, "dropout advances the RNG offset by the element count");
  graph_to_host (g, op_dropout (g, x, 0.25f), c, NULL);
  graph_set_rng (g, 7, 0);
  graph_to_host (g, op_dropout (g, x, 0.25f), b, NULL);
  int kept = 0, scaled = 0;
  for (int i = 0; i < N; i++)
    {
      kept += a[i] != 0.0f;
      scaled += a[i] == 1.0f / (1.0f - 0.25f);
    }
  tap_ok (memcmp (a, b, sizeof a) == 0 && memcmp (a, c, sizeof a) != 0,
          "the mask depends only on (seed, offset)");
  tap_ok (kept > N * 0.72 && kept < N * 0.78 && scaled == kept,
          "about 75%% kept at p = 0.25 (%d of %d), kept values scaled by 1/(1-p)", kept, N);
  graph_free (g);
}

static void
test_cross_entropy_counts (void)
{
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  int64_t ls[2] = { 4, 3 }, ts[1] = { 4 };
  float logits[12] = { 0 };   /* uniform: every counted token costs log 3 */
  int32_t targets[4] = { 0, -100, 2, 1 };
  tensor *l = graph_from_host (g, LE_F32, 2, ls, logits, "logits");
  tensor *t = graph_from_host (g, LE_I32, 1, ts, targets, "targets");
  double sum = 0;
  int64_t count = 0;
  tensor *loss = op_cross_entropy (g, l, t, &sum, &count);
  float v = graph_item (g, loss);
  tap_ok (count == 3 && fabs (sum - 3 * log (3.0)) < 1e-5 && fabsf (v - logf (3.0f)) < 1e-6f,
          "cross entropy counts only non-ignored targets (count %lld, sum %g, mean %g)",
          (long long) count, sum, v);
  graph_free (g);
}

static void
test_backend_select (void)
{
  le_error err = { 0 };
  char why[256];
  bool cuda = cuda_backend_available (why, sizeof why);
  tap_ok (backend_select ("cpu", &err) == &backend_cpu, "backend_select(cpu)");
  const backend *be = backend_select ("auto", &err);
  tap_ok (be != NULL && (cuda || be == &backend_cpu),
          "backend_select(auto) falls back to the CPU without CUDA (%s)", cuda ? "cuda" : why);
  if (!cuda)
    tap_ok (backend_select ("cuda", &err) == NULL && strstr (err.message, "--device cpu"),
            "backend_select(cuda) without a GPU says why and what to do: %s", err.message);
  tap_ok (backend_select ("tpu", &err) == NULL && strstr (err.message, "auto, cpu or cuda"),
          "an unknown device is refused with the choices: %s", err.message);
}

int
main (void)
{
  counting = backend_cpu;
  counting.matmul = count_matmul;
  counting.alloc = count_alloc;
  test_frozen_branch ();
  test_checkpointing ();
  test_arena_reuse ();
  test_sticky_errors ();
  test_dropout ();
  test_cross_entropy_counts ();
  test_backend_select ();
  return tap_done ();
}
