/* ops.c: products, element-wise, layout, reduction and loss ops with their backward
 * functions (see ops.h). Normalisations, activations, attention and convolution are in
 * ops-nn.c. Each backward reads the gradient of its output (e->out->grad) and accumulates
 * into the gradients of the inputs that need one. */
#include "ops-internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

bool
op_check (graph *g, const char *op, const char *what, const tensor *t, bool any_dtype)
{
  if (g->failed)
    return false;
  if (t == NULL || t->data == NULL)
    return graph_fail (g, LE_ERR_INVALID, "%s: %s is missing", op, what) != NULL;
  if (t->device != g->be->device)
    return graph_fail (g, LE_ERR_INVALID, "%s: %s (%s) is on another device than the graph",
                       op, what, t->name) != NULL;
  if (!any_dtype && t->dtype != LE_F32)
    return graph_fail (g, LE_ERR_INVALID, "%s: %s (%s) must be F32, not %s", op, what,
                       t->name, dtype_name (t->dtype)) != NULL;
  return true;
}

int64_t
op_dims (const tensor *t, int from, int to)
{
  int64_t p = 1;
  for (int d = from; d < to; d++)
    p *= t->shape[d];
  return p;
}

tensor *
op_out (graph *g, const char *op, int ndim, const int64_t *shape, tensor *a, tensor *b,
        tensor *c)
{
  tensor *t = graph_tensor (g, LE_F32, ndim, shape, op);
  if (t)
    t->requires_grad = g->grad_enabled && ((a && a->requires_grad) || (b && b->requires_grad)
                                           || (c && c->requires_grad));
  return t;
}

static bool
check_same (graph *g, const char *op, tensor *a, tensor *b)
{
  if (!op_check (g, op, "a", a, false) || !op_check (g, op, "b", b, false))
    return false;
  if (!tensor_same_shape (a, b))
    {
      char sa[64], sb[64];
      graph_fail (g, LE_ERR_INVALID, "%s: shapes %s and %s differ", op,
                  tensor_shape_str (a, sa, sizeof sa), tensor_shape_str (b, sb, sizeof sb));
      return false;
    }
  return true;
}

/* dx += alpha * dout, when x needs a gradient */
static void
acc (graph *g, tensor *x, float alpha, const float *dout, int64_t n)
{
  float *dx = graph_grad (g, x);
  if (dx)
    g->be->axpby (dx, 1.0f, dx, alpha, dout, n);
}

/* ---- linear ---- */

static void
linear_backward (graph *g, tape_entry *e)
{
  tensor *x = e->in[0], *w = e->in[1], *b = e->in[2];
  int64_t n = e->i[0], in = e->i[1], outf = e->i[2];
  const float *dy = e->out->grad;   // (N, out)
  float *dx = graph_grad (g, x), *dw = graph_grad (g, w), *db = graph_grad (g, b);
  if (dx)   /* dx // (N, in) += dy @ W */
    g->be->matmul (dx, dy, LE_F32, w->data, w->dtype, 1, n, in, outf, false, false, 0, 0, 0,
                   1.0f, 1.0f);
  if (dw)   /* dW // (out, in) += dy^T @ x */
    g->be->matmul (dw, dy, LE_F32, x->data, LE_F32, 1, outf, in, n, true, false, 0, 0, 0,
                   1.0f, 1.0f);
  if (db)
    g->be->bias_add_backward (db, dy, n, outf, 1, 1);
}

tensor *
op_linear (graph *g, tensor *x, tensor *w, tensor *b)
{
  if (!op_check (g, "linear", "x", x, false) || !op_check (g, "linear", "weight", w, true))
    return NULL;
  if (b && !op_check (g, "linear", "bias", b, false))
    return NULL;
  int64_t in = x->shape[x->ndim - 1];
  if (w->ndim != 2 || w->shape[1] != in || (b && b->numel != w->shape[0]))
    {
      char sx[64], sw[64];
      return graph_fail (g, LE_ERR_INVALID, "linear: input %s does not fit weight %s %s",
                         tensor_shape_str (x, sx, sizeof sx), w->name,
                         tensor_shape_str (w, sw, sizeof sw));
    }
  if (w->dtype == LE_I32 || (w->requires_grad && w->dtype != LE_F32))
    return graph_fail (g, LE_ERR_INVALID, "linear: weight %s is %s%s", w->name,
                       dtype_name (w->dtype), w->requires_grad ? " and trainable (F32 only)" : "");
  int64_t n = x->numel / in, outf = w->shape[0];
  int64_t shape[LE_MAX_DIMS];
  memcpy (shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = outf;
  tensor *y = op_out (g, "linear", x->ndim, shape, x, w, b);   // (..., out)
  if (y == NULL)
    return NULL;
  g->be->matmul (y->data, x->data, LE_F32, w->data, w->dtype, 1, n, outf, in, false, true,
                 0, 0, 0, 1.0f, 0.0f);
  if (b)
    g->be->bias_add (y->data, y->data, b->data, n, outf, 1, 1);
  tape_entry *e = graph_record (g, "linear", linear_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = w; e->in[2] = b;
      e->i[0] = n; e->i[1] = in; e->i[2] = outf;
    }
  return y;
}

/* ---- matmul ---- */

static void
matmul_backward (graph *g, tape_entry *e)
{
  tensor *a = e->in[0], *b = e->in[1];
  int64_t batch = e->i[0], m = e->i[1], n = e->i[2], k = e->i[3];
  bool ta = e->i[4], tb = e->i[5];
  int64_t sa = e->i[6], sb = e->i[7];
  const float *dc = e->out->grad;
  float *da = graph_grad (g, a), *db = graph_grad (g, b);
  const backend *be = g->be;
  if (da)
    {
      if (!ta)   /* dA // (M, K) += dC @ op(B)^T */
        be->matmul (da, dc, LE_F32, b->data, b->dtype, batch, m, k, n, false, !tb, m * n, sb,
                    m * k, 1.0f, 1.0f);
      else       /* dA // (K, M) += op(B) @ dC^T */
        be->matmul (da, b->data, b->dtype, dc, LE_F32, batch, k, m, n, tb, true, sb, m * n,
                    m * k, 1.0f, 1.0f);
    }
  if (db)
    {
      /* a shared b sums its gradient over the batch: one product per batch so that no
       * backend has to reduce concurrent writes into the same matrix */
      int64_t steps = sb == 0 ? batch : 1, per = sb == 0 ? 1 : batch;
      for (int64_t s = 0; s < steps; s++)
        {
          const void *as = (const char *) a->data + s * sa * (int64_t) dtype_size (a->dtype);
          const float *dcs = dc + s * m * n;
          if (!tb)   /* dB // (K, N) += op(A)^T @ dC */
            be->matmul (db, as, a->dtype, dcs, LE_F32, per, k, n, m, !ta, false, sa, m * n, sb,
                        1.0f, 1.0f);
          else       /* dB // (N, K) += dC^T @ op(A) */
            be->matmul (db, dcs, LE_F32, as, a->dtype, per, n, k, m, true, ta, m * n, sa, sb,
                        1.0f, 1.0f);
        }
    }
}

tensor *
op_matmul (graph *g, tensor *a, tensor *b, bool trans_a, bool trans_b)
{
  if (!op_check (g, "matmul", "a", a, true) || !op_check (g, "matmul", "b", b, true))
    return NULL;
  if (a->ndim < 2 || b->ndim < 2 || a->dtype == LE_I32 || b->dtype == LE_I32)
    return graph_fail (g, LE_ERR_INVALID, "matmul: operands need 2 to 4 float dims");
  int64_t ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
  int64_t br = b->shape[b->ndim - 2], bc = b->shape[b->ndim - 1];
  int64_t m = trans_a ? ac : ar, k = trans_a ? ar : ac;
  int64_t kb = trans_b ? bc : br, n = trans_b ? br : bc;
  int64_t batch = op_dims (a, 0, a->ndim - 2), bbatch = op_dims (b, 0, b->ndim - 2);
  if (k != kb || (bbatch != batch && bbatch != 1))
    {
      char sa[64], sb[64];
      return graph_fail (g, LE_ERR_INVALID, "matmul: %s and %s do not multiply",
                         tensor_shape_str (a, sa, sizeof sa), tensor_shape_str (b, sb, sizeof sb));
    }
  if ((a->requires_grad && a->dtype != LE_F32) || (b->requires_grad && b->dtype != LE_F32))
    return graph_fail (g, LE_ERR_INVALID, "matmul: an operand that needs a gradient must be F32");
  int64_t shape[LE_MAX_DIMS];
  memcpy (shape, a->shape, sizeof shape);
  shape[a->ndim - 2] = m;
  shape[a->ndim - 1] = n;
  tensor *c = op_out (g, "matmul", a->ndim, shape, a, b, NULL);
  if (c == NULL)
    return NULL;
  int64_t sa = m * k, sb = bbatch == 1 && batch > 1 ? 0 : k * n;
  g->be->matmul (c->data, a->data, a->dtype, b->data, b->dtype, batch, m, n, k, trans_a,
                 trans_b, sa, sb, m * n, 1.0f, 0.0f);
  tape_entry *e = graph_record (g, "matmul", matmul_backward, c);
  if (e)
    {
      e->in[0] = a; e->in[1] = b;
      e->i[0] = batch; e->i[1] = m; e->i[2] = n; e->i[3] = k;
      e->i[4] = trans_a; e->i[5] = trans_b; e->i[6] = sa; e->i[7] = sb;
    }
  return c;
}

/* ---- element-wise ---- */

static void
add_backward (graph *g, tape_entry *e)
{
  int64_t n = e->out->numel;
  acc (g, e->in[0], 1.0f, e->out->grad, n);
  acc (g, e->in[1], e->f[0], e->out->grad, n);   /* f[0]: +1 add, -1 sub */
}

static tensor *
add_sub (graph *g, const char *op, tensor *a, tensor *b, float sign)
{
  if (!check_same (g, op, a, b))
    return NULL;
  tensor *y = op_out (g, op, a->ndim, a->shape, a, b, NULL);
  if (y == NULL)
    return NULL;
  g->be->axpby (y->data, 1.0f, a->data, sign, b->data, a->numel);
  tape_entry *e = graph_record (g, op, add_backward, y);
  if (e)
    {
      e->in[0] = a; e->in[1] = b; e->f[0] = sign;
    }
  return y;
}

tensor *op_add (graph *g, tensor *a, tensor *b) { return add_sub (g, "add", a, b, 1.0f); }
tensor *op_sub (graph *g, tensor *a, tensor *b) { return add_sub (g, "sub", a, b, -1.0f); }

static void
mul_backward (graph *g, tape_entry *e)
{
  float *da = graph_grad (g, e->in[0]), *db = graph_grad (g, e->in[1]);
  g->be->mul_backward (da, db, e->out->grad, e->in[0]->data, e->in[1]->data, e->out->numel);
}

tensor *
op_mul (graph *g, tensor *a, tensor *b)
{
  if (!check_same (g, "mul", a, b))
    return NULL;
  tensor *y = op_out (g, "mul", a->ndim, a->shape, a, b, NULL);
  if (y == NULL)
    return NULL;
  g->be->mul (y->data, a->data, b->data, a->numel);
  tape_entry *e = graph_record (g, "mul", mul_backward, y);
  if (e)
    {
      e->in[0] = a; e->in[1] = b;
    }
  return y;
}

static void
scale_backward (graph *g, tape_entry *e)
{
  acc (g, e->in[0], e->f[0], e->out->grad, e->out->numel);
}

tensor *
op_scale (graph *g, tensor *x, float s)
{
  if (!op_check (g, "scale", "x", x, false))
    return NULL;
  tensor *y = op_out (g, "scale", x->ndim, x->shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->axpby (y->data, s, x->data, 0.0f, NULL, x->numel);
  tape_entry *e = graph_record (g, "scale", scale_backward, y);
  if (e)
    {
      e->in[0] = x; e->f[0] = s;
    }
  return y;
}

static void
add_bias_backward (graph *g, tape_entry *e)
{
  acc (g, e->in[0], 1.0f, e->out->grad, e->out->numel);
  float *db = graph_grad (g, e->in[1]);
  if (db)
    g->be->bias_add_backward (db, e->out->grad, e->i[0], e->i[1], e->i[2], e->i[3]);
}

tensor *
op_add_bias (graph *g, tensor *x, tensor *b, int axis)
{
  if (!op_check (g, "add_bias", "x", x, false) || !op_check (g, "add_bias", "bias", b, false))
    return NULL;
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis >= x->ndim)
    return graph_fail (g, LE_ERR_INVALID, "add_bias: axis out of range");
  int64_t outer = op_dims (x, 0, axis), c = x->shape[axis], inner = op_dims (x, axis + 1, 4);
  int64_t b_outer = b->numel == c ? 1 : b->numel == outer * c ? outer : -1;
  if (b_outer < 0)
    {
      char sx[64], sb[64];
      return graph_fail (g, LE_ERR_INVALID, "add_bias: bias %s does not fit %s at axis %d",
                         tensor_shape_str (b, sb, sizeof sb),
                         tensor_shape_str (x, sx, sizeof sx), axis);
    }
  tensor *y = op_out (g, "add_bias", x->ndim, x->shape, x, b, NULL);
  if (y == NULL)
    return NULL;
  g->be->bias_add (y->data, x->data, b->data, outer, c, inner, b_outer);
  tape_entry *e = graph_record (g, "add_bias", add_bias_backward, y);
  if (e)
    {
      e->in[0] = x; e->in[1] = b;
      e->i[0] = outer; e->i[1] = c; e->i[2] = inner; e->i[3] = b_outer;
    }
  return y;
}

/* ---- layout ---- */

tensor *
op_reshape (graph *g, tensor *x, int ndim, const int64_t *shape)
{
  if (!op_check (g, "reshape", "x", x, true))
    return NULL;
  tensor *v = graph_tensor_meta (g, x->dtype, ndim, shape, "reshape");
  if (v == NULL)
    return NULL;
  if (v->numel != x->numel)
    {
      char sx[64], sv[64];
      return graph_fail (g, LE_ERR_INVALID, "reshape: %s to %s changes the element count",
                         tensor_shape_str (x, sx, sizeof sx), tensor_shape_str (v, sv, sizeof sv));
    }
  v->data = x->data;
  v->base = x->base ? x->base : x;
  v->requires_grad = g->grad_enabled && x->requires_grad;
  v->is_param = x->is_param;
  return v;
}

static void
permute_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx == NULL)
    return;
  int64_t shape[4];
  int inv[4];
  for (int d = 0; d < 4; d++)
    {
      shape[d] = e->out->shape[d];
      inv[e->i[d]] = d;
    }
  g->be->permute (dx, e->out->grad, shape, inv, true);
}

tensor *
op_permute (graph *g, tensor *x, const int *perm)
{
  if (!op_check (g, "permute", "x", x, false))
    return NULL;
  int p[4] = { 0, 1, 2, 3 };
  bool seen[4] = { false };
  for (int d = 0; d < x->ndim; d++)
    {
      if (perm[d] < 0 || perm[d] >= x->ndim || seen[perm[d]])
        return graph_fail (g, LE_ERR_INVALID, "permute: not a permutation of %d dims", x->ndim);
      seen[perm[d]] = true;
      p[d] = perm[d];
    }
  int64_t shape[4];
  for (int d = 0; d < 4; d++)
    shape[d] = x->shape[p[d]];
  tensor *y = op_out (g, "permute", x->ndim, shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->permute (y->data, x->data, x->shape, p, false);
  tape_entry *e = graph_record (g, "permute", permute_backward, y);
  if (e)
    {
      e->in[0] = x;
      for (int d = 0; d < 4; d++)
        e->i[d] = p[d];
    }
  return y;
}

tensor *
op_transpose (graph *g, tensor *x, int d0, int d1)
{
  if (!op_check (g, "transpose", "x", x, false))
    return NULL;
  if (d0 < 0 || d1 < 0 || d0 >= x->ndim || d1 >= x->ndim)
    return graph_fail (g, LE_ERR_INVALID, "transpose: dims %d, %d out of range", d0, d1);
  int perm[4] = { 0, 1, 2, 3 };
  perm[d0] = d1;
  perm[d1] = d0;
  return op_permute (g, x, perm);
}

static void
concat_backward (graph *g, tape_entry *e)
{
  int64_t outer = e->i[0], inner = e->i[1], total = e->i[2], off = 0;
  for (int j = 0; j < 4 && e->in[j]; j++)
    {
      int64_t len = e->i[4 + j];
      float *dx = graph_grad (g, e->in[j]);
      if (dx)
        g->be->slice_copy (dx, len, 0, e->out->grad, total, off, outer, len, inner, true);
      off += len;
    }
}

tensor *
op_concat (graph *g, tensor **xs, int n, int axis)
{
  if (n < 1 || n > 4)
    return graph_fail (g, LE_ERR_INVALID, "concat: %d inputs, 1 to 4 supported", n);
  for (int j = 0; j < n; j++)
    if (!op_check (g, "concat", "input", xs[j], false))
      return NULL;
  tensor *x0 = xs[0];
  if (axis < 0)
    axis += x0->ndim;
  if (axis < 0 || axis >= x0->ndim)
    return graph_fail (g, LE_ERR_INVALID, "concat: axis out of range");
  int64_t total = 0;
  for (int j = 0; j < n; j++)
    {
      bool fits = xs[j]->ndim == x0->ndim;
      for (int d = 0; fits && d < x0->ndim; d++)
        fits = d == axis || xs[j]->shape[d] == x0->shape[d];
      if (!fits)
        {
          char s0[64], sj[64];
          return graph_fail (g, LE_ERR_INVALID, "concat: %s and %s differ outside axis %d",
                             tensor_shape_str (x0, s0, sizeof s0),
                             tensor_shape_str (xs[j], sj, sizeof sj), axis);
        }
      total += xs[j]->shape[axis];
    }
  int64_t shape[4];
  memcpy (shape, x0->shape, sizeof shape);
  shape[axis] = total;
  tensor *y = op_out (g, "concat", x0->ndim, shape, xs[0], n > 1 ? xs[1] : NULL,
                      n > 2 ? xs[2] : NULL);
  if (y == NULL)
    return NULL;
  if (n > 3 && xs[3]->requires_grad && g->grad_enabled)
    y->requires_grad = true;
  int64_t outer = op_dims (x0, 0, axis), inner = op_dims (x0, axis + 1, 4), off = 0;
  for (int j = 0; j < n; j++)
    {
      int64_t len = xs[j]->shape[axis];
      g->be->slice_copy (y->data, total, off, xs[j]->data, len, 0, outer, len, inner, false);
      off += len;
    }
  tape_entry *e = graph_record (g, "concat", concat_backward, y);
  if (e)
    {
      e->i[0] = outer; e->i[1] = inner; e->i[2] = total;
      for (int j = 0; j < n; j++)
        {
          e->in[j] = xs[j];
          e->i[4 + j] = xs[j]->shape[axis];
        }
    }
  return y;
}

static void
slice_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->slice_copy (dx, e->i[3], e->i[4], e->out->grad, e->i[5], 0, e->i[0], e->i[5],
                       e->i[1], true);
}

tensor *
op_slice (graph *g, tensor *x, int axis, int64_t start, int64_t len)
{
  if (!op_check (g, "slice", "x", x, false))
    return NULL;
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis >= x->ndim || start < 0 || len < 1 || start + len > x->shape[axis])
    return graph_fail (g, LE_ERR_INVALID, "slice: [%lld, %lld) out of range on axis %d",
                       (long long) start, (long long) (start + len), axis);
  int64_t shape[4];
  memcpy (shape, x->shape, sizeof shape);
  shape[axis] = len;
  tensor *y = op_out (g, "slice", x->ndim, shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  int64_t outer = op_dims (x, 0, axis), inner = op_dims (x, axis + 1, 4);
  g->be->slice_copy (y->data, len, 0, x->data, x->shape[axis], start, outer, len, inner, false);
  tape_entry *e = graph_record (g, "slice", slice_backward, y);
  if (e)
    {
      e->in[0] = x;
      e->i[0] = outer; e->i[1] = inner; e->i[3] = x->shape[axis]; e->i[4] = start;
      e->i[5] = len;
    }
  return y;
}

static void
upsample_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  tensor *x = e->in[0];
  if (dx)
    g->be->upsample2x_backward (dx, e->out->grad, x->shape[0] * x->shape[1], x->shape[2],
                                x->shape[3]);
}

tensor *
op_upsample2x (graph *g, tensor *x)
{
  if (!op_check (g, "upsample2x", "x", x, false))
    return NULL;
  if (x->ndim != 4)
    return graph_fail (g, LE_ERR_INVALID, "upsample2x: needs (B, C, H, W)");
  int64_t shape[4] = { x->shape[0], x->shape[1], 2 * x->shape[2], 2 * x->shape[3] };
  tensor *y = op_out (g, "upsample2x", 4, shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  g->be->upsample2x (y->data, x->data, x->shape[0] * x->shape[1], x->shape[2], x->shape[3]);
  tape_entry *e = graph_record (g, "upsample2x", upsample_backward, y);
  if (e)
    e->in[0] = x;
  return y;
}

/* ---- reductions and losses ---- */

static void
row_sum_backward (graph *g, tape_entry *e)
{
  float *dx = graph_grad (g, e->in[0]);
  if (dx)
    g->be->row_sum_backward (dx, e->out->grad, e->i[0], e->i[1], e->f[0]);
}

static tensor *
row_reduce (graph *g, const char *op, tensor *x, int64_t rows, float scale)
{
  if (!op_check (g, op, "x", x, false))
    return NULL;
  int64_t shape[1] = { rows };
  tensor *y = op_out (g, op, 1, shape, x, NULL, NULL);
  if (y == NULL)
    return NULL;
  int64_t c = x->numel / rows;
  g->be->row_sum (y->data, x->data, rows, c, scale);
  tape_entry *e = graph_record (g, op, row_sum_backward, y);
  if (e)
    {
      e->in[0] = x; e->i[0] = rows; e->i[1] = c; e->f[0] = scale;
    }
  return y;
}

tensor *op_sum (graph *g, tensor *x) { return row_reduce (g, "sum", x, 1, 1.0f); }

tensor *
op_mean (graph *g, tensor *x)
{
  return x ? row_reduce (g, "mean", x, 1, 1.0f / (float) x->numel) : NULL;
}

tensor *
op_mean_rows (graph *g, tensor *x)
{
  return x ? row_reduce (g, "mean_rows", x, x->shape[0],
                         (float) x->shape[0] / (float) x->numel) : NULL;
}

tensor *
op_mse (graph *g, tensor *a, tensor *b)
{
  tensor *d = op_sub (g, a, b);
  return op_mean (g, op_mul (g, d, d));
}

static void
cross_entropy_backward (graph *g, tape_entry *e)
{
  float *dl = graph_grad (g, e->in[0]);
  if (dl)
    g->be->cross_entropy_backward (dl, e->out->grad, e->in[0]->data, e->saved[0]->data,
                                   e->in[1]->data, e->i[0], e->i[1], e->f[0]);
}

tensor *
op_cross_entropy (graph *g, tensor *logits, tensor *targets, double *sum_out,
                  int64_t *count_out)
{
  if (!op_check (g, "cross_entropy", "logits", logits, false)
      || !op_check (g, "cross_entropy", "targets", targets, true))
    return NULL;
  int64_t v = logits->shape[logits->ndim - 1], n = logits->numel / v;
  if (targets->dtype != LE_I32 || targets->numel != n)
    return graph_fail (g, LE_ERR_INVALID,
                       "cross_entropy: targets must be I32 with one per logits row (%lld)",
                       (long long) n);
  int32_t *host = malloc ((size_t) n * sizeof *host);
  if (host == NULL)
    return graph_fail (g, LE_ERR_MEMORY, "cross_entropy: out of memory");
  g->be->copy_d2h (host, targets->data, (size_t) n * sizeof *host);
  int64_t count = 0;
  for (int64_t r = 0; r < n; r++)
    count += host[r] >= 0 && host[r] < v;
  free (host);
  int64_t nshape[1] = { n }, one[1] = { 1 };
  tensor *losses = graph_tensor (g, LE_F32, 1, nshape, "ce_losses");   // (N)
  tensor *lse = graph_tensor (g, LE_F32, 1, nshape, "ce_lse");         // (N)
  tensor *y = op_out (g, "cross_entropy", 1, one, logits, NULL, NULL);
  if (y == NULL || losses == NULL || lse == NULL)
    return NULL;
  g->be->cross_entropy (losses->data, lse->data, logits->data, targets->data, n, v);
  float scale = count ? 1.0f / (float) count : 0.0f;
  g->be->row_sum (y->data, losses->data, 1, n, scale);
  if (sum_out)
    {
      float mean = graph_item (g, y);
      *sum_out = (double) mean * (double) count;
    }
  if (count_out)
    *count_out = count;
  tape_entry *e = graph_record (g, "cross_entropy", cross_entropy_backward, y);
  if (e)
    {
      e->in[0] = logits; e->in[1] = targets; e->saved[0] = lse;
      e->i[0] = n; e->i[1] = v; e->f[0] = scale;
    }
  return y;
}
