/* ops.h: the differentiable ops that model code (LLaMA, SD 1.5 UNet/VAE/CLIP) is written in.
 *
 * Each op takes the graph first, returns a new arena tensor (or NULL: see graph.h's sticky
 * errors) and, when its output requires grad, records its backward. All activations are
 * F32; weights (w of linear/matmul/conv2d, the embedding table) may be F16/BF16 when
 * frozen. Shapes in comments: // (B, T, C). Leading dims written `...` are flattened. */
#pragma once

#include "graph.h"

/* ---- products ---- */
/* x // (..., in), w // (out, in), b // (out) or NULL -> (..., out) = x @ w^T + b */
tensor *op_linear (graph *g, tensor *x, tensor *w, tensor *b);
/* a // (Bt, M, K) (or (K, M) when trans_a), b // (Bt, K, N) (or (N, K) when trans_b);
 * 2-D operands are batch 1, and a 2-D b is shared by every batch of a 3/4-D a.
 * 4-D operands (B, H, M, K) batch over B*H. -> (..., M, N) */
tensor *op_matmul (graph *g, tensor *a, tensor *b, bool trans_a, bool trans_b);

/* ---- element-wise (same shapes) ---- */
tensor *op_add (graph *g, tensor *a, tensor *b);
tensor *op_sub (graph *g, tensor *a, tensor *b);
tensor *op_mul (graph *g, tensor *a, tensor *b);
tensor *op_scale (graph *g, tensor *x, float s);
/* x // (outer, C, inner) split at `axis`; b // (C) or (outer, C): x + b broadcast.
 * Linear-style bias: axis = last; SD's timestep embedding (B, C) on (B, C, H, W): axis 1. */
tensor *op_add_bias (graph *g, tensor *x, tensor *b, int axis);

/* ---- layout ---- */
/* A view with another shape (same numel); shares data and gradient with x. */
tensor *op_reshape (graph *g, tensor *x, int ndim, const int64_t *shape);
/* Materialised permutation: out dim d is x dim perm[d]. */
tensor *op_permute (graph *g, tensor *x, const int *perm);
tensor *op_transpose (graph *g, tensor *x, int d0, int d1);
/* Concatenation of 1 to 4 tensors along axis (UNet skip connections). */
tensor *op_concat (graph *g, tensor **xs, int n, int axis);
/* x[..., start:start+len, ...] along axis (chunk, split, qkv) */
tensor *op_slice (graph *g, tensor *x, int axis, int64_t start, int64_t len);
/* (B, C, H, W) -> (B, C, 2H, 2W), nearest */
tensor *op_upsample2x (graph *g, tensor *x);

/* ---- lookups ---- */
/* table // (V, C), ids // (...) I32 -> (..., C) */
tensor *op_embedding (graph *g, tensor *table, tensor *ids);

/* ---- normalisation ---- */
/* x // (..., C), w // (C) or NULL: x / sqrt(mean(x^2) + eps) * w (LLaMA) */
tensor *op_rmsnorm (graph *g, tensor *x, tensor *w, float eps);
/* x // (..., C), w, b // (C) or NULL (CLIP) */
tensor *op_layernorm (graph *g, tensor *x, tensor *w, tensor *b, float eps);
/* x // (B, C, ...), groups | C, w, b // (C) or NULL (SD: 32 groups, eps 1e-5 or 1e-6) */
tensor *op_groupnorm (graph *g, tensor *x, int groups, tensor *w, tensor *b, float eps);

/* ---- activations ---- */
tensor *op_silu (graph *g, tensor *x);
tensor *op_gelu (graph *g, tensor *x);          /* erf form */
tensor *op_gelu_tanh (graph *g, tensor *x);
tensor *op_quick_gelu (graph *g, tensor *x);
/* x // (..., 2C) -> (..., C) = x[..., :C] * gelu(x[..., C:]) (SD feed-forward) */
tensor *op_geglu (graph *g, tensor *x);
/* silu(gate) * up, same shapes (LLaMA MLP) */
tensor *op_swiglu (graph *g, tensor *gate, tensor *up);
/* over the last dim */
tensor *op_softmax (graph *g, tensor *x);
/* Inverted dropout with the graph's counter-based RNG; identity when p == 0 or the
 * graph is not in training mode. Advances the graph's RNG offset by numel. */
tensor *op_dropout (graph *g, tensor *x, float p);

/* ---- positions and attention ---- */
/* Llama 3 rope_scaling; factor <= 0 means none (plain rope_theta). */
typedef struct {
  float factor;                  /* 8 for Llama 3.1 */
  float low_freq_factor;         /* 1 */
  float high_freq_factor;        /* 4 */
  float original_max_position;   /* 8192 */
} rope_scaling;
/* Host tables cos, sin // (P, D) in the HF layout: row p = [cos(p f_0..f_{D/2-1}) twice]. */
void rope_table_build (float *cos_t, float *sin_t, int64_t positions, int64_t d, float theta,
                       const rope_scaling *scaling);
/* x // (B, H, T, D); cos, sin // (P, D) F32 with P >= pos_offset + T */
tensor *op_rope (graph *g, tensor *x, tensor *cos_t, tensor *sin_t, int64_t pos_offset);
/* q // (B, H, Tq, D), k, v // (B, Hkv, Tk, D) -> (B, H, Tq, D); scale usually
 * 1/sqrt(D); fused (no Tq x Tk matrix is kept), see backend.h for the causal mask. */
tensor *op_attention (graph *g, tensor *q, tensor *k, tensor *v, bool causal, float scale);

/* ---- convolution ---- */
/* x // (B, Cin, H, W), w // (Cout, Cin, kh, kw), b // (Cout) or NULL */
tensor *op_conv2d (graph *g, tensor *x, tensor *w, tensor *b, int stride, int pad);
tensor *op_conv2d_ex (graph *g, tensor *x, tensor *w, tensor *b, int stride, int pad_t,
                      int pad_l, int pad_b, int pad_r);

/* ---- reductions and losses (results are (1) tensors) ---- */
tensor *op_sum (graph *g, tensor *x);
tensor *op_mean (graph *g, tensor *x);
/* x // (N, ...) -> (N): mean over all but the first dim (per-sample losses) */
tensor *op_mean_rows (graph *g, tensor *x);
/* mean((a - b)^2) */
tensor *op_mse (graph *g, tensor *a, tensor *b);
/* logits // (..., V), targets // (...) I32, target < 0 ignored (HF uses -100).
 * Mean over counted targets; sum_out and count_out (may be NULL) get the summed loss and
 * the number counted. With no counted target the loss is 0 and nothing flows back. */
tensor *op_cross_entropy (graph *g, tensor *logits, tensor *targets, double *sum_out,
                          int64_t *count_out);
