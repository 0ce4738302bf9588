/* fuzz-safetensors.c: libFuzzer target for the safetensors reader and the JSON parser
 * beneath it. Any input must be refused with an error or accepted as a file whose every
 * tensor can be read and converted within bounds; ASan and UBSan catch the rest.
 * Built with clang by run-fuzz.sh (meson's compiler is gcc). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  le_error err = { 0 };
  st_file *f = st_open_memory (data, size, "fuzz", &err);
  if (f != NULL)
    {
      for (size_t i = 0; i < st_count (f); i++)
        {
          const st_tensor *t = st_at (f, i);
          if (st_find (f, t->name) != t)
            abort ();
          if (t->numel > (1u << 20))
            continue;
          float *out = malloc (t->numel * sizeof *out + 1);
          uint16_t *half = malloc (t->numel * sizeof *half + 1);
          if (out && half)
            {
              st_to_f32 (t, out, t->numel, &err);
              st_to_bf16 (t, half, t->numel, &err);
            }
          free (out);
          free (half);
        }
      const char *key, *value;
      for (size_t i = 0; st_metadata_at (f, i, &key, &value); i++)
        if (st_metadata_get (f, key) != value)
          abort ();
      st_close (f);
    }
  /* The JSON parser on its own, on whatever follows the length prefix. */
  if (size > 8)
    {
      le_json_doc doc;
      if (le_json_parse (&doc, (const char *) data + 8, size - 8, &err))
        le_json_free (&doc);
    }
  return 0;
}
