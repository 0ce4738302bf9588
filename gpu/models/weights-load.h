/* weights-load.h: what every model loader does the same way with safetensors weights:
 * checking a tensor's shape against the config's, saying both shapes in an error, and
 * copying the declared weights into the committed param_store, converting where the
 * file's dtype differs from the tensor's. The CLIP, LLaMA and SD 1.5 loaders declare their
 * tensors their own way (names, dtypes, messages), then share these. */
#pragma once

#include <stdbool.h>

#include "param-store.h"
#include "safetensors.h"

/* True when S has exactly NDIM dimensions of SHAPE. */
bool weights_shape_is (const st_tensor *s, int ndim, const int64_t *shape);

/* "(d0, d1, ...)" of NDIM dimensions into BUF (cut short when N is too small). */
void weights_shape_text (char *buf, size_t n, int ndim, const int64_t *shape);

/* Copies every tensor of PS, in declaration order, from its source: SRC[i] for tensor i
 * when SRC is given (one entry per declared tensor; NULL leaves that tensor as it is),
 * else the tensor of the same name in SET. Equal dtypes are copied straight from the
 * mapped file; others go through one reused host buffer. With RELEASE_PAGES each
 * source's mapped file pages are dropped once copied, so the file does not stay resident
 * next to its copy while the rest loads. */
bool weights_upload_all (param_store *ps, const st_set *set, const st_tensor *const *src,
                         bool release_pages, le_error *err);
