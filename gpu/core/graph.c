/* graph.c: arenas, the tape, backward and gradient checkpointing (see graph.h). */
#include "graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV_ALIGN 256
#define DEV_FIRST_CHUNK ((size_t) 16 << 20)
#define HOST_CHUNK ((size_t) 256 << 10)

/* ---- arena ---- */

static bool
chunk_push (struct arena_chunk **list, int *n, int *cap, struct arena_chunk c)
{
  if (*n == *cap)
    {
      int ncap = *cap ? 2 * *cap : 4;
      struct arena_chunk *grown = realloc (*list, (size_t) ncap * sizeof *grown);
      if (grown == NULL)
        return false;
      *list = grown;
      *cap = ncap;
    }
  (*list)[(*n)++] = c;
  return true;
}

static void *
arena_alloc_dev (arena *a, size_t bytes, le_error *err)
{
  bytes = (bytes + DEV_ALIGN - 1) / DEV_ALIGN * DEV_ALIGN;
  if (bytes == 0)
    bytes = DEV_ALIGN;
  /* bump the current chunk, else the next one with room (a rewound arena re-fills its
   * chunks in order; the tail a chunk cannot use stays unused, as in the first step) */
  for (; a->cur < a->n_chunks; a->cur++)
    {
      struct arena_chunk *c = &a->chunks[a->cur];
      if (c->used + bytes <= c->size)
        {
          void *p = c->base + c->used;
          c->used += bytes;
          if (c->used > c->touched)
            c->touched = c->used;
          a->used += bytes;
          if (a->used > a->peak)
            a->peak = a->used;
          return p;
        }
    }
  size_t total = 0;
  for (int i = 0; i < a->n_chunks; i++)
    total += a->chunks[i].size;
  size_t size = total > DEV_FIRST_CHUNK ? total : DEV_FIRST_CHUNK;
  if (size < bytes)
    size = bytes;
  struct arena_chunk c = { a->be->alloc (size, err), size, 0, 0 };
  if (c.base == NULL)
    return NULL;
  if (!chunk_push (&a->chunks, &a->n_chunks, &a->cap_chunks, c))
    {
      a->be->free (c.base);
      le_fail (err, LE_ERR_MEMORY, "out of memory growing the arena's chunk list");
      return NULL;
    }
  a->cur = a->n_chunks - 1;
  return arena_alloc_dev (a, bytes, err);
}

static void *
arena_alloc_host (arena *a, size_t bytes, le_error *err)
{
  bytes = (bytes + 15) / 16 * 16;
  for (int i = 0; i < a->n_host; i++)
    {
      struct arena_chunk *c = &a->host[i];
      if (c->used + bytes <= c->size)
        {
          void *p = c->base + c->used;
          c->used += bytes;
          memset (p, 0, bytes);
          return p;
        }
    }
  size_t size = bytes > HOST_CHUNK ? bytes : HOST_CHUNK;
  struct arena_chunk c = { malloc (size), size, 0, 0 };
  if (c.base == NULL || !chunk_push (&a->host, &a->n_host, &a->cap_host, c))
    {
      free (c.base);
      le_fail (err, LE_ERR_MEMORY, "out of host memory for tensor records");
      return NULL;
    }
  return arena_alloc_host (a, bytes, err);
}

static bool
arena_owns (const arena *a, const void *p)
{
  for (int i = 0; i < a->n_chunks; i++)
    if ((const char *) p >= a->chunks[i].base
        && (const char *) p < a->chunks[i].base + a->chunks[i].size)
      return true;
  return false;
}

/* Forget everything allocated; on a GPU several chunks become one of the peak size, on
 * the CPU only when the pages touched grew past 1.25x the peak (see graph.h). */
static void
arena_rewind (arena *a)
{
  size_t touched = 0;
  for (int i = 0; i < a->n_chunks; i++)
    touched += a->chunks[i].touched;
  bool fold = a->be->device != LE_CPU || touched > a->peak + a->peak / 4;
  if (a->n_chunks > 1 && fold)
    {
      for (int i = 0; i < a->n_chunks; i++)
        a->be->free (a->chunks[i].base);
      a->n_chunks = 0;
      size_t size = (a->peak + DEV_ALIGN - 1) / DEV_ALIGN * DEV_ALIGN;
      struct arena_chunk c = { a->be->alloc (size, NULL), size, 0, 0 };
      if (c.base)   /* on failure the next allocation retries and reports */
        chunk_push (&a->chunks, &a->n_chunks, &a->cap_chunks, c);
    }
  for (int i = 0; i < a->n_chunks; i++)
    a->chunks[i].used = 0;
  for (int i = 0; i < a->n_host; i++)
    a->host[i].used = 0;
  a->used = 0;
  a->cur = 0;
}

static void
arena_free (arena *a)
{
  for (int i = 0; i < a->n_chunks; i++)
    a->be->free (a->chunks[i].base);
  for (int i = 0; i < a->n_host; i++)
    free (a->host[i].base);
  free (a->chunks);
  free (a->host);
  memset (a, 0, sizeof *a);
}

/* ---- graph ---- */

graph *
graph_new (const backend *be, le_error *err)
{
  graph *g = le_calloc (1, sizeof *g, "a graph", err);
  if (g == NULL)
    return NULL;
  g->be = be;
  g->act.be = be;
  g->scratch.be = be;
  g->cur = &g->act;
  g->grad_enabled = true;
  g->recording = true;
  return g;
}

void
graph_free (graph *g)
{
  if (g == NULL)
    return;
  arena_free (&g->act);
  arena_free (&g->scratch);
  free (g->tape);
  free (g);
}

void
graph_reset (graph *g)
{
  arena_rewind (&g->act);
  arena_rewind (&g->scratch);
  g->cur = &g->act;
  g->n_tape = 0;
  g->recording = true;
  g->in_checkpoint = false;
  g->failed = false;
  memset (&g->err, 0, sizeof g->err);
}

void graph_set_grad_enabled (graph *g, bool on) { g->grad_enabled = on; }
void graph_set_training (graph *g, bool on) { g->training = on; }

void
graph_set_rng (graph *g, uint64_t seed, uint64_t offset)
{
  g->rng_seed = seed;
  g->rng_offset = offset;
}

bool graph_ok (const graph *g) { return !g->failed; }

bool
graph_take_error (graph *g, le_error *err)
{
  if (!g->failed)
    return true;
  if (err)
    *err = g->err;
  return false;
}

void *
graph_fail (graph *g, le_error_code code, const char *fmt, ...)
{
  if (g->failed)
    return NULL;
  va_list ap;
  va_start (ap, fmt);
  g->err.code = code;
  vsnprintf (g->err.message, sizeof g->err.message, fmt, ap);
  va_end (ap);
  g->failed = true;
  return NULL;
}

void *
graph_alloc (graph *g, size_t bytes)
{
  if (g->failed)
    return NULL;
  void *p = arena_alloc_dev (g->cur, bytes, &g->err);
  if (p == NULL)
    g->failed = true;
  return p;
}

static tensor *
tensor_in (graph *g, arena *a, le_dtype dt, int ndim, const int64_t *shape, const char *name,
           bool with_data)
{
  if (g->failed)
    return NULL;
  tensor *t = arena_alloc_host (a, sizeof *t, &g->err);
  if (t == NULL)
    {
      g->failed = true;
      return NULL;
    }
  snprintf (t->name, sizeof t->name, "%s", name ? name : "");
  t->dtype = dt;
  t->device = g->be->device;
  if (!tensor_set_shape (t, ndim, shape, &g->err))
    {
      g->failed = true;
      return NULL;
    }
  if (with_data)
    {
      arena *saved = g->cur;
      g->cur = a;
      t->data = graph_alloc (g, tensor_bytes (t));
      g->cur = saved;
      if (t->data == NULL)
        return NULL;
    }
  return t;
}

tensor *
graph_tensor (graph *g, le_dtype dt, int ndim, const int64_t *shape, const char *name)
{
  return tensor_in (g, g->cur, dt, ndim, shape, name, true);
}

tensor *
graph_tensor_meta (graph *g, le_dtype dt, int ndim, const int64_t *shape, const char *name)
{
  return tensor_in (g, g->cur, dt, ndim, shape, name, false);
}

tensor *
graph_from_host (graph *g, le_dtype dt, int ndim, const int64_t *shape, const void *host,
                 const char *name)
{
  tensor *t = graph_tensor (g, dt, ndim, shape, name);
  if (t)
    g->be->copy_h2d (t->data, host, tensor_bytes (t));
  return t;
}

bool
graph_to_host (graph *g, const tensor *t, void *host, le_error *err)
{
  if (!graph_take_error (g, err))
    return false;
  if (t == NULL || t->data == NULL)
    return le_fail (err, LE_ERR_INVALID, "graph_to_host: tensor has no data");
  g->be->copy_d2h (host, t->data, tensor_bytes (t));
  return g->be->sync (err);
}

float
graph_item (graph *g, const tensor *t)
{
  float v = NAN;
  if (t == NULL || t->dtype != LE_F32 || t->numel != 1)
    return NAN;
  if (!graph_to_host (g, t, &v, NULL))
    return NAN;
  return v;
}

tape_entry *
graph_record (graph *g, const char *op, backward_fn fn, tensor *out)
{
  if (g->failed || !g->grad_enabled || !g->recording || out == NULL || !out->requires_grad)
    return NULL;
  if (g->n_tape == g->cap_tape)
    {
      int64_t cap = g->cap_tape ? 2 * g->cap_tape : 256;
      tape_entry *grown = realloc (g->tape, (size_t) cap * sizeof *grown);
      if (grown == NULL)
        return graph_fail (g, LE_ERR_MEMORY, "out of memory growing the tape");
      g->tape = grown;
      g->cap_tape = cap;
    }
  tape_entry *e = &g->tape[g->n_tape++];
  memset (e, 0, sizeof *e);
  e->op = op;
  e->backward = fn;
  e->out = out;
  g->stats.entries_recorded++;
  return e;
}

float *
graph_grad (graph *g, tensor *t)
{
  if (t == NULL || !t->requires_grad || g->failed)
    return NULL;
  if (t->grad)
    return t->grad;
  if (t->base)
    {
      t->grad = graph_grad (g, t->base);
      return t->grad;
    }
  /* A gradient lives as long as its tensor: a tensor made outside a checkpointed block
   * but reached from inside it (through the block's ctx) gets its gradient in the main
   * arena even while the block's backward allocates in the scratch one. */
  arena *saved = g->cur;
  g->cur = arena_owns (&g->scratch, t->data) ? &g->scratch : &g->act;
  t->grad = graph_alloc (g, (size_t) t->numel * sizeof (float));
  g->cur = saved;
  if (t->grad)
    {
      g->be->memset_zero (t->grad, (size_t) t->numel * sizeof (float));
      g->stats.grads_allocated++;
    }
  return t->grad;
}

static void checkpoint_backward (graph *g, tape_entry *e);
static bool checkpoint_has_grad (const tape_entry *e);

/* Runs the tape entries [from, n_tape) backwards; each entry is copied first because a
 * checkpoint's backward appends to (and may move) the tape. An entry whose output got no
 * gradient (nothing downstream of it reaches the loss) is skipped. */
static void
run_backward (graph *g, int64_t from)
{
  for (int64_t i = g->n_tape - 1; i >= from && !g->failed; i--)
    {
      tape_entry e = g->tape[i];
      bool has_grad = e.backward == checkpoint_backward ? checkpoint_has_grad (&e)
                                                        : e.out->grad != NULL;
      if (!has_grad)
        continue;
      e.backward (g, &e);
      g->stats.entries_run++;
    }
}

bool
graph_backward (graph *g, tensor *loss, le_error *err)
{
  if (!graph_take_error (g, err))
    return false;
  if (loss == NULL || loss->numel != 1 || loss->dtype != LE_F32)
    return le_fail (err, LE_ERR_INVALID, "backward needs a one-element F32 loss");
  if (!loss->requires_grad)
    return le_fail (err, LE_ERR_INVALID,
                    "the loss does not depend on any trainable tensor (nothing to train)");
  float *d = graph_grad (g, loss);
  if (d)
    g->be->fill (d, 1.0f, 1);
  run_backward (g, 0);
  if (!graph_take_error (g, err))
    return false;
  return g->be->sync (err);
}

/* ---- checkpointing ---- */

typedef struct {
  graph_block_fn fn;
  void *ctx;
  tensor **in, **out;
  int n_in, n_out;
  uint64_t rng_offset;
} checkpoint_rec;

static bool
checkpoint_has_grad (const tape_entry *e)
{
  const checkpoint_rec *rec = e->ctx;
  for (int i = 0; i < rec->n_out; i++)
    if (rec->out[i]->grad)
      return true;
  return false;
}

static void
checkpoint_backward (graph *g, tape_entry *e)
{
  checkpoint_rec *rec = e->ctx;
  /* input gradients must outlive the scratch arena: make them in the main one now */
  for (int i = 0; i < rec->n_in; i++)
    graph_grad (g, rec->in[i]);
  if (g->failed)
    return;
  uint64_t rng_saved = g->rng_offset;
  int64_t mark = g->n_tape;
  tensor *re[rec->n_out];
  memset (re, 0, sizeof re);
  g->rng_offset = rec->rng_offset;
  g->cur = &g->scratch;
  g->in_checkpoint = true;
  bool ok = rec->fn (g, rec->ctx, rec->in, rec->n_in, re, rec->n_out);
  if (ok && !g->failed)
    {
      for (int i = 0; i < rec->n_out; i++)
        if (re[i] && re[i]->requires_grad && rec->out[i]->grad)
          re[i]->grad = rec->out[i]->grad;
      run_backward (g, mark);
    }
  else
    graph_fail (g, LE_ERR_INVALID, "a checkpointed block failed when run again in backward");
  g->n_tape = mark;
  g->in_checkpoint = false;
  g->cur = &g->act;
  g->rng_offset = rng_saved;
  arena_rewind (&g->scratch);
}

bool
graph_checkpoint (graph *g, graph_block_fn fn, void *ctx, tensor **in, int n_in, tensor **out,
                  int n_out)
{
  if (g->failed)
    return false;
  if (!g->grad_enabled || !g->recording || g->in_checkpoint)
    return fn (g, ctx, in, n_in, out, n_out) && !g->failed;

  uint64_t rng_start = g->rng_offset;
  tensor *tmp[n_out];
  memset (tmp, 0, sizeof tmp);
  g->recording = false;
  g->in_checkpoint = true;
  g->cur = &g->scratch;
  bool ok = fn (g, ctx, in, n_in, tmp, n_out);
  g->cur = &g->act;
  g->in_checkpoint = false;
  g->recording = true;
  bool any_grad = false;
  for (int i = 0; ok && !g->failed && i < n_out; i++)
    {
      if (tmp[i] == NULL)
        {
          graph_fail (g, LE_ERR_INVALID, "checkpointed block left output %d unset", i);
          break;
        }
      out[i] = graph_tensor (g, tmp[i]->dtype, tmp[i]->ndim, tmp[i]->shape, tmp[i]->name);
      if (out[i] == NULL)
        break;
      g->be->copy_d2d (out[i]->data, tmp[i]->data, tensor_bytes (tmp[i]));
      out[i]->requires_grad = tmp[i]->requires_grad;
      any_grad |= out[i]->requires_grad;
    }
  arena_rewind (&g->scratch);
  if (!ok || g->failed)
    {
      graph_fail (g, LE_ERR_INVALID, "a checkpointed block failed");
      return false;
    }
  if (!any_grad)
    return true;

  checkpoint_rec *rec = arena_alloc_host (&g->act, sizeof *rec, &g->err);
  tensor **io = arena_alloc_host (&g->act, (size_t) (n_in + n_out) * sizeof *io, &g->err);
  if (rec == NULL || io == NULL)
    {
      g->failed = true;
      return false;
    }
  memcpy (io, in, (size_t) n_in * sizeof *io);
  memcpy (io + n_in, out, (size_t) n_out * sizeof *io);
  *rec = (checkpoint_rec) { fn, ctx, io, io + n_in, n_in, n_out, rng_start };
  tensor *first = NULL;   /* graph_record wants an output that requires grad */
  for (int i = 0; i < n_out && first == NULL; i++)
    if (out[i]->requires_grad)
      first = out[i];
  tape_entry *e = graph_record (g, "checkpoint", checkpoint_backward, first);
  if (e == NULL)
    return !g->failed;
  e->ctx = rec;
  return true;
}

size_t
graph_peak_bytes (const graph *g)
{
  return g->act.peak + g->scratch.peak;
}

void
graph_reset_peak (graph *g)
{
  g->act.peak = g->act.used;
  g->scratch.peak = g->scratch.used;
}
