/* json-config.c: typed, checked members of config.json objects (see json-config.h). */
#include "json-config.h"

#include <math.h>

uint32_t
le_json_config_member (const le_json_doc *d, uint32_t obj, const char *key)
{
  uint32_t v = obj == LE_JSON_NONE ? LE_JSON_NONE : le_json_member (d, obj, key);
  return v == LE_JSON_NONE || d->nodes[v].type == LE_JSON_NULL ? LE_JSON_NONE : v;
}

bool
le_json_config_uint (const le_json_doc *d, uint32_t obj, const char *key, uint64_t max,
                     int64_t *out, const char *label, le_error *err)
{
  uint32_t v = le_json_config_member (d, obj, key);
  if (v == LE_JSON_NONE)
    return true;
  uint64_t u;
  if (d->nodes[v].type != LE_JSON_NUMBER || !le_json_uint64 (d, v, &u) || u > max)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must be a non-negative integer", label,
                    key);
  *out = (int64_t) u;
  return true;
}

bool
le_json_config_number (const le_json_doc *d, uint32_t obj, const char *key, double *out,
                       const char *label, le_error *err)
{
  uint32_t v = le_json_config_member (d, obj, key);
  if (v == LE_JSON_NONE)
    return true;
  double x;
  if (d->nodes[v].type != LE_JSON_NUMBER || !le_json_double (d, v, &x) || !isfinite (x))
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must be a number", label, key);
  *out = x;
  return true;
}

bool
le_json_config_bool (const le_json_doc *d, uint32_t obj, const char *key, bool *out,
                     const char *label, le_error *err)
{
  uint32_t v = le_json_config_member (d, obj, key);
  if (v == LE_JSON_NONE)
    return true;
  if (d->nodes[v].type != LE_JSON_TRUE && d->nodes[v].type != LE_JSON_FALSE)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must be true or false", label, key);
  *out = d->nodes[v].type == LE_JSON_TRUE;
  return true;
}

const char *
le_json_config_string (const le_json_doc *d, uint32_t obj, const char *key)
{
  uint32_t v = obj == LE_JSON_NONE ? LE_JSON_NONE : le_json_member (d, obj, key);
  if (v == LE_JSON_NONE || d->nodes[v].type != LE_JSON_STRING)
    return NULL;
  return le_json_string (d, v);
}
