/* clip-model-load.c: loads a CLIPModel folder's weights into one param_store, binding the
 * text tower into a shell sd15_model (so clip-text.c runs it) and the vision tower into
 * clip_model's own slots (clip-model.h). Every tensor is checked against config.json's
 * shapes before a byte is copied; errors name the tensor and the file. */
#include "clip-model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "weights-load.h"

typedef struct {
  clip_model *m;
  const st_set *set;
  int dtype;
  le_error *err;
  bool ok;
} loader;

/* Declares NAME with SHAPE into *SLOT after checking the file has it so. */
static void
want (loader *L, tensor **slot, const char *name, int ndim, int64_t d0, int64_t d1,
      int64_t d2, int64_t d3)
{
  if (!L->ok)
    return;
  int64_t shape[4] = { d0, d1, d2, d3 };
  const st_tensor *s = st_set_find (L->set, name);
  if (s == NULL)
    {
      L->ok = le_fail (L->err, LE_ERR_FORMAT, "%s: tensor %s is missing; the folder is "
                       "incomplete or not a CLIPModel", L->m->weights_path, name);
      return;
    }
  if (!weights_shape_is (s, ndim, shape))
    {
      char got[96], need[96];
      weights_shape_text (got, sizeof got, s->ndim, s->shape);
      weights_shape_text (need, sizeof need, ndim, shape);
      L->ok = le_fail (L->err, LE_ERR_FORMAT, "%s: tensor %s has shape %s but config.json "
                       "needs %s; config.json does not match the weights",
                       s->file_path, name, got, need);
      return;
    }
  le_dtype dt;
  if (ndim == 1)
    dt = LE_F32;                 /* norms, biases, the class token: F32 for every op */
  else if (L->dtype != CLIP_DTYPE_KEEP)
    dt = (le_dtype) L->dtype;
  else if (s->dtype == ST_F16)
    dt = LE_F16;
  else if (s->dtype == ST_BF16)
    dt = LE_BF16;
  else if (s->dtype == ST_F32)
    dt = LE_F32;
  else
    {
      L->ok = le_fail (L->err, LE_ERR_UNSUPPORTED, "%s: tensor %s is %s; only F32, F16 and "
                       "BF16 weights can be loaded", s->file_path, name,
                       st_dtype_name (s->dtype));
      return;
    }
  *slot = param_store_add (L->m->base, name, dt, ndim, shape, false, L->err);
  L->ok = *slot != NULL;
}

static void
want_module (loader *L, sd_module *mod, const char *prefix, const char *name, int64_t out,
             int64_t in)
{
  char buf[256];
  snprintf (buf, sizeof buf, "%s.%s.weight", prefix, name);
  want (L, &mod->w, buf, in > 0 ? 2 : 1, out, in, 1, 1);
  snprintf (buf, sizeof buf, "%s.%s.bias", prefix, name);
  want (L, &mod->b, buf, 1, out, 1, 1, 1);
}

/* One pre-LN encoder layer; both towers name them alike. */
static void
want_layer (loader *L, const char *tower, int i, const clip_tower_config *t, sd_module *ln1,
            sd_module *q, sd_module *k, sd_module *v, sd_module *out, sd_module *ln2,
            sd_module *fc1, sd_module *fc2)
{
  char p[128];
  int64_t C = t->hidden, F = t->intermediate;
  snprintf (p, sizeof p, "%s.encoder.layers.%d", tower, i);
  want_module (L, ln1, p, "layer_norm1", C, 0);
  want_module (L, q, p, "self_attn.q_proj", C, C);
  want_module (L, k, p, "self_attn.k_proj", C, C);
  want_module (L, v, p, "self_attn.v_proj", C, C);
  want_module (L, out, p, "self_attn.out_proj", C, C);
  want_module (L, ln2, p, "layer_norm2", C, 0);
  want_module (L, fc1, p, "mlp.fc1", F, C);
  want_module (L, fc2, p, "mlp.fc2", C, F);
}

static bool
declare_all (clip_model *m, const st_set *set, int dtype, le_error *err)
{
  const clip_config *c = &m->cfg;
  loader L = { m, set, dtype, err, true };
  int64_t Ct = c->text.hidden, Cv = c->vision.hidden, P = c->patch_size;
  int64_t grid = c->image_size / P;
  sd15_model *t = &m->text;
  want (&L, &t->text.tok.w, "text_model.embeddings.token_embedding.weight", 2, c->vocab, Ct, 1,
        1);
  want (&L, &t->text.pos.w, "text_model.embeddings.position_embedding.weight", 2,
        c->positions, Ct, 1, 1);
  for (int i = 0; i < c->text.layers; i++)
    {
      clip_layer *l = &t->text.layers[i];
      want_layer (&L, "text_model", i, &c->text, &l->ln1, &l->q, &l->k, &l->v, &l->out,
                  &l->ln2, &l->fc1, &l->fc2);
    }
  want_module (&L, &t->text.final_ln, "text_model", "final_layer_norm", Ct, 0);
  want (&L, &m->text_projection, "text_projection.weight", 2, c->projection_dim, Ct, 1, 1);

  want (&L, &m->class_embedding, "vision_model.embeddings.class_embedding", 1, Cv, 1, 1, 1);
  want (&L, &m->patch_embedding, "vision_model.embeddings.patch_embedding.weight", 4, Cv,
        c->channels, P, P);
  want (&L, &m->position_embedding, "vision_model.embeddings.position_embedding.weight", 2,
        grid * grid + 1, Cv, 1, 1);
  want_module (&L, &m->pre_ln, "vision_model", "pre_layrnorm", Cv, 0);
  for (int i = 0; i < c->vision.layers; i++)
    {
      clip_vision_layer *l = &m->vlayers[i];
      want_layer (&L, "vision_model", i, &c->vision, &l->ln1, &l->q, &l->k, &l->v, &l->out,
                  &l->ln2, &l->fc1, &l->fc2);
    }
  want_module (&L, &m->post_ln, "vision_model", "post_layernorm", Cv, 0);
  want (&L, &m->visual_projection, "visual_projection.weight", 2, c->projection_dim, Cv, 1, 1);
  return L.ok;
}

clip_model *
clip_model_load (const char *folder, int dtype, const backend *be, le_error *err)
{
  clip_config cfg;
  if (!clip_config_load (folder, &cfg, err))
    return NULL;
  if (!cfg.text.quick_gelu)
    {
      le_fail (err, LE_ERR_UNSUPPORTED, "%s/config.json: text_config hidden_act is gelu; only "
               "OpenAI's quick_gelu text encoder is supported", folder);
      return NULL;
    }
  clip_model *m = le_calloc (1, sizeof *m, "the CLIP model", err);
  if (m == NULL)
    return NULL;
  m->cfg = cfg;
  m->be = be;
  snprintf (m->folder, sizeof m->folder, "%s", folder);
  snprintf (m->weights_path, sizeof m->weights_path, "%s/model.safetensors", folder);
  st_set *set = NULL;
  bool ok = clip_preprocessor_load (folder, cfg.image_size, &m->pre, err);
  if (ok)
    {
      m->tokenizer = clip_model_tokenizer_load (folder, err);
      if (m->tokenizer == NULL)
        ok = le_error_prefix (err, "the CLIP model's tokenizer (vocab.json and merges.txt, or "
                              "tokenizer.json, belong in %s)", folder);
      else if ((int64_t) le_clip_tokenizer_vocab_size (m->tokenizer) > cfg.vocab)
        ok = le_fail (err, LE_ERR_FORMAT, "%s: the tokenizer has %zu tokens but config.json's "
                      "vocab_size is %lld; the tokenizer belongs to another model", folder,
                      le_clip_tokenizer_vocab_size (m->tokenizer), (long long) cfg.vocab);
    }
  if (ok)
    {
      set = st_set_open (folder, err);
      ok = set != NULL;
    }
  if (ok)
    {
      sd15_config_default (&m->text.cfg);
      sd15_config *sc = &m->text.cfg;
      sc->clip_vocab = cfg.vocab;
      sc->clip_hidden = cfg.text.hidden;
      sc->clip_layers = cfg.text.layers;
      sc->clip_heads = cfg.text.heads;
      sc->clip_intermediate = cfg.text.intermediate;
      sc->clip_positions = cfg.positions;
      sc->clip_eps = cfg.text.eps;
      m->text.be = be;
      m->text.parts = SD15_LOAD_TEXT;
      m->text.text.layers = le_calloc ((size_t) cfg.text.layers, sizeof (clip_layer),
                                       "CLIP text layers", err);
      m->vlayers = le_calloc ((size_t) cfg.vision.layers, sizeof (clip_vision_layer),
                              "CLIP vision layers", err);
      m->base = m->text.text.layers && m->vlayers ? param_store_new (be, err) : NULL;
      /* the mapped pages go once copied: see weights-load.c */
      ok = m->base != NULL && declare_all (m, set, dtype, err)
           && param_store_commit (m->base, err)
           && weights_upload_all (m->base, set, NULL, true, err);
    }
  st_set_close (set);
  if (!ok)
    {
      clip_model_free (m);
      return NULL;
    }
  return m;
}

void
clip_model_free (clip_model *m)
{
  if (m == NULL)
    return;
  if (m->base)
    param_store_free (m->base);
  free (m->text.text.layers);
  free (m->vlayers);
  if (m->tokenizer)
    le_clip_tokenizer_free (m->tokenizer);
  free (m);
}
