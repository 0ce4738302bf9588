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

/* PATH/NAME into BUF (N bytes) when PATH is a folder, else PATH itself: for arguments
 * that name either a model's folder or the one file of it that is wanted. */
void le_file_in_folder (char *buf, size_t n, const char *path, const char *name);
