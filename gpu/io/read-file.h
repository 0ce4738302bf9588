/* read-file.h: reading files without GLib: a whole small text file (config.json, a
 * training text file) for the readers that parse it in one piece, the magic bytes that
 * tell a file's format, and a folder-or-file argument. */
#pragma once

#include <stddef.h>

#include "error.h"

/* The whole of PATH, NUL-terminated, with its length in *LEN. NULL with an error that
 * names the file when it cannot be opened or read, when memory runs out, or when it is
 * larger than MAX bytes (0: no limit): "PATH: too big for WHAT" ("a config file"). */
char *le_read_file (const char *path, size_t max, const char *what, size_t *len,
                    le_error *err);

/* The first 4 bytes of PATH into MAGIC; false when it cannot be read or is shorter. */
bool le_read_magic (const char *path, unsigned char magic[4]);

/* PATH/NAME into BUF (N bytes) when PATH is a folder, else PATH itself: for arguments
 * that name either a model's folder or the one file of it that is wanted. */
void le_file_in_folder (char *buf, size_t n, const char *path, const char *name);
