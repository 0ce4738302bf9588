/* json-config.h: reading the members of a parsed config.json object (Hugging Face,
 * diffusers) with one message per kind of mistake, for every config reader of the engine.
 * OBJ may be LE_JSON_NONE (a sub-object that is not there): every member is then absent.
 * The getters leave *OUT as it is when KEY is absent or null, and fail with
 * "LABEL: "KEY" must be ..." when it holds a value of another kind. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

/* The value of member KEY, or LE_JSON_NONE when absent or null. */
uint32_t le_json_config_member (const le_json_doc *d, uint32_t obj, const char *key);

/* A non-negative integer of at most MAX. */
bool le_json_config_uint (const le_json_doc *d, uint32_t obj, const char *key, uint64_t max,
                          int64_t *out, const char *label, le_error *err);

/* Any finite number. */
bool le_json_config_number (const le_json_doc *d, uint32_t obj, const char *key, double *out,
                            const char *label, le_error *err);

/* true or false. */
bool le_json_config_bool (const le_json_doc *d, uint32_t obj, const char *key, bool *out,
                          const char *label, le_error *err);

/* A string member's text; NULL when absent or not a string (no error: callers that care
 * say what they expected). */
const char *le_json_config_string (const le_json_doc *d, uint32_t obj, const char *key);
