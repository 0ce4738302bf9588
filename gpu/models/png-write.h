/* png-write.h: an 8-bit RGB PNG with tEXt chunks, written atomically (engine side: the
 * trainer's sample previews are written without GLib). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* RGB // (H, W, 3) bytes. KEYS/VALUES: N tEXt chunks (Latin-1 keywords; values are
 * written as given, A1111 puts its "parameters" there). */
bool png_write_rgb (const char *path, const uint8_t *rgb, int width, int height,
                    const char *const *keys, const char *const *values, int n,
                    le_error *err);
