/* test-cuda-ops.c: every kernel of backend_cuda against backend_cpu (the reference) on
 * the same random inputs. Forward outputs, saved statistics and (accumulated) gradients
 * are compared with tolerances that fit F32 reductions; bit-exact where the math is
 * shared through math-common.h (conversions, dropout masks). Skips without a device. */
#include "gpu-test.h"

/* Inside `for (side ...)`: the pair's pointer on this side's backend. */
#define F(x) ((float *) (side ? (x).g : (x).c))
#define V(x) ((void *) (side ? (x).g : (x).c))
#define I(x) ((int32_t *) (side ? (x).g : (x).c))
#define BOTH for (int side = 0; side < 2; side++) \
  for (const backend *be = side ? gt_gpu : gt_cpu; be != NULL; be = NULL)

#define TOL 1e-5f, 1e-4f      /* element-wise F32 */
#define TOL_RED 1e-4f, 1e-3f  /* reductions: summation order differs */

static void
test_convert (void)
{
  int64_t n = 4099;
  gt_pair x = gt_rand (n, -70000.0f, 70000.0f);   /* beyond F16's range: inf */
  gt_pair small = gt_rand (n, -1e-6f, 1e-6f);    /* F16 subnormals */
  le_dtype dts[] = { LE_F16, LE_BF16 };
  for (int t = 0; t < 2; t++)
    for (int s = 0; s < 2; s++)
      {
        gt_pair src = s ? small : x;
        gt_pair h = gt_zeros (n);   /* big enough for n 16-bit values */
        gt_pair back = gt_zeros (n);
        BOTH
          {
            be->convert (V (h), dts[t], V (src), LE_F32, n);
            be->convert (V (back), LE_F32, V (h), dts[t], n);
          }
        char name[64];
        snprintf (name, sizeof name, "convert f32 -> %s -> f32 (%s)", dtype_name (dts[t]),
                  s ? "tiny" : "large");
        gt_check_exact (name, back, (size_t) n * sizeof (float));
        gt_free (h);
        gt_free (back);
      }
  gt_free (x);
  gt_free (small);
}

static void
test_elementwise (void)
{
  int64_t n = 10007;
  gt_pair a = gt_rand (n, -3, 3), b = gt_rand (n, -3, 3), out = gt_zeros (n);
  BOTH be->fill (F (out), 1.25f, n);
  gt_check ("fill", out, n, TOL);
  BOTH be->axpby (F (out), 0.5f, F (a), -2.0f, F (b), n);
  gt_check ("axpby", out, n, TOL);
  BOTH be->axpby (F (out), 3.0f, F (a), 0.0f, NULL, n);
  gt_check ("axpby without b", out, n, TOL);
  BOTH be->mul (F (out), F (a), F (b), n);
  gt_check ("mul", out, n, TOL);
  gt_pair da = gt_rand (n, -1, 1), dout = gt_rand (n, -1, 1);
  BOTH be->mul_backward (F (da), NULL, F (dout), F (a), F (b), n);
  gt_check ("mul backward accumulates, skips NULL", da, n, TOL);
  const char *names[] = { "silu", "gelu", "gelu tanh", "quick gelu" };
  for (int act = LE_ACT_SILU; act <= LE_ACT_QUICK_GELU; act++)
    {
      char name[64];
      BOTH be->act_forward ((le_act) act, F (out), F (a), n);
      snprintf (name, sizeof name, "%s", names[act]);
      gt_check (name, out, n, TOL);
      BOTH be->act_backward ((le_act) act, F (da), F (dout), F (a), n);
      snprintf (name, sizeof name, "%s backward", names[act]);
      gt_check (name, da, n, TOL);
    }
  int64_t rows = 37, c = 129;
  gt_pair x2 = gt_rand (rows * 2 * c, -3, 3), y = gt_zeros (rows * c), dy = gt_rand (rows * c, -1, 1);
  gt_pair dx2 = gt_rand (rows * 2 * c, -1, 1);
  BOTH be->geglu (F (y), F (x2), rows, c);
  gt_check ("geglu", y, rows * c, TOL);
  BOTH be->geglu_backward (F (dx2), F (dy), F (x2), rows, c);
  gt_check ("geglu backward", dx2, rows * 2 * c, TOL);
  gt_pair db = gt_rand (n, -1, 1);
  BOTH be->swiglu (F (out), F (a), F (b), n);
  gt_check ("swiglu", out, n, TOL);
  BOTH be->swiglu_backward (F (da), F (db), F (dout), F (a), F (b), n);
  gt_check ("swiglu backward (gate)", da, n, TOL);
  gt_check ("swiglu backward (up)", db, n, TOL);
  BOTH be->dropout (F (out), F (a), n, 0.3f, 1234, 99);
  gt_check_exact ("dropout mask equals the CPU's", out, (size_t) n * sizeof (float));
  BOTH be->dropout_backward (F (da), F (dout), n, 0.3f, 1234, 99);
  gt_check ("dropout backward", da, n, TOL);
  gt_pair p = gt_rand (n, -1, 1), m = gt_rand (n, -0.1f, 0.1f), v = gt_rand (n, 0, 0.01f);
  BOTH be->adamw (F (p), F (a), F (m), F (v), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.19f,
                  0.0199f, 0.5f);
  gt_check ("adamw params", p, n, TOL);
  gt_check ("adamw first moment", m, n, TOL);
  gt_check ("adamw second moment", v, n, TOL);
  gt_pair all[] = { a, b, out, da, dout, x2, y, dy, dx2, db, p, m, v };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    gt_free (all[i]);
}

static void
test_layout (void)
{
  int64_t outer = 3, c = 40, inner = 65;
  int64_t n = outer * c * inner;
  gt_pair x = gt_rand (n, -2, 2), out = gt_zeros (n), b1 = gt_rand (c, -1, 1);
  gt_pair b3 = gt_rand (outer * c, -1, 1), db = gt_rand (outer * c, -1, 1);
  BOTH be->bias_add (F (out), F (x), F (b1), outer, c, inner, 1);
  gt_check ("bias add (shared bias)", out, n, TOL);
  BOTH be->bias_add (F (out), F (x), F (b3), outer, c, inner, outer);
  gt_check ("bias add (per-batch bias)", out, n, TOL);
  BOTH be->bias_add_backward (F (db), F (x), outer, c, inner, 1);
  gt_check ("bias add backward (shared)", db, c, TOL_RED);
  BOTH be->bias_add_backward (F (db), F (x), outer, c, inner, outer);
  gt_check ("bias add backward (per batch)", db, outer * c, TOL_RED);
  /* INNER 1 is a linear layer's bias, a path of its own on the CPU */
  BOTH be->bias_add (F (out), F (x), F (b1), outer * inner, c, 1, 1);
  gt_check ("bias add (rows, shared bias)", out, n, TOL);
  BOTH be->bias_add (F (out), F (x), F (b3), outer * inner, c, 1, outer);
  gt_check ("bias add (rows, per-batch bias)", out, n, TOL);

  int64_t shape[4] = { 2, 5, 7, 9 };
  int perms[3][4] = { { 0, 2, 1, 3 }, { 3, 1, 0, 2 }, { 0, 1, 3, 2 } };
  int64_t pn = 2 * 5 * 7 * 9;
  gt_pair px = gt_rand (pn, -1, 1), po = gt_rand (pn, -1, 1);
  for (int i = 0; i < 3; i++)
    {
      BOTH be->permute (F (po), F (px), shape, perms[i], i == 2);
      gt_check (i == 2 ? "permute (accumulate)" : "permute", po, pn, TOL);
    }

  /* concat along the middle axis: dst (3, 11, 6) <- src (3, 4, 6) at offset 5 */
  gt_pair dst = gt_rand (3 * 11 * 6, -1, 1), src = gt_rand (3 * 4 * 6, -1, 1);
  BOTH be->slice_copy (F (dst), 11, 5, F (src), 4, 0, 3, 4, 6, false);
  gt_check ("slice copy", dst, 3 * 11 * 6, TOL);
  BOTH be->slice_copy (F (src), 4, 1, F (dst), 11, 2, 3, 3, 6, true);
  gt_check ("slice copy (accumulate)", src, 3 * 4 * 6, TOL);

  int64_t bc = 6, h = 5, w = 7;
  gt_pair ux = gt_rand (bc * h * w, -1, 1), uo = gt_zeros (bc * 4 * h * w);
  gt_pair udx = gt_rand (bc * h * w, -1, 1), udo = gt_rand (bc * 4 * h * w, -1, 1);
  BOTH be->upsample2x (F (uo), F (ux), bc, h, w);
  gt_check ("upsample 2x", uo, bc * 4 * h * w, TOL);
  BOTH be->upsample2x_backward (F (udx), F (udo), bc, h, w);
  gt_check ("upsample 2x backward", udx, bc * h * w, TOL);

  /* embedding: ids include -1 and V (outside: zeros, no gradient) and repeats */
  int64_t en = 64, ec = 48, ev = 20;
  gt_pair table = gt_rand (ev * ec, -1, 1), eo = gt_zeros (en * ec);
  gt_pair ids = gt_ids (en, -1, (int32_t) ev + 1);
  gt_pair table16 = gt_as (table, LE_BF16, ev * ec);
  BOTH be->embedding (F (eo), V (table), LE_F32, I (ids), en, ec, ev);
  gt_check ("embedding", eo, en * ec, TOL);
  BOTH be->embedding (F (eo), V (table16), LE_BF16, I (ids), en, ec, ev);
  gt_check ("embedding (bf16 table)", eo, en * ec, TOL);
  gt_pair dtable = gt_rand (ev * ec, -1, 1), edo = gt_rand (en * ec, -1, 1);
  BOTH be->embedding_backward (F (dtable), F (edo), I (ids), en, ec, ev);
  gt_check ("embedding backward (repeated ids add up)", dtable, ev * ec, TOL_RED);

  /* rope: (B H, T, D) with cos/sin tables of P positions, offset 3 */
  int64_t rbh = 6, rt = 11, rd = 16, rp = 20;
  gt_pair rx = gt_rand (rbh * rt * rd, -1, 1), ro = gt_zeros (rbh * rt * rd);
  gt_pair cs = gt_rand (rp * rd, -1, 1), sn = gt_rand (rp * rd, -1, 1);
  gt_pair rdx = gt_rand (rbh * rt * rd, -1, 1);
  BOTH be->rope (F (ro), F (rx), F (cs), F (sn), rbh, rt, rd, 3);
  gt_check ("rope", ro, rbh * rt * rd, TOL);
  BOTH be->rope_backward (F (rdx), F (rx), F (cs), F (sn), rbh, rt, rd, 3);
  gt_check ("rope backward", rdx, rbh * rt * rd, TOL);
  BOTH be->rope (F (rx), F (rx), F (cs), F (sn), rbh, rt, rd, 0);
  gt_check ("rope in place", rx, rbh * rt * rd, TOL);

  gt_pair all[] = { x, out, b1, b3, db, px, po, dst, src, ux, uo, udx, udo, table, eo, ids,
                    table16, dtable, edo, rx, ro, cs, sn, rdx };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    gt_free (all[i]);
}

static void
test_reductions (void)
{
  int64_t n = 33, c = 1000;
  gt_pair x = gt_rand (n * c, -4, 4), rs = gt_zeros (n), dx = gt_rand (n * c, -1, 1);
  gt_pair dr = gt_rand (n, -1, 1), out = gt_zeros (n * c), ss = gt_zeros (1);
  BOTH be->row_sum (F (rs), F (x), n, c, 0.5f);
  gt_check ("row sum", rs, n, TOL_RED);
  BOTH be->row_sum_backward (F (dx), F (dr), n, c, 0.5f);
  gt_check ("row sum backward", dx, n * c, TOL);
  BOTH be->sumsq (F (ss), F (x), n * c);
  gt_check ("sum of squares", ss, 1, TOL_RED);
  BOTH be->softmax (F (out), F (x), n, c);
  gt_check ("softmax", out, n * c, 1e-7f, 1e-4f);
  BOTH be->softmax_backward (F (dx), F (x), F (out), n, c);
  gt_check ("softmax backward", dx, n * c, TOL_RED);

  /* cross-entropy: some targets ignored (-1) */
  gt_pair logits = gt_rand (n * c, -6, 6), tg = gt_ids (n, -1, (int32_t) c);
  gt_pair losses = gt_zeros (n), lse = gt_zeros (n), dl = gt_rand (n * c, -1, 1);
  float one = 1.0f;
  gt_pair dloss = gt_pair_from (&one, sizeof one);
  BOTH be->cross_entropy (F (losses), F (lse), F (logits), I (tg), n, c);
  gt_check ("cross entropy losses (ignored rows 0)", losses, n, TOL_RED);
  gt_check ("cross entropy lse", lse, n, TOL_RED);
  BOTH be->cross_entropy_backward (F (dl), F (dloss), F (logits), F (lse), I (tg), n, c, 0.25f);
  gt_check ("cross entropy backward", dl, n * c, TOL);
  gt_pair all[] = { x, rs, dx, dr, out, ss, logits, tg, losses, lse, dl, dloss };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    gt_free (all[i]);
}

static void
test_norms (void)
{
  int64_t n = 29, c = 320;
  gt_pair x = gt_rand (n * c, -3, 5), w = gt_rand (c, 0.5f, 1.5f), b = gt_rand (c, -1, 1);
  gt_pair out = gt_zeros (n * c), mean = gt_zeros (n), rstd = gt_zeros (n);
  gt_pair dout = gt_rand (n * c, -1, 1), dx = gt_rand (n * c, -1, 1);
  gt_pair dw = gt_rand (c, -1, 1), db = gt_rand (c, -1, 1);
  BOTH be->rmsnorm (F (out), F (rstd), F (x), F (w), n, c, 1e-6f);
  gt_check ("rmsnorm", out, n * c, TOL_RED);
  gt_check ("rmsnorm rstd", rstd, n, TOL_RED);
  BOTH be->rmsnorm_backward (F (dx), F (dw), F (dout), F (x), F (w), F (rstd), n, c);
  gt_check ("rmsnorm backward dx", dx, n * c, TOL_RED);
  gt_check ("rmsnorm backward dw", dw, c, TOL_RED);
  BOTH be->layernorm (F (out), F (mean), F (rstd), F (x), F (w), F (b), n, c, 1e-5f);
  gt_check ("layernorm", out, n * c, TOL_RED);
  gt_check ("layernorm mean", mean, n, TOL_RED);
  BOTH be->layernorm_backward (F (dx), F (dw), F (db), F (dout), F (x), F (w), F (mean),
                               F (rstd), n, c);
  gt_check ("layernorm backward dx", dx, n * c, TOL_RED);
  gt_check ("layernorm backward dw", dw, c, TOL_RED);
  gt_check ("layernorm backward db", db, c, TOL_RED);
  BOTH be->layernorm (F (out), F (mean), F (rstd), F (x), NULL, NULL, n, c, 1e-5f);
  gt_check ("layernorm without affine", out, n * c, TOL_RED);

  /* groupnorm: (B, C, S) = (2, 64, 49), 32 groups as in SD */
  int64_t gb = 2, gc = 64, gs = 49, gg = 32;
  int64_t gn = gb * gc * gs;
  gt_pair gx = gt_rand (gn, -2, 3), gw = gt_rand (gc, 0.5f, 1.5f), gbias = gt_rand (gc, -1, 1);
  gt_pair go = gt_zeros (gn), gm = gt_zeros (gb * gg), gr = gt_zeros (gb * gg);
  gt_pair gdo = gt_rand (gn, -1, 1), gdx = gt_rand (gn, -1, 1);
  gt_pair gdw = gt_rand (gc, -1, 1), gdb = gt_rand (gc, -1, 1);
  BOTH be->groupnorm (F (go), F (gm), F (gr), F (gx), F (gw), F (gbias), gb, gc, gs, gg, 1e-6f);
  gt_check ("groupnorm", go, gn, TOL_RED);
  gt_check ("groupnorm rstd", gr, gb * gg, TOL_RED);
  BOTH be->groupnorm_backward (F (gdx), F (gdw), F (gdb), F (gdo), F (gx), F (gw), F (gm),
                               F (gr), gb, gc, gs, gg);
  gt_check ("groupnorm backward dx", gdx, gn, TOL_RED);
  gt_check ("groupnorm backward dw", gdw, gc, TOL_RED);
  gt_check ("groupnorm backward db", gdb, gc, TOL_RED);
  gt_pair all[] = { x, w, b, out, mean, rstd, dout, dx, dw, db, gx, gw, gbias, go, gm, gr, gdo,
                    gdx, gdw, gdb };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    gt_free (all[i]);
}

static void
test_matmul (void)
{
  int64_t batch = 3, m = 67, n = 45, k = 130;
  gt_pair a = gt_rand (batch * m * k, -1, 1), b = gt_rand (batch * k * n, -1, 1);
  gt_pair c = gt_rand (batch * m * n, -1, 1);
  for (int t = 0; t < 4; t++)
    {
      bool ta = t & 1, tb = t & 2;
      char name[80];
      BOTH be->matmul (F (c), V (a), LE_F32, V (b), LE_F32, batch, m, n, k, ta, tb, m * k,
                       k * n, m * n, 0.5f, 1.0f);
      snprintf (name, sizeof name, "matmul f32 %s%s, beta 1", ta ? "A^T" : "A", tb ? " B^T" : " B");
      gt_check (name, c, batch * m * n, 1e-4f, 1e-4f);
    }
  /* shared right operand (stride 0), as a linear layer's weight */
  BOTH be->matmul (F (c), V (a), LE_F32, V (b), LE_F32, batch, m, n, k, false, true, m * k, 0,
                   m * n, 1.0f, 0.0f);
  gt_check ("matmul f32, broadcast B (stride 0)", c, batch * m * n, 1e-4f, 1e-4f);
  /* 16-bit weights: products of 16-bit values are exact in F32, so bf16 x bf16 matches the
   * CPU's F32 sgemm closely; F32 x BF16 rounds the activation to BF16 (autocast). */
  le_dtype dts[] = { LE_BF16, LE_F16 };
  for (int i = 0; i < 2; i++)
    {
      gt_pair a16 = gt_as (a, dts[i], batch * m * k), b16 = gt_as (b, dts[i], batch * k * n);
      char name[80];
      BOTH be->matmul (F (c), V (a16), dts[i], V (b16), dts[i], batch, m, n, k, false, true,
                       m * k, k * n, m * n, 1.0f, 0.0f);
      snprintf (name, sizeof name, "matmul %s x %s", dtype_name (dts[i]), dtype_name (dts[i]));
      gt_check (name, c, batch * m * n, 1e-3f, 1e-3f);
      BOTH be->matmul (F (c), V (a), LE_F32, V (b16), dts[i], batch, m, n, k, false, true,
                       m * k, 0, m * n, 1.0f, 0.0f);
      snprintf (name, sizeof name, "matmul f32 x %s (autocast)", dtype_name (dts[i]));
      gt_check (name, c, batch * m * n, 0.05f, dts[i] == LE_BF16 ? 2e-2f : 4e-3f);
      gt_free (a16);
      gt_free (b16);
    }
  gt_free (a);
  gt_free (b);
  gt_free (c);
}

static void
test_conv2d (void)
{
  /* 3x3 pad 1 stride 1 (ResBlock), 3x3 stride 2 padded right/bottom only (VAE
   * downsample), 1x1 (proj / skip) */
  le_conv2d_geom geoms[] = {
    { 2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 9, 11 },
    { 2, 4, 10, 8, 6, 3, 3, 2, 0, 0, 1, 1, 5, 4 },
    { 1, 8, 6, 6, 3, 1, 1, 1, 0, 0, 0, 0, 6, 6 },
  };
  const char *names[] = { "3x3 pad 1", "3x3 stride 2 asymmetric pad", "1x1" };
  for (int i = 0; i < 3; i++)
    {
      le_conv2d_geom *g = &geoms[i];
      int64_t nx = g->batch * g->c_in * g->h * g->w, nw = g->c_out * g->c_in * g->kh * g->kw;
      int64_t no = g->batch * g->c_out * g->out_h * g->out_w;
      gt_pair x = gt_rand (nx, -1, 1), w = gt_rand (nw, -1, 1), bias = gt_rand (g->c_out, -1, 1);
      gt_pair out = gt_zeros (no), dout = gt_rand (no, -1, 1);
      gt_pair dx = gt_rand (nx, -1, 1), dw = gt_rand (nw, -1, 1), db = gt_rand (g->c_out, -1, 1);
      char name[96];
      BOTH be->conv2d (F (out), F (x), V (w), LE_F32, F (bias), g);
      snprintf (name, sizeof name, "conv2d %s", names[i]);
      gt_check (name, out, no, 1e-4f, 1e-4f);
      BOTH be->conv2d_backward (F (dx), F (dw), F (db), F (dout), F (x), V (w), LE_F32, g);
      snprintf (name, sizeof name, "conv2d %s backward dx", names[i]);
      gt_check (name, dx, nx, 1e-4f, 1e-4f);
      snprintf (name, sizeof name, "conv2d %s backward dw", names[i]);
      gt_check (name, dw, nw, 1e-4f, 1e-4f);
      snprintf (name, sizeof name, "conv2d %s backward dbias", names[i]);
      gt_check (name, db, g->c_out, 1e-4f, 1e-4f);
      gt_pair w16 = gt_as (w, LE_BF16, nw);
      BOTH be->conv2d (F (out), F (x), V (w16), LE_BF16, NULL, g);
      snprintf (name, sizeof name, "conv2d %s bf16 weight (autocast)", names[i]);
      gt_check (name, out, no, 0.05f, 2e-2f);
      gt_pair all[] = { x, w, bias, out, dout, dx, dw, db, w16 };
      for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
        gt_free (all[j]);
    }
}

static void
test_attention (void)
{
  /* GQA (4 query heads on 2 kv heads), causal, Tq == Tk; and cross-attention Tq != Tk */
  struct { int64_t b, h, hkv, tq, tk, d; bool causal; } cases[] = {
    { 2, 4, 2, 70, 70, 64, true },
    { 1, 2, 2, 100, 77, 40, false },
    { 1, 2, 1, 33, 45, 160, true },
  };
  for (int i = 0; i < 3; i++)
    {
      int64_t b = cases[i].b, h = cases[i].h, hkv = cases[i].hkv, tq = cases[i].tq;
      int64_t tk = cases[i].tk, d = cases[i].d;
      bool causal = cases[i].causal;
      int64_t nq = b * h * tq * d, nk = b * hkv * tk * d;
      gt_pair q = gt_rand (nq, -1, 1), k = gt_rand (nk, -1, 1), v = gt_rand (nk, -1, 1);
      gt_pair o = gt_zeros (nq), lse = gt_zeros (b * h * tq), dout = gt_rand (nq, -1, 1);
      gt_pair dq = gt_rand (nq, -1, 1), dk = gt_rand (nk, -1, 1), dv = gt_rand (nk, -1, 1);
      float scale = 1.0f / sqrtf ((float) d);
      char name[128], shape[80];
      snprintf (shape, sizeof shape, "B%lld H%lld Hkv%lld Tq%lld Tk%lld D%lld%s", (long long) b,
                (long long) h, (long long) hkv, (long long) tq, (long long) tk, (long long) d,
                causal ? " causal" : "");
      BOTH be->attention (F (o), F (lse), F (q), F (k), F (v), b, h, hkv, tq, tk, d, scale, causal);
      snprintf (name, sizeof name, "attention %s", shape);
      gt_check (name, o, nq, 1e-5f, 1e-3f);
      snprintf (name, sizeof name, "attention lse %s", shape);
      gt_check (name, lse, b * h * tq, 1e-5f, 1e-4f);
      BOTH be->attention_backward (F (dq), F (dk), F (dv), F (dout), F (o), F (lse), F (q), F (k),
                                   F (v), b, h, hkv, tq, tk, d, scale, causal);
      snprintf (name, sizeof name, "attention backward dq %s", shape);
      gt_check (name, dq, nq, 1e-4f, 1e-3f);
      snprintf (name, sizeof name, "attention backward dk %s", shape);
      gt_check (name, dk, nk, 1e-4f, 1e-3f);
      snprintf (name, sizeof name, "attention backward dv %s", shape);
      gt_check (name, dv, nk, 1e-4f, 1e-3f);
      gt_pair all[] = { q, k, v, o, lse, dout, dq, dk, dv };
      for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
        gt_free (all[j]);
    }
}

/* Uploads above 1 MiB go through the pinned staging halves in turn: 20 MiB + 3 bytes
 * spans three chunks and a ragged end; what comes back must be every byte. */
static void
test_large_upload (void)
{
  size_t bytes = (20u << 20) + 3;
  unsigned char *h = malloc (bytes), *back = malloc (bytes);
  for (size_t i = 0; i < bytes; i++)
    h[i] = (unsigned char) (i * 2654435761u >> 13);
  le_error err = { 0 };
  void *d = gt_gpu->alloc (bytes, &err);
  gt_gpu->copy_h2d (d, h, bytes);
  memset (h, 0, bytes / 2);   /* the caller may reuse its memory once copy_h2d returns */
  gt_gpu->copy_d2h (back, d, bytes);
  bool ok = gt_gpu->sync (&err);
  for (size_t i = 0; ok && i < bytes; i++)
    ok = back[i] == (unsigned char) (i * 2654435761u >> 13);
  gt_ok (ok, "20 MiB upload through pinned staging arrives intact", err.message);
  gt_gpu->free (d);
  free (h);
  free (back);
}

/* A kernel that cannot run reports through sync (), with a message, and once. */
static void
test_error_reporting (void)
{
  int64_t d = 200;   /* above the flash kernel's 160 */
  gt_pair q = gt_rand (2 * d, -1, 1), o = gt_zeros (2 * d), lse = gt_zeros (2);
  le_error err = { 0 };
  gt_gpu->attention (o.g, lse.g, q.g, q.g, q.g, 1, 1, 1, 2, 2, d, 0.1f, false);
  bool failed = !gt_gpu->sync (&err);
  gt_ok (failed && err.code == LE_ERR_UNSUPPORTED && strstr (err.message, "head dim 200") != NULL,
         "unsupported head dim is reported by sync with a message", err.message);
  gt_ok (gt_gpu->sync (&err), "the error is reported once", "");
  gt_free (q);
  gt_free (o);
  gt_free (lse);
}

int
main (void)
{
  gt_start ();
  test_convert ();
  test_elementwise ();
  test_layout ();
  test_reductions ();
  test_norms ();
  test_matmul ();
  test_conv2d ();
  test_attention ();
  test_large_upload ();
  test_error_reporting ();
  return gt_finish ();
}
