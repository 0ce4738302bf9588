/* tfevents.h: TensorBoard event files written without TensorFlow.
 *
 * A file `events.out.tfevents.<unix time>.<host>` in the log folder holds TFRecords:
 *   u64 length (LE), u32 masked CRC-32C of the length, data, u32 masked CRC-32C of data
 * where data is a serialized tensorflow.Event protobuf (encoded by hand here). The first
 * record is the file_version "brain.Event:2" event; each scalar is an Event with wall_time,
 * step and a Summary holding one (tag, simple_value). Every record is flushed at once so a
 * running TensorBoard shows the curve live. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct {
  FILE *fp;
  char *path;
} le_tfevents;

/* Creates LOG_DIR if needed and a new event file in it. */
bool le_tfevents_open (le_tfevents *w, const char *log_dir, le_error *err);
bool le_tfevents_scalar (le_tfevents *w, const char *tag, int64_t step, float value,
                         le_error *err);
/* Same with an explicit wall time (seconds since the epoch), for tests and replays. */
bool le_tfevents_scalar_at (le_tfevents *w, const char *tag, int64_t step, float value,
                            double wall_time, le_error *err);
void le_tfevents_close (le_tfevents *w);

/* CRC-32C (Castagnoli) of LEN bytes, and TFRecord's masked form of a CRC. */
uint32_t le_crc32c (const void *data, size_t len);
uint32_t le_crc32c_mask (uint32_t crc);
