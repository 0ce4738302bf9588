/* sd15-private.h: what the SD 1.5 files share but callers need not see: the walk over the
 * architecture that names every tensor (sd-names.c) and binds it to its module slot. */
#pragma once

#include "sd15.h"

typedef struct sd_walk sd_walk;
/* Called once per tensor with the slot it belongs in (mod->w or mod->b) and its names.
 * Returns false to stop (err filled). */
typedef bool (*sd_walk_fn) (sd_walk *w, sd_module *mod, tensor **slot, const sd15_name *nm);

struct sd_walk {
  const sd15_config *c;
  sd_walk_fn visit;
  void *user;
  le_error *err;
  bool ok;
};

/* Walks PARTS of M's architecture (M->cfg); M's modules get their paths and block sizes
 * (n_resnets, heads, eps, ...) set. M->text.layers must be allocated for TEXT. */
bool sd_walk_model (sd15_model *m, unsigned parts, sd_walk *w);

/* sd15_config_from_diffusers reading only the components in PARTS (the others keep SD
 * 1.5's numbers). */
bool sd15_config_from_diffusers_parts (const char *folder, unsigned parts, sd15_config *cfg,
                                       le_error *err);
