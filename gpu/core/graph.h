/* graph.h: the tape (reverse-mode autograd) and the arena that holds a step's activations.
 *
 * Model code is forward code: it calls ops (ops.h) on a graph. When grad mode is on and an
 * op's input requires grad, the op appends a tape entry (inputs, output, saved statistics,
 * backward function). graph_backward(g, loss) seeds d loss = 1 and walks the tape in
 * reverse; gradients ACCUMULATE into .grad of trainable params (memory of their
 * param_store) and of intermediates (allocated zeroed in the arena when first needed).
 * Nothing is recorded for a branch that only touches frozen tensors, and inside an entry
 * the gradient of a frozen input is neither allocated nor computed.
 *
 * Memory: every tensor an op makes lives in the graph's arena, a bump allocator over
 * device memory that graph_reset rewinds for the next step. When a step needs more than
 * the arena holds, it adds a chunk. On a GPU the next reset folds the chunks into one
 * allocation of the peak size (device memory is committed when allocated); on the CPU the
 * chunks are kept and the next step, making the same allocations in the same order, fills
 * them the same way, so no step after the first touches a fresh page (a fold would
 * page-fault its whole size again, ~15% of the second step). Steps of varying shapes may
 * fill the chunks' tails differently; once the pages touched exceed the peak by a quarter,
 * the CPU folds too, so resident memory stays within 1.25x the peak. graph_peak_bytes tells
 * the planned size.
 *
 * Errors are sticky: an op that fails records the first error in the graph and returns
 * NULL, and every op given a NULL input returns NULL, so model code runs straight through
 * and checks once (graph_ok, or a NULL loss).
 *
 * Gradient checkpointing: graph_checkpoint runs a block without keeping its inner
 * activations (they go to a scratch arena that is rewound after the block); backward runs
 * the block again with recording on and backpropagates through that sub-tape. Gradients
 * are identical to the plain run; peak memory drops to the block boundaries plus one
 * block's interior. */
#pragma once

#include "backend.h"
#include "tensor.h"

typedef struct graph graph;
typedef struct tape_entry tape_entry;

typedef void (*backward_fn) (graph *g, tape_entry *e);

/* One recorded op. ops.c fills it; graph.c walks it. */
struct tape_entry {
  backward_fn backward;
  const char *op;                /* "linear", ... for messages and tests */
  tensor *in[4];
  tensor *out;
  tensor *saved[3];              /* statistics: rstd, mean, lse, ... */
  float f[6];                    /* scalars: eps, scale, p, ... */
  int64_t i[12];                 /* sizes, flags */
  void *ctx;                     /* checkpoint blocks */
};

/* One bump allocator over backend memory (see the comment above). */
typedef struct {
  const backend *be;
  struct arena_chunk { char *base; size_t size, used, touched; } *chunks;  /* touched: most
                                  * ever used, the pages the CPU has faulted in */
  int n_chunks, cap_chunks, cur;  /* cur: the chunk being bumped */
  size_t used, peak;             /* bytes across chunks, now and at most since creation */
  /* host memory for tensor structs and checkpoint records, same discipline */
  struct arena_chunk *host;
  int n_host, cap_host;
} arena;

typedef struct {
  int64_t entries_recorded;
  int64_t entries_run;           /* backward functions called */
  int64_t grads_allocated;       /* intermediate gradient buffers */
} graph_stats;

struct graph {
  const backend *be;
  arena act;                     /* activations and their gradients */
  arena scratch;                 /* interiors of checkpointed blocks */
  arena *cur;                    /* where new tensors go */
  tape_entry *tape;
  int64_t n_tape, cap_tape;
  bool grad_enabled;             /* record the tape (off for eval and generation) */
  bool recording;                /* false inside a checkpointed block's forward */
  bool in_checkpoint;
  bool training;                 /* dropout active */
  uint64_t rng_seed, rng_offset; /* dropout: mask = f(seed, offset + element) */
  bool failed;
  le_error err;
  graph_stats stats;
};

graph *graph_new (const backend *be, le_error *err);
void graph_free (graph *g);
/* Rewinds the arena and clears the tape (gradients of params are untouched). */
void graph_reset (graph *g);
void graph_set_grad_enabled (graph *g, bool on);
void graph_set_training (graph *g, bool on);
/* Dropout draws depend only on (seed, offset); set offset per step (e.g. step << 32)
 * so a resumed run draws the same masks. */
void graph_set_rng (graph *g, uint64_t seed, uint64_t offset);

bool graph_ok (const graph *g);
/* Copies the sticky error into err (if any) and returns graph_ok. */
bool graph_take_error (graph *g, le_error *err);
/* Records an error (first one wins) and returns NULL, for ops: `return graph_fail(...)`. */
void *graph_fail (graph *g, le_error_code code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* A new arena tensor, data uninitialised. */
tensor *graph_tensor (graph *g, le_dtype dt, int ndim, const int64_t *shape, const char *name);
/* A tensor record without data (views set data themselves). */
tensor *graph_tensor_meta (graph *g, le_dtype dt, int ndim, const int64_t *shape,
                           const char *name);
/* A new arena tensor filled from host memory in its dtype. */
tensor *graph_from_host (graph *g, le_dtype dt, int ndim, const int64_t *shape,
                         const void *host, const char *name);
/* Copies t's data to host (bytes of its dtype). */
bool graph_to_host (graph *g, const tensor *t, void *host, le_error *err);
/* The value of an F32 tensor of one element (NAN on error). */
float graph_item (graph *g, const tensor *t);

/* Backward from a one-element F32 loss. False with the error of a failed forward, or
 * when loss does not require grad. */
bool graph_backward (graph *g, tensor *loss, le_error *err);

/* A checkpointable block: reads in[0..n_in), params through ctx, and sets out[0..n_out).
 * Returns false on failure (the graph's sticky error says why). It must be a pure
 * function of its inputs, params and the graph's RNG position (it is run twice). */
typedef bool (*graph_block_fn) (graph *g, void *ctx, tensor **in, int n_in, tensor **out,
                                int n_out);
/* Runs fn as a checkpointed block when grad mode is on (plainly otherwise); out[] get
 * tensors in the main arena. Blocks do not nest (an inner checkpoint runs plainly). */
bool graph_checkpoint (graph *g, graph_block_fn fn, void *ctx, tensor **in, int n_in,
                       tensor **out, int n_out);

/* Peak bytes of the activation arena plus the scratch arena since graph_new. */
size_t graph_peak_bytes (const graph *g);
void graph_reset_peak (graph *g);

/* ---- for ops.c ---- */
/* Appends an entry (when recording and out->requires_grad) and returns it, or NULL. */
tape_entry *graph_record (graph *g, const char *op, backward_fn fn, tensor *out);
/* The gradient of t, allocated zeroed on first use; NULL when t needs none. */
float *graph_grad (graph *g, tensor *t);
/* Bump allocation in the current arena (256-byte aligned device memory). */
void *graph_alloc (graph *g, size_t bytes);
