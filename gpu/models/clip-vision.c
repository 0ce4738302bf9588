/* clip-vision.c: CLIP's ViT vision tower (transformers' CLIPVisionTransformer) and the
 * image embedding (get_image_features) on the core ops: patch convolution, class token,
 * learned positions, pre_layrnorm, pre-LN layers with bidirectional attention, the post
 * layer norm of the class token, visual_projection. */
#include "clip-model.h"

#include <stdlib.h>

#include "ops.h"

tensor *
clip_vision_forward (clip_model *m, graph *g, tensor *pixels)
{
  if (pixels == NULL)
    return NULL;
  const clip_config *c = &m->cfg;
  int64_t B = pixels->shape[0], C = c->vision.hidden, P = c->patch_size;
  int64_t grid = c->image_size / P, N = grid * grid;
  if (pixels->ndim != 4 || pixels->shape[1] != c->channels || pixels->shape[2] != c->image_size
      || pixels->shape[3] != c->image_size)
    return graph_fail (g, LE_ERR_INVALID, "CLIP wants pixels of (B, %lld, %lld, %lld)",
                       (long long) c->channels, (long long) c->image_size,
                       (long long) c->image_size);
  tensor *x = op_conv2d (g, pixels, m->patch_embedding, NULL, (int) P, 0);  // (B, C, g, g)
  int64_t s_bcn[3] = { B, C, N };
  x = op_transpose (g, op_reshape (g, x, 3, s_bcn), 1, 2);                  // (B, N, C)
  /* the class token in front of each image's patches */
  int64_t s_cls[3] = { 1, 1, C };
  tensor *cls = op_reshape (g, m->class_embedding, 3, s_cls);
  tensor *seq = NULL;
  for (int64_t i = 0; i < B; i++)
    {
      tensor *parts[2] = { cls, op_slice (g, x, 0, i, 1) };
      tensor *one = op_concat (g, parts, 2, 1);                             // (1, N+1, C)
      tensor *acc[2] = { seq, one };
      seq = i == 0 ? one : op_concat (g, acc, 2, 0);
    }
  x = seq;                                                                  // (B, N+1, C)
  /* learned positions, broadcast over the batch */
  int32_t *pos = malloc ((size_t) (N + 1) * sizeof *pos);
  if (pos == NULL)
    return graph_fail (g, LE_ERR_MEMORY, "out of memory for position ids");
  for (int64_t i = 0; i <= N; i++)
    pos[i] = (int32_t) i;
  int64_t s_pos[1] = { N + 1 };
  tensor *pid = graph_from_host (g, LE_I32, 1, s_pos, pos, "vision_position_ids");
  free (pos);
  tensor *pe = op_embedding (g, m->position_embedding, pid);               // (N+1, C)
  int64_t s_flat[2] = { B, (N + 1) * C }, s_pf[1] = { (N + 1) * C }, s3[3] = { B, N + 1, C };
  x = op_add_bias (g, op_reshape (g, x, 2, s_flat), op_reshape (g, pe, 1, s_pf), 1);
  x = op_reshape (g, x, 3, s3);
  x = op_layernorm (g, x, m->pre_ln.w, m->pre_ln.b, c->vision.eps);
  for (int64_t i = 0; i < c->vision.layers; i++)
    x = clip_encoder_layer (g, NULL, &m->vlayers[i], x, c->vision.heads, c->vision.eps, false,
                            c->vision.quick_gelu);
  tensor *pooled = op_slice (g, x, 1, 0, 1);                                // (B, 1, C)
  int64_t s_bc[2] = { B, C };
  pooled = op_reshape (g, pooled, 2, s_bc);
  pooled = op_layernorm (g, pooled, m->post_ln.w, m->post_ln.b, c->vision.eps);
  return op_linear (g, pooled, m->visual_projection, NULL);                 // (B, proj)
}

bool
clip_image_features (clip_model *m, graph *g, const float *pixels, int64_t batch, float *out,
                     le_error *err)
{
  graph_reset (g);
  graph_set_grad_enabled (g, false);
  int64_t S = m->cfg.image_size;
  int64_t shape[4] = { batch, m->cfg.channels, S, S };
  tensor *px = graph_from_host (g, LE_F32, 4, shape, pixels, "pixels");
  tensor *f = clip_vision_forward (m, g, px);
  bool ok = f != NULL && graph_to_host (g, f, out, err);
  if (f == NULL)
    graph_take_error (g, err);
  graph_reset (g);
  return ok;
}
