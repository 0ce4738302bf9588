/* tfevents.c: TFRecord framing and the few protobuf fields of tensorflow.Event that
 * scalars need (see tfevents.h). Field numbers, from tensorflow/core/util/event.proto and
 * summary.proto: Event{1 wall_time double, 2 step int64, 3 file_version string,
 * 5 summary Summary}; Summary{1 value repeated Value}; Value{1 tag string,
 * 2 simple_value float}. */
#include "tfevents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"

static uint32_t crc_table[256];

static void
crc_init (void)
{
  for (uint32_t i = 0; i < 256; i++)
    {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  /* reflected Castagnoli polynomial */
      crc_table[i] = c;
    }
}

uint32_t
le_crc32c (const void *data, size_t len)
{
  if (crc_table[1] == 0)
    crc_init ();
  const unsigned char *p = data;
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++)
    c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t
le_crc32c_mask (uint32_t crc)
{
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

/* ---- protobuf encoding into a small fixed buffer ---- */

typedef struct {
  unsigned char buf[1024];
  size_t len;
  bool overflow;
} pb;

static void
pb_byte (pb *b, unsigned char c)
{
  if (b->len < sizeof b->buf)
    b->buf[b->len++] = c;
  else
    b->overflow = true;
}

static void
pb_varint (pb *b, uint64_t v)
{
  while (v >= 0x80)
    {
      pb_byte (b, (unsigned char) (v | 0x80));
      v >>= 7;
    }
  pb_byte (b, (unsigned char) v);
}

static void
pb_tag (pb *b, unsigned field, unsigned wire)
{
  pb_varint (b, (uint64_t) (field << 3 | wire));
}

static void
pb_fixed (pb *b, const void *le_bytes, size_t n)
{
  for (size_t i = 0; i < n; i++)
    pb_byte (b, ((const unsigned char *) le_bytes)[i]);
}

static void
pb_bytes (pb *b, unsigned field, const void *data, size_t n)
{
  pb_tag (b, field, 2);
  pb_varint (b, n);
  pb_fixed (b, data, n);
}

static void
pb_event_head (pb *b, double wall_time, int64_t step)
{
  pb_tag (b, 1, 1);  /* fixed64 */
  pb_fixed (b, &wall_time, 8);
  if (step != 0)
    {
      pb_tag (b, 2, 0);
      pb_varint (b, (uint64_t) step);
    }
}

static bool
write_record (le_tfevents *w, const unsigned char *data, size_t len, le_error *err)
{
  unsigned char head[12];
  uint64_t n = len;
  for (int i = 0; i < 8; i++)
    head[i] = (unsigned char) (n >> (8 * i));
  uint32_t c = le_crc32c_mask (le_crc32c (head, 8));
  memcpy (head + 8, &c, 4);
  uint32_t dc = le_crc32c_mask (le_crc32c (data, len));
  if (fwrite (head, 1, 12, w->fp) != 12 || fwrite (data, 1, len, w->fp) != len
      || fwrite (&dc, 1, 4, w->fp) != 4 || fflush (w->fp) != 0)
    return le_fail (err, LE_ERR_IO, "%s: cannot write (is the disk full?): %s", w->path,
                    strerror (errno));
  return true;
}

static double
now (void)
{
  struct timeval tv;
  gettimeofday (&tv, NULL);
  return (double) tv.tv_sec + tv.tv_usec * 1e-6;
}

bool
le_tfevents_open (le_tfevents *w, const char *log_dir, le_error *err)
{
  memset (w, 0, sizeof *w);
  if (!le_mkdir_p (log_dir, err))
    return false;
  char host[256] = "localhost";
  gethostname (host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  double t = now ();
  size_t n = strlen (log_dir) + strlen (host) + 64;
  w->path = malloc (n);
  if (w->path == NULL)
    return le_fail (err, LE_ERR_MEMORY, "out of memory");
  /* Two runs in the same second on one host would collide: O_EXCL and a suffix. */
  for (int attempt = 0; attempt < 100; attempt++)
    {
      if (attempt == 0)
        snprintf (w->path, n, "%s/events.out.tfevents.%lld.%s", log_dir, (long long) t, host);
      else
        snprintf (w->path, n, "%s/events.out.tfevents.%lld.%s.%d", log_dir, (long long) t, host,
                  attempt);
      w->fp = fopen (w->path, "wbx");
      if (w->fp != NULL || errno != EEXIST)
        break;
    }
  if (w->fp == NULL)
    {
      le_fail (err, LE_ERR_IO, "%s: cannot create the TensorBoard log: %s", w->path,
               strerror (errno));
      free (w->path);
      w->path = NULL;
      return false;
    }
  pb b = { .len = 0 };
  pb_event_head (&b, t, 0);
  pb_bytes (&b, 3, "brain.Event:2", 13);
  if (!write_record (w, b.buf, b.len, err))
    {
      le_tfevents_close (w);
      return false;
    }
  return true;
}

bool
le_tfevents_scalar_at (le_tfevents *w, const char *tag, int64_t step, float value,
                       double wall_time, le_error *err)
{
  size_t tag_len = strlen (tag);
  if (tag_len > 512)
    return le_fail (err, LE_ERR_INVALID, "TensorBoard tag \"%.40s...\" is too long", tag);
  pb val = { .len = 0 };
  pb_bytes (&val, 1, tag, tag_len);
  pb_tag (&val, 2, 5);  /* fixed32 */
  pb_fixed (&val, &value, 4);
  pb summary = { .len = 0 };
  pb_bytes (&summary, 1, val.buf, val.len);
  pb ev = { .len = 0 };
  pb_event_head (&ev, wall_time, step);
  pb_bytes (&ev, 5, summary.buf, summary.len);
  if (val.overflow || summary.overflow || ev.overflow)
    return le_fail (err, LE_ERR_INVALID, "TensorBoard event for \"%s\" is too large", tag);
  return write_record (w, ev.buf, ev.len, err);
}

bool
le_tfevents_scalar (le_tfevents *w, const char *tag, int64_t step, float value, le_error *err)
{
  return le_tfevents_scalar_at (w, tag, step, value, now (), err);
}

void
le_tfevents_close (le_tfevents *w)
{
  if (w->fp != NULL)
    fclose (w->fp);
  free (w->path);
  memset (w, 0, sizeof *w);
}
