/* sd15-lora.c: LoRA and LoCon on SD 1.5 (see sd15.h). Targets are chosen by diffusers
 * module name during the same architecture walk that names the weights, so every adapter
 * knows its PEFT name ("unet.<path>") and its kohya name ("lora_unet_<path with _>").
 * Three lora_sets: UNet linear (and 1x1 proj_in/proj_out), UNet 3x3 convs (conv_rank),
 * text encoder (its own learning rate in the trainer). */
#include "sd15-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const unet_default[] = { "to_q", "to_k", "to_v", "to_out.0", NULL };
static const char *const unet_valid[] = {
  "to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "proj_in", "proj_out",
  NULL
};
static const char *const text_default[] = {
  "q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2", NULL
};

void
sd15_lora_defaults (sd15_lora_options *o)
{
  memset (o, 0, sizeof *o);
  o->unet_targets = unet_default;
  o->text_targets = text_default;
  o->rank = 4;
  o->alpha = 4;
  o->seed = 1;
}

void
sd15_kohya_name (char *buf, size_t n, bool text_encoder, const char *path)
{
  snprintf (buf, n, "%s%s", text_encoder ? "lora_te_" : "lora_unet_", path);
  for (char *p = buf; *p; p++)
    if (*p == '.')
      *p = '_';
}

typedef struct {
  sd15_model *m;
  const char *unet[16];         /* expanded, NULL-terminated */
  const char *const *text;
  bool conv;                    /* this walk: LoCon's 3x3 convs */
  bool locon;                   /* conv_rank > 0 */
  le_error *err;
} attach_ctx;

static bool
add_entry (sd15_model *m, lora_set *set, lora_linear *l, sd_module *mod, bool text, bool conv,
           le_error *err)
{
  if (m->n_loras == m->cap_loras)
    {
      int cap = m->cap_loras ? 2 * m->cap_loras : 256;
      sd15_lora_entry *p = realloc (m->loras, (size_t) cap * sizeof *p);
      if (p == NULL)
        return le_fail (err, LE_ERR_MEMORY, "out of memory attaching LoRA");
      m->loras = p;
      m->cap_loras = cap;
    }
  sd15_lora_entry *e = &m->loras[m->n_loras++];
  memset (e, 0, sizeof *e);
  e->lora = l;
  e->set = set;
  e->module = mod;
  e->text_encoder = text;
  e->conv = conv;
  e->kh = mod->w->ndim == 4 ? mod->w->shape[2] : 1;
  e->kw = mod->w->ndim == 4 ? mod->w->shape[3] : 1;
  sd15_kohya_name (e->kohya, sizeof e->kohya, text, mod->path);
  snprintf (e->peft, sizeof e->peft, "%s", l->name);
  return true;
}

/* Which set module PATH (weight shape from NM) joins in this walk: 0 none, 1 UNet linear
 * (and 1x1 proj_in/proj_out), 2 UNet LoCon, 3 text encoder. */
static int
select_set (const attach_ctx *a, const char *path, const sd15_name *nm)
{
  if (nm->part == SD15_LOAD_UNET && !a->conv)
    {
      bool lin = nm->ndim == 2 || (nm->ndim == 4 && nm->shape[2] == 1 && nm->shape[3] == 1);
      if (lin && strstr (path, ".attentions.") && lora_target_match (a->unet, path))
        return 1;
      /* with LoCon, kohya also adapts the ResNet blocks' linear and 1x1 layers
       * (time_emb_proj, conv_shortcut) at the linear rank */
      return lin && a->locon && strstr (path, ".resnets.") ? 1 : 0;
    }
  if (nm->part == SD15_LOAD_UNET)
    /* kohya LoCon: the 3x3 convs of ResNet blocks and of the samplers */
    return nm->ndim == 4 && nm->shape[2] == 3
           && (strstr (path, ".resnets.") || strstr (path, "samplers.")) ? 2 : 0;
  if (nm->part == SD15_LOAD_TEXT)
    return nm->ndim == 2 && strstr (path, ".layers.") && lora_target_match (a->text, path)
           ? 3 : 0;
  return 0;
}

static bool
attach_visit (sd_walk *w, sd_module *mod, tensor **slot, const sd15_name *nm)
{
  attach_ctx *a = w->user;
  sd15_model *m = a->m;
  if (slot != &mod->w || mod->w == NULL)
    return true;
  int which = select_set (a, mod->path, nm);
  if (which == 0)
    return true;
  lora_set *set = which == 1 ? m->lora_unet : which == 2 ? m->lora_conv : m->lora_text;
  const tensor *t = mod->w;
  bool text = which == 3;
  int64_t in = t->shape[1] * (t->ndim == 4 ? t->shape[2] * t->shape[3] : 1);
  char name[LORA_NAME_MAX];
  snprintf (name, sizeof name, "%s.%s", text ? "text_encoder" : "unet", mod->path);
  lora_linear *l = lora_set_add (set, name, t->shape[0], in, w->err);
  if (l == NULL)
    return false;
  mod->lora = l;
  mod->lora_dropout = set->dropout;
  return add_entry (m, set, l, mod, text, t->ndim == 4, w->err);
}

static bool
check_targets (const char *const *targets, const char *const *valid, const char *what,
               le_error *err)
{
  for (; targets && *targets; targets++)
    {
      bool ok = false;
      for (const char *const *v = valid; *v && !ok; v++)
        ok = strcmp (*v, *targets) == 0;
      if (!ok)
        {
          char list[512] = "";
          for (const char *const *v = valid; *v; v++)
            snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                      v == valid ? "" : ", ", *v);
          return le_fail (err, LE_ERR_INVALID, "unknown %s LoRA target \"%s\"; valid: %s%s",
                          what, *targets, list,
                          strcmp (what, "UNet") == 0 ? " (and ff for both ff layers)" : "");
        }
    }
  return true;
}

/* Expands "ff" and "to_out", checks every target name. */
static bool
prepare_targets (attach_ctx *a, const sd15_lora_options *o, le_error *err)
{
  int n = 0;
  const char *const *ut = o->unet_targets ? o->unet_targets : unet_default;
  for (; *ut && n < 14; ut++)
    {
      if (strcmp (*ut, "ff") == 0)
        {
          a->unet[n++] = "ff.net.0.proj";
          a->unet[n++] = "ff.net.2";
        }
      else if (strcmp (*ut, "to_out") == 0)
        a->unet[n++] = "to_out.0";
      else
        a->unet[n++] = *ut;
    }
  a->unet[n] = NULL;
  a->text = o->text_targets ? o->text_targets : text_default;
  return check_targets (a->unet, unet_valid, "UNet", err)
         && (!o->text_encoder || check_targets (a->text, text_default, "text encoder", err));
}

bool
sd15_lora_attach (sd15_model *m, const sd15_lora_options *o, le_error *err)
{
  if (m->lora_unet || m->lora_text || m->lora_conv)
    return le_fail (err, LE_ERR_INVALID, "LoRA is already attached to this model");
  if (o->rank < 1)
    return le_fail (err, LE_ERR_INVALID, "lora_rank must be at least 1, not %d", o->rank);
  attach_ctx a = { .m = m, .err = err, .locon = o->conv_rank > 0 };
  if (!prepare_targets (&a, o, err))
    return false;
  float alpha = o->alpha > 0 ? o->alpha : (float) o->rank;
  m->lora_dropout = o->dropout;
  if (m->parts & SD15_LOAD_UNET)
    {
      m->lora_unet = lora_set_new (m->be, o->rank, alpha, o->dropout, err);
      if (m->lora_unet == NULL)
        return false;
      if (o->conv_rank > 0)
        {
          float ca = o->conv_alpha > 0 ? o->conv_alpha : (float) o->conv_rank;
          m->lora_conv = lora_set_new_shared (m->lora_unet, "conv", o->conv_rank, ca,
                                              o->dropout, err);
          if (m->lora_conv == NULL)
            return false;
        }
    }
  if (o->text_encoder && (m->parts & SD15_LOAD_TEXT))
    {
      /* one store for all sets (UNet, LoCon, text: in that order, the text adapters
       * last), so the trainer steps and checkpoints them as one vector, the text slice
       * with its own learning rate */
      m->lora_text = m->lora_unet
                     ? lora_set_new_shared (m->lora_unet, "te", o->rank, alpha, o->dropout, err)
                     : lora_set_new (m->be, o->rank, alpha, o->dropout, err);
      if (m->lora_text == NULL)
        return false;
    }
  /* one walk per set, so each set's modules are declared in architecture order */
  sd_walk w = { .visit = attach_visit, .user = &a, .err = err };
  if (m->lora_unet && !sd_walk_model (m, SD15_LOAD_UNET, &w))
    return false;
  a.conv = true;
  if (m->lora_conv && !sd_walk_model (m, SD15_LOAD_UNET, &w))
    return false;
  a.conv = false;
  if (m->lora_text && !sd_walk_model (m, SD15_LOAD_TEXT, &w))
    return false;
  /* distinct seeds per set so the conv and text adapters do not mirror the UNet's */
  if (m->lora_unet && !lora_set_commit (m->lora_unet, o->seed, err))
    return false;
  if (m->lora_conv && !lora_set_commit (m->lora_conv, o->seed + 1, err))
    return false;
  if (m->lora_text && !lora_set_commit (m->lora_text, o->seed + 2, err))
    return false;
  return true;
}

int
sd15_lora_count (const sd15_model *m)
{
  return m->n_loras;
}

const sd15_lora_entry *
sd15_lora_at (const sd15_model *m, int i)
{
  return i >= 0 && i < m->n_loras ? &m->loras[i] : NULL;
}

int64_t
sd15_n_lora_params (const sd15_model *m)
{
  int64_t n = 0;
  lora_set *sets[3] = { m->lora_unet, m->lora_conv, m->lora_text };
  for (int i = 0; i < 3; i++)
    if (sets[i] && sets[i]->owns_ps)    /* shared stores count once */
      n += sets[i]->ps->n_train;
  return n;
}

typedef struct {
  attach_ctx a;
  sd15_lora_name *items;
  size_t n, cap;
} names_ctx;

static bool
names_visit (sd_walk *w, sd_module *mod, tensor **slot, const sd15_name *nm)
{
  names_ctx *c = w->user;
  if (slot != &mod->w)
    return true;
  int which = select_set (&c->a, mod->path, nm);
  if (which == 0)
    return true;
  if (c->n == c->cap)
    {
      size_t cap = c->cap ? 2 * c->cap : 256;
      sd15_lora_name *p = realloc (c->items, cap * sizeof *p);
      if (p == NULL)
        return le_fail (w->err, LE_ERR_MEMORY, "out of memory listing LoRA names");
      c->items = p;
      c->cap = cap;
    }
  sd15_lora_name *e = &c->items[c->n++];
  memset (e, 0, sizeof *e);
  e->text_encoder = which == 3;
  e->conv = nm->ndim == 4;
  e->out = nm->shape[0];
  e->in = nm->shape[1];
  e->kh = nm->ndim == 4 ? nm->shape[2] : 1;
  e->kw = nm->ndim == 4 ? nm->shape[3] : 1;
  sd15_kohya_name (e->kohya, sizeof e->kohya, e->text_encoder, mod->path);
  snprintf (e->peft, sizeof e->peft, "%s.%s", e->text_encoder ? "text_encoder" : "unet",
            mod->path);
  return true;
}

bool
sd15_lora_names (const sd15_config *cfg, const sd15_lora_options *o, sd15_lora_name **out,
                 size_t *n, le_error *err)
{
  names_ctx c = { .a = { .err = err, .locon = o->conv_rank > 0 } };
  if (!prepare_targets (&c.a, o, err))
    return false;
  sd15_model *m = calloc (1, sizeof *m);
  if (m == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory listing LoRA names");
  m->cfg = *cfg;
  m->text.layers = calloc ((size_t) cfg->clip_layers + 1, sizeof (clip_layer));
  sd_walk w = { .visit = names_visit, .user = &c, .err = err };
  bool ok = m->text.layers != NULL;
  c.a.m = m;
  ok = ok && sd_walk_model (m, SD15_LOAD_UNET, &w);
  c.a.conv = true;
  ok = ok && (o->conv_rank <= 0 || sd_walk_model (m, SD15_LOAD_UNET, &w));
  c.a.conv = false;
  ok = ok && (!o->text_encoder || sd_walk_model (m, SD15_LOAD_TEXT, &w));
  free (m->text.layers);
  free (m);
  if (!ok)
    {
      free (c.items);
      return false;
    }
  *out = c.items;
  *n = c.n;
  return true;
}
