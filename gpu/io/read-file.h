/* read-file.h: a whole file into memory, without GLib, for the readers of small text
 * formats (config.json, a training text file) that parse it in one piece. */
#pragma once

#include <stddef.h>

#include "error.h"

/* The whole of PATH, NUL-terminated, with its length in *LEN. NULL with an error that
 * names the file when it cannot be opened or read, when memory runs out, or when it is
 * larger than MAX bytes (0: no limit): "PATH: too big for WHAT" ("a config file"). */
char *le_read_file (const char *path, size_t max, const char *what, size_t *len,
                    le_error *err);
