/* fixture-util.h: what the tiny test fixtures (sd15-tiny, clip-tiny, the LLaMA fixture)
 * share: writing a small file into the fixture's folder, seeded uniform values around a
 * centre (le_splitmix64_next), and their conversion to the dtype. The same seed gives
 * the same bytes, which the tests' checked-in expectations rely on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "tensor.h"

/* DIR/NAME replaced atomically by LEN bytes of TEXT (a config or tokenizer file). */
bool fixture_write_text (const char *dir, const char *name, const char *text, size_t len,
                         le_error *err);

/* The element count of NDIM dimensions of SHAPE; *FAN_IN gets the product of all but
 * the first (what one output of a matrix or kernel reads). */
int64_t fixture_numel (int ndim, const int64_t *shape, int64_t *fan_in);

/* NUMEL floats BASE + SCALE * u with u uniform in [-1, 1) from RNG; NULL without memory. */
float *fixture_uniform (int64_t numel, float base, float scale, uint64_t *rng);

/* F (NUMEL floats, taken over) in DT: F itself for F32, else a converted copy and F freed.
 * *BYTES gets the size in DT. NULL when F is NULL or memory runs out. */
void *fixture_in_dtype (float *f, int64_t numel, le_dtype dt, size_t *bytes);
