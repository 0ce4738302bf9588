/* run-common.h: what the text and the image LoRA runs (text-lora-run.c, sd-lora-run.c) do
 * alike around the trainer: choosing the backend for the device option, and reporting a
 * failure both as an error event and to the caller. */
#pragma once

#include "backend.h"
#include "trainer.h"

/* The backend for DEVICE ("auto" or NULL: the GPU when one is usable, else the CPU, said
 * once as an info log event; "cuda:N" is "cuda"; "cpu", "cuda" as named). */
const backend *run_pick_backend (const char *device, const le_run_hooks *hooks,
                                 le_error *err);

/* Sends E as an error event with CODE, copies it into ERR (when that is another error
 * than E) and returns LE_RUN_FAILED. */
le_run_status run_fail (const le_run_hooks *hooks, const char *code, le_error *e,
                        le_error *err);
