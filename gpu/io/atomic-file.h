/* atomic-file.h: replace a file whole or not at all, without GLib.
 *
 * le_atomic_open creates a temporary file next to PATH (same folder, so rename is atomic);
 * the caller writes through ->fp; le_atomic_commit flushes, fsyncs, renames over PATH and
 * fsyncs the folder. le_atomic_abort (or a failed commit) removes the temporary file, so a
 * crash or full disk never leaves a half-written PATH behind. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

typedef struct {
  FILE *fp;
  char *path;      /* final name */
  char *tmp_path;  /* where the bytes go until commit */
} le_atomic_file;

bool le_atomic_open (le_atomic_file *f, const char *path, le_error *err);
bool le_atomic_write (le_atomic_file *f, const void *data, size_t len, le_error *err);
bool le_atomic_commit (le_atomic_file *f, le_error *err);
void le_atomic_abort (le_atomic_file *f);

/* The whole of PATH replaced by LEN bytes of DATA in one go (open, write, commit, or
 * abort on failure): for the small files made in memory, such as configs. */
bool le_atomic_write_file (const char *path, const void *data, size_t len, le_error *err);

/* fsyncs a folder so that a rename inside it survives a crash. */
bool le_fsync_dir (const char *dir, le_error *err);

/* mkdir -p. */
bool le_mkdir_p (const char *path, le_error *err);
