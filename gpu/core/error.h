/* error.h: how the engine reports failure.
 *
 * Errors are values: a function that can fail takes `le_error *err` last and returns
 * false (or NULL) after filling it with a message a person can act on. Bad input never
 * aborts. The CHECK_* macros are for calls that fail only when the machine does (out of
 * memory, a CUDA driver error): they report file and line, and still return an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  LE_OK = 0,
  LE_ERR_IO,          /* a file cannot be read or written */
  LE_ERR_FORMAT,      /* a file is broken or hostile */
  LE_ERR_UNSUPPORTED, /* a valid file of a kind we do not handle (SDXL, GGML, ...) */
  LE_ERR_INVALID,     /* a bad argument or config value */
  LE_ERR_MEMORY,      /* out of host or device memory */
  LE_ERR_DEVICE,      /* CUDA, cuBLAS or driver failure */
  LE_ERR_NUMERIC,     /* non-finite loss or gradient */
  LE_ERR_CANCELLED,   /* stopped on request */
} le_error_code;

typedef struct {
  le_error_code code;
  char message[1024];
} le_error;

/* Fills ERR (which may be NULL) and returns false, so `return le_fail (err, ...)`. */
bool le_fail (le_error *err, le_error_code code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Prefixes an existing message with context ("loading model.safetensors: ..."). */
bool le_error_prefix (le_error *err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

const char *le_error_code_name (le_error_code code);

/* Allocation that reports what it was for; NULL plus an error when memory runs out. */
void *le_malloc (size_t size, const char *what, le_error *err);
void *le_calloc (size_t count, size_t size, const char *what, le_error *err);
