/* metrics-log.h: the JSON Lines metrics file of a run, one object per optimizer step:
 *   {"step": 10, "epoch": 1, "loss": 0.1234, "lr": 0.0001, "time": 12.5}
 * (time in seconds since the run started). Appended and flushed per line, so a reader
 * never sees more than one partial line at the end after a crash. A non-finite number is
 * written as null, since JSON has no NaN. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct {
  FILE *fp;
  char *path;
} le_metrics_log;

bool le_metrics_open (le_metrics_log *m, const char *path, le_error *err);
bool le_metrics_write (le_metrics_log *m, int64_t step, int64_t epoch, double loss, double lr,
                       double time, le_error *err);
void le_metrics_close (le_metrics_log *m);
