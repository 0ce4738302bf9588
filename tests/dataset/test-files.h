/* test-files.h: the files the dataset and project tests make: a temporary folder per
 * test, removed with everything in it, text files, and real images written by
 * gdk-pixbuf. Failures are test assertions. */
#pragma once

#include <glib.h>

/* A new empty folder under the system's temporary folder; free with g_free. */
char *make_tmpdir (void);

/* Removes PATH and, for a folder, everything below it; symbolic links are removed, never
 * followed. */
void rm_rf (const char *path);

/* DIR/NAME holds the LEN bytes of TEXT (LEN -1: up to its NUL). */
void write_text (const char *dir, const char *name, const char *text, gssize len);

/* The contents of DIR/NAME; free with g_free. */
char *read_text (const char *dir, const char *name);

/* Writes a W x H image of FORMAT ("png", "jpeg", "bmp", "webp") with a gradient, so
 * that JPEG has real entropy-coded data. FALSE when gdk-pixbuf cannot write FORMAT
 * (only WebP may be missing). */
gboolean write_image (const char *dir, const char *name, const char *format, int w, int h);

/* Writes the 8x8 images named after DIR (NULL-terminated), each in the format of its
 * extension: .jpg JPEG, .bmp BMP, anything else PNG. */
void write_images (const char *dir, ...) G_GNUC_NULL_TERMINATED;
